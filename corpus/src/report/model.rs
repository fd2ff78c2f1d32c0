//! What a report holds. A [`RunPlan`] is taken from the corpus and checked before any validator
//! runs; a [`RunReport`] is that plan joined with the verdicts, keyed by case id and validator
//! name. Neither reads a file, and nothing after the plan looks at the corpus again.

use std::collections::{BTreeMap, BTreeSet};

use anchorsmith_validators::health::{column_health, ColumnHealth};
use anchorsmith_validators::runner::RunResults;
use anchorsmith_validators::{RejectKind, Verdict};

use super::questions::Question;
use super::targets::{applicability, target_verdicts, Applicability, TargetColumn};
use super::wording::short_seed;
use crate::compatibility::ScenarioTimeline;
use crate::serving::{ServedBy, Server};
use crate::timeline::Timeline;
use crate::{Case, Corpus, Expectation, ReferenceVerdict};

pub(crate) use crate::spec::ExpectedOutcome;

/// How one verdict compares with one expectation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Judgement {
    /// The expected outcome (and, when one is expected, the expected reject kind).
    Confirmed,
    /// The opposite outcome.
    ContradictsOutcome,
    /// A rejection, as expected, but of another kind than the expected one.
    ContradictsReason {
        expected: RejectKind,
        actual: RejectKind,
    },
    /// A skip or an error, which neither confirms nor contradicts an expectation.
    Undecided,
}

impl Judgement {
    /// `confirmed`, `contradicts-outcome`, `contradicts-reason`, `undecided`.
    pub fn label(self) -> &'static str {
        match self {
            Judgement::Confirmed => "confirmed",
            Judgement::ContradictsOutcome => "contradicts-outcome",
            Judgement::ContradictsReason { .. } => "contradicts-reason",
            Judgement::Undecided => "undecided",
        }
    }

    /// Whether the verdict contradicts the expectation (its outcome or its reason).
    pub fn is_contradiction(self) -> bool {
        matches!(
            self,
            Judgement::ContradictsOutcome | Judgement::ContradictsReason { .. }
        )
    }
}

/// The one comparison of a verdict with an expectation: the outcome, then the reason when the
/// expectation names one. A rejection of kind `other` (a native error its validator's table does
/// not map yet) says nothing about the reason, so it confirms the outcome and contradicts no
/// reason.
pub fn judge(expectation: &Expectation, verdict: &Verdict) -> Judgement {
    match (expectation.outcome, verdict) {
        (_, Verdict::Skip { .. } | Verdict::Error { .. }) => Judgement::Undecided,
        (ExpectedOutcome::Accept, Verdict::Accept { .. }) => Judgement::Confirmed,
        (ExpectedOutcome::Reject, Verdict::Reject { kind, .. }) => match expectation.reject_kind {
            Some(expected) if expected != *kind && *kind != RejectKind::Other => {
                Judgement::ContradictsReason {
                    expected,
                    actual: *kind,
                }
            }
            _ => Judgement::Confirmed,
        },
        (ExpectedOutcome::Accept, Verdict::Reject { .. })
        | (ExpectedOutcome::Reject, Verdict::Accept { .. }) => Judgement::ContradictsOutcome,
    }
}

/// One validator column.
#[derive(Clone, Debug)]
pub struct ValidatorColumn {
    pub name: String,
    pub version: String,
    pub profile: String,
}

/// One case row, as the corpus describes it (the verdicts are kept apart, by case id).
#[derive(Clone, Debug)]
pub struct CaseRow {
    pub id: String,
    pub scenario: String,
    /// One line: served chain, store, cache, time.
    pub summary: String,
    /// The verdict derived from the topology graph (RFC 5280 path search), with its reason.
    pub reference: ReferenceVerdict,
    /// Documented expectations and derived predictions, in declaration order.
    pub expectations: Vec<Expectation>,
}

impl CaseRow {
    /// The expectations the seeds state (not derived).
    pub fn documented(&self) -> impl Iterator<Item = &Expectation> + '_ {
        self.expectations.iter().filter(|e| !e.derived)
    }

    /// The derived predictions: shown and counted apart from the documented expectations.
    pub fn derived(&self) -> impl Iterator<Item = &Expectation> + '_ {
        self.expectations.iter().filter(|e| e.derived)
    }

    /// The id without its scenario prefix, for tables that already sit under the scenario.
    pub fn short_id(&self) -> &str {
        self.id
            .strip_prefix(self.scenario.as_str())
            .and_then(|rest| rest.strip_prefix("::"))
            .unwrap_or(&self.id)
    }
}

