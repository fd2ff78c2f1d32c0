//! The target view: one row per case, one column per target (`corpus/targets/`), and the
//! documented outcome beside it. This is where documented expectations are judged: a target's
//! verdict is compared with every expectation whose client the target claims to be, on the cases
//! the target applies to. A library column claims no client, so it is never judged here; its
//! differences from the other libraries stay in the matrix and in `differences.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anchorsmith_validators::runner::RunResults;
use anchorsmith_validators::Verdict;
use maud::{html, Markup};

use super::model::{outcome_matches, CaseRow, RunReport};
use super::wording::{expected_label, short_seed, verdict_detail};
use crate::{Case, Expectation, Target, TargetEngine};

/// What the report shows of one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetColumn {
    pub name: String,
    pub population: String,
    pub seed_file: String,
    pub behaviours: Vec<String>,
    pub quirks: Vec<String>,
    /// `nss-pkix` or `client model (anchor-expiry = "ignored")`.
    pub engine: String,
    /// The validator column whose verdicts are this target's, for a real engine.
    pub engine_column: Option<String>,
    /// Scenario → the stores the target holds there, for the legend.
    pub placements: BTreeMap<String, Vec<String>>,
}

impl TargetColumn {
    pub fn of(target: &Target) -> TargetColumn {
        TargetColumn {
            name: target.name.clone(),
            population: target.population.clone(),
            seed_file: target.seed_file.clone(),
            behaviours: target.behaviours.clone(),
            quirks: target.quirks.clone(),
            engine: target.engine.label(),
            engine_column: match &target.engine {
                TargetEngine::Validator { name } => Some(name.clone()),
                TargetEngine::Model { .. } => None,
            },
            placements: target
                .scenarios
                .iter()
                .map(|(scenario, holding)| (scenario.clone(), holding.stores.clone()))
                .collect(),
        }
    }

    /// Whether this target stands for the client of `expectation`.
    pub fn claims(&self, expectation: &Expectation) -> bool {
        self.name == expectation.client || self.behaviours.contains(&expectation.client)
    }
}

/// Case id → target name → the cases each target applies to, decided before the run.
pub type Applicability = BTreeMap<String, Vec<String>>;

/// For each case of `cases`, the targets that apply to it, in target order.
pub fn applicability(targets: &[Target], cases: &[&Case]) -> Applicability {
    cases
        .iter()
        .map(|case| {
            let names = targets
                .iter()
                .filter(|target| target.applies_to(case))
                .map(|target| target.name.clone())
                .collect();
            (case.id.clone(), names)
        })
        .collect()
}

/// Case id → target name → verdict, for every case a target applies to: the engine column's
/// verdict for a real engine, the target's own model run otherwise.
pub fn target_verdicts(
    targets: &[TargetColumn],
    applicable: &Applicability,
    columns: &RunResults,
    models: &RunResults,
) -> BTreeMap<String, BTreeMap<String, Verdict>> {
    let find = |results: &RunResults, run: &str, case: &str| {
        results
            .runs
            .iter()
            .find(|candidate| candidate.name == run)
            .map(|found| found.verdicts.get(case).cloned())
    };
    let mut verdicts: BTreeMap<String, BTreeMap<String, Verdict>> = BTreeMap::new();
    for (case, names) in applicable {
        for name in names {
            let Some(target) = targets.iter().find(|target| target.name == *name) else {
                continue;
            };
            let verdict = match &target.engine_column {
                Some(column) => match find(columns, column, case) {
                    Some(Some(verdict)) => verdict,
                    Some(None) => Verdict::Error {
                        detail: format!("{column} returned no verdict for this case"),
                    },
                    None => Verdict::Skip {
                        reason: format!("its engine `{column}` was not part of this run"),
                    },
                },
                None => match find(models, name, case) {
                    Some(Some(verdict)) => verdict,
                    _ => Verdict::Error {
                        detail: "the client model returned no verdict for this case".into(),
                    },
                },
            };
            verdicts
                .entry(case.clone())
                .or_default()
                .insert(name.clone(), verdict);
        }
    }
    verdicts
}

/// How a target's verdict stands against one expectation it is judged by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Judgement {
    Confirms,
    Contradicts,
    /// The target skipped or failed: it neither confirms nor contradicts.
    Undecided,
}

