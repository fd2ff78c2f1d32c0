//! Per-validator totals, and the table `cargo xtask corpus` prints at the end.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anchorsmith_validators::Verdict;

use super::differences::{differences_by_class, DifferenceClass};
use super::model::{Judgement, RunReport};
use super::wording::idle_column_line;
use crate::spec::Strength;
use crate::Expectation;

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

/// How one target's verdicts compare with the expectations it is judged by (documented ones, or
/// derived predictions: two scores, never added together).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExpectationScore {
    pub confirmed: usize,
    /// The opposite outcome.
    pub contradicted: usize,
    /// The expected outcome, reject, but of another kind than the expected one.
    pub wrong_reason: usize,
    /// Skipped or errored on a case with an applicable expectation.
    pub undecided: usize,
}

impl ExpectationScore {
    /// Adds `other`'s counts to these.
    pub fn merge(&mut self, other: &ExpectationScore) {
        self.confirmed += other.confirmed;
        self.contradicted += other.contradicted;
        self.wrong_reason += other.wrong_reason;
        self.undecided += other.undecided;
    }

    fn add(&mut self, judgement: Judgement) {
        let count = match judgement {
            Judgement::Confirmed => &mut self.confirmed,
            Judgement::ContradictsOutcome => &mut self.contradicted,
            Judgement::ContradictsReason { .. } => &mut self.wrong_reason,
            Judgement::Undecided => &mut self.undecided,
        };
        *count += 1;
    }

    /// `ok / ✗ / reason ✗ / n.a.` as numbers.
    fn cell(&self) -> String {
        format!(
            "{} / {} / {} / {}",
            self.confirmed, self.contradicted, self.wrong_reason, self.undecided
        )
    }
}

/// One validator's totals over the run: its outcomes. A library claims no client, so it has no
/// expectation score (see [`TargetScores`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValidatorTotals {
    pub outcomes: OutcomeCounts,
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
            totals
                .entry(column.name.as_str())
                .or_default()
                .outcomes
                .add(verdict);
        }
    }
    totals
}

/// How one target's verdicts compare with the expectations of the clients it claims.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TargetScores {
    /// Against the expectations the seeds state.
    pub documented: ExpectationScore,
    /// Against the derived predictions, counted apart.
    pub derived: ExpectationScore,
}

/// Target name → its scores.
pub fn target_scores(report: &RunReport) -> BTreeMap<&str, TargetScores> {
    let mut scores: BTreeMap<&str, TargetScores> = report
        .targets
        .iter()
        .map(|target| (target.name.as_str(), TargetScores::default()))
        .collect();
    for row in &report.rows {
        for target in &report.targets {
            for (expectation, judgement) in report.judgements(row, target) {
                let entry = scores.entry(target.name.as_str()).or_default();
                let score = if expectation.derived {
                    &mut entry.derived
                } else {
                    &mut entry.documented
                };
                score.add(judgement);
            }
        }
    }
    scores
}

/// What a target's minimal bundles cost against the whole stores it holds, over the cases where
/// both its columns gave an outcome (a skip or an error decides nothing). Case ids in row order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BundleCost {
    /// Cases where both the target and its bundle column accepted or rejected.
    pub compared: usize,
    /// Accepted with the whole store, rejected with the bundle: what the bundle costs.
    pub lost: Vec<String>,
    /// Rejected with the whole store, accepted with the bundle. Surprising, since the bundle is
    /// taken from the store's certificates: the reports mark it.
    pub gained: Vec<String>,
}

/// Target name → what its bundle costs, for every target that holds a bundle.
pub fn bundle_costs(report: &RunReport) -> BTreeMap<&str, BundleCost> {
    let mut costs = BTreeMap::new();
    for target in report.targets.iter().filter(|t| t.holds_a_bundle()) {
        let column = target.bundle_column();
        let mut cost = BundleCost::default();
        for row in &report.rows {
            let whole = report.target_verdict(&row.id, &target.name);
            let bundle = report.target_verdict(&row.id, &column);
            let (Some(whole), Some(bundle)) = (whole, bundle) else {
                continue;
            };
            match (whole, bundle) {
                (Verdict::Accept { .. }, Verdict::Reject { .. }) => cost.lost.push(row.id.clone()),
                (Verdict::Reject { .. }, Verdict::Accept { .. }) => {
                    cost.gained.push(row.id.clone())
                }
                (
                    Verdict::Accept { .. } | Verdict::Reject { .. },
                    Verdict::Accept { .. } | Verdict::Reject { .. },
                ) => {}
                _ => continue,
            }
            cost.compared += 1;
        }
        costs.insert(target.name.as_str(), cost);
    }
    costs
}

