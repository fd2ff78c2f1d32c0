//! One [`Validator`] trait, the real implementations behind it, and the x509-limbo harness
//! protocol that external implementations speak.
//!
//! Data flow: a limbo [`limbo::Testcase`] (ours from the corpus export, or limbo's own) becomes a
//! [`ValidationInput`] (DER decoded once), every validator turns it into a [`Verdict`], and the
//! [`runner`] does that for every case × validator in parallel, turning panics and hangs into
//! [`Verdict::Error`] so one bad validator never stops a run.

pub mod limbo;
pub mod model;

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// DER bytes of one certificate.
pub type CertDer = Vec<u8>;

/// What a TLS client is checking the peer certificate for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Usage {
    /// A client checking a server (extendedKeyUsage serverAuth): limbo's `SERVER`.
    #[default]
    ServerAuth,
    /// A server checking a client (clientAuth): limbo's `CLIENT`.
    ClientAuth,
}

/// The name the peer must prove, limbo's `expected_peer_name`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeerName {
    Dns(String),
    Ip(std::net::IpAddr),
    Rfc822(String),
}

/// Everything one validation needs. Built from a limbo testcase (see [`limbo::Testcase::to_input`]).
/// `Default` is an empty server-auth case at "now", for building inputs field by field.
#[derive(Clone, Debug, Default)]
pub struct ValidationInput {
    /// Stable id, `namespace::case` (limbo's id).
    pub id: String,
    /// Trust anchors, as certificates.
    pub trust_anchors: Vec<CertDer>,
    /// The untrusted certificates exactly as served, order and extras kept (without the peer).
    pub served_chain: Vec<CertDer>,
    /// The end-entity certificate.
    pub peer: CertDer,
    /// Intermediates the client already holds (a browser's cache). Limbo cannot express this; our
    /// in-process adapters offer them to the path builder after the served ones.
    pub cached: Vec<CertDer>,
    /// Certificates the client could fetch through AIA caIssuers, by URL. No real library here
    /// fetches; the client model ([`model`]) does when its `aia-fetching` knob is on.
    pub aia_repository: Vec<(String, CertDer)>,
    /// `None` means "now" (limbo's null).
    pub validation_time: Option<SystemTime>,
    pub expected_peer_name: Option<PeerName>,
    pub usage: Usage,
    /// limbo `extended_key_usage` (known EKU names, e.g. "serverAuth"); empty = no constraint.
    pub extended_key_usage: Vec<String>,
    /// limbo `key_usage` names; empty = no constraint.
    pub key_usage: Vec<String>,
    /// limbo `signature_algorithms`; empty = no constraint.
    pub signature_algorithms: Vec<String>,
    pub max_chain_depth: Option<u32>,
    /// limbo `features` (e.g. "has-crl", "max-chain-depth").
    pub features: Vec<String>,
    /// CRLs as DER.
    pub crls: Vec<Vec<u8>>,
    /// What the case's author says the answer should be (limbo's `expected_result`; the corpus
    /// sets its reference verdict). Validators never look at it: only external harnesses read
    /// it, because the limbo protocol requires it (see [`external`]). `None`: not known.
    pub expected_result: Option<limbo::ExpectedResult>,
    /// The peer's private key (PEM), for harnesses that serve the chain in a real TLS handshake
    /// (limbo's `peer_certificate_key`). Kept in memory and handed to a harness on stdin only;
    /// never written to a file.
    pub peer_key_pem: Option<String>,
}

/// The normalized reason for a rejection, mapped from each implementation's native codes.
/// Spelled in kebab-case everywhere (serde, `Display`, `<&str>::from`): `not-yet-valid`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum RejectKind {
    Expired,
    NotYetValid,
    UnknownIssuer,
    BadSignature,
    NameMismatch,
    ConstraintViolation,
    Usage,
    PathTooLong,
    Other,
}

/// What a validator answered, without the details: the tag of a [`Verdict`].
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Outcome {
    Accept,
    Reject,
    Skip,
    Error,
}

/// One validator's answer for one case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Verdict {
    /// Accepted; `chain_built` lists the chain from the peer to the anchor as subject CNs (or
    /// SHA-256 prefixes where there is no CN) when the implementation reports it, else empty.
    Accept { chain_built: Vec<String> },
    /// Rejected, with the normalized kind and the native message.
    Reject { kind: RejectKind, detail: String },
    /// Not run: the case needs something this validator cannot honour (e.g. a limbo feature).
    Skip { reason: String },
    /// The validator itself failed: panic, crash, timeout, unparsable output.
    Error { detail: String },
}

