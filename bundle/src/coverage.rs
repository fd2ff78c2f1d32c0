//! Coverage: does an anchor keep an endpoint working, under the device's verifier, from now to
//! the horizon? The answer is computed by validating the endpoint's chain against a trust store
//! of that one anchor with the client model ([`ClientModel`]) at every checkpoint.
//!
//! Checkpoints are now, the horizon, and every moment inside that range where the validity of a
//! certificate involved changes: its notBefore (first valid second) and the second after its
//! notAfter (first invalid second). Validity is constant between two checkpoints, so these are
//! the only moments where the answer can change.
//!
//! Without a leaf (only the intermediates are at hand), the lowest certificate sent stands in for
//! the leaf: the device then checks that the intermediates chain to the anchor, which is what a
//! leaf issued by them needs beyond its own dates.
//!
//! A chain is checked only while it can be served: from now or the latest notBefore of its own
//! certificates, whichever comes last ([`served_from`]: no server sends a chain before it
//! exists), up to the horizon or the earliest notAfter of its own certificates, whichever comes
//! first ([`served_until`]). Past that date the server must
//! send another chain (a renewed leaf, the CA's next intermediate), which the builder cannot see;
//! the report says until when each endpoint was checked, and the lints name anchors that expire
//! before the horizon.
//!
//! Known cross-signs the server does not send ([`coverage`]) are offered as certificates the
//! device holds (the model's cached intermediates) to the verifiers that build paths from what
//! they hold (`full-path-building`, `partial-chain`); a covering that needs them is recorded
//! with the ones it needs, since the firmware must then ship them. Chain-as-sent verifiers
//! (BearSSL, mbedTLS, both ESP-IDF bundles) are judged on the chain sent alone.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use anchorsmith_validators::model::{AnchorExpiry, ClientModel, Knobs};
use anchorsmith_validators::{ValidationInput, Validator, Verdict};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::load::Endpoint;

/// The device's certificate verifier, as the client model's knobs.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    serde::Serialize,
    strum::Display,
    strum::EnumString,
    strum::VariantNames,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum DeviceVerifier {
    /// An RFC 5280 path builder: trusted first, every alternate path, only self-signed anchors.
    FullPathBuilding,
    /// The same, but any certificate in the store may end a chain (X509_V_FLAG_PARTIAL_CHAIN).
    PartialChain,
    /// ESP-IDF's certificate bundle: only the issuer of the topmost certificate sent is looked
    /// up; the anchor is a name and a key, its dates ignored.
    EspIdf,
    /// ESP-IDF's certificate bundle built with
    /// `CONFIG_MBEDTLS_CERTIFICATE_BUNDLE_CROSS_SIGNED_VERIFY`: mbedTLS's own path builder asks
    /// the bundle for the issuer of each certificate, so any certificate sent whose issuer is in
    /// the bundle may end the path, not only the topmost one (see [`DeviceVerifier::knobs`]).
    EspIdfCrossSigned,
    /// BearSSL's minimal engine: the chain exactly as sent (the calibrated `bearssl` engine
    /// model of validators/engine-models.toml).
    Bearssl,
    /// mbedTLS's `mbedtls_x509_crt_verify` with a CA chain (the calibrated `mbedtls` engine
    /// model of validators/engine-models.toml): trusted parents first, then the certificates
    /// sent after the child, never backtracking.
    Mbedtls,
}

impl DeviceVerifier {
    pub fn knobs(self) -> Knobs {
        match self {
            DeviceVerifier::FullPathBuilding => Knobs::default(),
            DeviceVerifier::PartialChain => Knobs {
                partial_chain: true,
                ..Knobs::default()
            },
            DeviceVerifier::EspIdf => Knobs {
                topmost_issuer_only: true,
                partial_chain: true,
                anchor_expiry: AnchorExpiry::Ignored,
                ..Knobs::default()
            },
            // ESP-IDF's esp_crt_bundle.c, with CONFIG_MBEDTLS_CERTIFICATE_BUNDLE_CROSS_SIGNED_VERIFY,
            // registers esp_crt_ca_cb_callback with mbedtls_ssl_conf_ca_cb instead of a dummy CA
            // chain. mbedTLS's x509_crt_verify_chain calls that trusted-CA callback for every
            // child as it builds the chain, and the callback returns the bundle entry named by
            // the child's issuer as a trusted CA made of a subject and a key alone. So the path
            // is mbedTLS's own (trusted parents first, then the certificates sent after the
            // child, no backtracking: the calibrated `mbedtls` setting), and any certificate sent
            // whose issuer is in the bundle ends it. The made-up CA has no dates, and
            // esp_crt_verify_callback clears the expired/future flags mbedTLS sets on it, so the
            // anchor's validity is ignored; the certificates sent keep theirs.
            // `esp-idf` without the option hands mbedTLS an empty CA chain: the chain sent must
            // link up by itself, and only the issuer of its topmost certificate is looked up.
            DeviceVerifier::EspIdfCrossSigned => Knobs {
                anchor_expiry: AnchorExpiry::Ignored,
                ..engine_knobs("mbedtls")
            },
            // The calibrated settings, compiled in: a relocated binary needs no source tree.
            DeviceVerifier::Bearssl => engine_knobs("bearssl"),
            DeviceVerifier::Mbedtls => engine_knobs("mbedtls"),
        }
    }