/// The table printed at the end of `cargo xtask corpus` (and shown in report.html): every
/// validator's outcomes, then every target's score against the expectations it is judged by.
pub fn render_summary_table(report: &RunReport) -> String {
    let totals = validator_totals(report);
    let width = report
        .columns
        .iter()
        .map(|column| column.name.len())
        .chain(report.targets.iter().map(|target| target.name.len()))
        .max()
        .unwrap_or(9)
        .max(9);
    let mut text = String::new();
    writeln!(
        text,
        "{}",
        render_expectation_counts(report).trim_end_matches('\n')
    )
    .unwrap();
    writeln!(
        text,
        "{:width$}  {:>6} {:>6} {:>5} {:>5}",
        "validator", "accept", "reject", "skip", "error"
    )
    .unwrap();
    for column in &report.columns {
        let ValidatorTotals { outcomes } = totals[column.name.as_str()];
        writeln!(
            text,
            "{:width$}  {:>6} {:>6} {:>5} {:>5}",
            column.name, outcomes.accept, outcomes.reject, outcomes.skip, outcomes.error
        )
        .unwrap();
    }
    if !report.targets.is_empty() {
        let scores = target_scores(report);
        writeln!(
            text,
            "\n{:width$}  {:>20}   {:>17}",
            "target", "documented:", "derived:"
        )
        .unwrap();
        writeln!(
            text,
            "{:width$}  {:>20}   {:>17}",
            "", "ok/✗/reason ✗/n.a.", "ok/✗/reason ✗/n.a."
        )
        .unwrap();
        for target in &report.targets {
            let TargetScores {
                documented,
                derived,
            } = scores[target.name.as_str()];
            writeln!(
                text,
                "{:width$}  {:>20}   {:>17}",
                target.name,
                documented.cell(),
                derived.cell()
            )
            .unwrap();
        }
    }
    let costs = bundle_costs(report);
    if !costs.is_empty() {
        let column_width = report
            .targets
            .iter()
            .map(|target| target.bundle_column().len())
            .max()
            .unwrap_or(0)
            .max(width);
        writeln!(
            text,
            "\n{:column_width$}  {:>8} {:>5} {:>20}",
            "minimal bundle", "compared", "lost", "gained (surprising)"
        )
        .unwrap();
        for (target, cost) in &costs {
            writeln!(
                text,
                "{:column_width$}  {:>8} {:>5} {:>20}",
                crate::target::bundle::bundle_column(target),
                cost.compared,
                cost.lost.len(),
                cost.gained.len()
            )
            .unwrap();
            for id in &cost.lost {
                writeln!(text, "  lost: {id}").unwrap();
            }
            for id in &cost.gained {
                writeln!(text, "  gained (surprising): {id}").unwrap();
            }
        }
    }
    for (column, health) in report.idle_columns() {
        writeln!(text, "{}", idle_column_line(column, &health)).unwrap();
    }
    if let Some(line) = super::handshakes::handshake_summary_line(report) {
        writeln!(text, "{line}").unwrap();
    }
    writeln!(
        text,
        "{} (see differences.md)",
        render_difference_counts(report)
    )
    .unwrap();
    text
}

/// `12 documented expectations (5 stated, 4 expert-explanation, 2 hedged, 1 speculation); 4
/// derived predictions`: the expectations of the run's cases, each counted once.
pub fn render_expectation_counts(report: &RunReport) -> String {
    use strum::IntoEnumIterator;
    // An expectation selecting several cases is on each of their rows: count it once.
    let mut unique: Vec<&Expectation> = Vec::new();
    for expectation in report.rows.iter().flat_map(|row| &row.expectations) {
        if !unique.contains(&expectation) {
            unique.push(expectation);
        }
    }
    let documented: Vec<&&Expectation> = unique.iter().filter(|e| !e.derived).collect();
    let by_strength: Vec<String> = Strength::iter()
        .map(|strength| {
            let count = documented.iter().filter(|e| e.strength == strength).count();
            format!("{count} {strength}")
        })
        .collect();
    format!(
        "{} documented expectations ({}); {} derived predictions\n",
        documented.len(),
        by_strength.join(", "),
        unique.len() - documented.len()
    )
}

