//! The differences of a run, in classes a person reads in this order: outcome differences
//! (validators disagree on accept/reject, or one contradicts a documented expectation), reason
//! differences (every deciding validator has the same outcome, but they reject for different
//! normalized reasons, or for another reason than a documented one), failures (a validator
//! failed on the case; nothing else differs), and contradicted derived predictions (apart: the
//! seed does not make them).
//!
//! Columns that decided no case at all (broken or unavailable here, see
//! [`anchorsmith_validators::health`]) are named once by the reports and left out of every case.

use std::collections::{BTreeMap, BTreeSet};

use anchorsmith_validators::{RejectKind, Verdict};

use super::model::{judge, CaseRow, Judgement, RunReport};
use super::wording::{expectation_label, reject_kind_label};
use crate::Expectation;

/// One validator's normalized reason for rejecting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedBy {
    pub validator: String,
    pub kind: RejectKind,
}

/// Why a case is listed in `differences.md`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DifferenceReason {
    /// At least one validator accepts and at least one rejects.
    ValidatorsDisagree {
        accepting: Vec<String>,
        rejecting: Vec<String>,
    },
    /// All deciding validators reject, but not for the same normalized reason.
    RejectKindsDiffer { kinds: Vec<RejectedBy> },
    /// A target that claims a client does not do what an expectation of that client says: the
    /// opposite outcome, or a rejection of another kind than the expected one. The expectation
    /// may be documented or a derived prediction (then it is kept apart).
    ContradictsExpectation {
        target: String,
        /// The verdict's label, e.g. `reject:expired`.
        actual: String,
        /// [`Judgement::ContradictsOutcome`] or [`Judgement::ContradictsReason`].
        judgement: Judgement,
        expectation: Expectation,
    },
    /// A validator crashed, hung or failed to run the case.
    ValidatorError { validator: String, detail: String },
}

/// The class of a difference; a case belongs to the first class (in this order) of its reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, strum::EnumIter)]
pub enum DifferenceClass {
    /// The outcome differs: between validators, or from a documented expectation.
    Outcome,
    /// Every deciding validator has the same outcome, and at least two name different specific
    /// reject kinds, or a validator rejects for another reason than a documented one.
    Reason,
    /// As [`DifferenceClass::Reason`], except that the specific kinds agree and the only other
    /// kind is `other`, a native error its validator's table does not map yet. Kept apart so a
    /// validator without a mapping does not bury the real reason differences.
    UnmappedReason,
    /// A validator failed on the case (crash, hang, garbage output); nothing else differs.
    Failure,
    /// Only a derived prediction (one the seed does not make) is contradicted: kept apart from
    /// the documented expectations, and counted apart.
    Derived,
}

impl DifferenceReason {
    /// The class this reason puts its case in (at most).
    pub fn class(&self) -> DifferenceClass {
        match self {
            DifferenceReason::ValidatorsDisagree { .. } => DifferenceClass::Outcome,
            DifferenceReason::ContradictsExpectation {
                expectation,
                judgement,
                ..
            } => match (expectation.derived, judgement) {
                (true, _) => DifferenceClass::Derived,
                (false, Judgement::ContradictsReason { .. }) => DifferenceClass::Reason,
                (false, _) => DifferenceClass::Outcome,
            },
            DifferenceReason::RejectKindsDiffer { kinds } => {
                let specific: BTreeSet<RejectKind> = kinds
                    .iter()
                    .map(|rejected| rejected.kind)
                    .filter(|kind| *kind != RejectKind::Other)
                    .collect();
                if specific.len() > 1 {
                    DifferenceClass::Reason
                } else {
                    DifferenceClass::UnmappedReason
                }
            }
            DifferenceReason::ValidatorError { .. } => DifferenceClass::Failure,
        }
    }
}

/// The differences of one case.
#[derive(Clone, Debug)]
pub struct CaseDifferences<'a> {
    pub row: &'a CaseRow,
    /// Never empty.
    pub reasons: Vec<DifferenceReason>,
}