    /// Whether this verifier builds paths from certificates the device holds besides those
    /// sent, so known cross-signs shipped in its firmware can give it an alternate path. The
    /// chain-as-sent verifiers (BearSSL, mbedTLS, both ESP-IDF bundles) only use what the
    /// server sends.
    pub fn uses_held_intermediates(self) -> bool {
        match self {
            DeviceVerifier::FullPathBuilding | DeviceVerifier::PartialChain => true,
            DeviceVerifier::EspIdf
            | DeviceVerifier::EspIdfCrossSigned
            | DeviceVerifier::Bearssl
            | DeviceVerifier::Mbedtls => false,
        }
    }

    /// The client model the builder runs: [`DeviceVerifier::knobs`], plus the intermediates the
    /// device holds (known cross-signs, when given: `ValidationInput::cached`) for the verifiers
    /// that build paths from them. Without cross-signs the holding changes nothing; `knobs`
    /// itself stays the verifier's own setting, which a corpus target's engine is compared with.
    pub fn model(self) -> ClientModel {
        let knobs = Knobs {
            intermediate_cache: self.uses_held_intermediates(),
            ..self.knobs()
        };
        ClientModel::new(self.to_string(), knobs)
    }
}

/// The calibrated knobs of a real engine (validators/engine-models.toml, compiled in).
fn engine_knobs(engine: &str) -> Knobs {
    anchorsmith_validators::model::shipped_engine_models()
        .get(engine)
        .map(|model| model.knobs.clone())
        .unwrap_or_else(|| {
            panic!("engine-models.toml describes {engine} (checked by the calibration tests)")
        })
}

/// The notBefore and notAfter of a certificate.
pub fn validity(der: &[u8]) -> Option<(OffsetDateTime, OffsetDateTime)> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let validity = cert.validity();
    Some((
        validity.not_before.to_datetime(),
        validity.not_after.to_datetime(),
    ))
}

/// Now, the horizon, and every validity change of `certs` strictly between them, sorted.
pub fn checkpoints<'a>(
    certs: impl IntoIterator<Item = &'a [u8]>,
    now: OffsetDateTime,
    horizon: OffsetDateTime,
) -> Vec<OffsetDateTime> {
    let mut points = vec![now, horizon];
    for (not_before, not_after) in certs.into_iter().filter_map(validity) {
        for point in [not_before, not_after + time::Duration::SECOND] {
            if point > now && point < horizon {
                points.push(point);
            }
        }
    }
    points.sort();
    points.dedup();
    points
}

/// `at` as a `SystemTime`, as validators take it.
pub fn system_time(at: OffsetDateTime) -> SystemTime {
    let seconds = at.unix_timestamp();
    if seconds >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds as u64)
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
    }
}

/// One validation of `endpoint` against a store of `anchor` alone, at `at`.
pub fn validate(
    model: &ClientModel,
    endpoint: &Endpoint,
    anchor: &[u8],
    at: OffsetDateTime,
) -> Verdict {
    validate_holding(model, endpoint, anchor, &[], at)
}

/// [`validate`] on a device that also holds `held` (known cross-signs shipped in its firmware),
/// offered as the client's cached intermediates: only a model with the `intermediate-cache` knob
/// ([`DeviceVerifier::uses_held_intermediates`]) looks at them.
pub fn validate_holding(
    model: &ClientModel,
    endpoint: &Endpoint,
    anchor: &[u8],
    held: &[Vec<u8>],
    at: OffsetDateTime,
) -> Verdict {
    let input = ValidationInput {
        id: format!("bundle::{}", endpoint.host),
        trust_anchors: vec![anchor.to_vec()],
        peer: endpoint.chain[0].clone(),
        served_chain: endpoint.chain[1..].to_vec(),
        cached: held.to_vec(),
        validation_time: Some(system_time(at)),
        ..ValidationInput::default()
    };
    model.validate(&input)
}

