//! The `full` limbo suite (9,780 cases) through every built-in harness (validators/harnesses/:
//! NSS, GnuTLS, mbedTLS, BearSSL, wolfSSL, Go, Java, pyca/cryptography, Botan, legacy OpenSSL
//! through Node.js). Pins, as an insta snapshot, the per-namespace agreement with
//! `expected_result`, and the agreement of Go, GnuTLS and pyca/cryptography with limbo's own
//! reference results for them (shipped in shared/). Versions and timings stay out of it.
//!
//! The harnesses are set up on first use under `target/harnesses/`. Under `CI=true` a harness
//! that cannot be set up fails this test; elsewhere the test says what is missing and pins
//! nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anchorsmith_validators::harnesses::every_harness_ready_or_skip;
mod full_suite;

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
fn full_agreement_table_of_every_harness() {
    let root = workspace_root();
    let timeout = Duration::from_secs(10);
    let Some(validators) = every_harness_ready_or_skip(timeout, "pinning the harness tables")
    else {
        return;
    };

    let suite = full_suite_at_pinned_now(&root);
    let options = RunOptions {
        per_case_timeout: timeout,
        ..RunOptions::default()
    };
    let (runs, mut snapshot) = run_and_tally(&validators, &suite, &options);

    let references = root.join("..").join("shared").join("limbo").join("results");
    snapshot.push('\n');
    for (file, ours_name) in [
        ("gocryptox509.json.gz", "go-crypto-x509"),
        ("gnutls.json.gz", "gnutls"),
        ("pyca-cryptography.json.gz", "pyca-cryptography"),
    ] {
        let theirs = suite::load_results(&references.join(file)).unwrap();
        let (run, verdicts) = runs
            .iter()
            .find(|(run, _)| run.name == ours_name)
            .unwrap_or_else(|| panic!("no column {ours_name}"));
        let ours = ValidatorVerdicts {
            name: &run.name,
            profile: &run.profile,
            verdicts,
        };
        let comparison = suite::compare(&suite.cases, &ours, &theirs, Path::new(file));
        snapshot.push_str(&format!(
            "{} vs {}: agree {}, disagree {}\n",
            ours_name,
            file,
            comparison.agree,
            comparison.disagree()
        ));
    }
    insta::assert_snapshot!("harnesses_full_agreement", snapshot);
}
