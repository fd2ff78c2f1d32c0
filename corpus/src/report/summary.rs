//! Per-validator totals, and the table `cargo xtask corpus` prints at the end.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anchorsmith_validators::Verdict;

use super::differences::{differences_by_class, DifferenceClass};
use super::model::{outcome_matches, RunReport};
use super::wording::idle_column_line;

/// How many verdicts of each outcome one validator gave.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutcomeCounts {
    pub accept: usize,
    pub reject: usize,
    pub skip: usize,
    pub error: usize,
}

impl OutcomeCounts {
    fn add(&mut self, verdict: &Verdict) {
        let count = match verdict {
            Verdict::Accept { .. } => &mut self.accept,
            Verdict::Reject { .. } => &mut self.reject,
            Verdict::Skip { .. } => &mut self.skip,
            Verdict::Error { .. } => &mut self.error,
        };
        *count += 1;
    }
}

/// How one validator's verdicts compare with the documented expectations it embodies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExpectationScore {
    pub confirmed: usize,
    pub contradicted: usize,
    /// Skipped or errored on a case with an applicable expectation.
    pub undecided: usize,
}

/// One validator's totals over the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValidatorTotals {
    pub outcomes: OutcomeCounts,
    pub documented: ExpectationScore,
}

/// Validator name → its totals.
pub fn validator_totals(report: &RunReport) -> BTreeMap<&str, ValidatorTotals> {
    let mut totals: BTreeMap<&str, ValidatorTotals> = report
        .columns
        .iter()
        .map(|column| (column.name.as_str(), ValidatorTotals::default()))
        .collect();
    for row in &report.rows {
        for (column, verdict) in report.row_verdicts(row) {
            let total = totals.entry(column.name.as_str()).or_default();
            total.outcomes.add(verdict);
            for expectation in &row.expectations {
                if !report.embodies(&column.name, expectation) {
                    continue;
                }
                let score = &mut total.documented;
                match outcome_matches(expectation.outcome, verdict) {
                    Some(true) => score.confirmed += 1,
                    Some(false) => score.contradicted += 1,
                    None => score.undecided += 1,
                }
            }
        }
    }
    totals
}

/// The table printed at the end of `cargo xtask corpus` (and shown in report.html).
pub fn render_summary_table(report: &RunReport) -> String {
    let totals = validator_totals(report);
    let width = report
        .columns
        .iter()
        .map(|column| column.name.len())
        .max()
        .unwrap_or(9)
        .max(9);
    let mut text = String::new();
    writeln!(
        text,
        "{:width$}  {:>6} {:>6} {:>5} {:>5}   {:>25}",
        "validator", "accept", "reject", "skip", "error", "documented: ok / ✗ / n.a."
    )
    .unwrap();
    for column in &report.columns {
        let ValidatorTotals {
            outcomes,
            documented,
        } = totals[column.name.as_str()];
        writeln!(
            text,
            "{:width$}  {:>6} {:>6} {:>5} {:>5}   {:>25}",
            column.name,
            outcomes.accept,
            outcomes.reject,
            outcomes.skip,
            outcomes.error,
            format!(
                "{} / {} / {}",
                documented.confirmed, documented.contradicted, documented.undecided
            )
        )
        .unwrap();
    }
    for (column, health) in report.idle_columns() {
        writeln!(text, "{}", idle_column_line(column, &health)).unwrap();
    }
    writeln!(
        text,
        "{} (see differences.md)",
        render_difference_counts(report)
    )
    .unwrap();
    text
}

/// `87 cases: 12 with outcome differences, 30 with reason differences only, …`: the cases of
/// each [`DifferenceClass`] (failures only when there are some).
pub fn render_difference_counts(report: &RunReport) -> String {
    let parts: Vec<String> = differences_by_class(report)
        .iter()
        .filter(|(class, cases)| **class != DifferenceClass::Failure || !cases.is_empty())
        .map(|(class, cases)| {
            let what = match class {
                DifferenceClass::Outcome => "with outcome differences",
                DifferenceClass::Reason => "with reason differences only",
                DifferenceClass::UnmappedReason => "whose reasons differ only by kind `other`",
                DifferenceClass::Failure => "where only a validator failed",
            };
            format!("{} {what}", cases.len())
        })
        .collect();
    format!("{} cases: {}", report.rows.len(), parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::super::model::fixture::*;
    use super::super::model::ExpectedOutcome;
    use super::*;
    use anchorsmith_validators::RejectKind;

    #[test]
    fn totals_count_outcomes_and_judge_only_embodied_expectations() {
        let report = report(
            reject(RejectKind::UnknownIssuer),
            Verdict::Error {
                detail: "boom".into(),
            },
            vec![expectation(ExpectedOutcome::Accept)],
            &["a", "b"],
        );
        let totals = validator_totals(&report);
        assert_eq!(totals["a"].outcomes.reject, 1);
        assert_eq!(
            totals["a"].documented,
            ExpectationScore {
                confirmed: 0,
                contradicted: 1,
                undecided: 0
            }
        );
        assert_eq!(totals["b"].outcomes.error, 1);
        assert_eq!(totals["b"].documented.undecided, 1);
        let table = render_summary_table(&report);
        // `b` failed on the only case: it is named once as broken, and the case is an outcome
        // difference only through `a`'s contradiction of the document.
        assert!(
            table.contains("broken: `b` failed on all 1 cases: boom\n"),
            "{table}"
        );
        assert!(
            table.ends_with(
                "1 cases: 1 with outcome differences, 0 with reason differences only, \
                 0 whose reasons differ only by kind `other` (see differences.md)\n"
            ),
            "{table}"
        );
    }

    #[test]
    fn counts_separate_outcome_reason_unmapped_and_failure() {
        let expired = || reject(RejectKind::Expired);
        let report = matrix(
            &["outcome", "reason", "unmapped", "failure", "same"],
            &[
                (
                    "a",
                    vec![accept(), expired(), expired(), accept(), accept()],
                ),
                (
                    "b",
                    vec![
                        expired(),
                        reject(RejectKind::UnknownIssuer),
                        reject(RejectKind::Other),
                        error("timed out"),
                        accept(),
                    ],
                ),
                (
                    "gone",
                    vec![
                        skip("not available here"),
                        skip("not available here"),
                        skip("not available here"),
                        skip("not available here"),
                        skip("not available here"),
                    ],
                ),
            ],
        );
        assert_eq!(
            render_difference_counts(&report),
            "5 cases: 1 with outcome differences, 1 with reason differences only, \
             1 whose reasons differ only by kind `other`, \
             1 where only a validator failed"
        );
        let table = render_summary_table(&report);
        assert!(
            table.contains("\nunavailable: `gone` skipped all 5 cases: not available here\n"),
            "{table}"
        );
        assert_eq!(table.matches("gone").count(), 2, "{table}");
    }

    #[test]
    fn a_validator_embodying_nothing_has_no_score() {
        let report = report(
            accept(),
            accept(),
            vec![expectation(ExpectedOutcome::Reject)],
            &["b"],
        );
        let totals = validator_totals(&report);
        assert_eq!(totals["a"].documented, ExpectationScore::default());
        assert_eq!(totals["b"].documented.contradicted, 1);
    }
}
