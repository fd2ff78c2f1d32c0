//! `report.html`: one self-contained page (inline CSS, no scripts, nothing to fetch). It opens
//! with the answers to the questions, then the validators and the summary, then per scenario its
//! description, diagram, timeline and coloured matrix (native messages on hover), then the
//! differences. Built with maud, so every text is escaped by construction.

use anchorsmith_validators::Verdict;
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::differences::{describe_reason, differences};
use super::model::{CaseRow, RunReport, ScenarioView};
use super::questions::Question;
use super::summary::render_summary_table;
use super::wording::{
    expected_label, reference_detail, reference_label, short_seed, verdict_detail,
};
use crate::timeline;

const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px;vertical-align:top}th{background:#f4f4f4}
td.acc{background:#c8efc8}td.rej{background:#f6c6c6}td.skip{background:#eee;color:#777}td.err{background:#f9e79f}
td.bad{outline:3px solid #b00;outline-offset:-3px}code{font-size:12px}.quote{color:#555;font-style:italic}
pre{background:#f8f8f8;padding:1em}
";

/// The page.
pub fn render_html(report: &RunReport) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "anchorsmith corpus report" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "anchorsmith corpus report" }
                p {
                    "Green accepts, red rejects, grey skipped, yellow failed to run. A thick red \
                     frame marks a verdict that contradicts a documented expectation its validator \
                     embodies. Hover a cell for the native message."
                }
                @if !report.questions.is_empty() {
                    h2 { "Questions this run answers" }
                    @for question in &report.questions {
                        (question_table(report, question))
                    }
                }
                h2 { "Validators" }
                ul {
                    @for column in &report.columns {
                        li { code { (column.name) } ": " (column.version) " " (column.profile) }
                    }
                }
                h2 { "Summary" }
                pre { (render_summary_table(report)) }
                @for scenario in &report.scenarios {
                    (scenario_section(report, scenario))
                }
                h2 { "Differences" }
                @for difference in differences(report) {
                    h3 { code { (difference.row.id) } }
                    p { (difference.row.summary) }
                    ul {
                        @for reason in &difference.reasons {
                            li { (describe_reason(reason)) }
                        }
                    }
                }
            }
        }
    }
    .into_string()
}

/// A question and the verdicts on the cases that answer it (those in this run).
fn question_table(report: &RunReport, question: &Question) -> Markup {
    html! {
        h3 { (question.text) }
        table {
            tr {
                th { "case" }
                @for column in &report.columns { th { (column.name) } }
            }
            @for row in question.cases.iter().filter_map(|id| report.row(id)) {
                tr {
                    td { code { (row.id) } }
                    @for (_, verdict) in report.row_verdicts(row) {
                        (verdict_cell(verdict, false))
                    }
                }
            }
        }
    }
}

/// A scenario's heading, description, diagram, timeline and matrix.
fn scenario_section(report: &RunReport, scenario: &ScenarioView) -> Markup {
    html! {
        h2 { (scenario.name) }
        p { b { (scenario.title) } " (from " code { (scenario.seed_file) } ")" }
        p { (scenario.description) }
        pre { (scenario.diagram) }
        (timeline::render_svg(&scenario.timeline))
        table {
            tr {
                th { "case" }
                th { "reference" }
                @for column in &report.columns { th { (column.name) } }
                th { "documented" }
            }
            @for row in report.rows_of(&scenario.name) {
                (matrix_row(report, row))
            }
        }
    }
}

fn matrix_row(report: &RunReport, row: &CaseRow) -> Markup {
    let reference_class = if row.reference.is_accept() {
        "acc"
    } else {
        "rej"
    };
    html! {
        tr {
            td title=(row.summary) { code { (row.short_id()) } }
            td class=(reference_class) title=(reference_detail(&row.reference)) {
                (reference_label(&row.reference))
            }
            @for (column, verdict) in report.row_verdicts(row) {
                (verdict_cell(verdict, report.contradicts(row, &column.name, verdict)))
            }
            td {
                @for expectation in &row.expectations {
                    (expectation.client) ": " b { (expected_label(expectation.outcome)) } " "
                    span.quote title=(expectation.quote) {
                        "(" (short_seed(&expectation.seed_file)) ")"
                    }
                    br;
                }
            }
        }
    }
}

/// A coloured verdict with its native message on hover; `contradicted` frames it.
fn verdict_cell(verdict: &Verdict, contradicted: bool) -> Markup {
    let colour = match verdict {
        Verdict::Accept { .. } => "acc",
        Verdict::Reject { .. } => "rej",
        Verdict::Skip { .. } => "skip",
        Verdict::Error { .. } => "err",
    };
    html! {
        td class={ (colour) @if contradicted { " bad" } } title=(verdict_detail(verdict)) {
            (verdict.label())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::fixture::*;
    use super::super::model::ExpectedOutcome;
    use super::*;

    #[test]
    fn html_escapes_and_marks_contradictions() {
        let mut report = report(
            accept(),
            Verdict::Error {
                detail: "<boom>".into(),
            },
            vec![expectation(ExpectedOutcome::Reject)],
            &["a"],
        );
        report.rows[0].summary = "<script>\"x\"".into();
        report.questions = vec![Question {
            text: "Is <this> accepted?".into(),
            cases: vec!["s::c".into()],
        }];
        let html = render_html(&report);
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("title=\"&lt;script&gt;&quot;x&quot;\""),
            "{html}"
        );
        assert!(html.contains("title=\"error: &lt;boom&gt;\""), "{html}");
        assert!(html.contains("class=\"acc bad\""), "{html}");
        assert!(html.contains("<svg"), "{html}");
        // The questions come before the first scenario's matrix.
        let question = html.find("Is &lt;this&gt; accepted?").unwrap();
        assert!(question < html.find("<h2>s</h2>").unwrap(), "{html}");
    }
}
