//! The committed corpus: quotes, counts, ids, the limbo schema, freshness of corpus/generated/,
//! and reference-verdict sanity on cases whose outcome follows from the dates and stores.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use anchorsmith_corpus::generated::{check_generated, render_generated};
use anchorsmith_corpus::{load_corpus, Corpus, ExpectedOutcome, ReferenceVerdict};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shared_dir() -> PathBuf {
    corpus_dir().join("../../shared")
}

/// Loading generates six PKIs: do it once per test binary.
fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| load_corpus(&corpus_dir()).unwrap_or_else(|e| panic!("{e}")))
}

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_quote_occurs_verbatim_in_its_seed_file() {
    let mut checked = 0;
    for (scenario, e) in corpus().expectations() {
        let path = shared_dir().join("seeds").join(&e.seed_file);
        let seed = std::fs::read_to_string(&path).unwrap_or_else(|err| {
            panic!(
                "{}: {} cites {}: {err}",
                scenario.name,
                e.client,
                path.display()
            )
        });
        assert!(
            normalise(&seed).contains(&normalise(&e.quote)),
            "{}: quote not in {}: {}",
            scenario.name,
            e.seed_file,
            e.quote
        );
        checked += 1;
    }
    assert!(checked >= 25, "only {checked} expectations");
}

#[test]
fn corpus_has_at_least_60_cases_and_25_expectations() {
    let corpus = corpus();
    assert!(corpus.cases.len() >= 60, "{} cases", corpus.cases.len());
    let expectations: Vec<_> = corpus.expectations().collect();
    assert!(
        expectations.len() >= 25,
        "{} expectations",
        expectations.len()
    );
    for (scenario, expectation) in &expectations {
        assert!(
            !expectation.case_ids.is_empty(),
            "{}: {}",
            scenario.name,
            expectation.selector
        );
        for id in &expectation.case_ids {
            let case = corpus.case(id).unwrap_or_else(|| panic!("no case {id}"));
            assert!(case.expectations.contains(expectation), "{id}");
        }
    }
}

/// Every seed document a scenario is built on exists and backs at least one of its
/// expectations, and the five incidents the corpus started from stay covered. A new incident
/// document in the seeds directory, with or without a scenario yet, does not fail this.
#[test]
fn every_scenario_rests_on_an_existing_seed_that_backs_an_expectation() {
    let corpus = corpus();
    let seeds_dir = shared_dir().join("seeds");
    let cited: BTreeSet<&str> = corpus
        .expectations()
        .map(|(_, expectation)| expectation.seed_file.as_str())
        .collect();
    for seed in &cited {
        assert!(
            seeds_dir.join(seed).is_file(),
            "cited seed {seed} is missing"
        );
    }
    for scenario in &corpus.scenarios {
        assert!(
            seeds_dir.join(&scenario.seed_file).is_file(),
            "{}: seed {} is missing",
            scenario.name,
            scenario.seed_file
        );
        assert!(
            scenario
                .expectations
                .iter()
                .any(|expectation| expectation.seed_file == scenario.seed_file),
            "{}: no expectation rests on its seed {}",
            scenario.name,
            scenario.seed_file
        );
    }
    for prefix in ["000_", "001_", "002_", "003_", "004_"] {
        assert!(
            cited.iter().any(|seed| seed.starts_with(prefix)),
            "no expectation cites seed {prefix}*: {cited:?}"
        );
    }
}

#[test]
fn case_ids_are_unique_and_match_limbos_pattern() {
    let mut ids: Vec<&str> = corpus().cases.iter().map(|c| c.id.as_str()).collect();
    for id in &ids {
        for component in id.split("::") {
            let mut chars = component.chars();
            assert!(
                chars.next().is_some_and(|c| c.is_ascii_alphabetic()),
                "{id}"
            );
            assert!(component.len() >= 2, "{id}");
            assert!(
                chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'),
                "{id}"
            );
        }
    }
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "duplicate case ids");
}

#[test]
fn every_expectation_names_a_client_behaviour_or_a_target() {
    let corpus = corpus();
    for case in &corpus.cases {
        for e in &case.expectations {
            assert!(
                corpus.clients.contains_key(&e.client)
                    || corpus.targets.iter().any(|target| target.name == e.client),
                "{}: {}",
                case.id,
                e.client
            );
        }
    }
}

