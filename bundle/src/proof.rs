//! The proof before anything is written: every endpoint a chosen anchor covers is validated
//! against the whole bundle (all chosen anchors in one store) at every checkpoint of its chain
//! and the bundle, with the device verifier (the client model) and, for an endpoint with a leaf,
//! with the real libraries that implement that verifier:
//!
//! - `full-path-building`: rustls-webpki and OpenSSL 3, in process;
//! - `partial-chain`: OpenSSL 3 with X509_V_FLAG_PARTIAL_CHAIN, in process;
//! - `bearssl`, `mbedtls`: the real BearSSL and mbedTLS, through their limbo harnesses
//!   (`validators/harnesses/`, set up under [`Request::harness_dir`](crate::build::Request));
//! - `esp-idf`, `esp-idf-cross-signed`: the client model only. ESP-IDF's bundle code runs on the
//!   device's mbedTLS build with ESP-IDF's callbacks, which no harness here can run.
//!
//! Coverage was judged one anchor at a time; several anchors together can change the answer (a
//! verifier that stops at the first anchor with a matching name), so a rejection here is an
//! error and nothing is written. Known cross-signs are held by the device (offered as cached
//! intermediates, and to the real libraries after the chain sent) only for verifiers that build
//! paths from what they hold.
//!
//! Without a leaf, the real libraries are not asked: they refuse a CA certificate as the end
//! entity, which says nothing about the bundle. A harness speaks the limbo protocol, which
//! requires the claim under test: each validation is sent with the endpoint's host as the
//! expected DNS name and success as the expected result, all of them in one batch (one process;
//! mbedTLS under libfaketime per validation time).
//!
//! A real library that cannot run here (not built, no harness directory) is a failure under
//! `CI=true` ([`in_ci`]), where every verifier must be proved; elsewhere it is a visible skip in
//! [`Proof::skipped`], which the manifest, the report and the command show.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anchorsmith_validators::harnesses::{
    builtin_columns, in_ci, HarnessColumn, SetupMode, Unavailable,
};
use anchorsmith_validators::limbo::ExpectedResult;
use anchorsmith_validators::openssl_validator::{OpenSslProfile, OpenSslValidator};
use anchorsmith_validators::webpki_validator::RustlsWebpki;
use anchorsmith_validators::{PeerName, ValidationInput, Validator, Verdict};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

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
    /// Validations a real library could not run here (outside CI only), per validator and
    /// reason.
    pub skipped: Vec<Skipped>,
}

/// Validations one validator did not run, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub validator: String,
    pub reason: String,
    pub validations: usize,
}

impl Skipped {
    /// One line for the report and the command's output.
    pub fn sentence(&self) -> String {
        format!(
            "{}: {} validation(s) not run: {}",
            self.validator, self.validations, self.reason
        )
    }
}

/// How long a harness may take per validation before its process is stopped.
const HARNESS_TIMEOUT: Duration = Duration::from_secs(10);

/// The real libraries that implement `verifier` in process, if any.
fn in_process_libraries(verifier: DeviceVerifier) -> Vec<Arc<dyn Validator>> {
    match verifier {
        DeviceVerifier::FullPathBuilding => vec![
            Arc::new(RustlsWebpki),
            Arc::new(OpenSslValidator::new(OpenSslProfile::Default)),
        ],
        DeviceVerifier::PartialChain => vec![Arc::new(OpenSslValidator::new(
            OpenSslProfile::PartialChain,
        ))],
        DeviceVerifier::EspIdf
        | DeviceVerifier::EspIdfCrossSigned
        | DeviceVerifier::Bearssl
        | DeviceVerifier::Mbedtls => Vec::new(),
    }
}

/// Why `verifier` is proved by its client model alone, when no real library of it can run here.
pub fn model_only(verifier: DeviceVerifier) -> Option<&'static str> {
    match verifier {
        DeviceVerifier::EspIdf | DeviceVerifier::EspIdfCrossSigned => Some(
            "ESP-IDF's certificate bundle runs inside the device's own mbedTLS build, with ESP-IDF's verify callbacks, which cannot run here: the client model's setting for it stands in",
        ),
        DeviceVerifier::FullPathBuilding
        | DeviceVerifier::PartialChain
        | DeviceVerifier::Bearssl
        | DeviceVerifier::Mbedtls => None,
    }
}

