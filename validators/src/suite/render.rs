//! The suite's text outputs: the agreement table (terminal and `agreement.txt`), the comparison
//! summary (terminal), `compare.md` and `differences.md`. Pure functions of the tallies,
//! comparisons and groups; no timings or versions, so the outputs diff cleanly.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::compare::Comparison;
use super::tally::{total, Tally, ValidatorDifferences};

/// The agreement table: one block per validator (in the given order), one row per namespace
/// (sorted) and a total. Plain text with fixed-width columns so it reads in a terminal and diffs
/// cleanly in a snapshot.
pub fn render_agreement_table(per_validator: &[(String, BTreeMap<String, Tally>)]) -> String {
    let namespace_width = per_validator
        .iter()
        .flat_map(|(_, tallies)| tallies.keys().map(|namespace| namespace.len()))
        .chain(["namespace".len(), "TOTAL".len()])
        .max()
        .unwrap_or(0);
    let validator_width = per_validator
        .iter()
        .map(|(name, _)| name.len())
        .chain(["validator".len()])
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    let header = format!(
        "{:<vw$}  {:<nw$}  {:>6}  {:>6}  {:>13}  {:>13}  {:>7}  {:>6}",
        "validator",
        "namespace",
        "cases",
        "match",
        "unexp SUCCESS",
        "unexp FAILURE",
        "SKIPPED",
        "errors",
        vw = validator_width,
        nw = namespace_width
    );
    let _ = writeln!(out, "{header}");
    let _ = writeln!(out, "{}", "-".repeat(header.len()));
    for (name, tallies) in per_validator {
        let total_row = total(tallies);
        let rows = tallies
            .iter()
            .map(|(namespace, tally)| (namespace.as_str(), tally))
            .chain([("TOTAL", &total_row)]);
        for (namespace, tally) in rows {
            let _ = writeln!(
                out,
                "{:<vw$}  {:<nw$}  {:>6}  {:>6}  {:>13}  {:>13}  {:>7}  {:>6}",
                name,
                namespace,
                tally.total(),
                tally.matches,
                tally.unexpected_success,
                tally.unexpected_failure,
                tally.skipped,
                tally.errors,
                vw = validator_width,
                nw = namespace_width
            );
        }
    }
    out
}

/// A short summary line per comparison, for the terminal.
pub fn render_comparison_summary(comparisons: &[Comparison]) -> String {
    let mut out = String::new();
    for comparison in comparisons {
        // By spelling, so the order reads alphabetically whatever the enums' order.
        let mut pairs: Vec<(String, String, usize)> = comparison
            .by_pair
            .iter()
            .map(|((ours, theirs), count)| (ours.to_string(), theirs.to_string(), *count))
            .filter(|(ours, theirs, _)| ours != theirs)
            .collect();
        pairs.sort();
        let pairs: Vec<String> = pairs
            .into_iter()
            .map(|(ours, theirs, count)| format!("{ours}/{theirs} {count}"))
            .collect();
        let _ = writeln!(
            out,
            "{} vs {}: agree {}, disagree {}{}{}",
            comparison.ours,
            comparison.theirs,
            comparison.agree,
            comparison.disagree(),
            if pairs.is_empty() {
                String::new()
            } else {
                format!(" (ours/theirs: {})", pairs.join(", "))
            },
            if comparison.extra_in_theirs > 0 {
                format!(
                    "; {} of their ids are not in this suite",
                    comparison.extra_in_theirs
                )
            } else {
                String::new()
            },
        );
        if let Some(caveat) = &comparison.caveat {
            let _ = writeln!(out, "  note: {caveat}");
        }
    }
    out
}

fn markdown_cell(text: Option<&str>) -> String {
    text.unwrap_or("").replace('|', "\\|").replace('\n', " ")
}

/// `compare.md`: per pair, the counts, the caveat and every differing case with both contexts.
pub fn render_compare_markdown(suite_name: &str, comparisons: &[Comparison]) -> String {
    let mut out = format!("# limbo comparison: {suite_name}\n\n");
    for comparison in comparisons {
        let _ = writeln!(out, "## {} vs {}\n", comparison.ours, comparison.theirs);
        let _ = writeln!(
            out,
            "Their file: `{}`. Agree: {}. Disagree: {}.\n",
            comparison.theirs_file.display(),
            comparison.agree,
            comparison.disagree()
        );
        if let Some(caveat) = &comparison.caveat {
            let _ = writeln!(out, "> Note: {caveat}\n");
        }
        if comparison.disagreements.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "| id | expected | ours | our context | theirs | their context |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for row in &comparison.disagreements {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                row.id,
                row.expected,
                row.ours,
                markdown_cell(row.ours_context.as_deref()),
                row.theirs,
                markdown_cell(row.theirs_context.as_deref()),
            );
        }
        out.push('\n');
    }
    out
}