/// What the HTML page shows of a scenario above its matrix.
#[derive(Clone, Debug)]
pub struct ScenarioView {
    pub name: String,
    pub title: String,
    pub seed_file: String,
    pub description: String,
    pub diagram: String,
    pub timeline: Timeline,
    /// One line per chain a modelled server assembles: which server, from what, and the seed
    /// sentence (with its strength) the model rests on.
    pub served: Vec<String>,
}

/// Everything the report shows that does not depend on a validator: taken from the corpus and
/// `questions.toml`, and checked, before any validator runs.
#[derive(Clone, Debug)]
pub struct RunPlan {
    /// The cases of the run, in corpus order.
    pub rows: Vec<CaseRow>,
    /// The scenarios of those cases, in corpus order.
    pub scenarios: Vec<ScenarioView>,
    /// Answered first in the matrix and the HTML page (`corpus/questions.toml`).
    pub questions: Vec<Question>,
    /// The targets (`corpus/targets/`), in file-name order.
    pub targets: Vec<TargetColumn>,
    /// Case id → the target columns that apply to it (bundle columns included).
    pub applicable: Applicability,
}

impl RunPlan {
    /// The plan of a run of `cases` (a selection of `corpus.cases`, in corpus order).
    pub fn new(corpus: &Corpus, cases: &[&Case], questions: Vec<Question>) -> RunPlan {
        let rows = cases
            .iter()
            .map(|case| CaseRow {
                id: case.id.clone(),
                scenario: case.scenario.clone(),
                summary: case_summary(case),
                reference: case.reference.clone(),
                expectations: case.expectations.clone(),
            })
            .collect();
        let used: BTreeSet<&str> = cases.iter().map(|case| case.scenario.as_str()).collect();
        let scenarios = corpus
            .scenarios
            .iter()
            .filter(|scenario| used.contains(scenario.name.as_str()))
            .map(|scenario| ScenarioView {
                name: scenario.name.clone(),
                title: scenario.title.clone(),
                seed_file: scenario.seed_file.clone(),
                description: scenario.description.clone(),
                diagram: scenario.diagram.clone(),
                timeline: Timeline::of(scenario),
                served: scenario
                    .served
                    .iter()
                    .map(|(chain, served)| served_line(chain, served))
                    .collect(),
            })
            .collect();
        RunPlan {
            rows,
            scenarios,
            questions,
            targets: corpus.targets.iter().map(TargetColumn::of).collect(),
            applicable: applicability(&corpus.targets, cases),
        }
    }
}

/// Everything a corpus run produced: the plan, the validators, and every verdict.
#[derive(Clone, Debug)]
pub struct RunReport {
    pub columns: Vec<ValidatorColumn>,
    pub rows: Vec<CaseRow>,
    pub scenarios: Vec<ScenarioView>,
    pub questions: Vec<Question>,
    /// Case id → validator name → verdict; complete for every row and column.
    pub verdicts: BTreeMap<String, BTreeMap<String, Verdict>>,
    pub targets: Vec<TargetColumn>,
    /// Case id → target name → verdict, for the cases each target applies to.
    pub target_verdicts: BTreeMap<String, BTreeMap<String, Verdict>>,
    /// Scenario name → its compatibility timeline, when the run computed one (report.html
    /// embeds it; see [`RunReport::with_timelines`]).
    pub timelines: BTreeMap<String, ScenarioTimeline>,
    /// Each handshake column and the verification-API column of the same library, when both
    /// ran (see [`RunReport::with_api_pairs`] and [`super::handshakes`]).
    pub api_pairs: Vec<anchorsmith_validators::handshake::ApiPair>,
}

impl RunReport {
    /// Joins `plan` with the verdicts of `results` (the validator columns) and `models` (one
    /// run per model-engine target, named after the target, and one per bundle column,
    /// `<target>+bundle`), matched by case id. A validator
    /// that gave no verdict for a case is recorded as an error on that case, so every cell has a
    /// verdict.
    pub fn new(plan: RunPlan, results: &RunResults, models: &RunResults) -> RunReport {
        let columns = results
            .runs
            .iter()
            .map(|run| ValidatorColumn {
                name: run.name.clone(),
                version: run.version.clone(),
                profile: run.profile.clone(),
            })
            .collect();
        let mut verdicts: BTreeMap<String, BTreeMap<String, Verdict>> = BTreeMap::new();
        for run in &results.runs {
            for row in &plan.rows {
                let verdict = run.verdicts.get(&row.id).map_or_else(
                    || Verdict::Error {
                        detail: format!("{} returned no verdict for this case", run.name),
                    },
                    Verdict::clone,
                );
                verdicts
                    .entry(row.id.clone())
                    .or_default()
                    .insert(run.name.clone(), verdict);
            }
        }
        let target_verdicts = target_verdicts(&plan.targets, &plan.applicable, results, models);
        let RunPlan {
            rows,
            scenarios,
            questions,
            targets,
            applicable: _,
        } = plan;
        RunReport {
            columns,
            rows,
            scenarios,
            questions,
            verdicts,
            targets,
            target_verdicts,
            timelines: BTreeMap::new(),
            api_pairs: Vec::new(),
        }
    }