/// The first moment `endpoint` is checked: now, or the latest notBefore of its chain.
pub fn served_from(endpoint: &Endpoint, now: OffsetDateTime) -> OffsetDateTime {
    endpoint
        .chain
        .iter()
        .filter_map(|der| validity(der))
        .map(|(not_before, _)| not_before)
        .chain(std::iter::once(now))
        .max()
        .unwrap_or(now)
}

/// The last moment `endpoint` is checked: the horizon, or the second before the earliest
/// notAfter of its chain. RFC 5280 counts the notAfter second as valid, OpenSSL as expired
/// (X509_cmp_time); the second before it is valid for every engine.
pub fn served_until(endpoint: &Endpoint, horizon: OffsetDateTime) -> OffsetDateTime {
    endpoint
        .chain
        .iter()
        .filter_map(|der| validity(der))
        .map(|(_, not_after)| not_after - time::Duration::SECOND)
        .chain(std::iter::once(horizon))
        .min()
        .unwrap_or(horizon)
}

/// How one anchor does for one endpoint between now and [`served_until`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Validates at every checkpoint.
    Covers,
    /// Validates from now, but not at `fails_at` (the first checkpoint that fails).
    Until {
        fails_at: OffsetDateTime,
        verdict: String,
    },
    /// Does not validate when the chain is first checked.
    Never { verdict: String },
}

impl Reach {
    pub fn covers(&self) -> bool {
        matches!(self, Reach::Covers)
    }
}

/// Validates `endpoint` to `anchor` at each checkpoint, stopping at the first failure.
pub fn reach(
    model: &ClientModel,
    endpoint: &Endpoint,
    anchor: &[u8],
    now: OffsetDateTime,
    horizon: OffsetDateTime,
) -> Reach {
    reach_holding(model, endpoint, anchor, &[], now, horizon)
}

/// [`reach`] on a device that also holds `held` (see [`validate_holding`]); their validity
/// boundaries are checkpoints too.
pub fn reach_holding(
    model: &ClientModel,
    endpoint: &Endpoint,
    anchor: &[u8],
    held: &[Vec<u8>],
    now: OffsetDateTime,
    horizon: OffsetDateTime,
) -> Reach {
    let from = served_from(endpoint, now);
    let first = validate_holding(model, endpoint, anchor, held, from);
    if !matches!(first, Verdict::Accept { .. }) {
        return Reach::Never {
            verdict: verdict_text(&first),
        };
    }
    let involved = endpoint
        .chain
        .iter()
        .chain(held)
        .map(Vec::as_slice)
        .chain(std::iter::once(anchor));
    let until = served_until(endpoint, horizon);
    for at in checkpoints(involved, from, until).into_iter().skip(1) {
        let verdict = validate_holding(model, endpoint, anchor, held, at);
        if !matches!(verdict, Verdict::Accept { .. }) {
            return Reach::Until {
                fails_at: at,
                verdict: verdict_text(&verdict),
            };
        }
    }
    Reach::Covers
}

/// The fewest of `held` that `anchor` needs to cover `endpoint` (positions in `held`, sorted),
/// given that it covers with all of them: empty when it covers without any. Each cross-sign is
/// dropped in turn when coverage survives without it, so what is left is needed (one minimal
/// set, deterministic for a given order).
pub fn needed_held(
    model: &ClientModel,
    endpoint: &Endpoint,
    anchor: &[u8],
    held: &[Vec<u8>],
    now: OffsetDateTime,
    horizon: OffsetDateTime,
) -> Vec<usize> {
    let mut kept: Vec<usize> = (0..held.len()).collect();
    for drop in 0..held.len() {
        let without: Vec<Vec<u8>> = kept
            .iter()
            .filter(|&&c| c != drop)
            .map(|&c| held[c].clone())
            .collect();
        if reach_holding(model, endpoint, anchor, &without, now, horizon).covers() {
            kept.retain(|&c| c != drop);
        }
    }
    kept
}

fn verdict_text(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Reject { kind, detail } => format!("{kind}: {detail}"),
        Verdict::Skip { reason } => format!("skipped: {reason}"),
        Verdict::Error { detail } => format!("error: {detail}"),
        Verdict::Accept { .. } => "accept".into(),
    }
}

