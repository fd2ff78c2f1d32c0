//! `matrix.md` (every case × validator, the reference verdict and the documented expectations,
//! after the answers to the questions) and `differences.md`.

use std::fmt::Write as _;

use super::differences::{describe_reason, differences_by_class, CaseDifferences};
use super::model::RunReport;
use super::summary::render_difference_counts;
use super::wording::{
    column_heading, difference_class_intro, difference_class_title, idle_column_line,
    reference_detail, reference_label, short_seed, verdict_detail,
};
use crate::Expectation;

/// `matrix.md`: every case × validator, the reference verdict and the documented expectations.
pub fn render_matrix_md(report: &RunReport) -> String {
    let mut text = String::from("# Corpus matrix\n\nValidators:\n\n");
    for column in &report.columns {
        let profile = if column.profile.is_empty() {
            String::new()
        } else {
            format!(" — {}", column.profile)
        };
        let health = report.column_health(&column.name);
        let idle = match (health.label(), health.describe()) {
            (Some(label), Some(description)) => format!(" — **{label}**: {description}"),
            _ => String::new(),
        };
        writeln!(
            text,
            "- `{}`: {}{}{idle}",
            column.name, column.version, profile
        )
        .unwrap();
    }
    text.push_str(
        "\n`reference` is derived from the topology graph (a path search over the topology; an anchor may be an intermediate but must be within its validity). \
`documented` lists what the seed documents report for a client behaviour, with how strongly the \
quoted sentence says it (stated, expert-explanation, hedged, speculation); `derived` (only in \
scenarios that have some) lists predictions the seeds do not make. A library claims no client, so \
these columns are not judged against them: the targets at the end are (see “Targets”).\n",
    );
    text.push_str(&render_questions_md(report));
    let names = column_names(report);
    for scenario in &report.scenarios {
        let has_derived = report
            .rows_of(&scenario.name)
            .any(|row| row.derived().next().is_some());
        let (derived_heading, derived_rule) = if has_derived {
            (" derived |", "---|")
        } else {
            ("", "")
        };
        writeln!(text, "\n## {}\n", scenario.name).unwrap();
        for line in &scenario.served {
            writeln!(text, "- {line}").unwrap();
        }
        if !scenario.served.is_empty() {
            text.push('\n');
        }
        writeln!(
            text,
            "| case | reference | {names} | documented |{derived_heading}"
        )
        .unwrap();
        writeln!(
            text,
            "|---|---|{}---|{derived_rule}",
            "---|".repeat(report.columns.len())
        )
        .unwrap();
        for row in report.rows_of(&scenario.name) {
            let cells: Vec<String> = report
                .row_verdicts(row)
                .map(|(_, verdict)| verdict.label())
                .collect();
            let derived = if has_derived {
                format!(" {} |", expectations_cell(row.derived()))
            } else {
                String::new()
            };
            writeln!(
                text,
                "| `{}` | {} | {} | {} |{derived}",
                row.short_id(),
                reference_label(&row.reference),
                cells.join(" | "),
                expectations_cell(row.documented()),
            )
            .unwrap();
        }
    }
    text.push_str(&super::handshakes::render_handshakes_md(report));
    text.push_str(&super::targets::render_targets_md(report));
    text
}

/// The validator names as one table-header fragment: `a | b (broken) | c`.
fn column_names(report: &RunReport) -> String {
    report
        .columns
        .iter()
        .map(|column| column_heading(column, &report.column_health(&column.name)))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The answers: per question, the named cases (those in this run) and every verdict.
fn render_questions_md(report: &RunReport) -> String {
    let mut text = String::new();
    if report.questions.is_empty() {
        return text;
    }
    text.push_str("\n## Questions this run answers\n");
    for question in &report.questions {
        writeln!(text, "\n**{}**\n", question.text).unwrap();
        writeln!(text, "| case | {} |", column_names(report)).unwrap();
        writeln!(text, "|---|{}", "---|".repeat(report.columns.len())).unwrap();
        for row in question.cases.iter().filter_map(|id| report.row(id)) {
            let cells: Vec<String> = report
                .row_verdicts(row)
                .map(|(_, verdict)| verdict.label())
                .collect();
            writeln!(text, "| `{}` | {} |", row.id, cells.join(" | ")).unwrap();
        }
    }
    text
}

/// Expectations (the documented ones, or the derived predictions) in one table cell:
/// `client: outcome (seed 000, strength)`.
fn expectations_cell<'a>(expectations: impl Iterator<Item = &'a Expectation>) -> String {
    let lines: Vec<String> = expectations
        .map(|expectation| {
            format!(
                "{}: {} ({}, {})",
                expectation.client,
                expectation.outcome_label(),
                short_seed(&expectation.seed_file),
                expectation.strength
            )
        })
        .collect();
    if lines.is_empty() {
        "—".into()
    } else {
        lines.join("<br>")
    }
}

/// `differences.md`: the counts, the validators that decided no case (named once), then every
/// case that differs, by class (outcome, reason, unmapped reason, failure), each with its
/// reasons, the reference verdict and every working validator's native message.
pub fn render_differences_md(report: &RunReport) -> String {
    let mut text = String::from("# Differences\n\n");
    writeln!(text, "{}.\n", render_difference_counts(report)).unwrap();
    let idle = report.idle_columns();
    if !idle.is_empty() {
        text.push_str(
            "These validators decided no case; they are left out of every case below (their \
             column stays in matrix.md):\n\n",
        );
        for (column, health) in &idle {
            writeln!(text, "- {}", idle_column_line(column, health)).unwrap();
        }
        text.push('\n');
    }
    for (class, cases) in differences_by_class(report) {
        if cases.is_empty() {
            continue;
        }
        writeln!(
            text,
            "## {} ({})\n\n{}\n",
            difference_class_title(class),
            cases.len(),
            difference_class_intro(class)
        )
        .unwrap();
        for difference in &cases {
            render_case_md(&mut text, report, difference);
        }
    }
    text
}

