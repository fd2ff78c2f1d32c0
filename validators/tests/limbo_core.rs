//! The `core` limbo suite (208 cases) through the real in-process validators: the
//! per-namespace agreement table is pinned as a snapshot, and a file that uses only the fields
//! limbo's schema requires gives the same verdicts as the shipped one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anchorsmith_validators::in_process_validators;
use anchorsmith_validators::runner::{run_all, RunOptions};
use anchorsmith_validators::suite::{self, PreparedSuite, SuiteSpec};
use anchorsmith_validators::Verdict;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn run_in_process(suite: &PreparedSuite) -> Vec<(String, BTreeMap<String, Verdict>)> {
    let results = run_all(
        &in_process_validators(),
        &suite.inputs,
        &RunOptions::default(),
    );
    results
        .runs
        .into_iter()
        .map(|run| (run.name, suite.verdicts_for_all_cases(run.verdicts)))
        .collect()
}

#[test]
fn core_agreement_table() {
    let path = SuiteSpec::Core.resolve(&workspace_root());
    let mut suite = suite::load_suite(&path).unwrap();
    // Cases with a null validation time mean "now"; pin it so the snapshot cannot drift.
    suite::pin_now(
        &mut suite.inputs,
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_793_491_200),
    );
    assert_eq!(suite.cases.len(), 208);
    assert!(suite
        .cases
        .iter()
        .all(|case| case.conversion_error.is_none()));
    let runs = run_in_process(&suite);
    let tallies: Vec<_> = runs
        .iter()
        .map(|(name, verdicts)| {
            (
                name.clone(),
                suite::tally_by_namespace(&suite.cases, verdicts),
            )
        })
        .collect();
    for (name, per_namespace) in &tallies {
        assert_eq!(
            suite::total(per_namespace).total(),
            208,
            "{name}: every case counted once"
        );
        assert_eq!(
            suite::total(per_namespace).errors,
            0,
            "{name}: no validator errors on core"
        );
    }
    insta::assert_snapshot!("core_agreement", suite::render_agreement_table(&tallies));
}

/// Rewrites a limbo document so every optional field that holds its default is absent: such a
/// file still validates against the schema and must give identical verdicts.
fn strip_defaults(document: &mut serde_json::Value) {
    let defaults = [
        ("conflicts_with", serde_json::json!([])),
        ("features", serde_json::json!([])),
        ("importance", serde_json::json!("undetermined")),
        ("validation_time", serde_json::Value::Null),
        ("expected_peer_name", serde_json::Value::Null),
        ("max_chain_depth", serde_json::Value::Null),
        ("peer_certificate_key", serde_json::Value::Null),
        ("crls", serde_json::json!([])),
    ];
    for testcase in document["testcases"].as_array_mut().unwrap() {
        let object = testcase.as_object_mut().unwrap();
        for (field, default) in &defaults {
            if object.get(*field) == Some(default) {
                object.remove(*field);
            }
        }
    }
}

#[test]
fn schema_minimal_file_gives_the_same_verdicts() {
    let path = SuiteSpec::Core.resolve(&workspace_root());
    let bytes = std::fs::read(&path).unwrap();
    let mut document: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let removed_before = document.to_string().len();
    strip_defaults(&mut document);
    assert!(
        document.to_string().len() < removed_before,
        "the test must actually remove fields"
    );

    let minimal = serde_json::to_vec(&document).unwrap();
    let original = suite::parse_limbo(&path, &bytes).unwrap();
    let stripped = suite::parse_limbo(Path::new("minimal.json"), &minimal).unwrap();
    let original = PreparedSuite::prepare(&path, &original);
    let stripped = PreparedSuite::prepare(Path::new("minimal.json"), &stripped);
    assert_eq!(run_in_process(&original), run_in_process(&stripped));
}

#[test]
fn an_unconvertible_testcase_is_an_error_for_every_validator_and_the_run_goes_on() {
    let path = SuiteSpec::Core.resolve(&workspace_root());
    let mut limbo = suite::load_limbo(&path).unwrap();
    limbo.testcases.truncate(3);
    limbo.testcases[1].peer_certificate =
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n".into();
    let suite = PreparedSuite::prepare(&path, &limbo);
    assert_eq!(suite.inputs.len(), 2);
    let ids = suite.ids();
    for (name, verdicts) in run_in_process(&suite) {
        assert_eq!(verdicts.len(), 3, "{name}");
        let [first, broken, last] = [&ids[0], &ids[1], &ids[2]].map(|id| &verdicts[id]);
        assert!(
            matches!(broken, Verdict::Error { detail } if detail.contains("peer_certificate")),
            "{name}: {broken:?}"
        );
        assert!(!matches!(first, Verdict::Error { .. }), "{name}: {first:?}");
        assert!(!matches!(last, Verdict::Error { .. }), "{name}: {last:?}");
    }
}
