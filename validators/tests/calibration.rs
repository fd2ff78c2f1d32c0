//! Calibration on limbo: the `bettertls::pathbuilding` and `pathological::*` namespaces through
//! every real engine that `engine-models.toml` describes and through the client model with that
//! engine's knobs, case by case. The snapshot pins each engine's agreement figure and every case
//! where the two differ, with both verdicts, so a change either way fails.
//!
//! The harness engines (BearSSL, mbedTLS, legacy OpenSSL through Node.js) are set up on first
//! use under `target/harnesses/`; under `CI=true` a missing one fails, elsewhere the test pins
//! nothing and says what is missing.

use std::path::{Path, PathBuf};
use std::time::Duration;

// Shared with the full-suite tests; this one needs only the loader.
#[allow(dead_code)]
mod full_suite;

use anchorsmith_validators::harnesses::every_harness_ready_or_skip;
use anchorsmith_validators::model::{calibrate_engines, engine_models, render_calibrations};
use anchorsmith_validators::runner::RunOptions;
use anchorsmith_validators::{in_process_validators, ValidationInput};
use full_suite::full_suite_at_pinned_now;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn calibrated_namespace(id: &str) -> bool {
    id.starts_with("bettertls::pathbuilding::") || id.starts_with("pathological::")
}

#[test]
fn the_model_agrees_with_each_engine_on_limbo_path_building() {
    let root = workspace_root();
    let timeout = Duration::from_secs(10);
    let Some(harnesses) = every_harness_ready_or_skip(timeout, "calibrating the model on limbo")
    else {
        return;
    };
    let models = engine_models(&root.join("validators").join("engine-models.toml"))
        .unwrap_or_else(|error| panic!("{error}"));
    let suite = full_suite_at_pinned_now(&root);
    let inputs: Vec<ValidationInput> = suite
        .inputs
        .into_iter()
        .filter(|input| calibrated_namespace(&input.id))
        .collect();
    assert_eq!(inputs.len(), 92);

    let mut engines = in_process_validators();
    engines.extend(harnesses);
    for name in models.keys() {
        assert!(
            engines.iter().any(|engine| engine.name() == name),
            "engine-models.toml names {name}, which is no validator column"
        );
    }
    let options = RunOptions {
        per_case_timeout: timeout,
        ..RunOptions::default()
    };
    let calibrations = calibrate_engines(&engines, &models, &inputs, &options);
    assert_eq!(calibrations.len(), models.len());
    insta::assert_snapshot!("limbo_calibration", render_calibrations(&calibrations));
}
