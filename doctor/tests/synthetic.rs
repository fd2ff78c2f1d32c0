//! The bench's synthetic served chains: deterministic, and each of the seeds' shapes gets the
//! finding that seed is about; once the intermediates are verified, a new chain costs its leaf's
//! signature alone.

use std::path::PathBuf;
use std::sync::Arc;

use anchorsmith_doctor::batch::Batch;
use anchorsmith_doctor::synthetic::{Shape, Synthetic};
use anchorsmith_doctor::FindingCode;
use anchorsmith_validators::model::SignatureCache;
use time::OffsetDateTime;

#[test]
fn synthetic_chains_are_deterministic_and_show_each_seeds_shape() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let corpus = anchorsmith_corpus::load_corpus(&dir.canonicalize().unwrap())
        .unwrap_or_else(|e| panic!("{e}"));
    let synthetic = Synthetic::new(&corpus).unwrap();
    let again = Synthetic::new(&corpus).unwrap();
    assert_eq!(
        synthetic.request(7).unwrap().chain,
        again.request(7).unwrap().chain
    );
    let targets: Vec<_> = corpus.targets.iter().collect();
    let signatures = Arc::new(SignatureCache::new());
    let panels = anchorsmith_doctor::batch::model_panels(
        &corpus.scenarios,
        &corpus.cases,
        &targets,
        &signatures,
    );
    let batch = Batch::new(
        &corpus.scenarios,
        &panels,
        None,
        None,
        Arc::clone(&signatures),
        OffsetDateTime::now_utc(),
    );
    let requests = synthetic.requests(0..10).unwrap();
    for (index, request) in requests.iter().enumerate() {
        let diagnosis = batch.judge(request);
        let codes: Vec<FindingCode> = diagnosis.findings.iter().map(|f| f.code).collect();
        let shape = Synthetic::shape(index);
        let expected: &[FindingCode] = match shape {
            Shape::Correct => &[],
            // The short chain's top issuer (ISRG Root X1) is in some stores only (not in
            // `old`): incomplete for those.
            Shape::Short => &[FindingCode::IncompleteChain],
            // At 2021-10-01 the cross-sign's old root (DST Root CA X3) has expired.
            Shape::Long => &[FindingCode::CrossSignExpiring],
            Shape::LeafOnly => &[FindingCode::IncompleteChain],
            Shape::WrongSameKey => &[FindingCode::WrongNameSameKey],
        };
        assert_eq!(codes, expected, "{shape}");
        assert!(
            !diagnosis.verdicts.is_empty(),
            "{shape}: no model target judged"
        );
        if shape == Shape::Correct {
            assert_eq!(
                diagnosis.tally().reject,
                0,
                "{shape}: {:?}",
                diagnosis.verdicts
            );
        }
    }
    // Once the intermediates are verified, each new chain costs its leaf's signature alone,
    // verified once whatever asks for it (a leaf alone has no issuer to verify with).
    let before = signatures.counts();
    for request in synthetic.requests(10..20).unwrap() {
        batch.judge(&request);
    }
    let after = signatures.counts();
    assert_eq!(
        after.performed - before.performed,
        8,
        "{before:?} {after:?}"
    );
    assert!(
        after.requested - before.requested > 3 * 8,
        "{before:?} {after:?}"
    );
}
