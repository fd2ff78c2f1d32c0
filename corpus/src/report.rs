//! Reports of a corpus run: the matrix (cases × validators, with the documented expectations
//! beside them), the differences (validators disagreeing with each other or with a documented
//! expectation), a self-contained HTML page, a summary table, and the snapshot text that pins
//! every verdict in CI.
//!
//! Everything here is a pure function of a [`RunReport`], so the same run renders the same bytes;
//! versions and timings live only in the header lines, never in the snapshot.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anchorsmith_validators::runner::RunResults;
use anchorsmith_validators::Verdict;

use crate::spec::Outcome;
use crate::Corpus;

/// Whether a real verdict has the documented outcome; `None` when the verdict is a skip or an
/// error, which neither confirms nor contradicts a document.
pub fn outcome_matches(documented: Outcome, verdict: &Verdict) -> Option<bool> {
    match verdict {
        Verdict::Accept { .. } => Some(documented == Outcome::Accept),
        Verdict::Reject { .. } => Some(documented == Outcome::Reject),
        Verdict::Skip { .. } | Verdict::Error { .. } => None,
    }
}

/// One documented expectation attached to a case, with the engines that embody its client.
#[derive(Clone, Debug)]
pub struct ExpectationView {
    pub client: String,
    pub outcome: Outcome,
    pub seed_file: String,
    pub quote: String,
    /// Validator names whose verdicts are judged against this expectation (from clients.toml).
    pub engines: Vec<String>,
}

/// One validator column.
#[derive(Clone, Debug)]
pub struct ValidatorColumn {
    pub name: String,
    pub version: String,
    pub profile: String,
}

/// One case row.
#[derive(Clone, Debug)]
pub struct CaseRow {
    pub id: String,
    pub scenario: String,
    /// One line: served chain, store, cache, time.
    pub summary: String,
    /// The verdict derived from the topology graph (RFC 5280 path search), with its reason.
    pub reference: (Outcome, String),
    pub expectations: Vec<ExpectationView>,
    /// One verdict per column, in column order.
    pub verdicts: Vec<Verdict>,
}

/// Everything a corpus run produced.
#[derive(Clone, Debug)]
pub struct RunReport {
    pub columns: Vec<ValidatorColumn>,
    pub rows: Vec<CaseRow>,
    /// Questions answered first in the matrix and the HTML page (`corpus/questions.toml`).
    pub questions: Vec<Question>,
    /// The scenarios of the rows, for the HTML page's headings, diagrams and timelines.
    pub scenarios: Vec<ScenarioView>,
}

/// What the HTML page shows of a scenario above its matrix.
#[derive(Clone, Debug)]
pub struct ScenarioView {
    pub name: String,
    pub title: String,
    pub seed_file: String,
    pub description: String,
    pub diagram: String,
    pub timeline_svg: String,
}

/// A question the report answers from the verdicts of the named cases.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub text: String,
    pub cases: Vec<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionsFile {
    question: Vec<Question>,
}

/// Reads `questions.toml`. Errors name the file, the line and column, and the field; a case id
/// that is not in the corpus is an error too, so a renamed case cannot silently drop an answer.
pub fn load_questions(path: &std::path::Path, corpus: &Corpus) -> Result<Vec<Question>, String> {
    let source =
        std::fs::read_to_string(path).map_err(|error| format!("{}: {error}", path.display()))?;
    let file: QuestionsFile = toml::from_str(&source).map_err(|error| {
        let (line, column) = error
            .span()
            .map(|span| line_column(&source, span.start))
            .unwrap_or((1, 1));
        format!("{}:{line}:{column}: {}", path.display(), error.message())
    })?;
    for (index, question) in file.question.iter().enumerate() {
        if let Some(unknown) = question.cases.iter().find(|id| corpus.case(id).is_none()) {
            let offset = source.find(unknown.as_str()).unwrap_or(0);
            let (line, column) = line_column(&source, offset);
            return Err(format!(
                "{}:{line}:{column}: field `question[{index}].cases`: unknown case id `{unknown}`",
                path.display()
            ));
        }
    }
    Ok(file.question)
}

fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |newline| before.len() - newline - 1)
        + 1;
    (line, column)
}

/// The answers as markdown: per question, the named cases and every validator's verdict.
fn render_questions_md(report: &RunReport) -> String {
    let mut text = String::new();
    if report.questions.is_empty() {
        return text;
    }
    text.push_str("\n## Questions this run answers\n");
    let names: Vec<&str> = report
        .columns
        .iter()
        .map(|column| column.name.as_str())
        .collect();
    for question in &report.questions {
        writeln!(text, "\n**{}**\n", question.text).unwrap();
        writeln!(text, "| case | {} |", names.join(" | ")).unwrap();
        writeln!(text, "|---|{}", "---|".repeat(names.len())).unwrap();
        for id in &question.cases {
            if let Some(row) = report.rows.iter().find(|row| &row.id == id) {
                let cells: Vec<String> = row.verdicts.iter().map(cell).collect();
                writeln!(text, "| `{}` | {} |", id, cells.join(" | ")).unwrap();
            }
        }
    }
    text
}

impl RunReport {
    /// Joins the corpus (scenarios, expectations, clients, reference verdicts) with the real
    /// verdicts (looked up by case id). `results` must come from running `cases`.
    pub fn new(corpus: &Corpus, cases: &[&crate::Case], results: &RunResults) -> RunReport {
        let columns = results
            .runs
            .iter()
            .map(|run| ValidatorColumn {
                name: run.name.clone(),
                version: run.version.clone(),
                profile: run.profile.clone(),
            })
            .collect();
        let rows = cases
            .iter()
            .map(|case| CaseRow {
                id: case.id.clone(),
                scenario: case.scenario.clone(),
                summary: case_summary(case),
                reference: match &case.reference {
                    crate::ReferenceVerdict::Accept { path } => {
                        (Outcome::Accept, format!("path: {}", path.join(" → ")))
                    }
                    crate::ReferenceVerdict::Reject { reason } => (Outcome::Reject, reason.clone()),
                },
                expectations: case
                    .expectations
                    .iter()
                    .map(|expectation| ExpectationView {
                        client: expectation.client.clone(),
                        outcome: expectation.outcome,
                        seed_file: expectation.seed_file.clone(),
                        quote: expectation.quote.clone(),
                        engines: corpus
                            .clients
                            .get(&expectation.client)
                            .map(|client| client.engines.clone())
                            .unwrap_or_default(),
                    })
                    .collect(),
                verdicts: results
                    .runs
                    .iter()
                    .map(|run| run.verdicts[&case.id].clone())
                    .collect(),
            })
            .collect();
        let scenarios = corpus
            .scenarios
            .iter()
            .filter(|scenario| cases.iter().any(|case| case.scenario == scenario.name))
            .map(|scenario| ScenarioView {
                name: scenario.name.clone(),
                title: scenario.title.clone(),
                seed_file: scenario.seed_file.clone(),
                description: scenario.description.clone(),
                diagram: scenario.diagram.clone(),
                timeline_svg: crate::timeline::render_svg(scenario),
            })
            .collect();
        RunReport {
            columns,
            rows,
            questions: Vec::new(),
            scenarios,
        }
    }
}

/// One line a person reads: what was served, trusted, cached, and when.
fn case_summary(case: &crate::Case) -> String {
    let list = |ids: &[String]| {
        if ids.is_empty() {
            "—".to_string()
        } else {
            ids.join(", ")
        }
    };
    format!(
        "served: {}; trust store: {}; cache: {}; AIA fetch: {}; at {}; name {}",
        case.served_chain.join(" → "),
        list(&case.trust_store),
        list(&case.cache),
        if case.aia { "allowed" } else { "no" },
        case.validation_time
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        case.dns_name
    )
}