/// `87 cases: 12 with outcome differences, 30 with reason differences only, …`: the cases of
/// each [`DifferenceClass`] (failures and contradicted derived predictions only when there are
/// some).
pub fn render_difference_counts(report: &RunReport) -> String {
    let parts: Vec<String> = differences_by_class(report)
        .iter()
        .filter(|(class, cases)| {
            !matches!(class, DifferenceClass::Failure | DifferenceClass::Derived)
                || !cases.is_empty()
        })
        .map(|(class, cases)| {
            let what = match class {
                DifferenceClass::Outcome => "with outcome differences",
                DifferenceClass::Reason => "with reason differences only",
                DifferenceClass::UnmappedReason => "whose reasons differ only by kind `other`",
                DifferenceClass::Failure => "where only a validator failed",
                DifferenceClass::Derived => "contradicting only derived predictions",
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
    fn totals_count_outcomes_and_scores_judge_only_claiming_targets() {
        let report = report(
            reject(RejectKind::UnknownIssuer),
            Verdict::Error {
                detail: "boom".into(),
            },
            vec![expectation(ExpectedOutcome::Accept)],
            &["a", "b"],
        );
        let totals = validator_totals(&report);
        let scores = target_scores(&report);
        assert_eq!(totals["a"].outcomes.reject, 1);
        assert_eq!(
            scores["a"].documented,
            ExpectationScore {
                confirmed: 0,
                contradicted: 1,
                wrong_reason: 0,
                undecided: 0
            }
        );
        assert_eq!(totals["b"].outcomes.error, 1);
        assert_eq!(scores["b"].documented.undecided, 1);
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
    fn derived_predictions_are_scored_and_counted_apart() {
        let mut derived = expectation(ExpectedOutcome::Accept);
        derived.derived = true;
        let mut documented = expectation(ExpectedOutcome::Reject);
        documented.reject_kind = Some(RejectKind::UnknownIssuer);
        let report = report(
            reject(RejectKind::Expired),
            accept(),
            vec![derived, documented],
            &["a"],
        );
        let scores = target_scores(&report);
        assert_eq!(
            scores["a"].documented,
            ExpectationScore {
                wrong_reason: 1,
                ..ExpectationScore::default()
            }
        );
        assert_eq!(
            scores["a"].derived,
            ExpectationScore {
                contradicted: 1,
                ..ExpectationScore::default()
            }
        );
        assert_eq!(
            render_expectation_counts(&report),
            "1 documented expectations (1 stated, 0 expert-explanation, 0 hedged, \
             0 speculation); 1 derived predictions\n"
        );
        let table = render_summary_table(&report);
        assert!(table.contains("0 / 0 / 1 / 0"), "{table}");
        assert!(table.contains("0 / 1 / 0 / 0"), "{table}");
    }

    #[test]
    fn a_bundle_costs_the_cases_the_store_accepts_and_the_bundle_rejects() {
        use super::super::targets::BundleLegend;
        // Four cases: the bundle loses one, gains one (surprising), agrees on one, and is
        // undecided on the last.
        let mut report = matrix(
            &["lost", "gained", "same", "undecided"],
            &[(
                "a",
                vec![
                    accept(),
                    reject(RejectKind::UnknownIssuer),
                    accept(),
                    accept(),
                ],
            )],
        );
        let mut holder = target("a", true);
        holder.bundles.insert(
            "s".into(),
            BundleLegend {
                anchors: vec!["Root".into()],
                candidates: 2,
                endpoints: vec!["c".into()],
                verifier: "full-path-building".into(),
                min_anchors_per_endpoint: 2,
                period: "2020-01-01 → 2021-01-01".into(),
                findings: vec![],
            },
        );
        report.targets = vec![holder, target("b", true)];
        report.target_verdicts = report.verdicts.clone();
        let bundle = [
            reject(RejectKind::UnknownIssuer),
            accept(),
            accept(),
            skip("not run"),
        ];
        for (row, verdict) in report.rows.iter().zip(bundle) {
            report
                .target_verdicts
                .get_mut(&row.id)
                .unwrap()
                .insert("a+bundle".into(), verdict);
        }
        let costs = bundle_costs(&report);
        assert_eq!(costs.keys().copied().collect::<Vec<_>>(), ["a"]);
        assert_eq!(
            costs["a"],
            BundleCost {
                compared: 3,
                lost: vec!["s::lost".into()],
                gained: vec!["s::gained".into()],
            }
        );
        let table = render_summary_table(&report);
        assert!(table.contains("  lost: s::lost\n"), "{table}");
        assert!(
            table.contains("  gained (surprising): s::gained\n"),
            "{table}"
        );
    }

    #[test]
    fn a_target_claiming_nothing_has_no_score() {
        let report = report(
            accept(),
            accept(),
            vec![expectation(ExpectedOutcome::Reject)],
            &["b"],
        );
        let scores = target_scores(&report);
        assert_eq!(scores["a"].documented, ExpectationScore::default());
        assert_eq!(scores["b"].documented.contradicted, 1);
    }
}