/// Judges `verdict` against `expectation`.
pub fn judge(expectation: &Expectation, verdict: &Verdict) -> Judgement {
    match outcome_matches(expectation.outcome, verdict) {
        Some(true) => Judgement::Confirms,
        Some(false) => Judgement::Contradicts,
        None => Judgement::Undecided,
    }
}

/// One judged pair: a target's verdict on a case against an expectation it claims.
#[derive(Clone, Debug)]
pub struct TargetCheck<'a> {
    pub row: &'a CaseRow,
    pub target: &'a TargetColumn,
    pub expectation: &'a Expectation,
    pub verdict: &'a Verdict,
    pub judgement: Judgement,
}

/// Every (case, target, expectation) the run can judge, in row then target order.
pub fn target_checks(report: &RunReport) -> Vec<TargetCheck<'_>> {
    let mut checks = Vec::new();
    for row in &report.rows {
        let Some(verdicts) = report.target_verdicts.get(&row.id) else {
            continue;
        };
        for target in &report.targets {
            let Some(verdict) = verdicts.get(&target.name) else {
                continue;
            };
            for expectation in &row.expectations {
                if target.claims(expectation) {
                    checks.push(TargetCheck {
                        row,
                        target,
                        expectation,
                        verdict,
                        judgement: judge(expectation, verdict),
                    });
                }
            }
        }
    }
    checks
}

/// The judgement of `target`'s verdict on `row`: the worst over the expectations it claims there,
/// `None` when it claims none.
fn cell_judgement(report: &RunReport, row: &CaseRow, target: &TargetColumn) -> Option<Judgement> {
    let verdict = report.target_verdicts.get(&row.id)?.get(&target.name)?;
    row.expectations
        .iter()
        .filter(|expectation| target.claims(expectation))
        .map(|expectation| judge(expectation, verdict))
        .max_by_key(|judgement| match judgement {
            Judgement::Contradicts => 2,
            Judgement::Undecided => 1,
            Judgement::Confirms => 0,
        })
}

/// Counts of the judged pairs: confirmed, contradicted, undecided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CheckCounts {
    pub confirmed: usize,
    pub contradicted: usize,
    pub undecided: usize,
}

pub fn check_counts(checks: &[TargetCheck<'_>]) -> CheckCounts {
    let mut counts = CheckCounts::default();
    for check in checks {
        match check.judgement {
            Judgement::Confirms => counts.confirmed += 1,
            Judgement::Contradicts => counts.contradicted += 1,
            Judgement::Undecided => counts.undecided += 1,
        }
    }
    counts
}

/// The targets placed in `scenario`, in target order.
fn targets_of<'a>(report: &'a RunReport, scenario: &str) -> Vec<&'a TargetColumn> {
    report
        .targets
        .iter()
        .filter(|target| target.placements.contains_key(scenario))
        .collect()
}

/// The rows of `scenario` that at least one target applies to.
fn target_rows<'a>(report: &'a RunReport, scenario: &'a str) -> Vec<&'a CaseRow> {
    report
        .rows_of(scenario)
        .filter(|row| report.target_verdicts.contains_key(&row.id))
        .collect()
}

fn mark(judgement: Option<Judgement>) -> &'static str {
    match judgement {
        Some(Judgement::Confirms) => " ✓",
        Some(Judgement::Contradicts) => " ✗",
        Some(Judgement::Undecided) => " ?",
        None => "",
    }
}

/// The documented outcomes of a row, one per expectation: `client: accept (seed 003)`.
fn documented(row: &CaseRow) -> Vec<String> {
    row.expectations
        .iter()
        .map(|expectation| {
            format!(
                "{}: {} ({})",
                expectation.client,
                expected_label(expectation.outcome),
                short_seed(&expectation.seed_file)
            )
        })
        .collect()
}