/// The harness column (validators/harnesses/) that is `verifier`'s own library, if any.
pub fn harness_column(verifier: DeviceVerifier) -> Option<&'static str> {
    match verifier {
        DeviceVerifier::Bearssl => Some("bearssl"),
        DeviceVerifier::Mbedtls => Some("mbedtls"),
        DeviceVerifier::FullPathBuilding
        | DeviceVerifier::PartialChain
        | DeviceVerifier::EspIdf
        | DeviceVerifier::EspIdfCrossSigned => None,
    }
}

/// The harness column `name`, set up under `dir` on first use; when it cannot be, a validator
/// that skips every case with the reason and how to get it.
fn harness(name: &str, dir: Option<&Path>) -> Arc<dyn Validator> {
    let unavailable = |reason: String, hint: &str| -> Arc<dyn Validator> {
        Arc::new(Unavailable {
            name: name.to_string(),
            reason,
            hint: hint.to_string(),
        })
    };
    let Some(dir) = dir else {
        return unavailable(
            "no harness directory was given".into(),
            "run `cargo xtask bundle`, which sets the harnesses up under target/harnesses",
        );
    };
    let log = |line: &str| eprintln!("  {line}");
    match builtin_columns(
        &[name.to_string()],
        HARNESS_TIMEOUT,
        SetupMode::Install,
        dir,
        &log,
    ) {
        Ok(columns) => columns
            .into_iter()
            .find(|column| column.name() == name)
            .map(HarnessColumn::into_validator)
            .unwrap_or_else(|| {
                unavailable(
                    "no built-in harness provides this column".into(),
                    "see validators/harnesses/README.md",
                )
            }),
        Err(diagnostic) => unavailable(diagnostic.one_line(), "fix the harness manifest"),
    }
}

/// One validation of the proof.
struct Case<'a> {
    host: &'a str,
    has_leaf: bool,
    at: OffsetDateTime,
    input: ValidationInput,
}

/// One validator, the positions of the cases it is given, and then its verdict per case
/// (`None`: not given).
struct Run {
    /// The validator's name in the proof.
    label: String,
    validator: Arc<dyn Validator>,
    cases: Vec<usize>,
    /// Given the endpoint's host as the expected DNS name (a harness: the real library checks
    /// the name as the device does).
    names_the_peer: bool,
    verdicts: Vec<Option<Verdict>>,
}

