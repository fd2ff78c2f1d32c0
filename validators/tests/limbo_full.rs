//! The `full` limbo suite (9,780 cases) through the real in-process validators. Pins, as an
//! insta snapshot, the per-namespace agreement with `expected_result` and the agreement with
//! limbo's own reference harnesses (rustls-webpki and OpenSSL results shipped in shared/), so a
//! change of any verdict — from an adapter change or a library upgrade — shows up in review.
//! Versions and timings stay out of the snapshot: only verdicts may change it.

use std::path::{Path, PathBuf};

mod full_suite;

use anchorsmith_validators::in_process_validators;

use anchorsmith_validators::runner::RunOptions;
use anchorsmith_validators::suite::{self, ValidatorVerdicts};
use full_suite::{full_suite_at_pinned_now, run_and_tally};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn full_agreement_table() {
    let root = workspace_root();
    let suite = full_suite_at_pinned_now(&root);
    assert_eq!(suite.cases.len(), 9780);
    let (runs, mut snapshot) =
        run_and_tally(&in_process_validators(), &suite, &RunOptions::default());

    let references = root.join("..").join("shared").join("limbo").join("results");
    let mut comparisons = Vec::new();
    for (file, our_prefix) in [
        ("rustls-webpki.json.gz", "rustls-webpki"),
        ("openssl-3.0.json.gz", "openssl"),
    ] {
        let theirs = suite::load_results(&references.join(file)).unwrap();
        for (run, verdicts) in runs
            .iter()
            .filter(|(run, _)| run.name.starts_with(our_prefix))
        {
            let ours = ValidatorVerdicts {
                name: &run.name,
                profile: &run.profile,
                verdicts,
            };
            comparisons.push(suite::compare(
                &suite.cases,
                &ours,
                &theirs,
                Path::new(file),
            ));
        }
    }
    snapshot.push('\n');
    for comparison in &comparisons {
        snapshot.push_str(&format!(
            "{} vs {}: agree {}, disagree {}\n",
            comparison.ours,
            comparison.theirs,
            comparison.agree,
            comparison.disagree()
        ));
    }
    insta::assert_snapshot!("full_agreement", snapshot);
}