/// The markdown section: the targets, then per scenario the target view.
pub fn render_targets_md(report: &RunReport) -> String {
    let mut text = String::from("\n## Targets\n\n");
    if report.targets.is_empty() {
        text.push_str("No targets (`corpus/targets/`).\n");
        return text;
    }
    let checks = target_checks(report);
    let counts = check_counts(&checks);
    writeln!(
        text,
        "Documented expectations judged against the targets that claim their client: {} confirmed, {} contradicted, {} undecided (skipped or failed). ✓ confirms, ✗ contradicts, ? undecided, · the target is not placed in this case.\n",
        counts.confirmed, counts.contradicted, counts.undecided
    )
    .unwrap();
    for target in &report.targets {
        writeln!(
            text,
            "- `{}` ({}; implements: {}): {} Engine: {}.",
            target.name,
            short_seed(&target.seed_file),
            if target.behaviours.is_empty() {
                "—".to_string()
            } else {
                target.behaviours.join(", ")
            },
            target.population,
            target.engine
        )
        .unwrap();
    }
    for scenario in &report.scenarios {
        let targets = targets_of(report, &scenario.name);
        let rows = target_rows(report, &scenario.name);
        if targets.is_empty() || rows.is_empty() {
            continue;
        }
        writeln!(text, "\n### {} — targets\n", scenario.name).unwrap();
        let names: Vec<&str> = targets.iter().map(|target| target.name.as_str()).collect();
        writeln!(text, "| case | documented | {} |", names.join(" | ")).unwrap();
        writeln!(text, "|---|---|{}", "---|".repeat(names.len())).unwrap();
        for row in rows {
            let cells: Vec<String> = targets
                .iter()
                .map(|target| {
                    match report
                        .target_verdicts
                        .get(&row.id)
                        .and_then(|verdicts| verdicts.get(&target.name))
                    {
                        Some(verdict) => format!(
                            "{}{}",
                            verdict.label(),
                            mark(cell_judgement(report, row, target))
                        ),
                        None => "·".into(),
                    }
                })
                .collect();
            let documented = documented(row);
            writeln!(
                text,
                "| `{}` | {} | {} |",
                row.short_id(),
                if documented.is_empty() {
                    "—".to_string()
                } else {
                    documented.join("<br>")
                },
                cells.join(" | ")
            )
            .unwrap();
        }
    }
    let contradicted: Vec<&TargetCheck> = checks
        .iter()
        .filter(|check| check.judgement == Judgement::Contradicts)
        .collect();
    if !contradicted.is_empty() {
        text.push_str("\n### Contradicted expectations\n\n");
        for check in contradicted {
            writeln!(
                text,
                "- `{}` on `{}`: documented {} for `{}` ({}: “{}”), got {}.",
                check.target.name,
                check.row.id,
                expected_label(check.expectation.outcome),
                check.expectation.client,
                short_seed(&check.expectation.seed_file),
                check.expectation.quote,
                verdict_detail(check.verdict)
            )
            .unwrap();
        }
    }
    text
}

/// The HTML section: the targets, then per scenario the coloured target view.
pub fn targets_html(report: &RunReport) -> Markup {
    let counts = check_counts(&target_checks(report));
    html! {
        h2 #targets { "Targets" }
        p {
            "A target is a client population from the seed documents, with its trust store and an \
             engine: a real validator, or the client model with its quirks. Each documented \
             expectation is judged against the targets that claim its client: "
            b { (counts.confirmed) " confirmed" } ", "
            b { (counts.contradicted) " contradicted" } ", "
            (counts.undecided) " undecided. ✓ confirms, ✗ contradicts (framed in red), · not placed."
        }
        table {
            tr { th { "target" } th { "who" } th { "implements" } th { "engine" } th { "quirks" } }
            @for target in &report.targets {
                tr {
                    td { code { (target.name) } br; small { (short_seed(&target.seed_file)) } }
                    td { (target.population) }
                    td { (target.behaviours.join(", ")) }
                    td { (target.engine) }
                    td { ul { @for quirk in &target.quirks { li { (quirk) } } } }
                }
            }
        }
        @for scenario in &report.scenarios {
            @let targets = targets_of(report, &scenario.name);
            @let rows = target_rows(report, &scenario.name);
            @if !targets.is_empty() && !rows.is_empty() {
                h3 { (scenario.name) " — targets" }
                table {
                    tr {
                        th { "case" } th { "documented" }
                        @for target in &targets { th { (target.name) } }
                    }
                    @for row in &rows {
                        tr {
                            td title=(row.summary) { code { (row.short_id()) } }
                            td { @for line in documented(row) { (line) br; } }
                            @for target in &targets {
                                (target_cell(report, row, target))
                            }
                        }
                    }
                }
            }
        }
    }
}

