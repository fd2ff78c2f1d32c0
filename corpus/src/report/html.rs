//! `report.html`: one self-contained page (inline CSS, no scripts, nothing to fetch). It opens
//! with the answers to the questions, then the validators and the summary, then per scenario its
//! description, diagram, timeline and coloured matrix (native messages on hover), then the
//! differences. Built with maud, so every text is escaped by construction.

use anchorsmith_validators::Verdict;
use maud::{html, Markup, PreEscaped, DOCTYPE};

use std::collections::BTreeSet;

use super::differences::{describe_reason, differences_by_class};
use super::model::{CaseRow, RunReport, ScenarioView, ValidatorColumn};
use super::questions::Question;
use super::summary::{render_difference_counts, render_summary_table};
use super::wording::{
    difference_class_intro, difference_class_title, reference_detail, reference_label, short_seed,
    verdict_detail,
};
use crate::{timeline, Expectation};

const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px;vertical-align:top}th{background:#f4f4f4}
td.acc{background:#c8efc8}td.rej{background:#f6c6c6}td.skip{background:#eee;color:#777}td.err{background:#f9e79f}
h4 code{font-size:14px}td.bad{outline:3px solid #b00;outline-offset:-3px}td.bad-derived{outline:2px dashed #b00;outline-offset:-3px}code{font-size:12px}.quote{color:#555;font-style:italic}
pre{background:#f8f8f8;padding:1em}th.idle,td.idle{opacity:.45}th small{display:block;font-weight:normal;color:#b00}
.idle-note{border:2px solid #b00;padding:.5em 1em;background:#fff4f4}
";

/// The page.
pub fn render_html(report: &RunReport) -> String {
    let idle = report.idle_columns();
    let differences = differences_by_class(report);
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
                    "Green accepts, red rejects, grey skipped, yellow failed to run. Hover a cell \
                     for the native message, an expectation for its quote; each expectation says \
                     how strongly its seed sentence states it, and derived predictions (ones the \
                     seeds do not make) are listed apart. The libraries' matrices show how they \
                     differ from each other; the targets (client populations with their stores \
                     and engines) are judged against the expectations: a thick red frame marks a \
                     target contradicting a documented expectation of the client it claims to be \
                     (its outcome, or the reason it names), a dashed frame a derived prediction \
                     only."
                }
                @if !idle.is_empty() {
                    div.idle-note {
                        p { "These validators decided no case; their columns are faded and left \
                             out of the differences:" }
                        ul {
                            @for (column, health) in &idle {
                                li {
                                    (health.label().unwrap_or_default()) ": " code { (column.name) }
                                    " " (health.describe().unwrap_or_default())
                                }
                            }
                        }
                    }
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
                        li {
                            code { (column.name) } ": " (column.version) " " (column.profile)
                            @if let Some(label) = report.column_health(&column.name).label() {
                                " — " b { (label) }
                            }
                        }
                    }
                }
                h2 { "Summary" }
                pre { (render_summary_table(report)) }
                (handshakes_html(report))
                (super::targets::targets_html(report))
                @for scenario in &report.scenarios {
                    (scenario_section(report, scenario))
                }
                h2 #differences { "Differences" }
                p { (render_difference_counts(report)) "." }
                @for (class, cases) in &differences {
                    @if !cases.is_empty() {
                        h3 { (difference_class_title(*class)) " (" (cases.len()) ")" }
                        p { (difference_class_intro(*class)) }
                        @for difference in cases {
                            h4 { code { (difference.row.id) } }
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
        }
    }
    .into_string()
}

/// The finding "handshake vs verification API": one line per pair, then the cases they decide
/// differently, each cell coloured and carrying its native message.
fn handshakes_html(report: &RunReport) -> Markup {
    let findings = super::handshakes::handshake_findings(report);
    html! {
        @if !findings.is_empty() {
            h2 #handshakes { "Handshake vs verification API" }
            p {
                "Each handshake column is a real client in a real TLS handshake against the \
                 chain as served; beside it, the verification API of the same library. Where \
                 they decide a case differently, the handshake shows what that API alone does not."
            }
            ul {
                @for finding in &findings {
                    li { (finding.line().replace('`', "")) }
                }
            }
            @for finding in findings.iter().filter(|f| !f.differences.is_empty()) {
                h3 { code { (finding.pair.handshake) } " vs " code { (finding.pair.api) } }
                table {
                    tr {
                        th { "case" }
                        th { (finding.pair.handshake) }
                        th { (finding.pair.api) }
                    }
                    @for difference in &finding.differences {
                        tr {
                            td { code { (difference.case_id) } }
                            (verdict_cell(difference.handshake, false))
                            (verdict_cell(difference.api, false))
                        }
                    }
                }
            }
        }
    }
}

/// A question and the verdicts on the cases that answer it (those in this run).
fn question_table(report: &RunReport, question: &Question) -> Markup {
    let idle_names = idle_names(report);
    html! {
        h3 { (question.text) }
        table {
            tr {
                th { "case" }
                @for column in &report.columns { (column_header(report, column)) }
            }
            @for row in question.cases.iter().filter_map(|id| report.row(id)) {
                tr {
                    td { code { (row.id) } }
                    @for (column, verdict) in report.row_verdicts(row) {
                        (verdict_cell(verdict, idle_names.contains(&column.name)))
                    }
                }
            }
        }
    }
}

/// A scenario's heading, description, diagram, timeline and matrix.
fn scenario_section(report: &RunReport, scenario: &ScenarioView) -> Markup {
    let idle_names = idle_names(report);
    let has_derived = report
        .rows_of(&scenario.name)
        .any(|row| row.derived().next().is_some());
    html! {
        h2 { (scenario.name) }
        p { b { (scenario.title) } " (from " code { (scenario.seed_file) } ")" }
        p { (scenario.description) }
        pre { (scenario.diagram) }
        @if !scenario.served.is_empty() {
            p { "How the servers assemble these chains:" }
            ul { @for line in &scenario.served { li { (line) } } }
        }
        (timeline::render_svg(&scenario.timeline))
        @if let Some(compatibility) = report.timelines.get(&scenario.name) {
            h3 { "When each target's connection works" }
            p {
                "Exact intervals, to the second, from every validity boundary in play; each change \
                 proved on both sides; light grey before the chain could be served (its newest \
                 certificate did not exist yet). `cargo xtask timeline --scenario "
                (scenario.name) "` writes them as text, with the proofs."
            }
            (crate::compatibility::render_svg(compatibility))
        }
        table {
            tr {
                th { "case" }
                th { "reference" }
                @for column in &report.columns { (column_header(report, column)) }
                th { "documented" }
                @if has_derived { th { "derived" } }
            }
            @for row in report.rows_of(&scenario.name) {
                (matrix_row(report, row, &idle_names, has_derived))
            }
        }
    }
}

fn matrix_row(
    report: &RunReport,
    row: &CaseRow,
    idle_names: &BTreeSet<String>,
    has_derived: bool,
) -> Markup {
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
                (verdict_cell(verdict, idle_names.contains(&column.name)))
            }
            td { (expectations_cell(row.documented())) }
            @if has_derived { td { (expectations_cell(row.derived())) } }
        }
    }
}

/// Expectations (documented, or derived), one a line: client, outcome (and reason), the seed
/// and the strength; the quote on hover.
fn expectations_cell<'a>(expectations: impl Iterator<Item = &'a Expectation>) -> Markup {
    html! {
        @for expectation in expectations {
            (expectation.client) ": " b { (expectation.outcome_label()) } " "
            span.quote title=(expectation.quote) {
                "(" (short_seed(&expectation.seed_file)) ", " (expectation.strength) ")"
            }
            br;
        }
    }
}

