//! One verdict per target × store it holds in the scenario, from the target's own engine (the
//! client model with its quirks, or the real validator it names).

use std::sync::Arc;
use std::time::SystemTime;

use anchorsmith_corpus::{Scenario, Target};
use anchorsmith_validators::{Outcome, PeerName, Usage, ValidationInput, Validator, Verdict};
use time::OffsetDateTime;

/// A target and the engine that judges for it.
pub type Engine<'a> = (&'a Target, Arc<dyn Validator>);

/// How a target fares on a chain with one of its stores.
#[derive(Clone, Debug)]
pub struct TargetVerdict {
    pub target: String,
    pub store: String,
    pub verdict: Verdict,
    /// Accepted only with the target's intermediate cache or AIA fetching.
    pub only_through_client_state: bool,
}

impl TargetVerdict {
    pub fn accepts(&self) -> bool {
        self.verdict.outcome() == Outcome::Accept
    }
}

/// How many of `verdicts` accept.
pub fn accepted(verdicts: &[TargetVerdict]) -> usize {
    verdicts.iter().filter(|v| v.accepts()).count()
}

/// One verdict per target × store it holds in the scenario, from the target's engine. A target
/// with a cache or AIA fetching that accepts is judged again without them, so "accepts only
/// through its cache or AIA" (what an online checker calls an incomplete chain) is shown.
pub fn judge_chain(
    scenario: &Scenario,
    engines: &[Engine],
    chain: &[Vec<u8>],
    dns_name: &str,
    at: OffsetDateTime,
) -> Vec<TargetVerdict> {
    let der = |id: &String| scenario.pki.certs[id].der.clone();
    let mut verdicts = Vec::new();
    for (target, engine) in engines {
        let holding = &target.scenarios[&scenario.name];
        for store in &holding.stores {
            let cache: Vec<Vec<u8>> = holding.caches.iter().flatten().map(der).collect();
            let input = |with_state: bool| ValidationInput {
                id: format!("doctor::{}::{store}", target.name),
                trust_anchors: scenario.stores[store].iter().map(der).collect(),
                served_chain: chain[1..].to_vec(),
                peer: chain[0].clone(),
                cached: if with_state {
                    cache.clone()
                } else {
                    Vec::new()
                },
                aia_repository: if with_state && target.engine.fetches_aia() {
                    scenario
                        .aia_repository
                        .iter()
                        .map(|(url, id)| (url.clone(), der(id)))
                        .collect()
                } else {
                    Vec::new()
                },
                validation_time: Some(SystemTime::from(at)),
                expected_peer_name: Some(PeerName::Dns(dns_name.to_string())),
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
                // Handshake harnesses serve the chain with the leaf's key: the scenario's own.
                peer_key_pem: scenario
                    .pki
                    .certs
                    .values()
                    .find(|cert| cert.der == chain[0])
                    .map(|cert| cert.private_key_pkcs8_pem.clone()),
            };
            let verdict = engine.validate(&input(true));
            let has_state = !cache.is_empty() || target.engine.fetches_aia();
            let only_through_client_state = has_state
                && verdict.outcome() == Outcome::Accept
                && engine.validate(&input(false)).outcome() != Outcome::Accept;
            verdicts.push(TargetVerdict {
                target: target.name.clone(),
                store: store.clone(),
                verdict,
                only_through_client_state,
            });
        }
    }
    verdicts
}
