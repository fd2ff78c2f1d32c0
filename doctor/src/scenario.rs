//! Which corpus scenario a served chain belongs to: one rule for the single-chain doctor and
//! batch mode.

use anchorsmith_corpus::Scenario;
use x509_parser::prelude::X509Certificate;

use crate::ServedChain;

/// How the scenario of a chain was found.
#[derive(Clone, Copy, Debug)]
pub enum Inferred<'s> {
    /// It made the served leaf: its candidate chains start with that leaf.
    Leaf(&'s Scenario),
    /// No scenario made the leaf; this one holds most of the served certificates, or its
    /// certificate issued the leaf (name and key).
    Related(&'s Scenario),
}

impl<'s> Inferred<'s> {
    pub fn scenario(self) -> &'s Scenario {
        match self {
            Inferred::Leaf(scenario) | Inferred::Related(scenario) => scenario,
        }
    }
}

/// Why no single scenario was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoScenario {
    /// No scenario holds a served certificate or issued the leaf.
    Unknown,
    /// Several scenarios made the leaf (names in corpus order): which one is meant?
    LeafInSeveral(Vec<String>),
    /// No scenario made the leaf, and several fit the rest of the chain equally.
    RelatedToSeveral(Vec<String>),
}

impl std::fmt::Display for NoScenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoScenario::Unknown => write!(
                f,
                "no scenario's certificates are in this chain or issued its leaf"
            ),
            NoScenario::LeafInSeveral(names) => write!(
                f,
                "the leaf belongs to {} corpus scenarios: {}",
                names.len(),
                names.join(", ")
            ),
            NoScenario::RelatedToSeveral(names) => {
                write!(f, "this chain fits several equally: {}", names.join(", "))
            }
        }
    }
}

/// The scenario `chain` belongs to: the one holding the served leaf itself (several is
/// ambiguous: scenarios share intermediates, but a leaf is made by its scenario); only when no
/// scenario holds the leaf, the one holding most of the served certificates, then the one whose
/// certificate issued the leaf. `Err`: none, or a tie.
pub fn infer_scenario<'s>(
    scenarios: &'s [Scenario],
    chain: &ServedChain,
) -> Result<Inferred<'s>, NoScenario> {
    infer_scenario_with(scenarios, chain, |scenario| {
        let known = scenario.pki.certs.values();
        issued_leaf(
            known.filter_map(|cert| crate::cert::try_parse(&cert.der)),
            chain,
        )
    })
}

/// [`infer_scenario`] with the "did a certificate of this scenario issue the leaf" question
/// answered by the caller: batch mode answers it from certificates it parsed once per scenario.
/// Asked only when no scenario holds the leaf.
pub(crate) fn infer_scenario_with<'s>(
    scenarios: &'s [Scenario],
    chain: &ServedChain,
    issued_leaf: impl Fn(&Scenario) -> bool,
) -> Result<Inferred<'s>, NoScenario> {
    let holds =
        |scenario: &Scenario, der: &[u8]| scenario.pki.certs.values().any(|cert| cert.der == der);
    let names = |found: &[&Scenario]| found.iter().map(|s| s.name.clone()).collect();
    let by_leaf: Vec<&Scenario> = scenarios
        .iter()
        .filter(|scenario| holds(scenario, chain.end_entity()))
        .collect();
    match by_leaf[..] {
        [one] => return Ok(Inferred::Leaf(one)),
        [] => {}
        _ => return Err(NoScenario::LeafInSeveral(names(&by_leaf))),
    }
    let scored: Vec<(&Scenario, (usize, bool))> = scenarios
        .iter()
        .map(|scenario| {
            let served = chain
                .certs()
                .iter()
                .filter(|der| holds(scenario, der))
                .count();
            (scenario, (served, issued_leaf(scenario)))
        })
        .filter(|(_, (served, issued))| *served > 0 || *issued)
        .collect();
    let best = scored.iter().map(|(_, score)| *score).max();
    let top: Vec<&Scenario> = scored
        .iter()
        .filter(|(_, score)| Some(*score) == best)
        .map(|(scenario, _)| *scenario)
        .collect();
    match top[..] {
        [one] => Ok(Inferred::Related(one)),
        [] => Err(NoScenario::Unknown),
        _ => Err(NoScenario::RelatedToSeveral(names(&top))),
    }
}

/// Whether one of `known` issued the served leaf (its name and its key).
pub(crate) fn issued_leaf<'c>(
    mut known: impl Iterator<Item = impl std::borrow::Borrow<X509Certificate<'c>>>,
    chain: &ServedChain,
) -> bool {
    let leaf = crate::cert::parse(chain.end_entity());
    known.any(|cert| crate::cert::issues(cert.borrow(), &leaf))
}
