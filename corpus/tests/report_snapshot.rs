//! Pins the verdict of every real validator on every corpus case (outcome and normalized kind),
//! so a dependency bump or a code change that alters any verdict fails `cargo test` with a
//! readable diff. Review a change with `cargo insta review` (see README.md).

use std::path::Path;

use anchorsmith_corpus::load_corpus;
use anchorsmith_corpus::report::{render_snapshot, RunReport};
use anchorsmith_validators::in_process_validators;
use anchorsmith_validators::runner::{run_all, RunOptions};

#[test]
fn every_verdict_of_every_validator_is_pinned() {
    let corpus_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = load_corpus(corpus_dir).expect("the committed corpus loads");
    let inputs: Vec<_> = corpus
        .cases
        .iter()
        .map(|case| case.to_validation_input())
        .collect();
    let results = run_all(&in_process_validators(), &inputs, &RunOptions::default());
    let cases: Vec<_> = corpus.cases.iter().collect();
    let report = RunReport::new(&corpus, &cases, &results);
    insta::assert_snapshot!("corpus_matrix", render_snapshot(&report));
}
