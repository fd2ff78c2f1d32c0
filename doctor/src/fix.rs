//! The fix: the scenario's candidate chains that start with the served leaf, each judged; the
//! one most targets accept, with the targets it wins and loses against the chain as served.

use std::collections::BTreeMap;

use anchorsmith_corpus::Scenario;

use crate::cert::{parse, self_signed};
use crate::chain::ServedChain;
use crate::verdicts::{accepted, TargetVerdict};

/// A chain of the scenario that could be served instead, judged by every target.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The chain's name in the scenario.
    pub name: String,
    /// Leaf first, without a root.
    pub chain: ServedChain,
    pub verdicts: Vec<TargetVerdict>,
}

/// A target and the store it holds, as the fix names them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TargetStore {
    pub target: String,
    pub store: String,
}

impl std::fmt::Display for TargetStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (store `{}`)", self.target, self.store)
    }
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
    /// Each target × store whose outcome changes, in the candidate's verdict order.
    pub changes: Vec<(Change, TargetStore)>,
    /// The best candidate is the chain served: nothing to change.
    pub already_served: bool,
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

/// The scenario's chains that start with the served end entity
/// (`ServedChain::end_entity`), by chain name, each without its root (the fix never includes
/// one).
pub fn candidate_chains(scenario: &Scenario, chain: &ServedChain) -> Vec<(String, ServedChain)> {
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
        // The end entity, not the first served: a leaf sent after its issuer still gets the
        // scenario's chains, leaf first, as the fix.
        .filter(|(_, ders)| ders.first().map(Vec::as_slice) == Some(chain.end_entity()))
        .filter_map(|(name, ders)| Some((name, ServedChain::new(without_roots(ders)).ok()?)))
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

/// The first of the candidates most targets accept (ties: the first by chain name, the order
/// of the scenario's chain table).
pub fn best(candidates: &[Candidate]) -> Option<usize> {
    candidates
        .iter()
        .enumerate()
        .rev()
        .max_by_key(|(_, candidate)| accepted(&candidate.verdicts))
        .map(|(index, _)| index)
}

/// The fix: the best candidate, and the targets it wins and loses against `served` (the
/// verdicts on `chain`), each verdict paired with the one of the same target × store (never by
/// position).
pub fn fix(chain: &ServedChain, served: &[TargetVerdict], candidates: &[Candidate]) -> Option<Fix> {
    let candidate = best(candidates)?;
    let as_served: BTreeMap<TargetStore, &TargetVerdict> = served
        .iter()
        .map(|verdict| (verdict.who(), verdict))
        .collect();
    let changes = candidates[candidate]
        .verdicts
        .iter()
        .filter_map(|new| Some((*as_served.get(&new.who())?, new)))
        .filter_map(|(old, new)| {
            let change = match (old.accepts(), new.accepts()) {
                (false, true) => Change::Wins,
                (true, false) => Change::Loses,
                _ => return None,
            };
            Some((change, new.who()))
        })
        .collect();
    Some(Fix {
        candidate,
        changes,
        already_served: candidates[candidate].chain == *chain,
    })
}

/// No candidate serves every target, and there is more than one to choose from: the trade-off
/// between them is worth a table.
pub fn tradeoff_needed(candidates: &[Candidate], fix: &Fix) -> bool {
    let best = &candidates[fix.candidate].verdicts;
    accepted(best) < best.len() && candidates.len() > 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testpki::{accept, healthy, reject, target_verdict};
    use anchorsmith_validators::RejectKind;

    fn verdict(target: &str, accepts: bool) -> TargetVerdict {
        verdict_in(target, "store", accepts)
    }

    fn verdict_in(target: &str, store: &str, accepts: bool) -> TargetVerdict {
        let verdict = if accepts {
            accept()
        } else {
            reject(RejectKind::UnknownIssuer)
        };
        target_verdict(target, store, verdict)
    }

    fn leaf_only() -> ServedChain {
        ServedChain::new(vec![healthy().leaf]).unwrap()
    }

    /// A candidate whose targets `a`, `b` accept as given.
    fn candidate(name: &str, a: bool, b: bool) -> Candidate {
        Candidate {
            name: name.to_string(),
            chain: ServedChain::new(vec![healthy().leaf]).unwrap(),
            verdicts: vec![verdict("a", a), verdict("b", b)],
        }
    }

    #[test]
    fn the_best_candidate_is_the_first_most_targets_accept() {
        let long = candidate("long", true, false);
        let short = candidate("short", false, true);
        assert_eq!(best(&[long.clone(), short.clone()]), Some(0));
        assert_eq!(
            best(&[short, long.clone(), candidate("both", true, true)]),
            Some(2)
        );
        assert_eq!(best(&[]), None);
    }

    #[test]
    fn the_fix_names_what_it_wins_and_loses_in_verdict_order() {
        let served = [verdict("a", true), verdict("b", false)];
        let fix =
            fix(&leaf_only(), &served, &[candidate("short", false, true)]).expect("a candidate");
        let names = |way| -> Vec<&str> { fix.changed(way).map(|t| t.target.as_str()).collect() };
        assert_eq!(names(Change::Wins), ["b"]);
        assert_eq!(names(Change::Loses), ["a"]);
        assert!(!fix.already_served);
        let same = candidate("same", true, false);
        let unchanged = super::fix(&same.chain, &served, std::slice::from_ref(&same)).expect("one");
        assert!(unchanged.changes.is_empty());
        // Its chain is the one served: nothing to change.
        assert!(unchanged.already_served);
        let other = super::fix(&leaf_only(), &served, &[same]).expect("one");
        assert!(!other.already_served);
    }

    #[test]
    fn verdicts_are_paired_by_target_and_store_not_by_position() {
        // The same seats in another order, one of them absent as served.
        let served = [verdict_in("b", "new", true), verdict_in("a", "old", false)];
        let candidate = Candidate {
            name: "long".into(),
            chain: ServedChain::new(vec![healthy().leaf]).unwrap(),
            verdicts: vec![
                verdict_in("a", "old", true),
                verdict_in("a", "new", false),
                verdict_in("b", "new", true),
            ],
        };
        let fix = fix(&leaf_only(), &served, &[candidate]).unwrap();
        assert_eq!(
            fix.changes,
            [(
                Change::Wins,
                TargetStore {
                    target: "a".into(),
                    store: "old".into()
                }
            )]
        );
    }

    #[test]
    fn a_tradeoff_is_needed_only_when_no_candidate_serves_every_target() {
        let split = [
            candidate("long", true, false),
            candidate("short", false, true),
        ];
        let served = [verdict("a", true), verdict("b", false)];
        assert!(tradeoff_needed(
            &split,
            &fix(&leaf_only(), &served, &split).unwrap()
        ));
        let solved = [
            candidate("long", true, false),
            candidate("both", true, true),
        ];
        assert!(!tradeoff_needed(
            &solved,
            &fix(&leaf_only(), &served, &solved).unwrap()
        ));
        let alone = [candidate("long", true, false)];
        assert!(!tradeoff_needed(
            &alone,
            &fix(&leaf_only(), &served, &alone).unwrap()
        ));
    }

    #[test]
    fn a_candidate_never_carries_a_root() {
        let p = healthy();
        let chain = vec![p.leaf.clone(), p.inter.clone(), p.root_a.clone()];
        assert_eq!(without_roots(chain), vec![p.leaf.clone(), p.inter.clone()]);
    }
}