    /// The report with each scenario's compatibility timeline, computed by the caller (it
    /// validates, so it is not part of the pure join above).
    pub fn with_timelines(mut self, timelines: Vec<ScenarioTimeline>) -> RunReport {
        self.timelines = timelines
            .into_iter()
            .map(|timeline| (timeline.scenario.clone(), timeline))
            .collect();
        self
    }

    /// The report with the handshake columns' pairs (see
    /// [`anchorsmith_validators::handshake::api_pairs`]); a pair whose columns are not both in
    /// the run is left out.
    pub fn with_api_pairs(
        mut self,
        pairs: Vec<anchorsmith_validators::handshake::ApiPair>,
    ) -> RunReport {
        let has = |name: &str| self.columns.iter().any(|column| column.name == name);
        self.api_pairs = pairs
            .into_iter()
            .filter(|pair| has(&pair.handshake) && has(&pair.api))
            .collect();
        self
    }

    /// The verdict of `validator` on the case `case_id`.
    pub fn verdict(&self, case_id: &str, validator: &str) -> &Verdict {
        &self.verdicts[case_id][validator]
    }

    /// The verdicts of `row`, one per column, in column order.
    pub fn row_verdicts<'a>(
        &'a self,
        row: &'a CaseRow,
    ) -> impl Iterator<Item = (&'a ValidatorColumn, &'a Verdict)> + 'a {
        self.columns
            .iter()
            .map(move |column| (column, self.verdict(&row.id, &column.name)))
    }

    /// Whether `validator` decided any case of the run, or failed or skipped them all.
    pub fn column_health(&self, validator: &str) -> ColumnHealth {
        column_health(self.rows.iter().map(|row| self.verdict(&row.id, validator)))
    }

    /// The columns that decided no case (broken or unavailable), in column order, each with its
    /// health: reports name them once instead of under every case.
    pub fn idle_columns(&self) -> Vec<(&ValidatorColumn, ColumnHealth)> {
        self.columns
            .iter()
            .map(|column| (column, self.column_health(&column.name)))
            .filter(|(_, health)| !health.is_working())
            .collect()
    }

    /// The row of case `id`, if the run has it.
    pub fn row(&self, id: &str) -> Option<&CaseRow> {
        self.rows.iter().find(|row| row.id == id)
    }

    /// The rows of `scenario`, in row order.
    pub fn rows_of<'a>(&'a self, scenario: &'a str) -> impl Iterator<Item = &'a CaseRow> + 'a {
        self.rows.iter().filter(move |row| row.scenario == scenario)
    }

    /// The verdict of target `target` on case `case_id`, when the target applies to it.
    pub fn target_verdict(&self, case_id: &str, target: &str) -> Option<&Verdict> {
        self.target_verdicts.get(case_id)?.get(target)
    }

    /// The expectations of `row` whose client `target` claims to be, each with the judgement of
    /// the target's verdict (documented expectations and derived predictions alike; callers keep
    /// them apart with [`Expectation::derived`]). Empty when the target does not apply to the
    /// row. Library columns are never judged: a library claims no client.
    pub fn judgements<'a>(
        &'a self,
        row: &'a CaseRow,
        target: &'a TargetColumn,
    ) -> impl Iterator<Item = (&'a Expectation, Judgement)> + 'a {
        let verdict = self.target_verdict(&row.id, &target.name);
        row.expectations
            .iter()
            .filter(move |expectation| verdict.is_some() && target.claims(expectation))
            .filter_map(move |expectation| Some((expectation, judge(expectation, verdict?))))
    }

    /// Which expectations of `row` that `target` claims its verdict contradicts.
    pub fn contradiction(&self, row: &CaseRow, target: &TargetColumn) -> Contradiction {
        let mut found = Contradiction::default();
        for (expectation, judgement) in self.judgements(row, target) {
            if judgement.is_contradiction() {
                if expectation.derived {
                    found.derived = true;
                } else {
                    found.documented = true;
                }
            }
        }
        found
    }
}

