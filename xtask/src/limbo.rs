//! `cargo xtask limbo`: run an x509-limbo suite (`core`, `full` or any limbo file) through every
//! available validator — the in-process ones and any `--validator-cmd` harness — and report.
//!
//! Writes to `--out`, one file at a time through a temporary file and a rename:
//! `results/<validator>.json` (limbo results format), `agreement.txt` (the table printed),
//! `differences.md` (unexpected results grouped by reason) and, with `--compare`, `compare.md`.
//! All bad input (unknown suite path, malformed file, unknown validator name, malformed
//! `NAME=COMMAND`) is checked before anything runs and exits with status 2.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anchorsmith_diagnostics::{Code, Diagnostic};
use anchorsmith_validators::limbo::LimboResults;
use anchorsmith_validators::runner::ValidatorRun;
use anchorsmith_validators::suite::{self, PreparedSuite, SuiteSpec, ValidatorVerdicts};
use anchorsmith_validators::{Validator, Verdict};

use crate::shared::{remove_stale, run_with_progress, select_validators, write_files};
use crate::{BadInput, LimboArgs};

/// One validator's run with verdicts for every case of the suite (unconvertible cases included),
/// keyed by case id.
struct CompletedRun {
    run: ValidatorRun,
    verdicts: BTreeMap<String, Verdict>,
}

