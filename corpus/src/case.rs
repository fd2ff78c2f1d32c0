//! Cases: one validation each (served chain × trust store × time × cache × AIA), with the
//! documented expectations that select it and the reference verdict. Case ids are derived from
//! the components, never typed.

use std::sync::Arc;
use std::time::SystemTime;

use anchorsmith_validators::{PeerName, RejectKind, Usage, ValidationInput};
use serde::Serialize;
use time::OffsetDateTime;

use crate::pki::ScenarioPki;
use crate::reference::ReferenceVerdict;
use crate::spec::{ExpectedOutcome, Strength};

/// An expectation, resolved: its client, outcome (and reason), quote and strength, whether the
/// seed states it or it is derived, and the cases it selects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Expectation {
    /// A client behaviour from `clients.toml`.
    pub client: String,
    pub outcome: ExpectedOutcome,
    /// The expected reason of a rejection (never set when `outcome` is accept).
    pub reject_kind: Option<RejectKind>,
    /// How strongly the quote states it.
    pub strength: Strength,
    /// A prediction the seed does not make (the quote is its context): shown and counted apart
    /// from the documented expectations.
    pub derived: bool,
    /// File name in the seeds directory.
    pub seed_file: String,
    /// The sentence the expectation rests on, verbatim (whitespace normalised).
    pub quote: String,
    /// The selector as written, e.g. `chain=leaf-only cache=[] aia=false`.
    pub selector: String,
    /// The ids of the cases the selector matches, in case order (never empty).
    pub case_ids: Vec<String>,
}

/// One case of the corpus.
#[derive(Clone, Debug)]
pub struct Case {
    /// `<scenario>::<chain>::store-<store>::<time>[::cache-<ids>][::aia]`.
    pub id: String,
    pub scenario: String,
    pub chain: String,
    pub store: String,
    pub time: String,
    /// Cache contents (certificate ids); empty = nothing cached.
    pub cache: Vec<String>,
    pub aia: bool,
    /// Certificate ids exactly as served: peer first, order and extras kept.
    pub served_chain: Vec<String>,
    pub trust_store: Vec<String>,
    /// (URL, certificate id) an AIA-fetching client could download; empty unless `aia`.
    pub aia_repository: Vec<(String, String)>,
    pub validation_time: OffsetDateTime,
    pub dns_name: String,
    pub usage: Usage,
    pub expectations: Vec<Expectation>,
    /// The reference verdict on the full case (cache and AIA included).
    pub reference: ReferenceVerdict,
    /// The reference verdict on the plain view (served chain only), which is what the limbo
    /// export can express.
    pub plain_reference: ReferenceVerdict,
    pub(crate) pki: Arc<ScenarioPki>,
}

/// The components a case id is derived from.
pub fn case_id(
    scenario: &str,
    chain: &str,
    store: &str,
    time: &str,
    cache: &[String],
    aia: bool,
) -> String {
    let mut id = format!("{scenario}::{chain}::store-{store}::{time}");
    if !cache.is_empty() {
        id.push_str("::cache-");
        id.push_str(&cache.join("-"));
    }
    if aia {
        id.push_str("::aia");
    }
    id
}

/// Limbo's id pattern `^([A-Za-z][A-Za-z0-9-.]+::)*([A-Za-z][A-Za-z0-9-.]+)$`.
pub fn is_limbo_id(id: &str) -> bool {
    id.split("::").all(is_limbo_id_component)
}