/// Whether a verdict contradicts a documented expectation, a derived prediction, or both: a
/// renderer marks the two differently.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Contradiction {
    pub documented: bool,
    pub derived: bool,
}

/// `x3-leaf-served-x1: IIS picks … from its store [a, b] (hedged, seed 001: “…”)`.
fn served_line(chain: &str, served: &ServedBy) -> String {
    let how = match &served.server {
        Server::Iis { intermediate_store } => format!(
            "IIS sends {} and, above it, the first certificate of its store [{}] whose key \
             identifier matches",
            served.leaf,
            intermediate_store.join(", ")
        ),
        Server::ApacheCertOnly => {
            format!("Apache configured with cert.pem only sends {}", served.leaf)
        }
        Server::CertbotFullchain { preferred, offered } => format!(
            "certbot's fullchain.pem ({preferred} chain): {} then {}",
            served.leaf,
            offered.join(", ")
        ),
    };
    format!(
        "`{chain}`: {how} ({}, {}: “{}”)",
        served.strength,
        short_seed(&served.seed_file),
        served.quote
    )
}

/// One line a person reads: what was served, trusted, cached, and when.
fn case_summary(case: &Case) -> String {
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

#[cfg(test)]
pub(crate) mod fixture {
    //! A small report for the renderers' tests: validators `a` and `b`, one case `s::c`.

    use super::*;
    use crate::spec::Strength;
    use crate::timeline::Timeline;

    pub fn accept() -> Verdict {
        Verdict::Accept {
            chain_built: vec![],
        }
    }

    pub fn reject(kind: anchorsmith_validators::RejectKind) -> Verdict {
        Verdict::Reject {
            kind,
            detail: "native".into(),
        }
    }

    /// A documented expectation of client `path-builder`.
    pub fn expectation(outcome: ExpectedOutcome) -> Expectation {
        Expectation {
            client: "path-builder".into(),
            outcome,
            reject_kind: None,
            strength: Strength::Stated,
            derived: false,
            seed_file: "000_x.txt".into(),
            quote: "q".into(),
            selector: String::new(),
            case_ids: Vec::new(),
        }
    }

    /// A target named `name` placed in scenario `s` whose engine is the column `name`; it
    /// claims `path-builder` when `claims`.
    pub fn target(name: &str, claims: bool) -> TargetColumn {
        TargetColumn {
            name: name.into(),
            population: "p".into(),
            seed_file: "000_x.txt".into(),
            behaviours: if claims {
                vec!["path-builder".into()]
            } else {
                vec![]
            },
            quirks: vec![],
            engine: name.into(),
            engine_column: Some(name.into()),
            placements: BTreeMap::from([("s".to_string(), vec!["root".to_string()])]),
            bundles: BTreeMap::new(),
        }
    }

    /// The report of case `s::c` with verdicts `a` and `b`, and a target of each name on its
    /// column, where the targets named in `claimers` claim `path-builder`.
    pub fn report(
        a: Verdict,
        b: Verdict,
        expectations: Vec<Expectation>,
        claimers: &[&str],
    ) -> RunReport {
        let mut report = matrix(&["c"], &[("a", vec![a]), ("b", vec![b])]);
        report.rows[0].expectations = expectations;
        report.targets = ["a", "b"]
            .iter()
            .map(|name| target(name, claimers.contains(name)))
            .collect();
        report.target_verdicts = report.verdicts.clone();
        report
    }

    /// The report of cases `s::<case>` (in order) and of the named columns, each with its
    /// verdicts in case order; no expectations, no targets.
    pub fn matrix(cases: &[&str], columns: &[(&str, Vec<Verdict>)]) -> RunReport {
        let ids: Vec<String> = cases.iter().map(|case| format!("s::{case}")).collect();
        let mut verdicts: BTreeMap<String, BTreeMap<String, Verdict>> = BTreeMap::new();
        for (name, column) in columns {
            assert_eq!(column.len(), ids.len(), "one verdict per case");
            for (id, verdict) in ids.iter().zip(column) {
                verdicts
                    .entry(id.clone())
                    .or_default()
                    .insert(name.to_string(), verdict.clone());
            }
        }
        RunReport {
            columns: columns
                .iter()
                .map(|(name, _)| ValidatorColumn {
                    name: name.to_string(),
                    version: "1".into(),
                    profile: String::new(),
                })
                .collect(),
            rows: ids
                .iter()
                .map(|id| CaseRow {
                    id: id.clone(),
                    scenario: "s".into(),
                    summary: "leaf".into(),
                    reference: ReferenceVerdict::Accept {
                        path: vec!["leaf".into(), "root".into()],
                    },
                    expectations: Vec::new(),
                })
                .collect(),
            scenarios: vec![ScenarioView {
                name: "s".into(),
                title: "A scenario".into(),
                seed_file: "000_x.txt".into(),
                description: "d".into(),
                diagram: "root → leaf".into(),
                timeline: Timeline {
                    scenario: "s".into(),
                    bars: vec![],
                    times: vec![],
                },
                served: vec![],
            }],
            questions: vec![],
            verdicts,
            targets: vec![],
            target_verdicts: BTreeMap::new(),
            timelines: BTreeMap::new(),
            api_pairs: Vec::new(),
        }
    }

    pub fn error(detail: &str) -> Verdict {
        Verdict::Error {
            detail: detail.into(),
        }
    }

    pub fn skip(reason: &str) -> Verdict {
        Verdict::Skip {
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::*;
    use super::*;

    #[test]
    fn short_ids_drop_the_scenario() {
        let report = report(accept(), accept(), vec![], &[]);
        assert_eq!(report.rows[0].short_id(), "c");
    }

    #[test]
    fn contradiction_counts_only_for_targets_that_claim_the_client() {
        let report = report(
            accept(),
            accept(),
            vec![expectation(ExpectedOutcome::Reject)],
            &["b"],
        );
        let row = &report.rows[0];
        let contradiction = |index: usize| report.contradiction(row, &report.targets[index]);
        assert_eq!(contradiction(0), Contradiction::default());
        assert_eq!(
            contradiction(1),
            Contradiction {
                documented: true,
                derived: false
            }
        );
    }

    #[test]
    fn a_derived_prediction_is_contradicted_apart() {
        let mut derived = expectation(ExpectedOutcome::Reject);
        derived.derived = true;
        let report = report(accept(), accept(), vec![derived], &["a"]);
        let row = &report.rows[0];
        assert_eq!(row.documented().count(), 0);
        assert_eq!(row.derived().count(), 1);
        assert_eq!(
            report.contradiction(row, &report.targets[0]),
            Contradiction {
                documented: false,
                derived: true
            }
        );
    }

    #[test]
    fn judge_compares_the_outcome_then_the_expected_reason() {
        let mut expected = expectation(ExpectedOutcome::Reject);
        assert_eq!(judge(&expected, &accept()), Judgement::ContradictsOutcome);
        assert_eq!(
            judge(&expected, &reject(RejectKind::Expired)),
            Judgement::Confirmed,
            "no reason expected: any rejection confirms"
        );
        expected.reject_kind = Some(RejectKind::UnknownIssuer);
        assert_eq!(
            judge(&expected, &reject(RejectKind::UnknownIssuer)),
            Judgement::Confirmed
        );
        let wrong = judge(&expected, &reject(RejectKind::Expired));
        assert_eq!(
            wrong,
            Judgement::ContradictsReason {
                expected: RejectKind::UnknownIssuer,
                actual: RejectKind::Expired
            }
        );
        assert!(wrong.is_contradiction());
        assert_eq!(
            judge(&expected, &reject(RejectKind::Other)),
            Judgement::Confirmed,
            "an unmapped native error says nothing about the reason"
        );
        assert_eq!(judge(&expected, &error("boom")), Judgement::Undecided);
        assert_eq!(judge(&expected, &skip("n/a")), Judgement::Undecided);
        let accepted = expectation(ExpectedOutcome::Accept);
        assert_eq!(judge(&accepted, &accept()), Judgement::Confirmed);
        assert_eq!(
            judge(&accepted, &reject(RejectKind::Other)),
            Judgement::ContradictsOutcome
        );
    }

    #[test]
    fn idle_columns_are_those_that_decided_no_case() {
        let report = matrix(
            &["one", "two"],
            &[
                ("works", vec![accept(), error("timed out")]),
                (
                    "broken",
                    vec![error("exit status 3"), error("exit status 3")],
                ),
                ("absent", vec![skip("not available"), skip("not available")]),
            ],
        );
        let idle: Vec<(&str, Option<&str>)> = report
            .idle_columns()
            .iter()
            .map(|(column, health)| (column.name.as_str(), health.label()))
            .collect();
        assert_eq!(
            idle,
            [("broken", Some("broken")), ("absent", Some("unavailable"))]
        );
        assert!(report.column_health("works").is_working());
    }
}