impl CaseDifferences<'_> {
    /// The most telling class among the reasons.
    pub fn class(&self) -> DifferenceClass {
        self.reasons
            .iter()
            .map(DifferenceReason::class)
            .min()
            .expect("a case difference has a reason")
    }
}

/// Every case with at least one [`DifferenceReason`], in row order.
pub fn differences(report: &RunReport) -> Vec<CaseDifferences<'_>> {
    let working: Vec<&str> = report
        .columns
        .iter()
        .filter(|column| report.column_health(&column.name).is_working())
        .map(|column| column.name.as_str())
        .collect();
    report
        .rows
        .iter()
        .filter_map(|row| {
            let reasons = row_differences(report, row, &working);
            (!reasons.is_empty()).then_some(CaseDifferences { row, reasons })
        })
        .collect()
}

/// The differences by class, each in row order; every class is present, possibly empty.
pub fn differences_by_class(
    report: &RunReport,
) -> BTreeMap<DifferenceClass, Vec<CaseDifferences<'_>>> {
    use strum::IntoEnumIterator;
    let mut classes: BTreeMap<DifferenceClass, Vec<CaseDifferences<'_>>> = DifferenceClass::iter()
        .map(|class| (class, Vec::new()))
        .collect();
    for difference in differences(report) {
        classes
            .get_mut(&difference.class())
            .expect("every class is present")
            .push(difference);
    }
    classes
}

/// The reasons of `row`, looking only at the `working` columns.
fn row_differences(report: &RunReport, row: &CaseRow, working: &[&str]) -> Vec<DifferenceReason> {
    let verdicts: Vec<(&str, &Verdict)> = working
        .iter()
        .map(|name| (*name, report.verdict(&row.id, name)))
        .collect();
    let named = |wanted: fn(&Verdict) -> bool| -> Vec<String> {
        verdicts
            .iter()
            .filter(|(_, verdict)| wanted(verdict))
            .map(|(name, _)| name.to_string())
            .collect()
    };
    let accepting = named(|verdict| matches!(verdict, Verdict::Accept { .. }));
    let rejecting = named(|verdict| matches!(verdict, Verdict::Reject { .. }));
    let mut reasons = Vec::new();
    if !accepting.is_empty() && !rejecting.is_empty() {
        reasons.push(DifferenceReason::ValidatorsDisagree {
            accepting,
            rejecting,
        });
    } else if accepting.is_empty() && rejecting.len() > 1 {
        let kinds: Vec<RejectedBy> = verdicts
            .iter()
            .filter_map(|(name, verdict)| match verdict {
                Verdict::Reject { kind, .. } => Some(RejectedBy {
                    validator: name.to_string(),
                    kind: *kind,
                }),
                _ => None,
            })
            .collect();
        if kinds.iter().any(|rejected| rejected.kind != kinds[0].kind) {
            reasons.push(DifferenceReason::RejectKindsDiffer { kinds });
        }
    }
    // Documented expectations first, then derived predictions, each in declaration order; each
    // judged against the targets that claim its client (never against a library column).
    for derived in [false, true] {
        for expectation in row.expectations.iter().filter(|e| e.derived == derived) {
            for target in &report.targets {
                let Some(verdict) = report.target_verdict(&row.id, &target.name) else {
                    continue;
                };
                if !target.claims(expectation) {
                    continue;
                }
                let judgement = judge(expectation, verdict);
                if judgement.is_contradiction() {
                    reasons.push(DifferenceReason::ContradictsExpectation {
                        target: target.name.clone(),
                        actual: verdict.label(),
                        judgement,
                        expectation: expectation.clone(),
                    });
                }
            }
        }
    }
    // A skip is not a difference, even beside decided verdicts: it is the validator saying it
    // cannot answer this case (a feature it lacks), so it makes no claim that could disagree with
    // another validator or a document. It stays visible where it is a fact about the validator:
    // the grey matrix cell, the skip count of the summary, and the verdict list of any case that
    // is listed for another reason. Counting it would list every case a limited validator skips.
    // An error is different: the validator should have answered and could not, which a person
    // must see case by case (a validator that fails everywhere is named once, see above).
    for (name, verdict) in &verdicts {
        if let Verdict::Error { detail } = verdict {
            reasons.push(DifferenceReason::ValidatorError {
                validator: name.to_string(),
                detail: detail.clone(),
            });
        }
    }
    reasons
}

