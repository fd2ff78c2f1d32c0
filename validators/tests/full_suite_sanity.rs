//! Opt-in (`--ignored`): the full limbo suite (9,780 cases) through the in-process validators,
//! printing agreement with `expected_result` and, for rustls-webpki, every case where our adapter
//! and limbo's own rustls-webpki harness disagree. Not pinned: the suite tables pin figures.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use anchorsmith_validators::limbo::{ActualResult, ExpectedResult, Limbo, LimboResults};
use anchorsmith_validators::runner::{run_all, RunOptions};
use anchorsmith_validators::{in_process_validators, Verdict};

fn gunzip_json<T: serde::de::DeserializeOwned>(path: &str) -> T {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// limbo's result for a verdict; `None` for an error, which has no limbo spelling.
fn actual(verdict: &Verdict) -> Option<ActualResult> {
    match verdict {
        Verdict::Accept { .. } => Some(ActualResult::Success),
        Verdict::Reject { .. } => Some(ActualResult::Failure),
        Verdict::Skip { .. } => Some(ActualResult::Skipped),
        Verdict::Error { .. } => None,
    }
}

#[test]
#[ignore = "full suite: run with --ignored"]
fn full_suite_against_expected_and_reference() {
    let limbo: Limbo = gunzip_json(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/limbo/limbo-full.json.gz"
    ));
    let inputs: Vec<_> = limbo
        .testcases
        .iter()
        .map(|c| c.to_input().unwrap())
        .collect();
    let started = std::time::Instant::now();
    let results = run_all(&in_process_validators(), &inputs, &RunOptions::default());
    println!(
        "{} cases x {} validators in {:?}",
        inputs.len(),
        results.runs.len(),
        started.elapsed()
    );
    for run in &results.runs {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for case in &limbo.testcases {
            let key = match (case.expected_result, actual(&run.verdicts[&case.id])) {
                (ExpectedResult::Success, Some(ActualResult::Success))
                | (ExpectedResult::Failure, Some(ActualResult::Failure)) => "match",
                (_, Some(ActualResult::Success)) => "unexpected success",
                (_, Some(ActualResult::Failure)) => "unexpected failure",
                (_, Some(other)) => other.into(),
                (_, None) => "ERROR",
            };
            *counts.entry(key.to_string()).or_default() += 1;
        }
        println!("{:24} {:?} {counts:?}", run.name, run.wall_time);
        assert!(!counts.contains_key("ERROR"), "{}", run.name);
    }
    let reference: LimboResults = gunzip_json(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/limbo/results/rustls-webpki.json.gz"
    ));
    let reference: HashMap<_, _> = reference
        .results
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    let webpki = results
        .runs
        .iter()
        .find(|run| run.name == "rustls-webpki")
        .unwrap();
    let mut disagreements = 0;
    for case in &limbo.testcases {
        let verdict = &webpki.verdicts[&case.id];
        let theirs = &reference[&case.id];
        if Some(theirs.actual_result) != actual(verdict) {
            disagreements += 1;
            println!(
                "  {} expected {}: ours {verdict:?}, limbo's {} {:?}",
                case.id, case.expected_result, theirs.actual_result, theirs.context
            );
        }
    }
    println!("rustls-webpki vs limbo's rustls-webpki harness: {disagreements} disagreements");

    // Runner overhead, informally: one validator sequentially on this thread vs through the runner.
    for validator in in_process_validators() {
        let started = std::time::Instant::now();
        let direct: BTreeMap<String, Verdict> = inputs
            .iter()
            .map(|input| (input.id.clone(), validator.validate(input)))
            .collect();
        let sequential = started.elapsed();
        let started = std::time::Instant::now();
        let run = run_all(
            std::slice::from_ref(&validator),
            &inputs,
            &RunOptions::default(),
        );
        println!(
            "{:24} sequential {sequential:?}, runner {:?}",
            validator.name(),
            started.elapsed()
        );
        assert_eq!(run.runs[0].verdicts, direct);
    }
}