impl Verdict {
    /// The outcome alone.
    pub fn outcome(&self) -> Outcome {
        match self {
            Verdict::Accept { .. } => Outcome::Accept,
            Verdict::Reject { .. } => Outcome::Reject,
            Verdict::Skip { .. } => Outcome::Skip,
            Verdict::Error { .. } => Outcome::Error,
        }
    }

    /// Short label: `accept`, `reject:expired`, `skip`, `error`.
    pub fn label(&self) -> String {
        match self {
            Verdict::Reject { kind, .. } => format!("reject:{kind}"),
            other => other.outcome().to_string(),
        }
    }
}

/// A real path-validation implementation.
pub trait Validator: Send + Sync {
    /// Column name in reports and the results file name, e.g. `openssl-partial-chain`.
    fn name(&self) -> &str;
    /// Library name and version actually linked or run, e.g. `OpenSSL 3.0.19 27 Jan 2026`.
    fn version(&self) -> String;
    /// Knobs that limbo cannot express (profile flags), recorded in results' `context`.
    fn profile(&self) -> String {
        String::new()
    }
    /// Validate one case. Must not panic on bad input (the runner catches panics anyway).
    fn validate(&self, input: &ValidationInput) -> Verdict;
    /// Validate many cases at once. External harnesses override this to start one process per
    /// batch; the default calls [`Validator::validate`] for each.
    fn validate_batch(&self, inputs: &[ValidationInput]) -> Vec<Verdict> {
        inputs.iter().map(|input| self.validate(input)).collect()
    }
    /// `None` (in-process validators): the runner calls [`Validator::validate`] per case, each
    /// under its own deadline. `Some(n)` (external harnesses): the runner hands batches of up to
    /// `n` cases to [`Validator::validate_batch`], which enforces its own timeouts.
    fn preferred_batch_size(&self) -> Option<usize> {
        None
    }
    /// `true` when every validation is bounded by the library itself (it cannot hang), so the
    /// runner may call [`Validator::validate`] directly on its worker threads, without the
    /// per-case deadline (panics are still caught). `false` (the default): each case runs under
    /// the runner's deadline.
    fn cannot_hang(&self) -> bool {
        false
    }
}

/// The in-process validators, in report column order: rustls-webpki, then the three OpenSSL
/// profiles (`openssl`, `openssl-partial-chain`, `openssl-strict`).
pub fn in_process_validators() -> Vec<std::sync::Arc<dyn Validator>> {
    use openssl_validator::{OpenSslProfile, OpenSslValidator};
    vec![
        std::sync::Arc::new(webpki_validator::RustlsWebpki),
        std::sync::Arc::new(OpenSslValidator::new(OpenSslProfile::Default)),
        std::sync::Arc::new(OpenSslValidator::new(OpenSslProfile::PartialChain)),
        std::sync::Arc::new(OpenSslValidator::new(OpenSslProfile::Strict)),
    ]
}

/// limbo `features` that mark what a case exercises. An adapter lists the ones it honours; a case
/// with any other feature is skipped with the reason (never run as if the feature were absent).
/// Pedantic and incompatibility tags only qualify the expected result, so running them is
/// faithful; `denial-of-service` cases run under the runner's per-case deadline.
pub(crate) const TAG_FEATURES: [&str; 7] = [
    "pedantic-public-suffix-wildcard",
    "pedantic-webpki-subscriber-key",
    "pedantic-webpki-eku",
    "pedantic-serial-number",
    "pedantic-rfc5280",
    "rfc5280-incompatible-with-webpki",
    "denial-of-service",
];

/// The first feature of `input` that is neither a tag nor in `honoured`, as a skip reason.
pub(crate) fn unhonoured_feature(
    input: &ValidationInput,
    adapter: &str,
    honoured: &[&str],
) -> Option<String> {
    input
        .features
        .iter()
        .find(|feature| {
            !TAG_FEATURES.contains(&feature.as_str()) && !honoured.contains(&feature.as_str())
        })
        .map(|feature| match feature.as_str() {
            "has-policy-constraints" | "has-cert-policies" | "no-cert-policies" => {
                format!("feature `{feature}`: {adapter} does not process certificate policies here")
            }
            other => format!("feature `{other}` is not honoured by {adapter}"),
        })
}