/// Validates every covered endpoint against the whole bundle at each checkpoint, with the
/// device's model and real libraries (see the module documentation).
pub fn prove(bundle: &Bundle) -> Result<Proof, ProofFailed> {
    let request = &bundle.request;
    let store: Vec<Vec<u8>> = bundle
        .anchors()
        .into_iter()
        .map(|anchor| anchor.der)
        .collect();
    // What the firmware is told to ship (manifest.json `via`): the cross-signs the chosen
    // anchors need, not every one offered, so an unneeded one cannot make the proof pass.
    let needed: std::collections::BTreeSet<usize> = bundle
        .via
        .iter()
        .filter(|((_, c), _)| bundle.selection.chosen.contains(c))
        .flat_map(|(_, held)| held.iter().copied())
        .collect();
    let held: Vec<Vec<u8>> = if request.verifier.uses_held_intermediates() {
        needed
            .iter()
            // `get`: a caller may have edited the request after the build.
            .filter_map(|&h| request.cross_signs.get(h))
            .map(|cross_sign| cross_sign.der.clone())
            .collect()
    } else {
        Vec::new()
    };
    let mut cases: Vec<Case> = Vec::new();
    for (e, (endpoint, row)) in request.endpoints.iter().zip(&bundle.reach).enumerate() {
        if !bundle.selection.chosen.iter().any(|&c| row[c].covers()) {
            continue;
        }
        let from = coverage::served_from(endpoint, request.now);
        let until = coverage::served_until(endpoint, request.horizon);
        let involved = endpoint
            .chain
            .iter()
            .chain(&held)
            .chain(&store)
            .map(Vec::as_slice);
        for at in coverage::checkpoints(involved, from, until) {
            cases.push(Case {
                host: &endpoint.host,
                has_leaf: endpoint.has_leaf,
                at,
                input: ValidationInput {
                    // Unique within the batch: a harness answers by id.
                    id: format!(
                        "bundle::proof::{e}::{}::{}",
                        endpoint.host,
                        at.unix_timestamp()
                    ),
                    trust_anchors: store.clone(),
                    peer: endpoint.chain[0].clone(),
                    served_chain: endpoint.chain[1..].to_vec(),
                    cached: held.clone(),
                    validation_time: Some(coverage::system_time(at)),
                    // The claim under test; the limbo protocol requires it.
                    expected_result: Some(ExpectedResult::Success),
                    ..ValidationInput::default()
                },
            });
        }
    }
    let with_leaf: Vec<usize> = (0..cases.len()).filter(|&i| cases[i].has_leaf).collect();
    let model = request.verifier.model();
    // The model of a real library is not that library: it must not take its name.
    let model_label = match harness_column(request.verifier) {
        Some(_) => format!("{} (client model)", model.name()),
        None => model.name().to_string(),
    };
    let mut runs = vec![Run {
        label: model_label,
        validator: Arc::new(model),
        cases: (0..cases.len()).collect(),
        names_the_peer: false,
        verdicts: Vec::new(),
    }];
    for library in in_process_libraries(request.verifier) {
        runs.push(Run {
            label: library.name().to_string(),
            validator: library,
            cases: with_leaf.clone(),
            names_the_peer: false,
            verdicts: Vec::new(),
        });
    }
    if let Some(name) = harness_column(request.verifier).filter(|_| !with_leaf.is_empty()) {
        runs.push(Run {
            label: name.to_string(),
            validator: harness(name, request.harness_dir.as_deref()),
            cases: with_leaf.clone(),
            names_the_peer: true,
            verdicts: Vec::new(),
        });
    }
    for run in &mut runs {
        let inputs: Vec<ValidationInput> = run
            .cases
            .iter()
            .map(|&i| {
                let mut input = cases[i].input.clone();
                if run.names_the_peer {
                    input.expected_peer_name = Some(PeerName::Dns(cases[i].host.to_string()));
                }
                input
            })
            .collect();
        // One batch per validator: a harness starts one process for all of them.
        run.verdicts = vec![None; cases.len()];
        for (&i, verdict) in run.cases.iter().zip(run.validator.validate_batch(&inputs)) {
            run.verdicts[i] = Some(verdict);
        }
    }
    judge(&cases, &runs)
}

/// The proof from every verdict, in case order (endpoint, then checkpoint), validators in order:
/// the first rejection fails it; a skip fails it under CI and is recorded elsewhere.
fn judge(cases: &[Case], runs: &[Run]) -> Result<Proof, ProofFailed> {
    let mut proof = Proof {
        validators: Vec::new(),
        validations: 0,
        skipped: Vec::new(),
    };
    for (i, case) in cases.iter().enumerate() {
        for run in runs {
            let Some(verdict) = &run.verdicts[i] else {
                continue;
            };
            let name = run.label.as_str();
            let failed = |verdict: String| ProofFailed {
                host: case.host.to_string(),
                validator: name.to_string(),
                at: case.at.format(&Rfc3339).unwrap_or_default(),
                verdict,
            };
            match verdict {
                Verdict::Accept { .. } => {
                    proof.validations += 1;
                    if !proof.validators.iter().any(|ran| ran == name) {
                        proof.validators.push(name.to_string());
                    }
                }
                Verdict::Skip { reason } if !in_ci() => {
                    match proof
                        .skipped
                        .iter_mut()
                        .find(|s| s.validator == name && &s.reason == reason)
                    {
                        Some(skipped) => skipped.validations += 1,
                        None => proof.skipped.push(Skipped {
                            validator: name.to_string(),
                            reason: reason.clone(),
                            validations: 1,
                        }),
                    }
                }
                Verdict::Skip { reason } => {
                    return Err(failed(format!(
                        "not run under CI=true, where every verifier must be proved: {reason}"
                    )))
                }
                Verdict::Reject { kind, detail } => {
                    return Err(failed(format!("reject:{kind} ({detail})")))
                }
                other => return Err(failed(other.label())),
            }
        }
    }
    Ok(proof)
}
