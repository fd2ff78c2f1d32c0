//! The differences of a run: cases where validators disagree with each other, reject for
//! different reasons, contradict a documented expectation, fail, or skip what others decided.

use anchorsmith_validators::{RejectKind, Verdict};

use super::model::{outcome_matches, CaseRow, ExpectedOutcome, RunReport};
use super::wording::{expected_label, reject_kind_label};

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
    /// A validator that embodies a documented client does not do what the document reports.
    ContradictsDocument {
        validator: String,
        client: String,
        documented: ExpectedOutcome,
        actual: String,
        seed_file: String,
        quote: String,
    },
    /// A validator crashed, hung or failed to run the case.
    ValidatorError { validator: String, detail: String },
    /// A validator skipped a case that others decided.
    Skipped { validator: String, reason: String },
}

/// The differences of one case.
#[derive(Clone, Debug)]
pub struct CaseDifferences<'a> {
    pub row: &'a CaseRow,
    pub reasons: Vec<DifferenceReason>,
}

/// Every case with at least one [`DifferenceReason`], in row order.
pub fn differences(report: &RunReport) -> Vec<CaseDifferences<'_>> {
    report
        .rows
        .iter()
        .filter_map(|row| {
            let reasons = row_differences(report, row);
            (!reasons.is_empty()).then_some(CaseDifferences { row, reasons })
        })
        .collect()
}

fn row_differences(report: &RunReport, row: &CaseRow) -> Vec<DifferenceReason> {
    let verdicts: Vec<(&str, &Verdict)> = report
        .row_verdicts(row)
        .map(|(column, verdict)| (column.name.as_str(), verdict))
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
    let others_decided = !accepting.is_empty() || !rejecting.is_empty();
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
    for expectation in &row.expectations {
        for (name, verdict) in &verdicts {
            if report.embodies(name, expectation)
                && outcome_matches(expectation.outcome, verdict) == Some(false)
            {
                reasons.push(DifferenceReason::ContradictsDocument {
                    validator: name.to_string(),
                    client: expectation.client.clone(),
                    documented: expectation.outcome,
                    actual: verdict.label(),
                    seed_file: expectation.seed_file.clone(),
                    quote: expectation.quote.clone(),
                });
            }
        }
    }
    for (name, verdict) in &verdicts {
        match verdict {
            Verdict::Skip { reason } if others_decided => reasons.push(DifferenceReason::Skipped {
                validator: name.to_string(),
                reason: reason.clone(),
            }),
            Verdict::Error { detail } => reasons.push(DifferenceReason::ValidatorError {
                validator: name.to_string(),
                detail: detail.clone(),
            }),
            _ => {}
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
        DifferenceReason::RejectKindsDiffer { kinds } => format!(
            "all reject, for different reasons: {}",
            kinds
                .iter()
                .map(|rejected| format!(
                    "{} {}",
                    rejected.validator,
                    reject_kind_label(rejected.kind)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        DifferenceReason::ContradictsDocument {
            validator,
            client,
            documented,
            actual,
            seed_file,
            quote,
        } => format!(
            "`{validator}` ({actual}) contradicts the documented `{client}` outcome ({}) — {seed_file}: “{quote}”",
            expected_label(*documented)
        ),
        DifferenceReason::ValidatorError { validator, detail } => {
            format!("`{validator}` failed: {detail}")
        }
        DifferenceReason::Skipped { validator, reason } => {
            format!("`{validator}` skipped it: {reason}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::fixture::*;
    use super::*;

    #[test]
    fn disagreement_is_listed() {
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
    }

    #[test]
    fn a_skip_beside_decided_verdicts_is_a_difference() {
        let skip = Verdict::Skip {
            reason: "feature".into(),
        };
        let report = report(accept(), skip, vec![], &[]);
        assert_eq!(
            differences(&report)[0].reasons,
            vec![DifferenceReason::Skipped {
                validator: "b".into(),
                reason: "feature".into()
            }]
        );
    }

    #[test]
    fn agreement_is_not_a_difference() {
        let expired = || reject(RejectKind::Expired);
        assert!(differences(&report(expired(), expired(), vec![], &[])).is_empty());
    }

    #[test]
    fn different_reject_kinds_are_named_per_validator() {
        let report = report(
            reject(RejectKind::Expired),
            reject(RejectKind::UnknownIssuer),
            vec![],
            &[],
        );
        let reasons = &differences(&report)[0].reasons;
        assert_eq!(
            describe_reason(&reasons[0]),
            "all reject, for different reasons: a expired, b unknown-issuer"
        );
    }

    #[test]
    fn contradiction_only_counts_for_embodying_engines() {
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
            DifferenceReason::ContradictsDocument { validator, .. } if validator == "b"
        ));
    }
}
