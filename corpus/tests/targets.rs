//! The targets on the whole corpus, through their real engines (in process, and the harnesses:
//! NSS for Firefox, OpenSSL 1.0.1u/1.0.2s through Node.js handshakes) or the client model:
//!
//! - every target verdict and every judgement of an expectation is pinned (insta), so a change
//!   in a library or in the model shows up as a diff;
//! - no documented expectation is contradicted by a target that claims to be its client;
//! - the compatibility timeline of root-expiry-long-short tells seed 003's story, with every
//!   boundary taken from the topology;
//! - a target holding a minimal trust bundle holds what the builder chooses, and the cost the
//!   report gives is exactly the cases its two columns decide differently.
//!
//! The harnesses are set up on first use (see `harness_snapshot.rs`); under `CI=true` a missing
//! one fails the test.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anchorsmith_bundle::build::{build, Request};
use anchorsmith_bundle::coverage::DeviceVerifier;
use anchorsmith_bundle::load::{is_ca, Candidate, Endpoint};
use anchorsmith_corpus::compatibility::{
    subjects_for_targets, ScenarioTimeline, Status, TimelineRow,
};
use anchorsmith_corpus::report::{
    bundle_costs, render_target_snapshot, target_scores, RunPlan, RunReport,
};
use anchorsmith_corpus::target::bundle::{bundle_column, run_bundle_columns};
use anchorsmith_corpus::{load_corpus, Case, Corpus, TargetEngine};
use anchorsmith_validators::harnesses::every_harness_ready_or_skip;
use anchorsmith_validators::runner::{run_all, RunOptions, RunResults};
use anchorsmith_validators::{in_process_validators, Validator, Verdict};

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

