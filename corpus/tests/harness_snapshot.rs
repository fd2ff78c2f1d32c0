//! Pins the verdict of every built-in harness (validators/harnesses/: NSS, GnuTLS, mbedTLS,
//! BearSSL, wolfSSL, legacy OpenSSL through Node.js, ...) on every corpus case, like
//! `report_snapshot.rs` does for the in-process validators.
//!
//! The harnesses are set up on first use under `target/harnesses/` (Debian packages when running
//! as root, PyPI and npm packages, builds). Under `CI=true` a harness that cannot be set up fails
//! this test, so CI always pins every column; elsewhere the test says what is missing and how to
//! get it, and pins nothing.

use std::path::Path;
use std::time::Duration;

use anchorsmith_corpus::load_corpus;
use anchorsmith_corpus::report::{render_snapshot, RunPlan, RunReport};
use anchorsmith_validators::harnesses::every_harness_ready_or_skip;
use anchorsmith_validators::runner::{run_all, RunOptions, RunResults};

#[test]
fn every_verdict_of_every_harness_is_pinned() {
    let corpus_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(validators) =
        every_harness_ready_or_skip(Duration::from_secs(30), "pinning harness verdicts")
    else {
        return;
    };
    let corpus = load_corpus(corpus_dir).expect("the committed corpus loads");
    let cases: Vec<_> = corpus.cases.iter().collect();
    let plan = RunPlan::new(&corpus, &cases, Vec::new());
    let inputs: Vec<_> = cases
        .iter()
        .map(|case| case.to_validation_input())
        .collect();
    let options = RunOptions {
        per_case_timeout: Duration::from_secs(30),
        ..RunOptions::default()
    };
    let results = run_all(&validators, &inputs, &options);
    let report = RunReport::new(plan, &results, &RunResults::default());
    insta::assert_snapshot!("harness_matrix", render_snapshot(&report));
}