/// `differences.md`: per validator, its unexpected results grouped by reason; a validator that
/// decided no case (broken, or not available here) is named once, first, with its reason, and its
/// cases (every case of the suite) are not listed.
pub fn render_differences_markdown(
    suite_name: &str,
    per_validator: &[(String, ValidatorDifferences)],
) -> String {
    let mut out = format!("# limbo differences: {suite_name}\n\n");
    out.push_str(
        "Every case whose result is not the expected one (unexpected SUCCESS or FAILURE, SKIPPED, or \
         error), per validator, grouped by reason.\n\n",
    );
    let idle: Vec<String> = per_validator
        .iter()
        .filter_map(|(name, differences)| {
            let health = &differences.health;
            Some(format!(
                "- {}: `{name}` {}",
                health.label()?,
                health.describe()?
            ))
        })
        .collect();
    if !idle.is_empty() {
        let _ = writeln!(
            out,
            "These validators decided no case, so their cases are not listed:\n\n{}\n",
            idle.join("\n")
        );
    }
    for (name, ValidatorDifferences { health, groups }) in per_validator {
        if !health.is_working() {
            continue;
        }
        let count: usize = groups.iter().map(|group| group.ids.len()).sum();
        let _ = writeln!(
            out,
            "## {name}\n\n{count} unexpected results in {} groups.\n",
            groups.len()
        );
        for group in groups {
            let _ = writeln!(
                out,
                "### {} — {} ({})\n",
                group.agreement,
                group.reason,
                group.ids.len()
            );
            for id in &group.ids {
                let _ = writeln!(out, "- `{id}`");
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{ColumnFault, ColumnHealth};
    use crate::suite::tally::{Agreement, DifferenceGroup};

    #[test]
    fn agreement_table_has_a_total_row_per_validator() {
        let tallies: BTreeMap<String, Tally> = [
            (
                "a".to_string(),
                Tally {
                    matches: 1,
                    unexpected_success: 1,
                    ..Tally::default()
                },
            ),
            (
                "b::c".to_string(),
                Tally {
                    matches: 1,
                    errors: 1,
                    ..Tally::default()
                },
            ),
        ]
        .into_iter()
        .collect();
        let table = render_agreement_table(&[("webpki".into(), tallies)]);
        let total_line = table.lines().find(|line| line.contains("TOTAL")).unwrap();
        let numbers: Vec<&str> = total_line.split_whitespace().skip(2).collect();
        assert_eq!(numbers, ["4", "2", "1", "0", "0", "1"]);
    }

    #[test]
    fn comparison_renders_rows_and_summary_pairs() {
        let comparison = crate::suite::compare::tests::sample();
        let markdown = render_compare_markdown("t", std::slice::from_ref(&comparison));
        assert!(
            markdown.contains("| n::b | FAILURE | SUCCESS |  | FAILURE | bad |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| n::c | FAILURE | FAILURE | expired: CertExpired | MISSING |  |"),
            "{markdown}"
        );
        let summary = render_comparison_summary(&[comparison]);
        assert!(
            summary.starts_with(
                "openssl vs openssl-3.0.19: agree 1, disagree 3 (ours/theirs: ERROR/FAILURE 1, \
                 FAILURE/MISSING 1, SUCCESS/FAILURE 1); 1 of their ids are not in this suite\n"
            ),
            "{summary}"
        );
    }

    #[test]
    fn differences_markdown_heads_groups_with_agreement_and_reason() {
        let groups = vec![DifferenceGroup {
            agreement: Agreement::UnexpectedFailure,
            reason: "unknown-issuer: UnknownIssuer".into(),
            ids: vec!["n::a".into(), "n::c".into()],
        }];
        let broken = ValidatorDifferences {
            health: ColumnHealth::Broken(ColumnFault {
                reason: "exit status 3".into(),
                distinct_reasons: 1,
                errors: 9780,
                skips: 0,
            }),
            groups: vec![DifferenceGroup {
                agreement: Agreement::Error,
                reason: "error: exit status 3".into(),
                ids: vec!["n::a".into(), "n::c".into()],
            }],
        };
        let working = ValidatorDifferences {
            health: ColumnHealth::Working,
            groups,
        };
        let markdown = render_differences_markdown(
            "t",
            &[("webpki".into(), working), ("broken".into(), broken)],
        );
        assert!(
            markdown.contains(
                "decided no case, so their cases are not listed:\n\n\
                 - broken: `broken` failed on all 9780 cases: exit status 3\n"
            ),
            "{markdown}"
        );
        assert!(!markdown.contains("## broken"), "{markdown}");
        assert!(!markdown.contains("error: exit status 3"), "{markdown}");
        assert!(
            markdown.contains("### unexpected FAILURE — unknown-issuer: UnknownIssuer (2)"),
            "{markdown}"
        );
        assert!(markdown.contains("- `n::c`\n"), "{markdown}");
    }
}
