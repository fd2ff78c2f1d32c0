//! The proof before anything is written: every endpoint a chosen anchor covers is validated
//! against the whole bundle (all chosen anchors in one store) at every checkpoint of its chain
//! and the bundle, with the device verifier (the client model) and, where the device verifier is
//! a plain path builder and the endpoint has a leaf, with the real libraries in process
//! (rustls-webpki and OpenSSL 3 in the matching profile). Coverage was judged one anchor at a
//! time; several anchors together can change the answer (a verifier that stops at the first
//! anchor with a matching name), so a failure here is an error and nothing is written.
//!
//! Without a leaf, the real libraries are not asked: they refuse a CA certificate as the end
//! entity, which says nothing about the bundle. ESP-IDF and BearSSL run as the client model
//! (their libraries are harnesses, not in process).

use std::sync::Arc;

use anchorsmith_validators::openssl_validator::{OpenSslProfile, OpenSslValidator};
use anchorsmith_validators::webpki_validator::RustlsWebpki;
use anchorsmith_validators::{ValidationInput, Validator, Verdict};
use time::format_description::well_known::Rfc3339;

use crate::build::Bundle;
use crate::coverage::{self, DeviceVerifier};

/// A validation that failed against the whole bundle.
#[derive(Debug, thiserror::Error)]
#[error("proof failed: {host} does not validate against the whole bundle with {validator} at {at}: {verdict}")]
pub struct ProofFailed {
    pub host: String,
    pub validator: String,
    pub at: String,
    pub verdict: String,
}

/// What the proof ran.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Proof {
    /// The validators that ran, the device model first (the libraries only for endpoints with
    /// a leaf).
    pub validators: Vec<String>,
    /// Validations run, all accepted.
    pub validations: usize,
}

/// The real libraries that implement `verifier` in process, if any.
fn libraries(verifier: DeviceVerifier) -> Vec<Arc<dyn Validator>> {
    match verifier {
        DeviceVerifier::FullPathBuilding => vec![
            Arc::new(RustlsWebpki),
            Arc::new(OpenSslValidator::new(OpenSslProfile::Default)),
        ],
        DeviceVerifier::PartialChain => vec![Arc::new(OpenSslValidator::new(
            OpenSslProfile::PartialChain,
        ))],
        DeviceVerifier::EspIdf | DeviceVerifier::Bearssl => Vec::new(),
    }
}

pub fn prove(bundle: &Bundle) -> Result<Proof, ProofFailed> {
    let request = &bundle.request;
    let model: Arc<dyn Validator> = Arc::new(request.verifier.model());
    let libraries = libraries(request.verifier);
    let store: Vec<Vec<u8>> = bundle
        .anchors()
        .into_iter()
        .map(|anchor| anchor.der)
        .collect();
    let mut validations = 0;
    // The validators that ran at least once, the device model first.
    let mut ran: Vec<String> = Vec::new();
    for (endpoint, row) in request.endpoints.iter().zip(&bundle.reach) {
        if !bundle.selection.chosen.iter().any(|&c| row[c].covers()) {
            continue;
        }
        let validators: Vec<&Arc<dyn Validator>> = std::iter::once(&model)
            .chain(libraries.iter().filter(|_| endpoint.has_leaf))
            .collect();
        let from = coverage::served_from(endpoint, request.now);
        let until = coverage::served_until(endpoint, request.horizon);
        let involved = endpoint.chain.iter().chain(&store).map(Vec::as_slice);
        for at in coverage::checkpoints(involved, from, until) {
            let input = ValidationInput {
                id: format!("bundle::proof::{}", endpoint.host),
                trust_anchors: store.clone(),
                peer: endpoint.chain[0].clone(),
                served_chain: endpoint.chain[1..].to_vec(),
                validation_time: Some(coverage::system_time(at)),
                ..ValidationInput::default()
            };
            for validator in &validators {
                validations += 1;
                if !ran.iter().any(|name| name == validator.name()) {
                    ran.push(validator.name().to_string());
                }
                let verdict = validator.validate(&input);
                if !matches!(verdict, Verdict::Accept { .. }) {
                    return Err(ProofFailed {
                        host: endpoint.host.clone(),
                        validator: validator.name().to_string(),
                        at: at.format(&Rfc3339).unwrap_or_default(),
                        verdict: match verdict {
                            Verdict::Reject { kind, detail } => format!("reject:{kind} ({detail})"),
                            other => other.label(),
                        },
                    });
                }
            }
        }
    }
    Ok(Proof {
        validators: ran,
        validations,
    })
}
