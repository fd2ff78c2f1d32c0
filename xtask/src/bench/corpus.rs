//! `cargo xtask bench corpus`: the wall time of a warm corpus run, per validator and for all of
//! them together (the target: the whole corpus through every validator in under 30 s on
//! 2 cores).
//!
//! "Warm" means what a second `cargo xtask corpus` sees: keys cached, harnesses built. One
//! untimed run warms the caches (and sets up any harness on first use); then each of `runs` runs
//! loads the corpus and puts every case through every validator, one validator after another
//! (as `cargo xtask corpus` does), and the medians are printed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anchorsmith_validators::runner::{run_all, RunOptions};
use anchorsmith_validators::ValidationInput;

use crate::shared::select_validators;

pub fn run(runs: usize) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(10);
    let validators = select_validators(&[], &[], timeout)?;
    let corpus_dir = crate::project_root().join("corpus");
    let options = RunOptions {
        per_case_timeout: timeout,
        ..RunOptions::default()
    };
    let mut per_validator: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    let mut loads = Vec::new();
    let mut totals = Vec::new();
    for run in 0..=runs {
        let started = Instant::now();
        let corpus = anchorsmith_corpus::load_corpus(&corpus_dir)?;
        let inputs: Vec<ValidationInput> = corpus
            .cases
            .iter()
            .map(|case| case.to_validation_input())
            .collect();
        let loaded = started.elapsed();
        let results = run_all(&validators, &inputs, &options);
        if run == 0 {
            continue; // the warm-up
        }
        loads.push(loaded);
        totals.push(started.elapsed());
        for validator_run in results.runs {
            per_validator
                .entry(validator_run.name)
                .or_default()
                .push(validator_run.wall_time);
        }
    }
    let cases = anchorsmith_corpus::load_corpus(&corpus_dir)?.cases.len();
    println!(
        "corpus: {cases} cases, {} validators, {runs} warm runs, {} threads; medians:",
        validators.len(),
        rayon::current_num_threads()
    );
    let width = per_validator.keys().map(String::len).max().unwrap_or(0);
    for validator in &validators {
        if let Some(times) = per_validator.get_mut(validator.name()) {
            println!(
                "  {:<width$}  {:>7.3} s",
                validator.name(),
                median(times).as_secs_f64()
            );
        }
    }
    println!(
        "  {:<width$}  {:>7.3} s",
        "load (generate, cases)",
        median(&mut loads).as_secs_f64()
    );
    println!(
        "  {:<width$}  {:>7.3} s   (target: under 30 s)",
        "all together",
        median(&mut totals).as_secs_f64()
    );
    Ok(())
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}