pub fn run(args: LimboArgs) -> anyhow::Result<()> {
    let suite_path = SuiteSpec::parse(&args.suite).resolve(&crate::project_root());
    // A malformed file is a located diagnostic (line, column, field path, caret), exit status 2.
    let suite = suite::load_suite(&suite_path).map_err(|error| BadInput(error.into()))?;
    let references = load_references(&args.compare)?;
    for (path, results) in &references {
        answers_the_suite(path, results, &suite).map_err(|error| BadInput(error.into()))?;
    }
    let timeout = Duration::from_secs(args.timeout);
    let validators = select_validators(&args.validator_cmd, &args.validators, timeout)?;

    let unconvertible = suite
        .cases
        .iter()
        .filter(|case| case.conversion_error.is_some())
        .count();
    eprintln!(
        "limbo {}: {} testcases ({unconvertible} not convertible), validators: {}",
        suite_path.display(),
        suite.cases.len(),
        validators
            .iter()
            .map(|validator| validator.name().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let completed = run_suite(&suite, &validators, timeout);
    let outputs = render_outputs(&args.suite, &suite, &completed, &references);
    let out = crate::resolve_from_root(&args.out);
    write_files(&out, &outputs.files)?;
    remove_stale(&out, "results", &outputs.files)?;

    print!("{}", outputs.agreement_table);
    println!();
    for CompletedRun { run, .. } in &completed {
        println!(
            "{:<24} {:>8.2} s  {}",
            run.name,
            run.wall_time.as_secs_f64(),
            run.version
        );
    }
    if !outputs.comparison_summary.is_empty() {
        println!();
        print!("{}", outputs.comparison_summary);
    }
    println!("\nwrote {}", out.display());
    Ok(())
}

fn load_references(files: &[PathBuf]) -> anyhow::Result<Vec<(PathBuf, LimboResults)>> {
    files
        .iter()
        .map(|path| {
            suite::load_results(path)
                .map(|results| (path.clone(), results))
                .map_err(|error| BadInput(error.into()).into())
        })
        .collect()
}

/// A results file that answers for none of the suite's ids was made for another suite (or by
/// a harness that lost the ids): comparing with it would report every case as missing, so it is
/// refused before any validator runs. Some extra ids are fine (full-suite results against `core`).
fn answers_the_suite(
    path: &Path,
    results: &LimboResults,
    suite: &PreparedSuite,
) -> Result<(), Diagnostic> {
    let ids: HashSet<&str> = suite.cases.iter().map(|case| case.id.as_str()).collect();
    if results
        .results
        .iter()
        .any(|result| ids.contains(result.id.as_str()))
    {
        return Ok(());
    }
    let message = format!(
        "these results answer for none of the {} ids of {}",
        ids.len(),
        suite.path.display()
    );
    let help = "compare results made for this suite (the `id` of each result is a testcase id)";
    let Some(first) = results.results.first() else {
        return Err(Diagnostic::whole_file(Code::UnknownName, path, message)
            .field("results")
            .help(help));
    };
    // The caret goes under the first id when the file is plain text (not gzipped).
    let quoted = format!("\"{}\"", first.id);
    let located = std::fs::read_to_string(path).ok().and_then(|source| {
        let start = source.find(&quoted)?;
        Some(Diagnostic::at(
            Code::UnknownName,
            path,
            &source,
            start..start + quoted.len(),
            message.clone(),
        ))
    });
    Err(located
        .unwrap_or_else(|| Diagnostic::whole_file(Code::UnknownName, path, message))
        .field("results[0].id")
        .help(help))
}

fn run_suite(
    suite: &PreparedSuite,
    validators: &[Arc<dyn Validator>],
    timeout: Duration,
) -> Vec<CompletedRun> {
    let results = run_with_progress(validators, &suite.inputs, timeout);
    results
        .runs
        .into_iter()
        .map(|run| {
            let verdicts = suite.verdicts_for_all_cases(run.verdicts.clone());
            CompletedRun { run, verdicts }
        })
        .collect()
}

/// Everything written to `--out` (and the bits printed), rendered in memory first.
struct Outputs {
    agreement_table: String,
    comparison_summary: String,
    /// Relative path under `--out` → contents.
    files: Vec<(PathBuf, String)>,
}

fn render_outputs(
    suite_name: &str,
    suite: &PreparedSuite,
    completed: &[CompletedRun],
    references: &[(PathBuf, LimboResults)],
) -> Outputs {
    let tallies: Vec<_> = completed
        .iter()
        .map(|done| {
            (
                done.run.name.clone(),
                suite::tally_by_namespace(&suite.cases, &done.verdicts),
            )
        })
        .collect();
    let agreement_table = suite::render_agreement_table(&tallies);
    let mut files = Vec::new();
    for done in completed {
        let harness = format!("{} {}", done.run.name, done.run.version);
        let results = suite.limbo_results(&harness, &done.run.profile, &done.verdicts);
        let json = serde_json::to_string_pretty(&results).expect("limbo results serialize") + "\n";
        files.push((
            Path::new("results").join(format!("{}.json", done.run.name)),
            json,
        ));
    }
    let groups: Vec<_> = completed
        .iter()
        .map(|done| {
            (
                done.run.name.clone(),
                suite::group_differences(&suite.cases, &done.verdicts),
            )
        })
        .collect();
    files.push((
        "differences.md".into(),
        suite::render_differences_markdown(suite_name, &groups),
    ));
    files.push(("agreement.txt".into(), agreement_table.clone()));

    let mut comparisons = Vec::new();
    for done in completed {
        let ours = ValidatorVerdicts {
            name: &done.run.name,
            profile: &done.run.profile,
            verdicts: &done.verdicts,
        };
        for (path, theirs) in references {
            comparisons.push(suite::compare(&suite.cases, &ours, theirs, path));
        }
    }
    let comparison_summary = suite::render_comparison_summary(&comparisons);
    if !references.is_empty() {
        files.push((
            "compare.md".into(),
            suite::render_compare_markdown(suite_name, &comparisons),
        ));
    }
    Outputs {
        agreement_table,
        comparison_summary,
        files,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_validator_name_is_bad_input() {
        let error = select_validators(&[], &["nope".into()], Duration::from_secs(1))
            .err()
            .unwrap();
        assert!(error.downcast_ref::<BadInput>().is_some());
        assert!(error.to_string().contains("nope"), "{error}");
    }

    #[test]
    fn filter_keeps_only_the_named_validators() {
        let validators =
            select_validators(&[], &["openssl-strict".into()], Duration::from_secs(1)).unwrap();
        let names: Vec<&str> = validators
            .iter()
            .map(|validator| validator.name())
            .collect();
        assert_eq!(names, ["openssl-strict"]);
    }

    #[test]
    fn external_name_clash_is_bad_input() {
        let error = select_validators(&["openssl=true".into()], &[], Duration::from_secs(1))
            .err()
            .unwrap();
        assert!(error.downcast_ref::<BadInput>().is_some(), "{error}");
    }

    /// Results answering for at least one id of the suite pass; answering for none is bad input
    /// located at the first id (or at `results` when there is none).
    #[test]
    fn results_must_answer_for_some_id_of_the_suite() {
        use anchorsmith_validators::limbo::ExpectedResult;
        use anchorsmith_validators::suite::SuiteCase;
        let suite = PreparedSuite {
            path: "suite.json".into(),
            cases: ["a::one", "a::two"]
                .into_iter()
                .map(|id| SuiteCase {
                    id: id.into(),
                    namespace: "a".into(),
                    expected: ExpectedResult::Success,
                    conversion_error: None,
                })
                .collect(),
            inputs: Vec::new(),
        };
        let directory = tempfile::tempdir().unwrap();
        let file = directory.path().join("results.json");
        let results = |ids: &[&str]| {
            let entries: Vec<String> = ids
                .iter()
                .map(|id| {
                    format!(r#"{{"id": "{id}", "actual_result": "SUCCESS", "context": null}}"#)
                })
                .collect();
            let text = format!(
                "{{\"version\": 1, \"harness\": \"h\", \"results\": [\n{}\n]}}\n",
                entries.join(",\n")
            );
            std::fs::write(&file, &text).unwrap();
            serde_json::from_str::<LimboResults>(&text).unwrap()
        };
        // Extra ids are fine (full-suite results against a smaller suite).
        assert!(answers_the_suite(&file, &results(&["x::other", "a::two"]), &suite).is_ok());
        let error =
            answers_the_suite(&file, &results(&["x::other", "y::other"]), &suite).unwrap_err();
        assert_eq!(error.code, Code::UnknownName);
        assert_eq!(error.field.as_deref(), Some("results[0].id"));
        assert_eq!((error.line, error.column), (2, 8));
        let error = answers_the_suite(&file, &results(&[]), &suite).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("results"));
    }

    #[test]
    fn outputs_are_written_whole() {
        let directory = tempfile::tempdir().unwrap();
        let outputs = Outputs {
            agreement_table: String::new(),
            comparison_summary: String::new(),
            files: vec![
                ("results/a.json".into(), "{}\n".into()),
                ("differences.md".into(), "# d\n".into()),
            ],
        };
        write_files(directory.path(), &outputs.files).unwrap();
        assert_eq!(
            std::fs::read_to_string(directory.path().join("results/a.json")).unwrap(),
            "{}\n"
        );
        let leftovers: Vec<_> = std::fs::read_dir(directory.path().join("results"))
            .unwrap()
            .collect();
        assert_eq!(leftovers.len(), 1, "no temporary files left behind");
    }
}