/// One case of differences.md.
fn render_case_md(text: &mut String, report: &RunReport, difference: &CaseDifferences) {
    let row = difference.row;
    writeln!(text, "### `{}`\n\n{}\n", row.id, row.summary).unwrap();
    for reason in &difference.reasons {
        writeln!(text, "- {}", describe_reason(reason)).unwrap();
    }
    writeln!(
        text,
        "- reference (graph): {} — {}",
        reference_label(&row.reference),
        reference_detail(&row.reference)
    )
    .unwrap();
    text.push('\n');
    for (column, verdict) in report.row_verdicts(row) {
        if report.column_health(&column.name).is_working() {
            writeln!(text, "  - `{}`: {}", column.name, verdict_detail(verdict)).unwrap();
        }
    }
    text.push('\n');
}

#[cfg(test)]
mod tests {
    use super::super::model::fixture::*;
    use super::super::model::ExpectedOutcome;
    use super::super::questions::Question;
    use super::*;
    use anchorsmith_validators::RejectKind;

    #[test]
    fn matrix_answers_questions_first_and_only_targets_are_judged() {
        let mut report = report(
            accept(),
            reject(RejectKind::Expired),
            vec![expectation(ExpectedOutcome::Accept)],
            &["b"],
        );
        report.questions = vec![Question {
            text: "Accepted?".into(),
            cases: vec!["s::c".into(), "not-in-this-run".into()],
        }];
        let matrix = render_matrix_md(&report);
        let answers = matrix.find("**Accepted?**").unwrap();
        let scenario = matrix.find("\n## s\n").unwrap();
        assert!(answers < scenario, "{matrix}");
        assert!(
            matrix.contains("| `s::c` | accept | reject:expired |"),
            "{matrix}"
        );
        assert!(
            matrix.contains(
                "| `c` | accept | accept | reject:expired | path-builder: accept (seed 000, stated) |"
            ),
            "a library column is not judged: {matrix}"
        );
        // The target on column `b` claims the client: the target view marks its contradiction.
        assert!(
            matrix.contains(
                "| `c` | path-builder: accept; stated (seed 000) | accept | reject:expired ✗ |"
            ),
            "{matrix}"
        );
    }

    #[test]
    fn matrix_shows_derived_predictions_in_their_own_column() {
        let mut derived = expectation(ExpectedOutcome::Accept);
        derived.derived = true;
        let mut documented = expectation(ExpectedOutcome::Reject);
        documented.reject_kind = Some(RejectKind::UnknownIssuer);
        documented.strength = crate::Strength::Hedged;
        let report = report(
            reject(RejectKind::UnknownIssuer),
            reject(RejectKind::UnknownIssuer),
            vec![derived, documented],
            &["b"],
        );
        let matrix = render_matrix_md(&report);
        assert!(
            matrix.contains("| case | reference | a | b | documented | derived |"),
            "{matrix}"
        );
        assert!(
            matrix.contains(
                "| reject:unknown-issuer | \
                 path-builder: reject:unknown-issuer (seed 000, hedged) | \
                 path-builder: accept (seed 000, stated) |"
            ),
            "{matrix}"
        );
        assert!(
            matrix.contains("| reject:unknown-issuer | reject:unknown-issuer ✗ derived |"),
            "the target view marks the derived prediction apart: {matrix}"
        );
    }

    #[test]
    fn differences_list_reasons_reference_and_native_messages() {
        let report = report(accept(), reject(RejectKind::Expired), vec![], &[]);
        let text = render_differences_md(&report);
        assert!(
            text.starts_with("# Differences\n\n1 cases: 1 with outcome differences, "),
            "{text}"
        );
        assert!(text.contains("\n## Outcome differences (1)\n\n"), "{text}");
        assert!(text.contains("- validators disagree: accepted by a; rejected by b"));
        assert!(text.contains("- reference (graph): accept — path: leaf → root"));
        assert!(text.contains("  - `b`: reject (expired): native"), "{text}");
    }

    #[test]
    fn differences_put_outcome_first_and_name_a_broken_column_once() {
        let expired = || reject(RejectKind::Expired);
        let report = matrix(
            &["reason", "outcome"],
            &[
                ("a", vec![expired(), accept()]),
                ("b", vec![reject(RejectKind::UnknownIssuer), expired()]),
                ("x", vec![error("exit status 3"), error("exit status 3")]),
            ],
        );
        let text = render_differences_md(&report);
        let outcome = text.find("## Outcome differences (1)").unwrap();
        let reason = text.find("## Reason differences (1)").unwrap();
        assert!(outcome < reason, "{text}");
        assert!(text.find("### `s::outcome`").unwrap() < reason, "{text}");
        assert!(text.find("### `s::reason`").unwrap() > reason, "{text}");
        assert_eq!(text.matches("exit status 3").count(), 1, "{text}");
        assert!(
            text.contains("- broken: `x` failed on all 2 cases: exit status 3\n"),
            "{text}"
        );
        let matrix = render_matrix_md(&report);
        assert!(
            matrix.contains("| case | reference | a | b | x (broken) | documented |"),
            "{matrix}"
        );
        assert!(
            matrix.contains("- `x`: 1 — **broken**: failed on all 2 cases: exit status 3\n"),
            "{matrix}"
        );
    }
}
