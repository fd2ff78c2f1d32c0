//! The target view: one row per case, one column per target (`corpus/targets/`), and the
//! documented outcome beside it. This is where documented expectations are judged: a target's
//! verdict is compared with every expectation whose client the target claims to be, on the cases
//! the target applies to. A library column claims no client, so it is never judged here; its
//! differences from the other libraries stay in the matrix and in `differences.md`.
//!
//! A target that holds a minimal trust bundle in a scenario has a second column there,
//! `<target>+bundle`: its engine with the bundle as the whole trust store. That column claims no
//! client (a hypothetical firmware), so it is shown, never judged; what the bundle costs (the
//! cases the whole store accepts and the bundle rejects) is summed up after the tables.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anchorsmith_validators::runner::RunResults;
use anchorsmith_validators::Verdict;
use maud::{html, Markup};

use super::html::verdict_class;
use super::model::{CaseRow, Judgement, RunReport};
use super::summary::{bundle_costs, target_scores, BundleCost, ExpectationScore};
use super::wording::{expectation_label, short_seed, verdict_detail};
use crate::target::bundle::{bundle_column, TargetBundle};
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
    /// Scenario → the minimal trust bundle the target holds there, where it declares one.
    pub bundles: BTreeMap<String, BundleLegend>,
}

/// What the legend says of a target's bundle in one scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleLegend {
    /// The chosen anchors' names, in the builder's output order.
    pub anchors: Vec<String>,
    /// How many certificates the builder was offered (those of the target's stores).
    pub candidates: usize,
    /// The chains it was built for.
    pub endpoints: Vec<String>,
    /// `full-path-building`, …
    pub verifier: String,
    pub min_anchors_per_endpoint: usize,
    /// `2020-12-15 → 2021-03-18`: from the firmware's build to the horizon.
    pub period: String,
    /// The builder's findings, `warning: <sentence>`.
    pub findings: Vec<String>,
}

impl BundleLegend {
    pub fn of(bundle: &TargetBundle) -> BundleLegend {
        BundleLegend {
            anchors: bundle
                .anchors
                .iter()
                .map(|anchor| anchor.name.clone())
                .collect(),
            candidates: bundle.candidates.len(),
            endpoints: bundle.endpoints.clone(),
            verifier: bundle.verifier.to_string(),
            min_anchors_per_endpoint: bundle.min_anchors_per_endpoint,
            period: format!(
                "{} → {}",
                anchorsmith_timeaxis::date(bundle.now),
                anchorsmith_timeaxis::date(bundle.horizon)
            ),
            findings: anchorsmith_bundle::lint::summarized(&bundle.findings)
                .into_iter()
                .map(|(severity, sentence)| format!("{severity}: {sentence}"))
                .collect(),
        }
    }

    /// One sentence: which anchors, out of how many candidates, for what.
    pub fn sentence(&self, target: &str) -> String {
        format!(
            "`{}`: `{target}`'s engine with its minimal trust bundle as the whole trust store: {} \
             ({} of {} candidate certificates, those of its stores), chosen by the trust-bundle \
             builder for the chains {} with device verifier {}, {} anchor(s) wanted per chain, {}. \
             A hypothetical firmware: it claims no client and is never judged.{}",
            bundle_column(target),
            self.anchors.join(", "),
            self.anchors.len(),
            self.candidates,
            self.endpoints.join(", "),
            self.verifier,
            self.min_anchors_per_endpoint,
            self.period,
            if self.findings.is_empty() {
                String::new()
            } else {
                format!(" The builder's findings: {}", self.findings.join(" "))
            }
        )
    }
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
            bundles: target
                .scenarios
                .iter()
                .filter_map(|(scenario, holding)| {
                    let bundle = holding.bundle.as_ref()?;
                    Some((scenario.clone(), BundleLegend::of(bundle)))
                })
                .collect(),
        }
    }

    /// The name of the target's bundle column, `<target>+bundle`.
    pub fn bundle_column(&self) -> String {
        bundle_column(&self.name)
    }

    /// Whether the target holds a bundle in any scenario.
    pub fn holds_a_bundle(&self) -> bool {
        !self.bundles.is_empty()
    }

    /// Whether this target stands for the client of `expectation`.
    pub fn claims(&self, expectation: &Expectation) -> bool {
        self.name == expectation.client || self.behaviours.contains(&expectation.client)
    }
}

/// Case id → the target columns that apply to it (a target's name, and `<target>+bundle` where
/// it holds a bundle for the case), decided before the run.
pub type Applicability = BTreeMap<String, Vec<String>>;

