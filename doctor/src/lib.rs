//! The chain doctor: why do some clients fail on the chain a server sends? Offline, for every
//! target a corpus scenario places, at any date: findings about the chain itself (each with a
//! stable code), one verdict per target × store from the target's own engine, and the chain to
//! serve, with the trade-off table when no candidate chain of the scenario serves every target.
//!
//! `diagnose` is the entry point; `report` renders a `Diagnosis` as text or JSON (schema:
//! `doctor/doctor.schema.json`). Setting up the engines (validator columns) is the caller's job.

pub mod batch;
mod cert;
pub mod chain;
pub mod findings;
pub mod fix;
pub mod report;
#[cfg(test)]
mod testpki;
pub mod verdicts;

use anchorsmith_corpus::{Case, Scenario, Target};
use time::OffsetDateTime;

pub use chain::{read_chain, ServedChain};
pub use findings::{Finding, FindingCode};
pub use fix::{Candidate, Change, Fix, TargetStore};
pub use verdicts::{Engine, TargetVerdict};

/// Everything the doctor says about one served chain.
#[derive(Clone, Debug)]
pub struct Diagnosis {
    pub scenario: String,
    pub at: OffsetDateTime,
    pub findings: Vec<Finding>,
    /// The chain as served, judged by every placed target × store.
    pub verdicts: Vec<TargetVerdict>,
    /// Targets asked for but not placed in the scenario (no store to judge with).
    pub not_judged: Vec<String>,
    /// The scenario's chains starting with the served leaf, each judged.
    pub candidates: Vec<Candidate>,
    /// The best candidate and what it changes; `None` when no chain starts with this leaf.
    pub fix: Option<Fix>,
}

impl Diagnosis {
    /// How many verdicts on the chain as served are not accepts.
    pub fn rejecting(&self) -> usize {
        self.verdicts.len() - verdicts::accepted(&self.verdicts)
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

/// Diagnose `chain` (served order, leaf first) at `at`: findings, the verdict of each engine's
/// target × store, and every candidate chain of the scenario judged the same way for the fix.
/// `not_judged` names targets the caller chose that `placed` left out.
pub fn diagnose(
    scenario: &Scenario,
    engines: &[Engine],
    dns_name: &str,
    chain: &[Vec<u8>],
    at: OffsetDateTime,
    not_judged: Vec<String>,
) -> Diagnosis {
    let reference = findings::Reference::of(scenario);
    diagnose_with(
        &reference, scenario, engines, dns_name, chain, at, not_judged,
    )
}

/// [`diagnose`] with the scenario's findings [`Reference`](findings::Reference) built once by
/// the caller: batch mode diagnoses many chains against each scenario.
pub fn diagnose_with(
    reference: &findings::Reference,
    scenario: &Scenario,
    engines: &[Engine],
    dns_name: &str,
    chain: &[Vec<u8>],
    at: OffsetDateTime,
    not_judged: Vec<String>,
) -> Diagnosis {
    let judge = |chain: &[Vec<u8>]| verdicts::judge_chain(scenario, engines, chain, dns_name, at);
    let verdicts = judge(chain);
    let candidates: Vec<Candidate> = fix::candidate_chains(scenario, chain)
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
        scenario: scenario.name.clone(),
        at,
        findings: findings::findings_with(reference, chain, at),
        fix: fix::fix(&verdicts, &candidates),
        verdicts,
        not_judged,
        candidates,
    }
}
