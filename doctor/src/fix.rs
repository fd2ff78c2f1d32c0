//! The fix: the scenario's candidate chains that start with the served leaf, each judged; the
//! one most targets accept, with the targets it wins and loses against the chain as served.

use anchorsmith_corpus::Scenario;

use crate::cert::{parse, self_signed};
use crate::verdicts::{accepted, TargetVerdict};

/// A chain of the scenario that could be served instead, judged by every target.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The chain's name in the scenario.
    pub name: String,
    /// DER certificates, leaf first, without a root.
    pub chain: Vec<Vec<u8>>,
    pub verdicts: Vec<TargetVerdict>,
}

/// A target and the store it holds, as the fix names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetStore {
    pub target: String,
    pub store: String,
}

/// Which way serving the fix changes a target's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Rejected as served, accepted fixed.
    Wins,
    /// Accepted as served, rejected fixed.
    Loses,
}

/// The chain to serve, and what serving it changes.
#[derive(Clone, Debug)]
pub struct Fix {
    /// The best candidate (index into `Diagnosis::candidates`).
    pub candidate: usize,
    /// Each target × store whose outcome changes, in verdict order.
    pub changes: Vec<(Change, TargetStore)>,
}

impl Fix {
    /// The targets × stores that change `way`.
    pub fn changed(&self, way: Change) -> impl Iterator<Item = &TargetStore> {
        self.changes
            .iter()
            .filter(move |(change, _)| *change == way)
            .map(|(_, target)| target)
    }
}

/// The scenario's chains that start with the served leaf, in the scenario's order, each without
/// its root (the fix never includes one).
pub fn candidate_chains(scenario: &Scenario, chain: &[Vec<u8>]) -> Vec<(String, Vec<Vec<u8>>)> {
    scenario
        .chains
        .iter()
        .map(|(name, ids)| {
            let ders: Vec<Vec<u8>> = ids
                .iter()
                .map(|id| scenario.pki.certs[id].der.clone())
                .collect();
            (name.clone(), ders)
        })
        .filter(|(_, ders)| ders.first() == chain.first())
        .map(|(name, ders)| (name, without_roots(ders)))
        .collect()
}

/// The leaf and every certificate after it that is not self-signed.
fn without_roots(ders: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    ders.into_iter()
        .enumerate()
        .filter(|(index, der)| *index == 0 || !self_signed(&parse(der)))
        .map(|(_, der)| der)
        .collect()
}

/// The first of the candidates most targets accept (ties keep the scenario's order).
pub fn best(candidates: &[Candidate]) -> Option<usize> {
    candidates
        .iter()
        .enumerate()
        .rev()
        .max_by_key(|(_, candidate)| accepted(&candidate.verdicts))
        .map(|(index, _)| index)
}

/// The fix: the best candidate, and the targets it wins and loses against `served`.
pub fn fix(served: &[TargetVerdict], candidates: &[Candidate]) -> Option<Fix> {
    let candidate = best(candidates)?;
    let changes = served
        .iter()
        .zip(&candidates[candidate].verdicts)
        .filter_map(|(old, new)| {
            let change = match (old.accepts(), new.accepts()) {
                (false, true) => Change::Wins,
                (true, false) => Change::Loses,
                _ => return None,
            };
            let target = TargetStore {
                target: new.target.clone(),
                store: new.store.clone(),
            };
            Some((change, target))
        })
        .collect();
    Some(Fix { candidate, changes })
}

/// No candidate serves every target, and there is more than one to choose from: the trade-off
/// between them is worth a table.
pub fn tradeoff_needed(candidates: &[Candidate], fix: &Fix) -> bool {
    let best = &candidates[fix.candidate].verdicts;
    accepted(best) < best.len() && candidates.len() > 1
}
