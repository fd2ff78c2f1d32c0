//! The chain doctor: why do some clients fail on the chain a server sends? Offline, for every
//! target a corpus scenario places, at any date: findings about the chain itself (each with a
//! stable code), one verdict per target × store from the target's own engine, and the chain to
//! serve, with the trade-off table when no candidate chain of the scenario serves every target.
//!
//! When no scenario knows the leaf (a real server's chain), the findings that need no scenario
//! are still given, and the verdicts come from the real in-process validators against real
//! stores (`Panel::real`); there is no fix then, since there are no candidate chains to compare.
//!
//! `diagnose` is the entry point; its input is a `ServedChain` (never empty) read from a file
//! (`read_chain`) or captured from a real TLS handshake (`capture`). `report` renders a
//! `Diagnosis` as text or JSON (schema: `doctor/doctor.schema.json`). Setting up the real
//! validator columns is the caller's job; `setup` has the rest (client models, real stores,
//! `--at`).

pub mod batch;
pub mod cert;
pub mod chain;
pub mod connect;
pub mod findings;
pub mod fix;
pub mod picture;
pub mod report;
pub mod scenario;
pub mod setup;
pub mod synthetic;
#[cfg(test)]
mod testpki;
pub mod verdicts;

use anchorsmith_corpus::{Case, Scenario, Target};
use time::OffsetDateTime;

pub use chain::{parse_chain, read_chain, ChainError, ServedChain};
pub use connect::{capture, ConnectSpec};
pub use findings::{Finding, FindingCode};
pub use fix::{Candidate, Change, Fix, TargetStore};
pub use scenario::{infer_scenario, Inferred, NoScenario};
pub use verdicts::{EmptyPanel, Engine, LeafKey, Panel, Seat, Tally, TargetVerdict};

/// Everything the doctor says about one served chain.
#[derive(Clone, Debug)]
pub struct Diagnosis {
    /// The corpus scenario that judged it; `None` when no scenario knows the leaf (a real
    /// server's chain): the real validators and stores judged it, and there is no fix.
    pub scenario: Option<String>,
    pub at: OffsetDateTime,
    pub findings: Vec<Finding>,
    /// The chain as served, judged by every seat of the panel.
    pub verdicts: Vec<TargetVerdict>,
    /// Targets asked for but not placed in the scenario (no store to judge with).
    pub not_judged: Vec<String>,
    /// The scenario's chains starting with the served leaf, each judged.
    pub candidates: Vec<Candidate>,
    /// The best candidate and what it changes; `None` when no chain starts with this leaf.
    pub fix: Option<Fix>,
}

impl Diagnosis {
    /// Accepts, rejects, skips and errors on the chain as served.
    pub fn tally(&self) -> Tally {
        Tally::of(&self.verdicts)
    }

    /// The chain the fix serves, when there is a fix.
    pub fn fix_chain(&self) -> Option<&Candidate> {
        self.fix.as_ref().map(|fix| &self.candidates[fix.candidate])
    }
}

/// The targets placed in `scenario` (judged) and the others (not judged), each in given order.
pub fn placed<'a>(
    scenario: &Scenario,
    targets: Vec<&'a Target>,
) -> (Vec<&'a Target>, Vec<&'a Target>) {
    targets
        .into_iter()
        .partition(|target| target.scenarios.contains_key(&scenario.name))
}

/// The DNS name the scenario's cases expect the leaf to carry (empty when it has no case).
pub fn dns_name(cases: &[Case], scenario: &Scenario) -> String {
    cases
        .iter()
        .find(|case| case.scenario == scenario.name)
        .map(|case| case.dns_name.clone())
        .unwrap_or_default()
}

/// Diagnose `chain` at `at`: findings, the verdict of each seat of `panel`, and — with a
/// scenario — every candidate chain of the scenario judged the same way, for the fix.
pub fn diagnose(
    scenario: Option<&Scenario>,
    panel: &Panel,
    chain: &ServedChain,
    at: OffsetDateTime,
) -> Diagnosis {
    let reference = findings::Reference::of(scenario, panel);
    diagnose_with(&reference, scenario, panel, chain, at)
}

/// [`diagnose`] with the findings' [`Reference`](findings::Reference) of `scenario` and `panel`
/// built once by the caller (`Reference::of(scenario, panel)`): batch mode diagnoses many
/// chains against each scenario, and parsing its certificates and stores once per chain would
/// cost more than judging the chain.
pub fn diagnose_with(
    reference: &findings::Reference,
    scenario: Option<&Scenario>,
    panel: &Panel,
    chain: &ServedChain,
    at: OffsetDateTime,
) -> Diagnosis {
    let judge = |chain: &ServedChain| verdicts::judge_chain(panel, chain, at);
    let verdicts = judge(chain);
    let candidates: Vec<Candidate> = scenario
        .map(|scenario| fix::candidate_chains(scenario, chain))
        .unwrap_or_default()
        .into_iter()
        .map(|(name, chain)| {
            let verdicts = judge(&chain);
            Candidate {
                name,
                chain,
                verdicts,
            }
        })
        .collect();
    Diagnosis {
        scenario: scenario.map(|scenario| scenario.name.clone()),
        at,
        findings: findings::with_outcomes(findings::findings(reference, chain, at), &verdicts),
        fix: fix::fix(chain, &verdicts, &candidates),
        verdicts,
        not_judged: panel.not_judged.clone(),
        candidates,
    }
}