/// For each case of `cases`, the target columns that apply to it, in target order, each
/// target's bundle column right after it.
pub fn applicability(targets: &[Target], cases: &[&Case]) -> Applicability {
    cases
        .iter()
        .map(|case| {
            let names = targets
                .iter()
                .filter(|target| target.applies_to(case))
                .flat_map(|target| {
                    std::iter::once(target.name.clone())
                        .chain(target.bundle_for(case).map(|_| bundle_column(&target.name)))
                })
                .collect();
            (case.id.clone(), names)
        })
        .collect()
}

/// Case id → target column → verdict, for every case a target applies to: the engine column's
/// verdict for a real engine, the target's own model run otherwise; for a bundle column, the
/// run named after it in `models` (see [`crate::target::bundle::run_bundle_columns`]).
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
                if targets.iter().any(|target| target.bundle_column() == *name) {
                    let verdict = match find(models, name, case) {
                        Some(Some(verdict)) => verdict,
                        Some(None) => Verdict::Error {
                            detail: format!("{name} returned no verdict for this case"),
                        },
                        None => Verdict::Skip {
                            reason: format!("the bundle column `{name}` was not part of this run"),
                        },
                    };
                    verdicts
                        .entry(case.clone())
                        .or_default()
                        .insert(name.clone(), verdict);
                }
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

/// A column of a scenario's target view: a target, or its engine with its bundle.
#[derive(Clone, Copy)]
enum ViewColumn<'a> {
    Target(&'a TargetColumn),
    Bundle(&'a TargetColumn),
}

impl ViewColumn<'_> {
    fn name(&self) -> String {
        match self {
            ViewColumn::Target(target) => target.name.clone(),
            ViewColumn::Bundle(target) => target.bundle_column(),
        }
    }
}

/// The columns of `scenario`'s target view: each target placed there, followed by its bundle
/// column where it holds a bundle there.
fn view_columns<'a>(report: &'a RunReport, scenario: &str) -> Vec<ViewColumn<'a>> {
    targets_of(report, scenario)
        .into_iter()
        .flat_map(|target| {
            std::iter::once(ViewColumn::Target(target)).chain(
                target
                    .bundles
                    .contains_key(scenario)
                    .then_some(ViewColumn::Bundle(target)),
            )
        })
        .collect()
}

/// The bundle legend lines of `scenario`, one per target holding a bundle there.
fn bundle_legends(report: &RunReport, scenario: &str) -> Vec<String> {
    targets_of(report, scenario)
        .into_iter()
        .filter_map(|target| {
            let legend = target.bundles.get(scenario)?;
            Some(legend.sentence(&target.name))
        })
        .collect()
}