fn target_cell(report: &RunReport, row: &CaseRow, target: &TargetColumn) -> Markup {
    let verdict = report
        .target_verdicts
        .get(&row.id)
        .and_then(|verdicts| verdicts.get(&target.name));
    let judgement = cell_judgement(report, row, target);
    html! {
        @match verdict {
            None => td.skip { "·" },
            Some(verdict) => {
                @let colour = match verdict {
                    Verdict::Accept { .. } => "acc",
                    Verdict::Reject { .. } => "rej",
                    Verdict::Skip { .. } => "skip",
                    Verdict::Error { .. } => "err",
                };
                td class={ (colour) @if judgement == Some(Judgement::Contradicts) { " bad" } }
                    title=(verdict_detail(verdict)) {
                    (verdict.label()) (mark(judgement))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::fixture::*;
    use super::*;
    use crate::ExpectedOutcome;
    use anchorsmith_validators::runner::ValidatorRun;
    use anchorsmith_validators::RejectKind;

    fn column(name: &str, engine_column: Option<&str>) -> TargetColumn {
        TargetColumn {
            name: name.into(),
            population: "p".into(),
            seed_file: "000_x.txt".into(),
            behaviours: vec!["path-builder".into()],
            quirks: vec![],
            engine: engine_column.unwrap_or("client model").into(),
            engine_column: engine_column.map(String::from),
            placements: BTreeMap::from([("s".to_string(), vec!["root".to_string()])]),
        }
    }

    fn run(name: &str, verdict: Verdict) -> ValidatorRun {
        ValidatorRun {
            name: name.into(),
            version: "1".into(),
            profile: String::new(),
            verdicts: BTreeMap::from([("s::c".to_string(), verdict)]),
            wall_time: std::time::Duration::ZERO,
        }
    }

    #[test]
    fn a_real_engine_target_takes_its_column_and_a_model_target_its_own_run() {
        let targets = [
            column("real", Some("openssl")),
            column("modelled", None),
            column("absent", Some("gnutls")),
        ];
        let applicable = BTreeMap::from([(
            "s::c".to_string(),
            vec!["real".into(), "modelled".into(), "absent".into()],
        )]);
        let columns = RunResults {
            runs: vec![run("openssl", accept())],
        };
        let models = RunResults {
            runs: vec![run("modelled", reject(RejectKind::Expired))],
        };
        let verdicts = target_verdicts(&targets, &applicable, &columns, &models);
        assert_eq!(verdicts["s::c"]["real"], accept());
        assert_eq!(verdicts["s::c"]["modelled"], reject(RejectKind::Expired));
        assert!(matches!(verdicts["s::c"]["absent"], Verdict::Skip { .. }));
    }

    #[test]
    fn only_a_target_that_claims_the_client_is_judged_and_a_contradiction_is_marked() {
        let mut report = report(
            accept(),
            accept(),
            vec![expectation(ExpectedOutcome::Reject)],
            &[],
        );
        let mut other = column("other", None);
        other.behaviours = vec!["android-ignores-anchor-expiry".into()];
        report.targets = vec![column("claims", None), other];
        report.target_verdicts = BTreeMap::from([(
            "s::c".to_string(),
            BTreeMap::from([
                ("claims".to_string(), accept()),
                ("other".to_string(), accept()),
            ]),
        )]);
        let checks = target_checks(&report);
        assert_eq!(
            checks.len(),
            1,
            "the target that does not claim the client is not judged"
        );
        assert_eq!(checks[0].target.name, "claims");
        assert_eq!(checks[0].judgement, Judgement::Contradicts);
        let markdown = render_targets_md(&report);
        assert!(markdown.contains("| accept ✗ | accept |"), "{markdown}");
        assert!(
            markdown.contains("0 confirmed, 1 contradicted"),
            "{markdown}"
        );
        let html = targets_html(&report).into_string();
        assert!(html.contains(r#"class="acc bad""#), "{html}");
    }

    #[test]
    fn a_skip_or_error_neither_confirms_nor_contradicts() {
        let expected = expectation(ExpectedOutcome::Accept);
        assert_eq!(judge(&expected, &accept()), Judgement::Confirms);
        assert_eq!(
            judge(&expected, &reject(RejectKind::Expired)),
            Judgement::Contradicts
        );
        assert_eq!(judge(&expected, &skip("not run")), Judgement::Undecided);
        assert_eq!(judge(&expected, &error("crashed")), Judgement::Undecided);
    }
}
