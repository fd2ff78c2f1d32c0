//! The targets on the whole corpus, through their real engines (in process, and the harnesses:
//! NSS for Firefox, OpenSSL 1.0.1u/1.0.2s through Node.js handshakes) or the client model:
//!
//! - every target verdict and every judgement of an expectation is pinned (insta), so a change
//!   in a library or in the model shows up as a diff;
//! - no documented expectation is contradicted by a target that claims to be its client;
//! - the compatibility timeline of root-expiry-long-short tells seed 003's story, with every
//!   boundary taken from the topology.
//!
//! The harnesses are set up on first use (see `harness_snapshot.rs`); under `CI=true` a missing
//! one fails the test.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anchorsmith_corpus::compatibility::{
    subjects_for_targets, ScenarioTimeline, Status, TimelineRow,
};
use anchorsmith_corpus::report::{render_target_snapshot, target_scores, RunPlan, RunReport};
use anchorsmith_corpus::{load_corpus, Corpus, TargetEngine};
use anchorsmith_validators::harnesses::every_harness_ready_or_skip;
use anchorsmith_validators::runner::{run_all, RunOptions};
use anchorsmith_validators::{in_process_validators, Validator};

/// The validator columns the targets' real engines need, or `None` (with the reason printed)
/// when a harness is missing outside CI.
fn engine_columns(corpus: &Corpus) -> Option<Vec<Arc<dyn Validator>>> {
    let Some(harnesses) =
        every_harness_ready_or_skip(Duration::from_secs(30), "checking the targets")
    else {
        return None;
    };
    let needed: Vec<&str> = corpus
        .targets
        .iter()
        .filter_map(|target| match &target.engine {
            TargetEngine::Validator { name } => Some(name.as_str()),
            TargetEngine::Model { .. } => None,
        })
        .collect();
    Some(
        in_process_validators()
            .into_iter()
            .chain(harnesses)
            .filter(|validator| needed.contains(&validator.name()))
            .collect(),
    )
}

#[test]
fn targets_confirm_every_documented_expectation_and_are_pinned() {
    let corpus = load_corpus(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("the corpus loads");
    let Some(columns) = engine_columns(&corpus) else {
        return;
    };
    let cases: Vec<_> = corpus.cases.iter().collect();
    let inputs: Vec<_> = cases
        .iter()
        .map(|case| case.to_validation_input())
        .collect();
    let options = RunOptions {
        per_case_timeout: Duration::from_secs(30),
        ..RunOptions::default()
    };
    let results = run_all(&columns, &inputs, &options);
    let models: Vec<Arc<dyn Validator>> = corpus
        .targets
        .iter()
        .filter_map(|target| target.model_validator())
        .collect();
    let model_results = run_all(&models, &inputs, &options);
    let report = RunReport::new(
        RunPlan::new(&corpus, &cases, Vec::new()),
        &results,
        &model_results,
    );
    for (target, scores) in target_scores(&report) {
        assert_eq!(
            (
                scores.documented.contradicted,
                scores.documented.wrong_reason
            ),
            (0, 0),
            "{target} contradicts a documented expectation of a client it claims to be"
        );
        assert_eq!(
            scores.documented.undecided, 0,
            "{target} left an expectation undecided"
        );
    }
    insta::assert_snapshot!("target_view", render_target_snapshot(&report));
}

#[test]
fn the_timeline_of_the_dst_expiry_tells_seed_003s_story() {
    let corpus = load_corpus(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("the corpus loads");
    let Some(columns) = engine_columns(&corpus) else {
        return;
    };
    let scenario = corpus
        .scenarios
        .iter()
        .find(|scenario| scenario.name == "root-expiry-long-short")
        .expect("the scenario exists");
    let engines: Vec<_> = corpus
        .targets
        .iter()
        .filter_map(|target| {
            let engine = match &target.engine {
                TargetEngine::Model { .. } => target.model_validator(),
                TargetEngine::Validator { name } => {
                    columns.iter().find(|column| column.name() == name).cloned()
                }
            };
            engine.map(|engine| (target, engine))
        })
        .collect();
    let subjects = subjects_for_targets(scenario, &corpus.cases, &engines);
    let timeline = ScenarioTimeline::compute(scenario, &subjects, &RunOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    for row in &timeline.rows {
        let failed: Vec<_> = row.failed_proofs().collect();
        assert!(failed.is_empty(), "{}: {failed:#?}", row.label);
    }
    let row = |target: &str, chain: &str| -> &TimelineRow {
        timeline
            .rows
            .iter()
            .find(|row| row.label == target && row.chain == chain)
            .unwrap_or_else(|| panic!("no row {target} {chain}"))
    };
    let facts = scenario.pki.facts();
    let dst_expiry = facts["dst-root"].not_after;
    let cross_sign_end = facts["isrg-x1-by-dst"].not_after;
    let works = |row: &TimelineRow, at: time::OffsetDateTime| row.status_at(at) == Status::Accept;
    let (before, after_expiry, after_cross_sign) = (
        dst_expiry - time::Duration::days(1),
        dst_expiry + time::Duration::days(1),
        cross_sign_end + time::Duration::days(1),
    );
    for android in [row("android-pre-7.1.1", "long-chain")] {
        // The long chain keeps old Android working after the DST expiry, until the cross-sign ends.
        assert!(
            works(android, before) && works(android, after_expiry),
            "{android:#?}"
        );
        assert!(!works(android, after_cross_sign), "{android:#?}");
    }
    // The short chain never works on old Android (no ISRG Root X1 in its store).
    let android_short = row("android-pre-7.1.1", "short-chain");
    assert!(android_short
        .intervals
        .iter()
        .all(|i| i.status != Status::Accept));
    for client in ["openssl-1.0.1-client", "openssl-1.0.2-client"] {
        // The long chain breaks OpenSSL 1.0.x clients at the DST expiry; the short chain does not.
        let long = row(client, "long-chain");
        assert!(
            works(long, before) && !works(long, after_expiry),
            "{long:#?}"
        );
        let short = row(client, "short-chain");
        assert!(
            works(short, after_expiry) && works(short, after_cross_sign),
            "{short:#?}"
        );
    }
}
