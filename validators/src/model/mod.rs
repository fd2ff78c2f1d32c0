//! The client model: a path builder whose quirks are explicit [`Knobs`], for clients that cannot
//! be run for real (old Android's expiry rule, a browser's intermediate cache, Windows' AIA
//! fetching, ESP-IDF's bundle lookup). Calibrated against the real engines it claims to describe
//! (`validators/engine-models.toml`, `validators/tests/calibration.rs`).
//!
//! `cert` reads one certificate (x509-parser; signatures through its `verify` feature), `build`
//! walks the pool the way the knobs say, `engines` loads the calibration table, `signatures` is
//! the optional signature cache many models share (each certificate/issuer-key pair verified once).

mod build;
mod calibration;
mod cert;
mod engines;
mod knobs;
mod signatures;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::SystemTime;

use x509_parser::time::ASN1Time;

pub use build::BUDGET_EXHAUSTED;
pub use calibration::{
    as_engines_see_it, calibrate, calibrate_engines, render_calibrations, Calibration,
};
pub use engines::{engine_models, parse_engine_models, shipped_engine_models, EngineModel};
pub use knobs::{AlternateChains, AnchorExpiry, Knobs};
pub use signatures::{signature_verifies, SignatureCache, SignatureCounts};

use crate::{ValidationInput, Validator, Verdict};

/// The client model as a [`Validator`] column: `name` is the column (a target's or an engine's
/// name), `knobs` its behaviour.
#[derive(Clone, Debug)]
pub struct ClientModel {
    name: String,
    knobs: Knobs,
    /// Shared with other models judging the same certificates (the doctor's batch mode).
    signatures: Option<Arc<SignatureCache>>,
}

impl ClientModel {
    pub fn new(name: impl Into<String>, knobs: Knobs) -> ClientModel {
        ClientModel {
            name: name.into(),
            knobs,
            signatures: None,
        }
    }

    /// The same model, verifying each (certificate, issuer key) signature through `cache`: once
    /// for every model sharing it. Verdicts are the same as without it.
    pub fn with_signature_cache(mut self, cache: Arc<SignatureCache>) -> ClientModel {
        self.signatures = Some(cache);
        self
    }

    pub fn knobs(&self) -> &Knobs {
        &self.knobs
    }
}

impl Validator for ClientModel {
    fn name(&self) -> &str {
        &self.name
    }

    fn version(&self) -> String {
        format!("anchorsmith client model {}", env!("CARGO_PKG_VERSION"))
    }

    fn profile(&self) -> String {
        serde_json::to_string(&self.knobs).unwrap_or_default()
    }

    fn validate(&self, input: &ValidationInput) -> Verdict {
        if let Some(reason) = unsupported(input) {
            return Verdict::Skip { reason };
        }
        let Some(at) = asn1_time(input.validation_time.unwrap_or_else(SystemTime::now)) else {
            return Verdict::Error {
                detail: "validation time out of range".into(),
            };
        };
        let built = build::Builder::new(&self.knobs, input, at, self.signatures.as_deref())
            .and_then(|builder| builder.run());
        match built {
            Ok(chain_built) => Verdict::Accept { chain_built },
            Err(problem) => Verdict::Reject {
                kind: problem.kind,
                detail: problem.detail,
            },
        }
    }

    fn cannot_hang(&self) -> bool {
        true
    }
}

fn asn1_time(time: SystemTime) -> Option<ASN1Time> {
    let seconds = match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).ok()?,
        Err(before) => -i64::try_from(before.duration().as_secs()).ok()?,
    };
    ASN1Time::from_timestamp(seconds).ok()
}

/// What the model does not implement: CRLs, policies and the other limbo features, explicit
/// key usages and signature-algorithm lists. Such a case is skipped with the reason.
fn unsupported(input: &ValidationInput) -> Option<String> {
    if !input.crls.is_empty() {
        return Some("the client model does not check revocation".into());
    }
    if let Some(reason) = crate::unhonoured_feature(input, "the client model", &[]) {
        return Some(reason);
    }
    if !input.signature_algorithms.is_empty() || !input.key_usage.is_empty() {
        return Some("the client model checks no explicit key usage or algorithm list".into());
    }
    None
}