/// The names of the columns that decided no case.
fn idle_names(report: &RunReport) -> BTreeSet<String> {
    report
        .idle_columns()
        .into_iter()
        .map(|(column, _)| column.name.clone())
        .collect()
}

/// A column's header; a column that decided no case is faded and says why on hover.
fn column_header(report: &RunReport, column: &ValidatorColumn) -> Markup {
    let health = report.column_health(&column.name);
    html! {
        @match (health.label(), health.describe()) {
            (Some(label), Some(description)) => th.idle title=(description) {
                (column.name) small { (label) }
            },
            _ => th { (column.name) },
        }
    }
}

/// The CSS class that colours a verdict's cell.
pub(super) fn verdict_class(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Accept { .. } => "acc",
        Verdict::Reject { .. } => "rej",
        Verdict::Skip { .. } => "skip",
        Verdict::Error { .. } => "err",
    }
}

/// A coloured verdict with its native message on hover; `idle` fades it (its column decided no
/// case).
fn verdict_cell(verdict: &Verdict, idle: bool) -> Markup {
    html! {
        td class={ (verdict_class(verdict)) @if idle { " idle" } } title=(verdict_detail(verdict)) {
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

    #[test]
    fn html_keeps_derived_predictions_apart_and_shows_strength() {
        let mut derived = expectation(ExpectedOutcome::Reject);
        derived.derived = true;
        derived.strength = crate::Strength::Speculation;
        let report = report(accept(), accept(), vec![derived], &["a"]);
        let html = render_html(&report);
        assert!(html.contains("<th>derived</th>"), "{html}");
        assert!(html.contains("class=\"acc bad-derived\""), "{html}");
        assert!(!html.contains("class=\"acc bad\""), "{html}");
        assert!(html.contains("(seed 000, speculation)"), "{html}");
        assert!(
            html.contains("<h3>Derived predictions contradicted (1)</h3>"),
            "{html}"
        );
    }

    #[test]
    fn html_names_a_broken_column_once_and_fades_it() {
        let report = matrix(
            &["c", "d"],
            &[
                (
                    "a",
                    vec![
                        accept(),
                        reject(anchorsmith_validators::RejectKind::Expired),
                    ],
                ),
                (
                    "b",
                    vec![accept(), reject(anchorsmith_validators::RejectKind::Other)],
                ),
                ("x", vec![error("exit <3>"), error("exit <3>")]),
            ],
        );
        let html = render_html(&report);
        let note = html.find("class=\"idle-note\"").unwrap();
        assert!(note < html.find("<h2>Validators</h2>").unwrap(), "{html}");
        assert!(
            html.contains("<li>broken: <code>x</code> failed on all 2 cases: exit &lt;3&gt;</li>"),
            "{html}"
        );
        assert!(
            html.contains("<th class=\"idle\" title=\"failed on all 2 cases: exit &lt;3&gt;\">x<small>broken</small></th>"),
            "{html}"
        );
        assert!(html.contains("class=\"err idle\""), "{html}");
        assert!(
            html.contains("<h3>Unmapped reasons only (1)</h3>"),
            "{html}"
        );
        assert!(!html.contains("Outcome differences ("), "{html}");
    }
}
