//! One verdict per seat: a target judging with one of its stores, through the target's own
//! engine (the client model with its quirks, or the real validator it names). A scenario's panel
//! seats every placed target × store; the real panel (no scenario knows the leaf) seats the real
//! in-process validators × Mozilla's roots and the system store.

use std::sync::Arc;
use std::time::SystemTime;

use anchorsmith_corpus::{Scenario, Target};
use anchorsmith_validators::{Outcome, PeerName, Usage, ValidationInput, Validator, Verdict};
use time::OffsetDateTime;

use crate::chain::ServedChain;
use crate::fix::TargetStore;

/// A target and the engine that judges for it.
#[derive(Clone)]
pub struct Engine<'a> {
    pub target: &'a Target,
    pub validator: Arc<dyn Validator>,
}

/// A target and its validator, as `xtask`'s engine set-up lists them.
impl<'a> From<(&'a Target, Arc<dyn Validator>)> for Engine<'a> {
    fn from((target, validator): (&'a Target, Arc<dyn Validator>)) -> Self {
        Engine { target, validator }
    }
}

/// One target with one of its stores, and what the target's client brings besides the chain.
#[derive(Clone)]
pub struct Seat {
    pub who: TargetStore,
    pub engine: Arc<dyn Validator>,
    /// The store's roots (DER).
    pub anchors: Vec<Vec<u8>>,
    /// Intermediates the client already holds (its cache in the scenario).
    pub cache: Vec<Vec<u8>>,
    /// What the client's AIA fetching finds (URL, DER); empty when it does not fetch.
    pub aia: Vec<(String, Vec<u8>)>,
}

/// Everyone who judges a chain, and the name they expect the leaf to carry.
#[derive(Clone)]
pub struct Panel {
    pub seats: Vec<Seat>,
    pub dns_name: String,
    /// Targets asked for that have no seat (not placed in the scenario).
    pub not_judged: Vec<String>,
    /// The private keys of known leaves: handshake harnesses serve the chain with the leaf's key.
    pub leaf_keys: Vec<LeafKey>,
}

/// A known leaf and its private key.
#[derive(Clone, Debug)]
pub struct LeafKey {
    pub der: Vec<u8>,
    /// PKCS#8 PEM.
    pub key_pem: String,
}

impl Panel {
    /// Every engine's target × each store it holds in `scenario`, with its cache and AIA.
    pub fn of_scenario(
        scenario: &Scenario,
        engines: &[Engine],
        dns_name: &str,
        not_judged: Vec<String>,
    ) -> Panel {
        let der = |id: &String| scenario.pki.certs[id].der.clone();
        let mut seats = Vec::new();
        for Engine { target, validator } in engines {
            let holding = &target.scenarios[&scenario.name];
            for store in &holding.stores {
                seats.push(Seat {
                    who: TargetStore {
                        target: target.name.clone(),
                        store: store.clone(),
                    },
                    engine: validator.clone(),
                    anchors: scenario.stores[store].iter().map(der).collect(),
                    cache: holding.caches.iter().flatten().map(der).collect(),
                    aia: if target.engine.fetches_aia() {
                        scenario
                            .aia_repository
                            .iter()
                            .map(|(url, id)| (url.clone(), der(id)))
                            .collect()
                    } else {
                        Vec::new()
                    },
                });
            }
        }
        Panel {
            seats,
            dns_name: dns_name.to_string(),
            not_judged,
            leaf_keys: scenario
                .pki
                .certs
                .values()
                .map(|cert| LeafKey {
                    der: cert.der.clone(),
                    key_pem: cert.private_key_pkcs8_pem.clone(),
                })
                .collect(),
        }
    }