#[test]
fn export_conforms_to_the_limbo_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(shared_dir().join("limbo/limbo-schema.json")).unwrap(),
    )
    .unwrap();
    let export: serde_json::Value =
        serde_json::from_str(&anchorsmith_corpus::export::limbo_json(corpus())).unwrap();
    let violations = anchorsmith_corpus::export::schema_violations(&schema, &export).unwrap();
    assert!(violations.is_empty(), "{violations:#?}");
    assert_eq!(
        export["testcases"].as_array().unwrap().len(),
        corpus().cases.len()
    );
    // The schema must really be applied: a broken id is caught.
    let mut broken = export.clone();
    broken["testcases"][0]["id"] = serde_json::json!("9-starts-with-a-digit");
    assert!(
        !anchorsmith_corpus::export::schema_violations(&schema, &broken)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn committed_generated_corpus_is_fresh() {
    if let Err(drift) = check_generated(&corpus_dir(), &render_generated(corpus())) {
        panic!("{drift}");
    }
}

fn reference(id: &str) -> &'static ReferenceVerdict {
    &corpus()
        .case(id)
        .unwrap_or_else(|| panic!("no case {id}"))
        .reference
}

#[test]
fn reference_verdicts_follow_the_graph() {
    let accept = |id: &str| assert!(reference(id).is_accept(), "{id}: {:?}", reference(id));
    let reject = |id: &str, why: &str| match reference(id) {
        ReferenceVerdict::Reject { reason } => assert!(reason.contains(why), "{id}: {reason}"),
        other => panic!("{id}: {other:?}"),
    };
    accept("root-expiry-long-short::long-chain::store-new::at-2021-09-29");
    accept("root-expiry-long-short::long-chain::store-old::at-2021-09-29");
    // An expired anchor fails (limbo's `rfc5280::validity::expired-root`, seed 003)...
    reject(
        "root-expiry-long-short::long-chain::store-old::at-2021-10-01",
        "trust anchor: dst-root has expired",
    );
    // ...and so does an expired cross-sign.
    reject(
        "root-expiry-long-short::long-chain::store-old::at-2024-10-01",
        "isrg-x1-by-dst has expired",
    );
    reject(
        "root-expiry-long-short::short-chain::store-old::at-2021-09-29",
        "no issuer of r3",
    );
    reject(
        "leaf-only-served::leaf-only::store-browser-2016::at-2016-07-01",
        "no issuer of leaf",
    );
    reject(
        "leaf-only-served::leaf-only::store-browser-2016::at-2016-07-01::cache-le-x1-by-dst",
        "no issuer of leaf",
    );
    accept("leaf-only-served::leaf-only::store-browser-2016::at-2016-07-01::cache-le-x3-by-dst");
    accept("leaf-only-served::leaf-only::store-browser-2016::at-2016-07-01::aia");
    reject(
        "same-key-intermediates::x3-leaf-served-x1::store-browser-2016::at-2016-04-06",
        "no issuer of leaf-by-x3",
    );
    accept("same-key-intermediates::x3-leaf-served-x1::store-browser-2016::at-2016-04-06::cache-le-x3-by-dst");
    accept("intermediate-pinned-device::x3-chain::store-pinned-x3::at-2020-12-15");
    reject(
        "intermediate-pinned-device::x3-chain::store-pinned-x3::at-2021-01-03",
        "leaf-by-x3 has expired",
    );
    reject(
        "backup-intermediate-switch::r4-chain::store-pinned-r3::at-2021-06-01",
        "no issuer",
    );
    accept("hardcoded-root-list::zerossl::store-webrtc-list::at-2020-12-15");
}

