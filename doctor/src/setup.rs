//! Setting up the judges: the real panel's stores, the batch's client-model engines, and the
//! `--at` instant; the xtask commands only parse arguments, print and time.

use std::path::Path;
use std::sync::Arc;

use anchorsmith_corpus::{Target, TargetEngine};
use anchorsmith_diagnostics::{Code, Diagnostic};
use anchorsmith_validators::model::{ClientModel, SignatureCache};
use anchorsmith_validators::Validator;
use time::OffsetDateTime;

use crate::Engine;

/// `--at`: a date or an RFC 3339 instant; `None` is now. `Err`: located on the value (the
/// option is its "file").
pub fn at(text: Option<&str>) -> Result<OffsetDateTime, Diagnostic> {
    match text {
        Some(text) => anchorsmith_bundle::build::parse_instant(text).map_err(|error| {
            argument_error("--at", text, error)
                .help("a date (2021-10-01) or an RFC 3339 instant (2021-09-30T14:01:15Z)")
        }),
        None => Ok(OffsetDateTime::now_utc()),
    }
}

/// A bad value of a command-line option, located on the value (the option is its "file").
pub fn argument_error(option: &str, value: &str, message: String) -> Diagnostic {
    Diagnostic::at(
        Code::InvalidValue,
        Path::new(option),
        value,
        0..value.len(),
        message,
    )
}

/// Mozilla's roots (compiled in) and the system store, as the real panel's stores.
pub fn real_stores() -> Vec<(String, Vec<Vec<u8>>)> {
    use anchorsmith_bundle::load::{mozilla_candidates, system_candidates};
    let ders = |(candidates, _): (Vec<anchorsmith_bundle::load::Candidate>, _)| {
        candidates.into_iter().map(|c| c.der).collect()
    };
    vec![
        ("mozilla".to_string(), ders(mozilla_candidates())),
        ("system".to_string(), ders(system_candidates())),
    ]
}

/// The engines of the chosen targets that are client models, each verifying through the shared
/// `signatures`, in chosen order; and the chosen targets run by a real validator (one process
/// call per chain: the caller decides whether to set them up).
pub fn model_engines<'a>(
    chosen: &[&'a Target],
    signatures: &Arc<SignatureCache>,
) -> (Vec<Engine<'a>>, Vec<&'a Target>) {
    let mut engines = Vec::new();
    let mut real_targets = Vec::new();
    for &target in chosen {
        match &target.engine {
            TargetEngine::Model { knobs } => {
                let model = ClientModel::new(target.name.clone(), knobs.clone())
                    .with_signature_cache(Arc::clone(signatures));
                engines.push(Engine {
                    target,
                    validator: Arc::new(model) as Arc<dyn Validator>,
                });
            }
            TargetEngine::Validator { .. } => real_targets.push(target),
        }
    }
    (engines, real_targets)
}

/// The chosen targets that do not judge, by name, in chosen order.
pub fn left_out<'a>(chosen: &[&'a Target], judging: &[&Target]) -> Vec<&'a str> {
    chosen
        .iter()
        .filter(|target| !judging.iter().any(|j| j.name == target.name))
        .map(|target| target.name.as_str())
        .collect()
}