    /// The real in-process validators (rustls-webpki, OpenSSL with its defaults) × the real
    /// `stores` (name, roots): for a chain no scenario knows.
    pub fn real(stores: Vec<(String, Vec<Vec<u8>>)>, dns_name: &str) -> Panel {
        use anchorsmith_validators::openssl_validator::{OpenSslProfile, OpenSslValidator};
        let engines: [Arc<dyn Validator>; 2] = [
            Arc::new(anchorsmith_validators::webpki_validator::RustlsWebpki),
            Arc::new(OpenSslValidator::new(OpenSslProfile::Default)),
        ];
        let mut seats = Vec::new();
        for engine in engines {
            for (store, anchors) in &stores {
                seats.push(Seat {
                    who: TargetStore {
                        target: engine.name().to_string(),
                        store: store.clone(),
                    },
                    engine: engine.clone(),
                    anchors: anchors.clone(),
                    cache: Vec::new(),
                    aia: Vec::new(),
                });
            }
        }
        Panel {
            seats,
            dns_name: dns_name.to_string(),
            not_judged: Vec::new(),
            leaf_keys: Vec::new(),
        }
    }
}

/// A panel with no seat: none of the targets asked for is placed in the scenario, so nothing
/// would judge the chain (bad input: the caller locates it on its `--targets`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "none of these targets is placed in scenario `{scenario}`, so nothing judges the chain; placed there: {}",
    if placed.is_empty() { "none".to_string() } else { placed.join(", ") }
)]
pub struct EmptyPanel {
    pub scenario: String,
    /// Every target placed in the scenario, in target order.
    pub placed: Vec<String>,
}

impl Panel {
    /// `Ok` when some seat judges; else which targets of `targets` `scenario` places.
    pub fn require_seats(&self, scenario: &Scenario, targets: &[Target]) -> Result<(), EmptyPanel> {
        if !self.seats.is_empty() {
            return Ok(());
        }
        Err(EmptyPanel {
            scenario: scenario.name.clone(),
            placed: targets
                .iter()
                .filter(|target| target.scenarios.contains_key(&scenario.name))
                .map(|target| target.name.clone())
                .collect(),
        })
    }
}

/// How a target fares on a chain with one of its stores.
#[derive(Clone, Debug)]
pub struct TargetVerdict {
    pub who: TargetStore,
    pub verdict: Verdict,
    /// Accepted only with the target's intermediate cache or AIA fetching (an online checker
    /// calls that chain incomplete).
    pub only_through_cache_or_aia: bool,
}

impl TargetVerdict {
    pub fn accepts(&self) -> bool {
        self.verdict.outcome() == Outcome::Accept
    }

    /// Accept or reject: the engine decided (a skip or an error decides nothing).
    pub fn decided(&self) -> bool {
        matches!(self.verdict.outcome(), Outcome::Accept | Outcome::Reject)
    }

    /// The target and store, owned (a key for maps of verdicts).
    pub fn who(&self) -> TargetStore {
        self.who.clone()
    }
}

/// How many of `verdicts` accept.
pub fn accepted(verdicts: &[TargetVerdict]) -> usize {
    verdicts.iter().filter(|v| v.accepts()).count()
}

/// The tally of verdicts that sets the exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    pub accept: usize,
    pub reject: usize,
    pub skip: usize,
    pub error: usize,
}

impl Tally {
    pub fn of(verdicts: &[TargetVerdict]) -> Tally {
        let count = |outcome| {
            verdicts
                .iter()
                .filter(|v| v.verdict.outcome() == outcome)
                .count()
        };
        Tally {
            accept: count(Outcome::Accept),
            reject: count(Outcome::Reject),
            skip: count(Outcome::Skip),
            error: count(Outcome::Error),
        }
    }

    pub fn decided(&self) -> usize {
        self.accept + self.reject
    }

    pub fn not_decided(&self) -> usize {
        self.skip + self.error
    }

    /// Some target accepts, every decided target accepts and no engine failed: the chain is
    /// good (exit 0). Nothing accepting (every seat skipped) is not good: nothing vouched for it.
    pub fn all_good(&self) -> bool {
        self.accept > 0 && self.reject == 0 && self.error == 0
    }
}