/// One line of prose (markdown) per reason.
pub fn describe_reason(reason: &DifferenceReason) -> String {
    match reason {
        DifferenceReason::ValidatorsDisagree {
            accepting,
            rejecting,
        } => format!(
            "validators disagree: accepted by {}; rejected by {}",
            accepting.join(", "),
            rejecting.join(", ")
        ),
        DifferenceReason::RejectKindsDiffer { kinds } => {
            // Grouped by kind (in the kinds' order, so `other` comes last): with a dozen
            // validators, a list per validator hides which kinds are in play.
            let mut by_kind: BTreeMap<RejectKind, Vec<&str>> = BTreeMap::new();
            for rejected in kinds {
                by_kind
                    .entry(rejected.kind)
                    .or_default()
                    .push(&rejected.validator);
            }
            format!(
                "all reject, for different reasons: {}",
                by_kind
                    .iter()
                    .map(|(kind, validators)| format!(
                        "{} ({})",
                        reject_kind_label(*kind),
                        validators.join(", ")
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        }
        DifferenceReason::ContradictsExpectation {
            target,
            actual,
            judgement,
            expectation,
        } => {
            let what = match (expectation.derived, judgement) {
                (true, Judgement::ContradictsReason { .. }) => "the reason of the derived",
                (true, _) => "the derived",
                (false, Judgement::ContradictsReason { .. }) => "the reason of the documented",
                (false, _) => "the documented",
            };
            let noun = if expectation.derived {
                "prediction"
            } else {
                "outcome"
            };
            format!(
                "target `{target}` ({actual}) contradicts {what} `{}` {noun} ({}) — {}: “{}”",
                expectation.client,
                expectation_label(expectation),
                expectation.seed_file,
                expectation.quote
            )
        }
        DifferenceReason::ValidatorError { validator, detail } => {
            format!("`{validator}` failed: {detail}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::fixture::*;
    use super::super::model::ExpectedOutcome;
    use super::*;

    #[test]
    fn disagreement_is_an_outcome_difference() {
        let report = report(accept(), reject(RejectKind::Expired), vec![], &[]);
        let found = differences(&report);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].reasons,
            vec![DifferenceReason::ValidatorsDisagree {
                accepting: vec!["a".into()],
                rejecting: vec!["b".into()]
            }]
        );
        assert_eq!(found[0].class(), DifferenceClass::Outcome);
    }

    #[test]
    fn a_skip_beside_decided_verdicts_is_not_a_difference() {
        let report = matrix(
            &["c", "d"],
            &[
                ("a", vec![accept(), accept()]),
                ("b", vec![skip("feature"), accept()]),
            ],
        );
        assert!(differences(&report).is_empty());
    }

    #[test]
    fn agreement_is_not_a_difference() {
        let expired = || reject(RejectKind::Expired);
        assert!(differences(&report(expired(), expired(), vec![], &[])).is_empty());
    }

    #[test]
    fn different_reject_kinds_are_a_reason_difference_grouped_by_kind() {
        let report = matrix(
            &["c"],
            &[
                ("a", vec![reject(RejectKind::UnknownIssuer)]),
                ("b", vec![reject(RejectKind::Expired)]),
                ("c", vec![reject(RejectKind::UnknownIssuer)]),
                ("d", vec![reject(RejectKind::Other)]),
            ],
        );
        let found = differences(&report);
        assert_eq!(found[0].class(), DifferenceClass::Reason);
        assert_eq!(
            describe_reason(&found[0].reasons[0]),
            "all reject, for different reasons: expired (b); unknown-issuer (a, c); other (d)"
        );
    }

    #[test]
    fn only_kind_other_is_an_unmapped_reason_difference() {
        let report = matrix(
            &["c"],
            &[
                ("a", vec![reject(RejectKind::UnknownIssuer)]),
                ("b", vec![reject(RejectKind::Other)]),
                ("c", vec![reject(RejectKind::UnknownIssuer)]),
            ],
        );
        let by_class = differences_by_class(&report);
        assert_eq!(by_class[&DifferenceClass::UnmappedReason].len(), 1);
        assert!(by_class[&DifferenceClass::Reason].is_empty());
        assert!(by_class[&DifferenceClass::Outcome].is_empty());
    }

    #[test]
    fn an_outcome_difference_outranks_a_failure_on_the_same_case() {
        let report = matrix(
            &["c", "d"],
            &[
                ("a", vec![accept(), accept()]),
                ("b", vec![reject(RejectKind::Expired), accept()]),
                ("e", vec![error("timed out"), accept()]),
            ],
        );
        let found = differences(&report);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].class(), DifferenceClass::Outcome);
        assert_eq!(
            describe_reason(&found[0].reasons[1]),
            "`e` failed: timed out"
        );
    }

    #[test]
    fn a_failure_of_a_working_validator_is_listed_on_its_case() {
        let report = matrix(
            &["c", "d"],
            &[
                ("a", vec![accept(), accept()]),
                ("b", vec![error("timed out"), accept()]),
            ],
        );
        let found = differences(&report);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].class(), DifferenceClass::Failure);
        assert_eq!(
            describe_reason(&found[0].reasons[0]),
            "`b` failed: timed out"
        );
    }

    #[test]
    fn broken_and_unavailable_columns_make_no_difference() {
        let unavailable = "not available here (no cc); to get it: apt-get install gcc";
        let report = matrix(
            &["c", "d"],
            &[
                ("a", vec![accept(), reject(RejectKind::Expired)]),
                ("b", vec![accept(), reject(RejectKind::Expired)]),
                (
                    "broken",
                    vec![error("exit status 3"), error("exit status 3")],
                ),
                ("absent", vec![skip(unavailable), skip(unavailable)]),
            ],
        );
        assert!(differences(&report).is_empty());
    }

    #[test]
    fn a_rejection_of_another_kind_contradicts_the_documented_reason() {
        let mut expected = expectation(ExpectedOutcome::Reject);
        expected.reject_kind = Some(RejectKind::UnknownIssuer);
        let report = report(
            reject(RejectKind::UnknownIssuer),
            reject(RejectKind::Expired),
            vec![expected],
            &["a", "b"],
        );
        let found = differences(&report);
        assert_eq!(found.len(), 1);
        let contradictions: Vec<&DifferenceReason> = found[0]
            .reasons
            .iter()
            .filter(|reason| matches!(reason, DifferenceReason::ContradictsExpectation { .. }))
            .collect();
        assert_eq!(contradictions.len(), 1, "{:?}", found[0].reasons);
        assert_eq!(
            describe_reason(contradictions[0]),
            "target `b` (reject:expired) contradicts the reason of the documented `path-builder` \
             outcome (reject:unknown-issuer; stated) — 000_x.txt: “q”"
        );
        assert_eq!(found[0].class(), DifferenceClass::Reason);
    }

    #[test]
    fn a_contradicted_derived_prediction_is_a_class_of_its_own() {
        let mut predicted = expectation(ExpectedOutcome::Reject);
        predicted.derived = true;
        let report = report(accept(), accept(), vec![predicted], &["a"]);
        let found = differences(&report);
        assert_eq!(found[0].class(), DifferenceClass::Derived);
        assert_eq!(
            describe_reason(&found[0].reasons[0]),
            "target `a` (accept) contradicts the derived `path-builder` prediction (reject; stated) — \
             000_x.txt: “q”"
        );
    }

    #[test]
    fn contradiction_only_counts_for_targets_that_claim_the_client() {
        let unknown = || reject(RejectKind::UnknownIssuer);
        let report = report(
            unknown(),
            unknown(),
            vec![expectation(ExpectedOutcome::Accept)],
            &["b"],
        );
        let found = differences(&report);
        assert_eq!(found[0].reasons.len(), 1);
        assert!(matches!(
            &found[0].reasons[0],
            DifferenceReason::ContradictsExpectation { target, .. } if target == "b"
        ));
        assert_eq!(found[0].class(), DifferenceClass::Outcome);
    }
}
