//! Pins the verdict of every real validator on every corpus case (outcome and normalized kind),
//! so a dependency bump or a code change that alters any verdict fails `cargo test` with a
//! readable diff. Review a change with `cargo insta review` (see README.md).
//!
//! Also checks that the committed `questions.toml` names only cases the corpus has.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use anchorsmith_corpus::report::{parse_questions, render_snapshot, RunPlan, RunReport};
use anchorsmith_corpus::{load_corpus, Corpus};
use anchorsmith_validators::in_process_validators;
use anchorsmith_validators::runner::{run_all, RunOptions};

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
    let report = RunReport::new(plan, &results);
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