/// The exported `expected_result` is the graph's verdict; it must never contradict what a seed
/// documents for a plain path builder on the same (plain) view of the case.
#[test]
fn exported_results_agree_with_documented_path_builders() {
    let mut checked = 0;
    for case in &corpus().cases {
        if case.needs_client_state() {
            continue;
        }
        for expectation in case
            .expectations
            .iter()
            .filter(|e| e.client == "path-builder")
        {
            let documented_accept = expectation.outcome == ExpectedOutcome::Accept;
            assert_eq!(
                case.plain_reference.is_accept(),
                documented_accept,
                "{}: exported {} but {} documents {:?}: {}",
                case.id,
                case.plain_reference.limbo_expected_result(),
                expectation.seed_file,
                expectation.outcome,
                expectation.quote
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 15,
        "only {checked} path-builder expectations checked"
    );
}

#[test]
fn plain_view_drops_the_cache_and_its_verdict_is_exported() {
    let case = corpus()
        .case("leaf-only-served::leaf-only::store-browser-2016::at-2016-07-01::cache-le-x3-by-dst")
        .unwrap();
    let input = case.to_validation_input();
    assert_eq!(input.cached.len(), 1);
    assert!(input.served_chain.is_empty());
    assert_eq!(input.trust_anchors.len(), 1);
    let limbo = anchorsmith_corpus::export::testcase(corpus().scenario_of(case), case);
    assert!(limbo.untrusted_intermediates.is_empty());
    assert_eq!(
        limbo.expected_result,
        anchorsmith_validators::limbo::ExpectedResult::Failure
    );
    assert!(case.reference.is_accept());
    assert!(limbo.description.contains("plain view"));
    assert!(limbo.description.contains("000_4468a1d70ab56b82.txt"));
    assert!(limbo.description.contains("browser-intermediate-cache"));

    let aia = corpus()
        .case("leaf-only-served::leaf-only::store-browser-2016::at-2016-07-01::aia")
        .unwrap()
        .to_validation_input();
    assert_eq!(aia.aia_repository.len(), 1);
    assert_eq!(
        aia.aia_repository[0].0,
        "http://cert.int-x3.letsencrypt.example/"
    );
}

#[test]
fn served_chain_order_and_der_come_from_the_generated_pki() {
    let case = corpus()
        .case("root-expiry-long-short::long-chain::store-old-new::at-2021-10-01")
        .unwrap();
    assert_eq!(case.served_chain, ["leaf", "r3", "isrg-x1-by-dst"]);
    let input = case.to_validation_input();
    let scenario = corpus()
        .scenarios
        .iter()
        .find(|s| s.name == case.scenario)
        .unwrap();
    assert_eq!(input.peer, scenario.pki.der("leaf"));
    assert_eq!(
        input.served_chain,
        vec![
            scenario.pki.der("r3").to_vec(),
            scenario.pki.der("isrg-x1-by-dst").to_vec()
        ]
    );
    assert_eq!(input.trust_anchors.len(), 2);
    assert_eq!(
        input
            .validation_time
            .map(anchorsmith_validators::limbo::rfc3339)
            .as_deref(),
        Some("2021-10-01T14:01:15Z")
    );
}

#[test]
fn shared_keys_are_the_same_across_scenarios() {
    // Same seed everywhere: ISRG Root X1 (test) is byte-identical in every scenario declaring it
    // the same way, so a store built from one scenario anchors another's chains.
    let ders: Vec<&[u8]> = corpus()
        .scenarios
        .iter()
        .filter_map(|s| s.pki.certs.get("isrg-x1").map(|c| c.der.as_slice()))
        .collect();
    assert!(ders.len() >= 3);
    assert!(ders.windows(2).all(|w| w[0] == w[1]));
}

/// Synthetic CAs say "test" in their names, and every subject is marked as test material, so a
/// generated certificate can never pass for a real CA's.
#[test]
fn every_synthetic_subject_says_test() {
    for scenario in &corpus().scenarios {
        for facts in scenario.pki.facts().values() {
            let subject = facts.subject.to_lowercase();
            assert!(
                subject.contains("anchorsmith test pki"),
                "{}: {}",
                scenario.name,
                facts.subject
            );
            if facts.is_ca {
                assert!(
                    subject.contains("(test)"),
                    "CA without (test) in its name: {}",
                    facts.subject
                );
            }
        }
    }
}

/// Handshake harnesses get the peer's key in memory; the committed export never holds a key.
#[test]
fn peer_keys_reach_harnesses_but_never_the_export() {
    let corpus = corpus();
    for case in &corpus.cases {
        let key = case.to_validation_input().peer_key_pem;
        assert!(
            key.is_some_and(|pem| pem.contains("BEGIN PRIVATE KEY")),
            "{}: the handshake harnesses need the peer's key",
            case.id
        );
        let exported = anchorsmith_corpus::export::testcase(corpus.scenario_of(case), case);
        assert_eq!(exported.peer_certificate_key, None, "{}", case.id);
    }
    for (path, bytes) in render_generated(corpus) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains("PRIVATE KEY"),
            "{} holds a private key",
            path.display()
        );
    }
}

#[test]
fn at_least_ten_targets_and_every_expectation_is_judged_by_one() {
    let corpus = corpus();
    assert!(
        corpus.targets.len() >= 10,
        "{} targets",
        corpus.targets.len()
    );
    // Every seed names clients; every seed has a target standing for one of them.
    let seeds: BTreeSet<&str> = corpus
        .targets
        .iter()
        .map(|target| target.seed_file.as_str())
        .collect();
    for scenario in &corpus.scenarios {
        assert!(
            seeds.contains(scenario.seed_file.as_str()),
            "no target comes from {}",
            scenario.seed_file
        );
    }
    // An expectation no target can judge would be recorded and never compared with anything.
    for (scenario, expectation) in corpus.expectations() {
        let judged = expectation.case_ids.iter().any(|id| {
            let case = corpus.case(id).expect("selected cases exist");
            corpus
                .targets
                .iter()
                .any(|target| target.claims(&expectation.client) && target.applies_to(case))
        });
        assert!(
            judged,
            "{}: no target claims `{}` on any case of {}",
            scenario.name, expectation.client, expectation.selector
        );
    }
}