/// The runs of the model-engine targets and of every bundle column (a bundle target with a real
/// engine takes it from `columns`), as `cargo xtask corpus` makes them.
fn target_runs(
    corpus: &Corpus,
    cases: &[&Case],
    columns: &[Arc<dyn Validator>],
    options: &RunOptions,
) -> RunResults {
    let inputs: Vec<_> = cases
        .iter()
        .map(|case| case.to_validation_input())
        .collect();
    let models: Vec<Arc<dyn Validator>> = corpus
        .targets
        .iter()
        .filter_map(|target| target.model_validator())
        .collect();
    let mut runs = run_all(&models, &inputs, options);
    let bundles = run_bundle_columns(&corpus.targets, cases, columns, |engines, inputs| {
        run_all(engines, inputs, options)
    });
    runs.runs.extend(bundles.runs);
    runs
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
    let report = RunReport::new(
        RunPlan::new(&corpus, &cases, Vec::new()),
        &results,
        &target_runs(&corpus, &cases, &columns, &options),
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

#[test]
fn a_bundle_target_holds_what_the_builder_chooses_for_its_endpoints() {
    let corpus = load_corpus(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("the corpus loads");
    let target = corpus
        .targets
        .iter()
        .find(|target| target.name == "iot-device-minimal-bundle")
        .expect("the target exists");
    let scenario = corpus
        .scenarios
        .iter()
        .find(|scenario| scenario.name == "intermediate-pinned-device")
        .expect("the scenario exists");
    // Built here from the scenario and the policy the target file states, through the builder.
    let der = |id: &str| scenario.pki.der(id).to_vec();
    let endpoints = ["x3-chain", "r3-chain-dec"]
        .iter()
        .map(|chain| {
            let chain_der: Vec<Vec<u8>> =
                scenario.chains[*chain].iter().map(|id| der(id)).collect();
            Endpoint {
                host: chain.to_string(),
                file: scenario.dir.join("scenario.toml"),
                has_leaf: !is_ca(&chain_der[0]),
                chain: chain_der,
            }
        })
        .collect();
    let candidates: Vec<Candidate> = scenario.stores["fixed-firmware"]
        .iter()
        .map(|id| Candidate {
            der: der(id),
            origin: id.clone(),
        })
        .collect();
    let built = build(Request {
        min_per_endpoint: 2,
        ..Request::new(
            endpoints,
            candidates,
            DeviceVerifier::FullPathBuilding,
            scenario.times["at-2020-12-15"].1,
            scenario.times["at-2021-03-18"].1,
        )
    })
    .unwrap_or_else(|e| panic!("{e}"));
    built.prove().unwrap_or_else(|e| panic!("{e}"));
    let chosen: Vec<Vec<u8>> = built.anchors().into_iter().map(|a| a.der).collect();

    let held = target.scenarios["intermediate-pinned-device"]
        .bundle
        .as_ref()
        .expect("the target holds a bundle there");
    let held_der: Vec<Vec<u8>> = held.anchors.iter().map(|a| a.der.clone()).collect();
    assert_eq!(held_der, chosen);
    for anchor in &held.anchors {
        assert_eq!(
            der(&anchor.id),
            anchor.der,
            "{} names its certificate",
            anchor.id
        );
    }
    let mut offered = scenario.stores["fixed-firmware"].clone();
    offered.sort();
    assert_eq!(held.candidates, offered);
    assert_eq!(held.findings, built.lints);
    // The bundle column's inputs carry the bundle as the whole trust store, on the cases the
    // target applies to in that scenario.
    let cases: Vec<&Case> = corpus
        .cases
        .iter()
        .filter(|case| case.scenario == scenario.name)
        .collect();
    let inputs = target.bundle_inputs(&cases);
    assert_eq!(
        inputs.len(),
        cases.iter().filter(|case| target.applies_to(case)).count()
    );
    assert!(inputs.iter().all(|input| input.trust_anchors == chosen));
}

#[test]
fn the_cost_of_a_bundle_is_the_cases_its_two_columns_decide_differently() {
    let corpus = load_corpus(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("the corpus loads");
    // The model-engine targets and their bundle columns need no harness.
    let cases: Vec<&Case> = corpus.cases.iter().collect();
    let options = RunOptions {
        per_case_timeout: Duration::from_secs(30),
        ..RunOptions::default()
    };
    let report = RunReport::new(
        RunPlan::new(&corpus, &cases, Vec::new()),
        &RunResults::default(),
        &target_runs(&corpus, &cases, &[], &options),
    );
    let costs = bundle_costs(&report);
    let bundle_targets: Vec<&str> = corpus
        .targets
        .iter()
        .filter(|target| target.holds_a_bundle())
        .map(|target| target.name.as_str())
        .collect();
    assert_eq!(costs.keys().copied().collect::<Vec<_>>(), bundle_targets);
    let accepts = |verdict: &Verdict| matches!(verdict, Verdict::Accept { .. });
    let mut differing_anywhere = 0;
    for (target, cost) in &costs {
        let column = bundle_column(target);
        let mut differing = Vec::new();
        let mut compared = 0;
        for row in &report.rows {
            let (Some(whole), Some(bundle)) = (
                report.target_verdict(&row.id, target),
                report.target_verdict(&row.id, &column),
            ) else {
                continue;
            };
            for verdict in [whole, bundle] {
                assert!(
                    matches!(verdict, Verdict::Accept { .. } | Verdict::Reject { .. }),
                    "{target} on {}: {verdict:?}",
                    row.id
                );
            }
            compared += 1;
            if accepts(whole) != accepts(bundle) {
                differing.push(row.id.clone());
            }
        }
        let mut listed: Vec<String> = cost.lost.iter().chain(&cost.gained).cloned().collect();
        listed.sort();
        differing.sort();
        assert_eq!(listed, differing, "{target}");
        assert_eq!(cost.compared, compared, "{target}");
        // The bundle is taken from the store the target holds: it cannot accept more.
        assert!(cost.gained.is_empty(), "{target}: {:?}", cost.gained);
        differing_anywhere += differing.len();
    }
    assert!(
        differing_anywhere > 0,
        "no bundle costs anything: this test would check nothing"
    );
}