/// One component of limbo's id pattern: a letter, then at least one of `[A-Za-z0-9-.]`.
pub fn is_limbo_id_component(component: &str) -> bool {
    let mut chars = component.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && component.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

impl Case {
    /// Whether the case needs something limbo cannot express (a cache or AIA fetching).
    pub fn needs_client_state(&self) -> bool {
        !self.cache.is_empty() || self.aia
    }

    fn ders(&self, ids: &[String]) -> Vec<Vec<u8>> {
        ids.iter().map(|id| self.pki.der(id).to_vec()).collect()
    }

    /// The validation input: DER from the generated PKI, cache → `cached`, AIA → `aia_repository`.
    pub fn to_validation_input(&self) -> ValidationInput {
        ValidationInput {
            id: self.id.clone(),
            trust_anchors: self.ders(&self.trust_store),
            served_chain: self.ders(&self.served_chain[1..]),
            peer: self.pki.der(&self.served_chain[0]).to_vec(),
            cached: self.ders(&self.cache),
            aia_repository: self
                .aia_repository
                .iter()
                .map(|(url, id)| (url.clone(), self.pki.der(id).to_vec()))
                .collect(),
            validation_time: Some(SystemTime::from(self.validation_time)),
            expected_peer_name: Some(PeerName::Dns(self.dns_name.clone())),
            usage: self.usage,
            extended_key_usage: vec![match self.usage {
                Usage::ServerAuth => "serverAuth".to_string(),
                Usage::ClientAuth => "clientAuth".to_string(),
            }],
            key_usage: Vec::new(),
            signature_algorithms: Vec::new(),
            max_chain_depth: None,
            features: Vec::new(),
            crls: Vec::new(),
            expected_result: Some(self.reference.limbo_expected_result()),
            // For the harnesses that serve the chain in a real handshake (legacy OpenSSL through
            // Node.js): in memory only, see `export::testcase`.
            peer_key_pem: Some(
                self.pki.certs[&self.served_chain[0]]
                    .private_key_pkcs8_pem
                    .clone(),
            ),
        }
    }

    /// The validation input limbo can express: the served chain alone, without the cache and
    /// the AIA repository (the view [`Case::plain_reference`] judges).
    pub fn to_plain_validation_input(&self) -> ValidationInput {
        let mut plain = self.to_validation_input();
        plain.cached.clear();
        plain.aia_repository.clear();
        plain
    }

    /// Expectations in one line each, for tables and prose: documented ones first, then the
    /// derived predictions, marked as such.
    pub fn expectation_lines(&self) -> Vec<String> {
        let (derived, documented): (Vec<&Expectation>, Vec<&Expectation>) =
            self.expectations.iter().partition(|e| e.derived);
        documented
            .into_iter()
            .chain(derived)
            .map(Expectation::line)
            .collect()
    }
}

impl Expectation {
    /// `reject:unknown-issuer` or `accept`: the outcome, with the reason when one is expected.
    pub fn outcome_label(&self) -> String {
        match self.reject_kind {
            Some(kind) => format!("{}:{kind}", self.outcome),
            None => self.outcome.to_string(),
        }
    }

    /// `client: outcome (seed file, strength)`, prefixed `derived` for a derived prediction.
    pub fn line(&self) -> String {
        let prefix = if self.derived { "derived: " } else { "" };
        format!(
            "{prefix}{}: {} ({}, {})",
            self.client,
            self.outcome_label(),
            self.seed_file,
            self.strength
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_derived_from_components() {
        assert_eq!(
            case_id(
                "root-expiry-long-short",
                "long-chain",
                "old-new",
                "at-2021-10-01",
                &[],
                false
            ),
            "root-expiry-long-short::long-chain::store-old-new::at-2021-10-01"
        );
        let cache = vec!["le-x3-by-dst".to_string(), "r3".to_string()];
        let id = case_id("s", "c", "st", "at-1", &cache, true);
        assert_eq!(id, "s::c::store-st::at-1::cache-le-x3-by-dst-r3::aia");
    }

    #[test]
    fn expectation_lines_put_derived_predictions_last_and_name_the_reason() {
        let expectation = |derived, reject_kind| Expectation {
            client: "c".into(),
            outcome: ExpectedOutcome::Reject,
            reject_kind,
            strength: Strength::Hedged,
            derived,
            seed_file: "002_x.txt".into(),
            quote: "q".into(),
            selector: String::new(),
            case_ids: Vec::new(),
        };
        let derived = expectation(true, None);
        let documented = expectation(false, Some(RejectKind::UnknownIssuer));
        assert_eq!(derived.line(), "derived: c: reject (002_x.txt, hedged)");
        assert_eq!(
            documented.line(),
            "c: reject:unknown-issuer (002_x.txt, hedged)"
        );
    }

    #[test]
    fn limbo_pattern_requires_a_letter_first_and_two_characters() {
        assert!(is_limbo_id(
            "leaf-only-served::leaf-only::store-browser-2016::at-2016-07-01"
        ));
        assert!(!is_limbo_id("x::2021-10-01"));
        assert!(!is_limbo_id("x::a_b"));
        assert!(!is_limbo_id("x::a"));
        assert!(!is_limbo_id("x::"));
    }
}
