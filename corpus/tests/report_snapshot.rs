//! Pins the verdict of every real validator on every corpus case (outcome and normalized kind),
//! so a dependency bump or a code change that alters any verdict fails `cargo test` with a
//! readable diff. Review a change with `cargo insta review` (see README.md).
//!
//! Also checks that the committed `questions.toml` names only cases the corpus has, and that a
//! validator that decided no case (a broken command, an unavailable harness) is named once and
//! changes no case's differences.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use anchorsmith_corpus::report::{
    differences, parse_questions, render_differences_md, render_snapshot, render_summary_table,
    DifferenceClass, RunPlan, RunReport,
};
use anchorsmith_corpus::{load_corpus, Corpus};
use anchorsmith_validators::external::ExternalHarness;
use anchorsmith_validators::harnesses::Unavailable;
use anchorsmith_validators::runner::{run_all, RunOptions, RunResults};
use anchorsmith_validators::{in_process_validators, Validator};

fn corpus_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The committed corpus, loaded once for every test here (loading generates every topology).
fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| load_corpus(corpus_dir()).expect("the committed corpus loads"))
}

#[test]
fn every_verdict_of_every_validator_is_pinned() {
    let corpus = corpus();
    let cases: Vec<_> = corpus.cases.iter().collect();
    let plan = RunPlan::new(corpus, &cases, Vec::new());
    let inputs: Vec<_> = cases
        .iter()
        .map(|case| case.to_validation_input())
        .collect();
    let results = run_all(&in_process_validators(), &inputs, &RunOptions::default());
    let report = RunReport::new(plan, &results, &RunResults::default());
    insta::assert_snapshot!("corpus_matrix", render_snapshot(&report));
}

#[test]
fn the_committed_questions_name_cases_of_the_corpus() {
    let path = corpus_dir().join("questions.toml");
    let source = std::fs::read_to_string(&path).expect("questions.toml is readable");
    let ids: BTreeSet<&str> = corpus().cases.iter().map(|case| case.id.as_str()).collect();
    let questions = parse_questions(&path, &source, &ids).unwrap_or_else(|error| panic!("{error}"));
    assert!(!questions.is_empty());
}

#[test]
fn a_validator_that_decides_no_case_is_named_once_and_changes_no_difference() {
    let corpus = corpus();
    let cases: Vec<_> = corpus.cases.iter().collect();
    let inputs: Vec<_> = cases
        .iter()
        .map(|case| case.to_validation_input())
        .collect();
    let mut validators = in_process_validators();
    let broken = ExternalHarness::parse("broken=sh -c 'exit 3'").expect("a valid NAME=COMMAND");
    validators.push(Arc::new(broken) as Arc<dyn Validator>);
    validators.push(Arc::new(Unavailable {
        name: "absent".into(),
        reason: "no compiler".into(),
        hint: "apt-get install gcc".into(),
    }));
    let results = run_all(&validators, &inputs, &RunOptions::default());
    let with_idle = RunReport::new(
        RunPlan::new(corpus, &cases, Vec::new()),
        &results,
        &RunResults::default(),
    );
    let working = RunResults {
        runs: results
            .runs
            .iter()
            .filter(|run| run.name != "broken" && run.name != "absent")
            .cloned()
            .collect(),
    };
    let without = RunReport::new(
        RunPlan::new(corpus, &cases, Vec::new()),
        &working,
        &RunResults::default(),
    );

    let classes = |report: &RunReport| -> Vec<(String, DifferenceClass)> {
        differences(report)
            .iter()
            .map(|difference| (difference.row.id.clone(), difference.class()))
            .collect()
    };
    assert_eq!(classes(&with_idle), classes(&without));
    assert!(
        classes(&without)
            .iter()
            .any(|(_, class)| *class == DifferenceClass::Outcome),
        "the in-process validators disagree on some case"
    );

    let summary = render_summary_table(&with_idle);
    let cases_count = corpus.cases.len();
    assert!(
        summary.contains(&format!(
            "\nbroken: `broken` failed on all {cases_count} cases: "
        )),
        "{summary}"
    );
    assert!(
        summary.contains(&format!(
            "\nunavailable: `absent` skipped all {cases_count} cases: not available here \
             (no compiler); to get it: apt-get install gcc\n"
        )),
        "{summary}"
    );
    let text = render_differences_md(&with_idle);
    assert_eq!(text.matches("`broken`").count(), 1, "{text}");
    assert_eq!(text.matches("`absent`").count(), 1, "{text}");
}