/// The raw names a trust anchor's subject must equal to end a path for `endpoint`: the issuer
/// of every certificate sent (the anchor issues one of them) and the subject of every certificate
/// sent (with partial chains, a certificate sent may itself be in the store).
///
/// The client model links a certificate to its issuer only when the issuer name equals the
/// subject byte for byte, as a verifier's store lookup by name does; an anchor whose subject is
/// none of these can never end a path, so [`matrix`] does not run the validations to learn it.
pub fn reachable_names(endpoint: &Endpoint) -> Vec<Vec<u8>> {
    names_of(&endpoint.chain)
}

/// The issuer and subject of each of `certs`, raw.
fn names_of(certs: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut names = Vec::new();
    for der in certs {
        if let Ok((_, cert)) = X509Certificate::from_der(der) {
            names.push(cert.issuer().as_raw().to_vec());
            names.push(cert.subject().as_raw().to_vec());
        }
    }
    names
}

/// The subject of `der`, raw, or `None` when it does not parse (then it is validated, and the
/// validator says why it fails).
fn raw_subject(der: &[u8]) -> Option<Vec<u8>> {
    X509Certificate::from_der(der)
        .ok()
        .map(|(_, cert)| cert.subject().as_raw().to_vec())
}

/// What [`matrix`] records for an anchor the name prefilter rules out.
pub const NOT_NAMED: &str =
    "not a candidate issuer: its subject is neither the issuer nor the subject of a certificate sent";

/// Every endpoint × candidate reach, keyed by position in the two lists given.
///
/// Only anchors whose subject is one of the endpoint's [`reachable_names`] are validated; the
/// others are [`Reach::Never`] with [`NOT_NAMED`]. Which anchors cover is the same as validating
/// every pair (tested in tests/prefilter.rs); it saves the validations of the ~150 store roots
/// that have nothing to do with a given chain.
pub fn matrix(
    verifier: DeviceVerifier,
    endpoints: &[Endpoint],
    candidates: &[Vec<u8>],
    now: OffsetDateTime,
    horizon: OffsetDateTime,
) -> Vec<Vec<Reach>> {
    coverage(verifier, endpoints, candidates, &[], now, horizon).reach
}

/// [`matrix`] with known cross-signs, and which of them each covering needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// `reach[endpoint][candidate]`, the cross-signs held where the verifier uses them.
    pub reach: Vec<Vec<Reach>>,
    /// (endpoint, candidate) → the cross-signs (positions in the list given) the candidate
    /// needs to cover the endpoint: it covers with them and not without. Only pairs that need
    /// some are present.
    pub via: BTreeMap<(usize, usize), Vec<usize>>,
}

/// Every endpoint × candidate reach on a device that holds `cross_signs` (known cross-signs
/// the servers may not send), when `verifier` builds paths from held certificates
/// ([`DeviceVerifier::uses_held_intermediates`]); other verifiers are judged on the chain sent
/// alone. The name prefilter of [`matrix`] also admits the names of the cross-signs, since a
/// path may go through them.
pub fn coverage(
    verifier: DeviceVerifier,
    endpoints: &[Endpoint],
    candidates: &[Vec<u8>],
    cross_signs: &[Vec<u8>],
    now: OffsetDateTime,
    horizon: OffsetDateTime,
) -> Coverage {
    let model = verifier.model();
    let held: &[Vec<u8>] = if verifier.uses_held_intermediates() {
        cross_signs
    } else {
        &[]
    };
    let held_names = names_of(held);
    let subjects: Vec<Option<Vec<u8>>> = candidates.iter().map(|der| raw_subject(der)).collect();
    let mut via = BTreeMap::new();
    let reach = endpoints
        .iter()
        .enumerate()
        .map(|(e, endpoint)| {
            let mut names = reachable_names(endpoint);
            names.extend(held_names.iter().cloned());
            candidates
                .iter()
                .zip(&subjects)
                .enumerate()
                .map(|(c, (anchor, subject))| match subject {
                    Some(subject) if !names.contains(subject) => Reach::Never {
                        verdict: NOT_NAMED.into(),
                    },
                    _ => {
                        let reach = reach_holding(&model, endpoint, anchor, held, now, horizon);
                        if reach.covers() && !held.is_empty() {
                            let needed = needed_held(&model, endpoint, anchor, held, now, horizon);
                            if !needed.is_empty() {
                                via.insert((e, c), needed);
                            }
                        }
                        reach
                    }
                })
                .collect()
        })
        .collect();
    Coverage { reach, via }
}
