//! Pins the verdict of every handshake column (`handshake:<client>`: real clients in real TLS
//! handshakes against a rustls server on 127.0.0.1 serving each case's chain as given) on every
//! corpus case, beside the verification-API column of the same library, and the finding
//! "handshake vs verification API" the report shows for them.
//!
//! The clients are set up on first use (`validators/harnesses/handshake/harness.toml`, with the
//! gnutls and java harnesses for their API columns); under `CI=true` a missing one fails this
//! test, elsewhere it says what is missing and pins nothing.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchorsmith_corpus::load_corpus;
use anchorsmith_corpus::report::{render_handshakes_md, render_snapshot, RunPlan, RunReport};
use anchorsmith_validators::handshake::{api_pairs, handshake_columns_ready_or_skip};
use anchorsmith_validators::harnesses::{
    builtin_columns, in_ci, workspace_harness_dir, HarnessColumn, SetupMode,
};
use anchorsmith_validators::runner::{run_all, RunOptions, RunResults};
use anchorsmith_validators::{in_process_validators, Validator};

#[test]
fn every_handshake_verdict_and_its_api_column_are_pinned() {
    let timeout = Duration::from_secs(30);
    let Some(clients) = handshake_columns_ready_or_skip(timeout, "pinning handshake verdicts")
    else {
        return;
    };
    let clients: Vec<Arc<dyn Validator>> = clients
        .into_iter()
        .map(|client| Arc::new(client) as Arc<dyn Validator>)
        .collect();
    let wanted: Vec<String> = clients
        .iter()
        .filter_map(|client| {
            anchorsmith_validators::handshake::Client::of_column(client.name())
                .and_then(|c| c.api_column(&client.version()))
                .map(String::from)
        })
        .collect();
    let log = |line: &str| eprintln!("  {line}");
    let harnesses = builtin_columns(
        &wanted,
        timeout,
        SetupMode::Install,
        &workspace_harness_dir(),
        &log,
    )
    .unwrap_or_else(|diagnostic| panic!("{diagnostic}"));
    let mut api: Vec<Arc<dyn Validator>> = in_process_validators();
    for column in harnesses {
        match column {
            HarnessColumn::Ready(_) => api.push(column.into_validator()),
            HarnessColumn::Unavailable(missing) => {
                assert!(
                    !in_ci(),
                    "{} missing under CI: {}",
                    missing.name,
                    missing.reason
                );
                eprintln!("not pinning handshake verdicts: {} missing", missing.name);
                return;
            }
        }
    }
    api.retain(|validator| wanted.iter().any(|name| name == validator.name()));
    let mut validators = api;
    validators.extend(clients);

    let corpus = load_corpus(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("the corpus loads");
    let cases: Vec<_> = corpus.cases.iter().collect();
    let inputs: Vec<_> = cases
        .iter()
        .map(|case| case.to_validation_input())
        .collect();
    let options = RunOptions {
        per_case_timeout: timeout,
        ..RunOptions::default()
    };
    let started = Instant::now();
    let results = run_all(&validators, &inputs, &options);
    for run in &results.runs {
        eprintln!("{}: {:.2} s", run.name, run.wall_time.as_secs_f64());
        // The snapshot shows only `error`; its detail is what tells a fault from a verdict.
        for (id, verdict) in &run.verdicts {
            if let anchorsmith_validators::Verdict::Error { detail } = verdict {
                eprintln!("  error {id}: {detail}");
            }
        }
    }
    eprintln!("all: {:.2} s", started.elapsed().as_secs_f64());
    let report = RunReport::new(
        RunPlan::new(&corpus, &cases, Vec::new()),
        &results,
        &RunResults::default(),
    )
    .with_api_pairs(api_pairs(&validators));
    // Every client but Chromium (no verification-API column runs its verifier).
    assert_eq!(report.api_pairs.len(), 5, "every client has its API column");
    let snapshot = format!(
        "{}{}",
        render_snapshot(&report),
        render_handshakes_md(&report)
    );
    insta::assert_snapshot!("handshake_matrix", snapshot);
}