/// The sentence of one bundle column's cost, and the surprising reverse when there is one.
fn cost_sentences(column: &str, cost: &BundleCost) -> (String, Option<String>) {
    let ids = |ids: &[String]| {
        ids.iter()
            .map(|id| format!("`{id}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let lost = format!(
        "`{column}`: of {} cases both columns decided, the whole store accepts and the minimal bundle rejects {}{}",
        cost.compared,
        cost.lost.len(),
        if cost.lost.is_empty() {
            ".".to_string()
        } else {
            format!(": {}.", ids(&cost.lost))
        }
    );
    let gained = (!cost.gained.is_empty()).then(|| {
        format!(
            "Surprising: the bundle, taken from the store, accepts and the whole store rejects {}: {}.",
            cost.gained.len(),
            ids(&cost.gained)
        )
    });
    (lost, gained)
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
        let columns = view_columns(report, &scenario.name);
        let rows = target_rows(report, &scenario.name);
        if columns.is_empty() || rows.is_empty() {
            continue;
        }
        writeln!(text, "\n### {} — targets\n", scenario.name).unwrap();
        for legend in bundle_legends(report, &scenario.name) {
            writeln!(text, "{legend}\n").unwrap();
        }
        let names: Vec<String> = columns.iter().map(ViewColumn::name).collect();
        writeln!(text, "| case | documented | {} |", names.join(" | ")).unwrap();
        writeln!(text, "|---|---|{}", "---|".repeat(names.len())).unwrap();
        for row in rows {
            let cells: Vec<String> = columns
                .iter()
                .map(
                    |column| match report.target_verdict(&row.id, &column.name()) {
                        Some(verdict) => match column {
                            ViewColumn::Target(target) => {
                                format!("{}{}", verdict.label(), mark(report, row, target))
                            }
                            // Never judged: no mark.
                            ViewColumn::Bundle(_) => verdict.label(),
                        },
                        None => "·".into(),
                    },
                )
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
    let costs = bundle_costs(report);
    if !costs.is_empty() {
        text.push_str("\n### What a minimal bundle costs\n\n");
        for (target, cost) in &costs {
            let (lost, gained) = cost_sentences(&bundle_column(target), cost);
            writeln!(text, "- {lost}").unwrap();
            if let Some(gained) = gained {
                writeln!(text, "  **{gained}**").unwrap();
            }
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
            @let columns = view_columns(report, &scenario.name);
            @let rows = target_rows(report, &scenario.name);
            @if !columns.is_empty() && !rows.is_empty() {
                h3 { (scenario.name) " — targets" }
                @for legend in bundle_legends(report, &scenario.name) {
                    p { (plain(&legend)) }
                }
                table {
                    tr {
                        th { "case" } th { "documented" }
                        @for column in &columns { th { (column.name()) } }
                    }
                    @for row in &rows {
                        tr {
                            td title=(row.summary) { code { (row.short_id()) } }
                            td { @for line in documented(row) { (line) br; } }
                            @for column in &columns {
                                @match column {
                                    ViewColumn::Target(target) => (target_cell(report, row, target)),
                                    ViewColumn::Bundle(target) => (bundle_cell(report, row, target)),
                                }
                            }
                        }
                    }
                }
            }
        }
        @let costs = bundle_costs(report);
        @if !costs.is_empty() {
            h3 { "What a minimal bundle costs" }
            ul {
                @for (target, cost) in &costs {
                    @let (lost, gained) = cost_sentences(&bundle_column(target), cost);
                    li { (plain(&lost)) @if let Some(gained) = gained { br; b { (plain(&gained)) } } }
                }
            }
        }
    }
}

/// A Markdown sentence for HTML: without the backticks around names.
fn plain(sentence: &str) -> String {
    sentence.replace('`', "")
}

/// A bundle column's cell: its verdict, never judged.
fn bundle_cell(report: &RunReport, row: &CaseRow, target: &TargetColumn) -> Markup {
    html! {
        @match report.target_verdict(&row.id, &target.bundle_column()) {
            None => td.skip { "·" },
            Some(verdict) => {
                td class=(verdict_class(verdict)) title=(verdict_detail(verdict)) {
                    (verdict.label())
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
            bundles: BTreeMap::new(),
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
    fn a_bundle_column_sits_beside_its_target_is_never_judged_and_shows_its_cost() {
        // The target claims the client and its bundle rejects what the document expects
        // accepted: the target cell is judged, the bundle cell is not.
        let mut report = report(
            accept(),
            accept(),
            vec![expectation(ExpectedOutcome::Accept)],
            &["a"],
        );
        report.targets[0].bundles.insert(
            "s".into(),
            BundleLegend {
                anchors: vec!["Root".into()],
                candidates: 3,
                endpoints: vec!["c".into()],
                verifier: "full-path-building".into(),
                min_anchors_per_endpoint: 2,
                period: "2020-01-01 → 2021-01-01".into(),
                findings: vec!["warning: c has 1 covering anchor(s)".into()],
            },
        );
        report
            .target_verdicts
            .get_mut("s::c")
            .unwrap()
            .insert("a+bundle".into(), reject(RejectKind::UnknownIssuer));
        let markdown = render_targets_md(&report);
        assert!(
            markdown.contains("| case | documented | a | a+bundle | b |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| accept ✓ | reject:unknown-issuer | accept |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("Root (1 of 3 candidate certificates"),
            "{markdown}"
        );
        assert!(
            markdown.contains("warning: c has 1 covering anchor(s)"),
            "{markdown}"
        );
        assert!(
            markdown.contains(
                "`a+bundle`: of 1 cases both columns decided, the whole store accepts and the \
                 minimal bundle rejects 1: `s::c`."
            ),
            "{markdown}"
        );
        assert!(!markdown.contains("Surprising"), "{markdown}");
        let html = targets_html(&report).into_string();
        assert!(html.contains("<th>a+bundle</th>"), "{html}");
        assert!(html.contains("What a minimal bundle costs"), "{html}");
    }

    #[test]
    fn a_bundle_accepting_what_the_store_rejects_is_marked_surprising() {
        let cost = BundleCost {
            compared: 2,
            lost: vec![],
            gained: vec!["s::c".into()],
        };
        let (lost, gained) = cost_sentences("a+bundle", &cost);
        assert!(lost.ends_with("minimal bundle rejects 0."), "{lost}");
        assert_eq!(
            gained.as_deref(),
            Some(
                "Surprising: the bundle, taken from the store, accepts and the whole store \
                 rejects 1: `s::c`."
            )
        );
        let agreed = BundleCost {
            gained: vec![],
            ..cost
        };
        assert_eq!(cost_sentences("a+bundle", &agreed).1, None);
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
