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

use super::html::verdict_class;
use super::model::{CaseRow, Judgement, RunReport};
use super::summary::{target_scores, ExpectationScore};
use super::wording::{expectation_label, short_seed, verdict_detail};
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

/// The scores of all targets together: documented expectations and derived predictions.
fn total_scores(report: &RunReport) -> (ExpectationScore, ExpectationScore) {
    let mut documented = ExpectationScore::default();
    let mut derived = ExpectationScore::default();
    for scores in target_scores(report).values() {
        documented.merge(&scores.documented);
        derived.merge(&scores.derived);
    }
    (documented, derived)
}

/// The mark of a target's cell: ✓ when it confirms every expectation it claims there, ✗ when it
/// contradicts a documented one, `✗ derived` a derived one only, ? when undecided; nothing when
/// it claims none.
fn mark(report: &RunReport, row: &CaseRow, target: &TargetColumn) -> &'static str {
    let judgements: Vec<Judgement> = report
        .judgements(row, target)
        .map(|(_, judgement)| judgement)
        .collect();
    let contradiction = report.contradiction(row, target);
    if contradiction.documented {
        " ✗"
    } else if contradiction.derived {
        " ✗ derived"
    } else if judgements.is_empty() {
        ""
    } else if judgements.contains(&Judgement::Undecided) {
        " ?"
    } else {
        " ✓"
    }
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

/// The expectations of a row, one line each: `client: accept; stated (seed 003)`, derived
/// predictions marked as such.
fn documented(row: &CaseRow) -> Vec<String> {
    row.expectations
        .iter()
        .map(|expectation| {
            format!(
                "{}{}: {} ({})",
                if expectation.derived { "derived: " } else { "" },
                expectation.client,
                expectation_label(expectation),
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
    let (documented_score, derived_score) = total_scores(report);
    writeln!(
        text,
        "Expectations are judged only against the targets that claim their client (a library column claims none). Documented expectations: {} confirmed, {} contradicted, {} with the expected outcome for another reason, {} undecided (skipped or failed). Derived predictions, counted apart: {} confirmed, {} contradicted, {} another reason, {} undecided. ✓ confirms, ✗ contradicts a documented expectation, `✗ derived` only a derived prediction, ? undecided, · the target is not placed in this case.\n",
        documented_score.confirmed,
        documented_score.contradicted,
        documented_score.wrong_reason,
        documented_score.undecided,
        derived_score.confirmed,
        derived_score.contradicted,
        derived_score.wrong_reason,
        derived_score.undecided
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
                        Some(verdict) => {
                            format!("{}{}", verdict.label(), mark(report, row, target))
                        }
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
    let mut contradicted = Vec::new();
    for row in &report.rows {
        for target in &report.targets {
            for (expectation, judgement) in report.judgements(row, target) {
                if judgement.is_contradiction() {
                    contradicted.push((row, target, expectation));
                }
            }
        }
    }
    if !contradicted.is_empty() {
        text.push_str("\n### Contradicted expectations\n\n");
        for (row, target, expectation) in contradicted {
            let verdict = report
                .target_verdict(&row.id, &target.name)
                .expect("a judged target has a verdict");
            writeln!(
                text,
                "- `{}` on `{}`: {} `{}` {} ({}: “{}”), got {}.",
                target.name,
                row.id,
                if expectation.derived {
                    "derived"
                } else {
                    "documented"
                },
                expectation.client,
                expectation_label(expectation),
                short_seed(&expectation.seed_file),
                expectation.quote,
                verdict_detail(verdict)
            )
            .unwrap();
        }
    }
    text
}

/// The HTML section: the targets, then per scenario the coloured target view.
pub fn targets_html(report: &RunReport) -> Markup {
    let (documented_score, derived_score) = total_scores(report);
    html! {
        h2 #targets { "Targets" }
        p {
            "A target is a client population from the seed documents, with its trust store and an \
             engine: a real validator, or the client model with its quirks. Each expectation is \
             judged only against the targets that claim its client (a library column claims \
             none). Documented expectations: "
            b { (documented_score.confirmed) " confirmed" } ", "
            b { (documented_score.contradicted) " contradicted" } ", "
            (documented_score.wrong_reason) " with another reason, "
            (documented_score.undecided) " undecided; derived predictions, apart: "
            (derived_score.confirmed) " confirmed, "
            (derived_score.contradicted) " contradicted. ✓ confirms, ✗ contradicts (solid red \
             frame; dashed for a derived prediction), · not placed."
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
    let contradiction = report.contradiction(row, target);
    html! {
        @match verdict {
            None => td.skip { "·" },
            Some(verdict) => {
                td class={ (verdict_class(verdict)) @if contradiction.documented { " bad" } @else if contradiction.derived { " bad-derived" } }
                    title=(verdict_detail(verdict)) {
                    (verdict.label()) (mark(report, row, target))
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
            &["a"],
        );
        let row = &report.rows[0];
        let judged: Vec<usize> = report
            .targets
            .iter()
            .map(|target| report.judgements(row, target).count())
            .collect();
        assert_eq!(
            judged,
            [1, 0],
            "the target that does not claim the client is not judged"
        );
        let markdown = render_targets_md(&report);
        assert!(markdown.contains("| accept ✗ | accept |"), "{markdown}");
        assert!(
            markdown.contains("Documented expectations: 0 confirmed, 1 contradicted"),
            "{markdown}"
        );
        let html = targets_html(&report).into_string();
        assert!(html.contains(r#"class="acc bad""#), "{html}");
        // A target that does not apply to the case has no verdict there and no mark.
        report.target_verdicts.clear();
        let markdown = render_targets_md(&report);
        assert!(!markdown.contains("accept ✗"), "{markdown}");
    }

    #[test]
    fn a_cell_is_confirmed_undecided_or_marked_derived() {
        let mut predicted = expectation(ExpectedOutcome::Reject);
        predicted.derived = true;
        let report = report(accept(), skip("not run"), vec![predicted], &["a", "b"]);
        let row = &report.rows[0];
        assert_eq!(mark(&report, row, &report.targets[0]), " ✗ derived");
        assert_eq!(mark(&report, row, &report.targets[1]), " ?");
        let confirmed = super::super::model::fixture::report(
            accept(),
            accept(),
            vec![expectation(ExpectedOutcome::Accept)],
            &["a"],
        );
        assert_eq!(
            mark(&confirmed, &confirmed.rows[0], &confirmed.targets[0]),
            " ✓"
        );
    }
}
