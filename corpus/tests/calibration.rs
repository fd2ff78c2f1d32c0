//! Calibration on the corpus: every case through every real engine that
//! `validators/engine-models.toml` describes and through the client model with that engine's
//! knobs, case by case. The model sees what the engine saw (the cache as served extras, no AIA:
//! `model::as_engines_see_it`). The snapshot pins each engine's agreement figure and every case
//! where the two differ, with both verdicts, so a change either way fails.
//!
//! The harness engines are set up on first use under `target/harnesses/`; under `CI=true` a
//! missing one fails, elsewhere the test pins nothing and says what is missing.

use std::path::Path;
use std::time::Duration;

use anchorsmith_corpus::load_corpus;
use anchorsmith_validators::harnesses::every_harness_ready_or_skip;
use anchorsmith_validators::in_process_validators;
use anchorsmith_validators::model::{calibrate_engines, engine_models, render_calibrations};
use anchorsmith_validators::runner::RunOptions;

#[test]
fn the_model_agrees_with_each_engine_on_the_corpus() {
    let corpus_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = corpus_dir
        .parent()
        .expect("corpus/ is inside the workspace");
    let timeout = Duration::from_secs(30);
    let Some(harnesses) =
        every_harness_ready_or_skip(timeout, "calibrating the model on the corpus")
    else {
        return;
    };
    let models = engine_models(&workspace.join("validators").join("engine-models.toml"))
        .unwrap_or_else(|error| panic!("{error}"));
    let corpus = load_corpus(corpus_dir).expect("the committed corpus loads");
    let inputs: Vec<_> = corpus
        .cases
        .iter()
        .map(|case| case.to_validation_input())
        .collect();
    let mut engines = in_process_validators();
    engines.extend(harnesses);
    let options = RunOptions {
        per_case_timeout: timeout,
        ..RunOptions::default()
    };
    let calibrations = calibrate_engines(&engines, &models, &inputs, &options);
    assert_eq!(calibrations.len(), models.len());
    insta::assert_snapshot!("corpus_calibration", render_calibrations(&calibrations));
}