/// Why a case is listed in `differences.md`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DifferenceReason {
    /// At least one validator accepts and at least one rejects.
    ValidatorsDisagree {
        accepting: Vec<String>,
        rejecting: Vec<String>,
    },
    /// All validators reject, but not for the same normalized reason.
    RejectKindsDiffer { kinds: Vec<(String, String)> },
    /// A validator that embodies a documented client does not do what the document reports.
    ContradictsDocument {
        validator: String,
        client: String,
        documented: Outcome,
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

/// Every case where validators disagree with each other, reject for different reasons,
/// contradict a documented expectation, or fail; in row order.
pub fn differences<'a>(report: &'a RunReport) -> Vec<CaseDifferences<'a>> {
    report
        .rows
        .iter()
        .filter_map(|row| {
            let reasons = row_differences(&report.columns, row);
            (!reasons.is_empty()).then_some(CaseDifferences { row, reasons })
        })
        .collect()
}

fn row_differences(columns: &[ValidatorColumn], row: &CaseRow) -> Vec<DifferenceReason> {
    let mut reasons = Vec::new();
    let named = || {
        columns
            .iter()
            .map(|column| column.name.clone())
            .zip(row.verdicts.iter())
    };
    let accepting: Vec<String> = named()
        .filter(|(_, v)| matches!(v, Verdict::Accept { .. }))
        .map(|(n, _)| n)
        .collect();
    let rejecting: Vec<String> = named()
        .filter(|(_, v)| matches!(v, Verdict::Reject { .. }))
        .map(|(n, _)| n)
        .collect();
    let others_decided = !accepting.is_empty() || !rejecting.is_empty();
    if !accepting.is_empty() && !rejecting.is_empty() {
        reasons.push(DifferenceReason::ValidatorsDisagree {
            accepting,
            rejecting,
        });
    } else if accepting.is_empty() && rejecting.len() > 1 {
        let kinds: Vec<(String, String)> = named()
            .filter_map(|(name, verdict)| match verdict {
                Verdict::Reject { kind, .. } => Some((name, kind.to_string())),
                _ => None,
            })
            .collect();
        let first_kind = &kinds[0].1;
        if kinds.iter().any(|(_, kind)| kind != first_kind) {
            reasons.push(DifferenceReason::RejectKindsDiffer { kinds });
        }
    }
    for expectation in &row.expectations {
        for (name, verdict) in named() {
            if !expectation.engines.contains(&name) {
                continue;
            }
            if outcome_matches(expectation.outcome, verdict) == Some(false) {
                reasons.push(DifferenceReason::ContradictsDocument {
                    validator: name,
                    client: expectation.client.clone(),
                    documented: expectation.outcome,
                    actual: verdict.label(),
                    seed_file: expectation.seed_file.clone(),
                    quote: expectation.quote.clone(),
                });
            }
        }
    }
    for (name, verdict) in named() {
        if let (Verdict::Skip { reason }, true) = (verdict, others_decided) {
            reasons.push(DifferenceReason::Skipped {
                validator: name.clone(),
                reason: reason.clone(),
            });
        }
        if let Verdict::Error { detail } = verdict {
            reasons.push(DifferenceReason::ValidatorError {
                validator: name,
                detail: detail.clone(),
            });
        }
    }
    reasons
}

/// How one validator's verdicts compare with the documented expectations it embodies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExpectationScore {
    pub confirmed: usize,
    pub contradicted: usize,
    /// Skipped or errored on a case with an applicable expectation.
    pub undecided: usize,
}

/// Per validator (column order): counts of verdict labels and the expectation score.
pub fn validator_totals(
    report: &RunReport,
) -> Vec<(BTreeMap<&'static str, usize>, ExpectationScore)> {
    (0..report.columns.len())
        .map(|column| {
            let mut counts = BTreeMap::new();
            let mut score = ExpectationScore::default();
            for row in &report.rows {
                let verdict = &row.verdicts[column];
                // MERGE: keyed by `anchorsmith_validators::Outcome` once the report is rewritten.
                *counts.entry(verdict.outcome().into()).or_insert(0) += 1;
                for expectation in row
                    .expectations
                    .iter()
                    .filter(|e| e.engines.contains(&report.columns[column].name))
                {
                    match outcome_matches(expectation.outcome, verdict) {
                        Some(true) => score.confirmed += 1,
                        Some(false) => score.contradicted += 1,
                        None => score.undecided += 1,
                    }
                }
            }
            (counts, score)
        })
        .collect()
}

