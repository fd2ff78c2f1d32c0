//! The snapshot CI pins (`corpus/tests/report_snapshot.rs`).

use std::fmt::Write as _;

use super::model::RunReport;
use super::wording::reference_label;

/// Outcome and kind per case and validator, and nothing that varies between machines (no
/// versions, no timings, no native messages).
pub fn render_snapshot(report: &RunReport) -> String {
    let names: Vec<&str> = report
        .columns
        .iter()
        .map(|column| column.name.as_str())
        .collect();
    let mut text = String::new();
    writeln!(text, "# case | reference | {}", names.join(" | ")).unwrap();
    for row in &report.rows {
        let cells: Vec<String> = report
            .row_verdicts(row)
            .map(|(_, verdict)| verdict.label())
            .collect();
        writeln!(
            text,
            "{} | {} | {}",
            row.id,
            reference_label(&row.reference),
            cells.join(" | ")
        )
        .unwrap();
    }
    text
}

/// Every target's verdict on every case it applies to, with the judgement of each expectation
/// it claims there (`confirmed`, `contradicts-outcome`, …), each followed by its bundle column's
/// verdict where it holds a minimal bundle (never judged): what `corpus/tests/targets.rs` pins.
pub fn render_target_snapshot(report: &RunReport) -> String {
    let mut text = String::from("# case | target | verdict | judgements\n");
    for row in &report.rows {
        for target in &report.targets {
            let Some(verdict) = report.target_verdict(&row.id, &target.name) else {
                continue;
            };
            let judgements: Vec<String> = report
                .judgements(row, target)
                .map(|(expectation, judgement)| {
                    format!(
                        "{}{}:{}",
                        if expectation.derived { "derived " } else { "" },
                        expectation.client,
                        judgement.label()
                    )
                })
                .collect();
            writeln!(
                text,
                "{} | {} | {} | {}",
                row.id,
                target.name,
                verdict.label(),
                if judgements.is_empty() {
                    "—".to_string()
                } else {
                    judgements.join(", ")
                }
            )
            .unwrap();
            let column = target.bundle_column();
            if let Some(verdict) = report.target_verdict(&row.id, &column) {
                writeln!(
                    text,
                    "{} | {column} | {} | not judged",
                    row.id,
                    verdict.label()
                )
                .unwrap();
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::super::model::fixture::*;
    use super::*;
    use anchorsmith_validators::RejectKind;

    #[test]
    fn snapshot_has_no_native_detail() {
        let report = report(accept(), reject(RejectKind::Expired), vec![], &[]);
        assert_eq!(
            render_snapshot(&report),
            "# case | reference | a | b\ns::c | accept | accept | reject:expired\n"
        );
    }
}