/// The limbo constraints no in-process adapter can express: an explicit list of signature
/// algorithms, a required key usage, or an extended key usage other than the one the usage
/// implies (both libraries check exactly serverAuth or clientAuth). Such a case is skipped with
/// this reason, never run without the constraint.
pub(crate) fn unsupported_constraints(input: &ValidationInput) -> Option<String> {
    if !input.signature_algorithms.is_empty() {
        return Some("signature_algorithms not supported by this adapter".into());
    }
    if !input.key_usage.is_empty() {
        return Some("key_usage not supported by this adapter".into());
    }
    let usage_eku = match input.usage {
        Usage::ServerAuth => "serverAuth",
        Usage::ClientAuth => "clientAuth",
    };
    input
        .extended_key_usage
        .iter()
        .find(|eku| eku.as_str() != usage_eku)
        .map(|other| {
            format!(
                "extended_key_usage `{other}` not supported: the adapter checks {usage_eku} only"
            )
        })
}

/// How a certificate appears in `chain_built`: its subject CN, or `sha256:` and the first 16
/// hex digits of the certificate's SHA-256 when it has no CN or does not parse.
///
/// Parsed with x509-parser (zero-copy): OpenSSL 3's `X509::from_der` decodes the public key too
/// and took half of webpki's time on the limbo suite when it was used here. Extensions are not
/// parsed into their types (only the subject is read), which halves the cost again.
pub fn subject_label(der: &[u8]) -> String {
    use x509_parser::certificate::X509CertificateParser;
    use x509_parser::nom::Parser;
    let common_name = X509CertificateParser::new()
        .with_deep_parse_extensions(false)
        .parse(der)
        .ok()
        .and_then(|(_, cert)| {
            cert.subject()
                .iter_common_name()
                .next()
                .and_then(|name| name.as_str().ok())
                .map(str::to_string)
        });
    common_name.unwrap_or_else(|| der_fingerprint_label(der))
}

/// `sha256:` and the first 16 hex digits of the SHA-256 of `der`.
pub fn der_fingerprint_label(der: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(der);
    format!("sha256:{}", &hex::encode(digest)[..16])
}

pub mod external;
pub mod handshake;
pub mod harnesses;
pub mod health;
pub mod openssl_validator;
pub mod runner;
pub mod suite;
pub mod webpki_validator;

#[cfg(test)]
mod tests {
    use super::*;

    /// `Display` and `<&str>::from` must spell every value as serde does (one spelling per value).
    fn assert_spelled_as_serde<T>(values: &[T])
    where
        T: Copy + Serialize + std::fmt::Display + Into<&'static str>,
    {
        for &value in values {
            let serde = serde_json::to_value(value).unwrap();
            assert_eq!(serde, serde_json::Value::from(value.to_string()));
            assert_eq!(serde, serde_json::Value::from(value.into()));
        }
    }

    #[test]
    fn spellings_follow_serde() {
        use RejectKind::*;
        assert_spelled_as_serde(&[
            Expired,
            NotYetValid,
            UnknownIssuer,
            BadSignature,
            NameMismatch,
            ConstraintViolation,
            Usage,
            PathTooLong,
            Other,
        ]);
        assert_spelled_as_serde(&[
            Outcome::Accept,
            Outcome::Reject,
            Outcome::Skip,
            Outcome::Error,
        ]);
        assert_eq!(NotYetValid.to_string(), "not-yet-valid");
        let reject = Verdict::Reject {
            kind: NotYetValid,
            detail: String::new(),
        };
        assert_eq!(reject.outcome(), Outcome::Reject);
        assert_eq!(reject.label(), "reject:not-yet-valid");
        assert_eq!(Verdict::Skip { reason: "x".into() }.label(), "skip");
    }

    #[test]
    fn limbo_spellings_follow_serde() {
        use limbo::{ActualResult, ExpectedResult, PeerNameKind, ValidationKind};
        assert_spelled_as_serde(&[ExpectedResult::Success, ExpectedResult::Failure]);
        assert_spelled_as_serde(&[
            ActualResult::Success,
            ActualResult::Failure,
            ActualResult::Skipped,
            ActualResult::Hang,
        ]);
        assert_spelled_as_serde(&[ValidationKind::Server, ValidationKind::Client]);
        assert_spelled_as_serde(&[PeerNameKind::Dns, PeerNameKind::Ip, PeerNameKind::Rfc822]);
        assert_eq!(ExpectedResult::Success.to_string(), "SUCCESS");
        assert_eq!(PeerNameKind::Rfc822.to_string(), "RFC822");
    }
}