/// The compact cell text used in the matrix and the snapshot: `accept`, `reject:expired`, ….
fn cell(verdict: &Verdict) -> String {
    verdict.label()
}

/// The snapshot that CI pins: outcome and kind per case and validator, nothing that varies
/// between machines (no versions, no timings, no native messages).
pub fn render_snapshot(report: &RunReport) -> String {
    let mut text = String::new();
    let names: Vec<&str> = report
        .columns
        .iter()
        .map(|column| column.name.as_str())
        .collect();
    writeln!(text, "# case | reference | {}", names.join(" | ")).unwrap();
    for row in &report.rows {
        let cells: Vec<String> = row.verdicts.iter().map(cell).collect();
        writeln!(
            text,
            "{} | {} | {}",
            row.id,
            row.reference.0.as_str(),
            cells.join(" | ")
        )
        .unwrap();
    }
    text
}

fn documented_summary(row: &CaseRow) -> String {
    if row.expectations.is_empty() {
        return "—".into();
    }
    row.expectations
        .iter()
        .map(|expectation| {
            format!(
                "{}: {} ({})",
                expectation.client,
                expectation.outcome.as_str(),
                short_seed(&expectation.seed_file)
            )
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

/// `003_4218de98dea6ef17.txt` → `seed 003`.
fn short_seed(seed_file: &str) -> String {
    format!("seed {}", seed_file.split('_').next().unwrap_or(seed_file))
}

fn header_lines(report: &RunReport, text: &mut String) {
    for column in &report.columns {
        let profile = if column.profile.is_empty() {
            String::new()
        } else {
            format!(" — {}", column.profile)
        };
        writeln!(text, "- `{}`: {}{}", column.name, column.version, profile).unwrap();
    }
}

/// `matrix.md`: every case × validator, the reference verdict and the documented expectations.
pub fn render_matrix_md(report: &RunReport) -> String {
    let mut text = String::from("# Corpus matrix\n\nValidators:\n\n");
    header_lines(report, &mut text);
    text.push_str(
        "\n`reference` is derived from the topology graph (a path search over the topology; an anchor may be an intermediate but must be within its validity). \
`documented` lists what the seed documents report for a client behaviour; ✗ marks a verdict that \
contradicts a documented expectation its validator embodies.\n",
    );
    text.push_str(&render_questions_md(report));
    let mut current_scenario = "";
    for row in &report.rows {
        if row.scenario != current_scenario {
            current_scenario = &row.scenario;
            writeln!(text, "\n## {}\n", row.scenario).unwrap();
            let names: Vec<&str> = report
                .columns
                .iter()
                .map(|column| column.name.as_str())
                .collect();
            writeln!(
                text,
                "| case | reference | {} | documented |",
                names.join(" | ")
            )
            .unwrap();
            writeln!(text, "|---|---|{}---|", "---|".repeat(names.len())).unwrap();
        }
        let short_id = row
            .id
            .strip_prefix(&format!("{}::", row.scenario))
            .unwrap_or(&row.id);
        let cells: Vec<String> = report
            .columns
            .iter()
            .zip(&row.verdicts)
            .map(|(column, verdict)| {
                let contradicted = row.expectations.iter().any(|e| {
                    e.engines.contains(&column.name)
                        && outcome_matches(e.outcome, verdict) == Some(false)
                });
                format!("{}{}", cell(verdict), if contradicted { " ✗" } else { "" })
            })
            .collect();
        writeln!(
            text,
            "| `{}` | {} | {} | {} |",
            short_id,
            row.reference.0.as_str(),
            cells.join(" | "),
            documented_summary(row)
        )
        .unwrap();
    }
    text
}

fn describe_reason(reason: &DifferenceReason) -> String {
    match reason {
        DifferenceReason::ValidatorsDisagree { accepting, rejecting } => {
            format!("validators disagree: accepted by {}; rejected by {}", accepting.join(", "), rejecting.join(", "))
        }
        DifferenceReason::RejectKindsDiffer { kinds } => format!(
            "all reject, for different reasons: {}",
            kinds.iter().map(|(name, kind)| format!("{name} {kind}")).collect::<Vec<_>>().join(", ")
        ),
        DifferenceReason::ContradictsDocument { validator, client, documented, actual, seed_file, quote } => format!(
            "`{validator}` ({actual}) contradicts the documented `{client}` outcome ({}) — {seed_file}: “{quote}”",
            documented.as_str()
        ),
        DifferenceReason::ValidatorError { validator, detail } => format!("`{validator}` failed: {detail}"),
        DifferenceReason::Skipped { validator, reason } => format!("`{validator}` skipped it: {reason}"),
    }
}

fn verdict_detail(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Accept { chain_built } if chain_built.is_empty() => "accept".into(),
        Verdict::Accept { chain_built } => {
            format!("accept, chain built: {}", chain_built.join(" → "))
        }
        Verdict::Reject { kind, detail } => format!("reject ({kind}): {detail}"),
        Verdict::Skip { reason } => format!("skip: {reason}"),
        Verdict::Error { detail } => format!("error: {detail}"),
    }
}

/// `differences.md`: every case where validators disagree with each other or with a documented
/// expectation, with the reasons and each validator's native message.
pub fn render_differences_md(report: &RunReport) -> String {
    let differences = differences(report);
    let mut text = String::from("# Differences\n\n");
    writeln!(
        text,
        "{} of {} cases show a difference between validators, or between a validator and a documented expectation.\n",
        differences.len(),
        report.rows.len()
    )
    .unwrap();
    for difference in &differences {
        let row = difference.row;
        writeln!(text, "## `{}`\n\n{}\n", row.id, row.summary).unwrap();
        for reason in &difference.reasons {
            writeln!(text, "- {}", describe_reason(reason)).unwrap();
        }
        writeln!(
            text,
            "- reference (graph): {} — {}",
            row.reference.0.as_str(),
            row.reference.1
        )
        .unwrap();
        text.push('\n');
        for (column, verdict) in report.columns.iter().zip(&row.verdicts) {
            writeln!(text, "  - `{}`: {}", column.name, verdict_detail(verdict)).unwrap();
        }
        text.push('\n');
    }
    text
}

/// The table printed at the end of `cargo xtask corpus`.
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
    for (column, (counts, score)) in report.columns.iter().zip(&totals) {
        let count = |word: &str| counts.get(word).copied().unwrap_or(0);
        writeln!(
            text,
            "{:width$}  {:>6} {:>6} {:>5} {:>5}   {:>25}",
            column.name,
            count("accept"),
            count("reject"),
            count("skip"),
            count("error"),
            format!(
                "{} / {} / {}",
                score.confirmed, score.contradicted, score.undecided
            )
        )
        .unwrap();
    }
    let differences = differences(report);
    writeln!(
        text,
        "{} cases, {} with differences (see differences.md)",
        report.rows.len(),
        differences.len()
    )
    .unwrap();
    text
}

/// Escapes text for HTML and SVG.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn css_class(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Accept { .. } => "acc",
        Verdict::Reject { .. } => "rej",
        Verdict::Skip { .. } => "skip",
        Verdict::Error { .. } => "err",
    }
}

