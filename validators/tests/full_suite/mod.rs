//! What the full-suite snapshot tests share: the suite with a pinned "now", and one run of some
//! validators over it, tallied per namespace into the agreement table that the snapshots pin.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anchorsmith_validators::runner::{run_all, RunOptions, ValidatorRun};
use anchorsmith_validators::suite::{self, PreparedSuite, SuiteSpec};
use anchorsmith_validators::{Validator, Verdict};

/// limbo's full suite. Cases with a null validation time mean "now"; it is pinned so that the
/// snapshots cannot drift.
pub fn full_suite_at_pinned_now(root: &Path) -> PreparedSuite {
    let mut suite = suite::load_suite(&SuiteSpec::Full.resolve(root)).unwrap();
    suite::pin_now(
        &mut suite.inputs,
        std::time::UNIX_EPOCH + Duration::from_secs(1_793_491_200),
    );
    suite
}

/// Every validator's run with its verdict for every case, and the agreement table.
pub fn run_and_tally(
    validators: &[Arc<dyn Validator>],
    suite: &PreparedSuite,
    options: &RunOptions,
) -> (Vec<(ValidatorRun, BTreeMap<String, Verdict>)>, String) {
    let results = run_all(validators, &suite.inputs, options);
    let runs: Vec<_> = results
        .runs
        .into_iter()
        .map(|run| {
            let verdicts = suite.verdicts_for_all_cases(run.verdicts.clone());
            (run, verdicts)
        })
        .collect();
    let tallies: Vec<_> = runs
        .iter()
        .map(|(run, verdicts)| {
            (
                run.name.clone(),
                suite::tally_by_namespace(&suite.cases, verdicts),
            )
        })
        .collect();
    let table = suite::render_agreement_table(&tallies);
    (runs, table)
}