/// What `seat`'s engine is given to judge `chain` at `at`; `with_state`: with the client's
/// cache and AIA fetching, else the chain and the store alone.
pub fn input(
    panel: &Panel,
    seat: &Seat,
    chain: &ServedChain,
    at: OffsetDateTime,
    with_state: bool,
) -> ValidationInput {
    ValidationInput {
        id: format!("doctor::{}::{}", seat.who.target, seat.who.store),
        trust_anchors: seat.anchors.clone(),
        served_chain: chain.rest().to_vec(),
        peer: chain.leaf().to_vec(),
        cached: if with_state {
            seat.cache.clone()
        } else {
            Vec::new()
        },
        aia_repository: if with_state {
            seat.aia.clone()
        } else {
            Vec::new()
        },
        validation_time: Some(SystemTime::from(at)),
        expected_peer_name: Some(PeerName::Dns(panel.dns_name.clone())),
        usage: Usage::ServerAuth,
        extended_key_usage: vec!["serverAuth".into()],
        key_usage: Vec::new(),
        signature_algorithms: Vec::new(),
        max_chain_depth: None,
        features: Vec::new(),
        crls: Vec::new(),
        // The limbo protocol requires a field validators never read (see
        // `ValidationInput::expected_result`); the doctor knows no answer in advance.
        expected_result: Some(anchorsmith_validators::limbo::ExpectedResult::Success),
        // Handshake harnesses serve the chain with the leaf's key, when it is known.
        peer_key_pem: panel
            .leaf_keys
            .iter()
            .find(|known| known.der[..] == *chain.leaf())
            .map(|known| known.key_pem.clone()),
    }
}

/// One verdict per seat. A seat with a cache or AIA fetching that accepts is judged again
/// without them, so "accepts only through its cache or AIA" (what an online checker calls an
/// incomplete chain) is shown.
pub fn judge_chain(panel: &Panel, chain: &ServedChain, at: OffsetDateTime) -> Vec<TargetVerdict> {
    panel
        .seats
        .iter()
        .map(|seat| {
            let verdict = seat.engine.validate(&input(panel, seat, chain, at, true));
            let has_state = !seat.cache.is_empty() || !seat.aia.is_empty();
            let only_through_cache_or_aia = has_state
                && verdict.outcome() == Outcome::Accept
                && seat
                    .engine
                    .validate(&input(panel, seat, chain, at, false))
                    .outcome()
                    != Outcome::Accept;
            TargetVerdict {
                who: seat.who.clone(),
                verdict,
                only_through_cache_or_aia,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchorsmith_validators::RejectKind;

    fn verdict(verdict: Verdict) -> TargetVerdict {
        crate::testpki::target_verdict("t", "s", verdict)
    }

    #[test]
    fn skips_and_errors_are_not_decided_and_only_errors_spoil_the_exit() {
        let accept = verdict(Verdict::Accept {
            chain_built: Vec::new(),
        });
        let reject = verdict(Verdict::Reject {
            kind: RejectKind::UnknownIssuer,
            detail: String::new(),
        });
        let skip = verdict(Verdict::Skip {
            reason: "no harness".into(),
        });
        let error = verdict(Verdict::Error {
            detail: "crashed".into(),
        });
        let tally = Tally::of(&[accept.clone(), skip.clone()]);
        assert_eq!((tally.decided(), tally.not_decided()), (1, 1));
        assert!(tally.all_good());
        // Only skips, or nothing at all: nothing accepted, so not good.
        assert!(!Tally::of(std::slice::from_ref(&skip)).all_good());
        assert!(!Tally::of(&[]).all_good());
        assert!(!Tally::of(&[accept.clone(), reject]).all_good());
        assert!(!Tally::of(&[accept, error]).all_good());
        assert!(!skip.decided());
    }
}