/// `report.html`: one self-contained file (inline CSS, no scripts, no external links needed):
/// the summary, a coloured matrix per scenario with tooltips carrying native messages, the
/// differences and every documented expectation with its quote.
pub fn render_html(report: &RunReport) -> String {
    let mut html = String::new();
    html.push_str(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>anchorsmith corpus report</title>\n<style>\n\
body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}\n\
td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px;vertical-align:top}th{background:#f4f4f4}\n\
td.acc{background:#c8efc8}td.rej{background:#f6c6c6}td.skip{background:#eee;color:#777}td.err{background:#f9e79f}\n\
td.bad{outline:3px solid #b00;outline-offset:-3px}code{font-size:12px}.quote{color:#555;font-style:italic}\n\
pre{background:#f8f8f8;padding:1em}\n</style></head><body>\n<h1>anchorsmith corpus report</h1>\n",
    );
    html.push_str("<h2>Validators</h2><ul>");
    for column in &report.columns {
        write!(
            html,
            "<li><code>{}</code>: {} {}</li>",
            escape(&column.name),
            escape(&column.version),
            escape(&column.profile)
        )
        .unwrap();
    }
    html.push_str("</ul>\n<h2>Summary</h2>\n<pre>");
    html.push_str(&escape(&render_summary_table(report)));
    html.push_str(
        "</pre>\n<p>Green accepts, red rejects, grey skipped, yellow failed to run. A thick red frame marks a verdict \
that contradicts a documented expectation its validator embodies. Hover a cell for the native message.</p>\n",
    );
    for question in &report.questions {
        write!(
            html,
            "<h3>{}</h3>\n<table><tr><th>case</th>",
            escape(&question.text)
        )
        .unwrap();
        for column in &report.columns {
            write!(html, "<th>{}</th>", escape(&column.name)).unwrap();
        }
        html.push_str("</tr>\n");
        for row in report
            .rows
            .iter()
            .filter(|row| question.cases.contains(&row.id))
        {
            write!(html, "<tr><td><code>{}</code></td>", escape(&row.id)).unwrap();
            for verdict in &row.verdicts {
                write!(
                    html,
                    "<td class=\"{}\" title=\"{}\">{}</td>",
                    css_class(verdict),
                    escape(&verdict_detail(verdict)),
                    escape(&cell(verdict))
                )
                .unwrap();
            }
            html.push_str("</tr>\n");
        }
        html.push_str("</table>\n");
    }
    let mut current_scenario = "";
    for row in &report.rows {
        if row.scenario != current_scenario {
            if !current_scenario.is_empty() {
                html.push_str("</table>\n");
            }
            current_scenario = &row.scenario;
            write!(html, "<h2>{}</h2>\n", escape(&row.scenario)).unwrap();
            if let Some(scenario) = report
                .scenarios
                .iter()
                .find(|scenario| scenario.name == row.scenario)
            {
                write!(
                    html,
                    "<p><b>{}</b> (from <code>{}</code>)</p><p>{}</p><pre>{}</pre>\n{}\n",
                    escape(&scenario.title),
                    escape(&scenario.seed_file),
                    escape(&scenario.description),
                    escape(&scenario.diagram),
                    scenario.timeline_svg
                )
                .unwrap();
            }
            html.push_str("<table><tr><th>case</th><th>reference</th>");
            for column in &report.columns {
                write!(html, "<th>{}</th>", escape(&column.name)).unwrap();
            }
            html.push_str("<th>documented</th></tr>\n");
        }
        let short_id = row
            .id
            .strip_prefix(&format!("{}::", row.scenario))
            .unwrap_or(&row.id);
        write!(
            html,
            "<tr><td title=\"{}\"><code>{}</code></td><td class=\"{}\" title=\"{}\">{}</td>",
            escape(&row.summary),
            escape(short_id),
            if row.reference.0 == Outcome::Accept {
                "acc"
            } else {
                "rej"
            },
            escape(&row.reference.1),
            row.reference.0.as_str()
        )
        .unwrap();
        for (column, verdict) in report.columns.iter().zip(&row.verdicts) {
            let contradicted = row.expectations.iter().any(|e| {
                e.engines.contains(&column.name)
                    && outcome_matches(e.outcome, verdict) == Some(false)
            });
            write!(
                html,
                "<td class=\"{}{}\" title=\"{}\">{}</td>",
                css_class(verdict),
                if contradicted { " bad" } else { "" },
                escape(&verdict_detail(verdict)),
                escape(&cell(verdict))
            )
            .unwrap();
        }
        html.push_str("<td>");
        for expectation in &row.expectations {
            write!(
                html,
                "{}: <b>{}</b> <span class=\"quote\" title=\"{}\">({})</span><br>",
                escape(&expectation.client),
                expectation.outcome.as_str(),
                escape(&expectation.quote),
                escape(&short_seed(&expectation.seed_file))
            )
            .unwrap();
        }
        html.push_str("</td></tr>\n");
    }
    if !current_scenario.is_empty() {
        html.push_str("</table>\n");
    }
    html.push_str("<h2>Differences</h2>\n");
    for difference in differences(report) {
        write!(
            html,
            "<h3><code>{}</code></h3><p>{}</p><ul>",
            escape(&difference.row.id),
            escape(&difference.row.summary)
        )
        .unwrap();
        for reason in &difference.reasons {
            write!(html, "<li>{}</li>", escape(&describe_reason(reason))).unwrap();
        }
        html.push_str("</ul>\n");
    }
    html.push_str("</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchorsmith_validators::RejectKind;

    fn reject(kind: RejectKind) -> Verdict {
        Verdict::Reject {
            kind,
            detail: "native".into(),
        }
    }

    fn accept() -> Verdict {
        Verdict::Accept {
            chain_built: vec![],
        }
    }

    fn report(verdicts: Vec<Verdict>, expectations: Vec<ExpectationView>) -> RunReport {
        RunReport {
            columns: ["a", "b"]
                .iter()
                .map(|n| ValidatorColumn {
                    name: n.to_string(),
                    version: "1".into(),
                    profile: String::new(),
                })
                .collect(),
            questions: vec![],
            scenarios: vec![],
            rows: vec![CaseRow {
                id: "s::c".into(),
                scenario: "s".into(),
                summary: "leaf".into(),
                reference: (Outcome::Accept, "path found".into()),
                expectations,
                verdicts,
            }],
        }
    }

    fn expectation(outcome: Outcome, engines: &[&str]) -> ExpectationView {
        ExpectationView {
            client: "path-builder".into(),
            outcome,
            seed_file: "000_x.txt".into(),
            quote: "q".into(),
            engines: engines.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn disagreement_is_listed() {
        let report = report(vec![accept(), reject(RejectKind::Expired)], vec![]);
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
        let report = report(
            vec![
                accept(),
                Verdict::Skip {
                    reason: "feature".into(),
                },
            ],
            vec![],
        );
        let found = differences(&report);
        assert_eq!(
            found[0].reasons,
            vec![DifferenceReason::Skipped {
                validator: "b".into(),
                reason: "feature".into()
            }]
        );
    }

    #[test]
    fn agreement_is_not_a_difference() {
        let report = report(
            vec![reject(RejectKind::Expired), reject(RejectKind::Expired)],
            vec![],
        );
        assert!(differences(&report).is_empty());
    }

    #[test]
    fn contradiction_only_counts_for_embodying_engines() {
        let report = report(
            vec![
                reject(RejectKind::UnknownIssuer),
                reject(RejectKind::UnknownIssuer),
            ],
            vec![expectation(Outcome::Accept, &["b"])],
        );
        let found = differences(&report);
        assert_eq!(found[0].reasons.len(), 1);
        assert!(
            matches!(&found[0].reasons[0], DifferenceReason::ContradictsDocument { validator, .. } if validator == "b")
        );
        let totals = validator_totals(&report);
        assert_eq!(totals[0].1, ExpectationScore::default());
        assert_eq!(
            totals[1].1,
            ExpectationScore {
                confirmed: 0,
                contradicted: 1,
                undecided: 0
            }
        );
    }

    #[test]
    fn snapshot_has_no_native_detail() {
        let report = report(vec![accept(), reject(RejectKind::Expired)], vec![]);
        assert_eq!(
            render_snapshot(&report),
            "# case | reference | a | b\ns::c | accept | accept | reject:expired\n"
        );
    }

    #[test]
    fn html_escapes_and_marks_contradictions() {
        let mut report = report(
            vec![
                accept(),
                Verdict::Error {
                    detail: "<boom>".into(),
                },
            ],
            vec![expectation(Outcome::Reject, &["a"])],
        );
        report.rows[0].summary = "<script>".into();
        let html = render_html(&report);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;boom&gt;"));
        assert!(html.contains("class=\"acc bad\""));
    }
}
