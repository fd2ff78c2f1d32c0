//! The shared signature cache changes what a verdict costs, never the verdict: every corpus case
//! through every client model (each target's, and each calibrated engine model of
//! validators/engine-models.toml), once verifying every signature and once through one cache
//! shared by all of them, gives the same verdict, reason and path.

use std::path::PathBuf;
use std::sync::Arc;

use anchorsmith_corpus::TargetEngine;
use anchorsmith_validators::model::{shipped_engine_models, ClientModel, Knobs, SignatureCache};
use anchorsmith_validators::Validator;

#[test]
fn verdicts_with_and_without_the_cache_are_identical_over_the_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let corpus = anchorsmith_corpus::load_corpus(&dir.canonicalize().unwrap())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut models: Vec<(String, Knobs)> = corpus
        .targets
        .iter()
        .filter_map(|target| match &target.engine {
            TargetEngine::Model { knobs } => Some((target.name.clone(), knobs.clone())),
            TargetEngine::Validator { .. } => None,
        })
        .collect();
    models.extend(
        shipped_engine_models()
            .into_iter()
            .map(|(name, model)| (format!("engine-model:{name}"), model.knobs)),
    );
    assert!(models.len() > 10, "{} models", models.len());
    let cache = Arc::new(SignatureCache::new());
    let mut compared = 0;
    for (name, knobs) in &models {
        let plain = ClientModel::new(name.clone(), knobs.clone());
        let cached =
            ClientModel::new(name.clone(), knobs.clone()).with_signature_cache(Arc::clone(&cache));
        for case in &corpus.cases {
            for input in [case.to_validation_input(), case.to_plain_validation_input()] {
                assert_eq!(
                    plain.validate(&input),
                    cached.validate(&input),
                    "{name} on {}",
                    case.id
                );
                compared += 1;
            }
        }
    }
    let counts = cache.counts();
    // The cache was really asked, and answered most checks itself.
    assert!(counts.requested > 0 && counts.performed > 0, "{counts:?}");
    assert!(counts.performed * 4 < counts.requested, "{counts:?}");
    eprintln!("{compared} verdicts compared; signatures {counts:?}");
}
