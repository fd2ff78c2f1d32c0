//! `cargo xtask corpus`: load and check every input (the scenarios, `clients.toml`,
//! `questions.toml`, the flags), then run every case through every validator and write the reports
//! (results/<validator>.json, matrix.md, differences.md, report.html) to `--out`. A target that
//! holds a minimal trust bundle also runs its engine against the bundle (`<target>+bundle`). A plain run
//! writes nothing else: the source tree, `git status` included, stays as it was.
//!
//! The committed export (`corpus/generated/`) changes only with `--bless`, which regenerates it
//! without running validators; `--check` fails (exit 1) when it is stale, as `cargo test` does,
//! and a plain run says so. `--check` also checks `questions.toml`. Bad input of any kind exits 2
//! before any harness is set up or any validator runs. `--corpus DIR` reads another corpus
//! directory (a user's own scenarios) in place of `corpus/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchorsmith_corpus::compatibility::{
    render_md, render_svg_file, subjects_for_targets, ScenarioTimeline,
};
use anchorsmith_corpus::generated::{check_generated, render_generated, write_generated};
use anchorsmith_corpus::report::{
    parse_questions, render_differences_md, render_html, render_matrix_md, render_summary_table,
    Question, RunPlan, RunReport,
};
use anchorsmith_corpus::target::bundle::run_bundle_columns;
use anchorsmith_corpus::{default_seeds_dir, load_corpus_with, Case, Corpus, LoadOptions};
use anchorsmith_validators::external::ExternalHarness;
use anchorsmith_validators::runner::{RunOptions, RunResults};
use anchorsmith_validators::{ValidationInput, Validator};

use crate::shared::{
    handshake_validators, remove_stale, run_with_progress, select_validators, target_engines,
    write_files,
};
use crate::{project_root, BadInput, CorpusArgs};

pub fn run(args: CorpusArgs) -> anyhow::Result<()> {
    let corpus_dir = args.corpus.dir();
    if args.check || args.bless {
        let corpus = load(&corpus_dir, Vec::new())?;
        return if args.check {
            // A renamed case must not leave questions.toml behind unnoticed.
            load_questions(&corpus_dir.join("questions.toml"), &corpus)?;
            check(&corpus_dir, &corpus)
        } else {
            bless(&corpus_dir, &corpus)
        };
    }
    // Every input is read and checked here, before any harness is set up (on a fresh machine
    // that takes minutes) and before the first validation.
    let timeout = Duration::from_secs(args.timeout);
    // A target may name an external harness as its engine.
    let external_names = args
        .validator_cmd
        .iter()
        .map(|spec| ExternalHarness::parse(spec).map(|harness| harness.name))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| BadInput(error.into()))?;
    let corpus = load(&corpus_dir, external_names)?;
    let questions = load_questions(&corpus_dir.join("questions.toml"), &corpus)?;
    let selected = select_cases(&corpus, args.filter.as_deref())?;
    let mut validators = select_validators(&args.validator_cmd, &[], timeout)?;
    // Real TLS handshakes, after every other column.
    validators.extend(handshake_validators(timeout)?);
    let plan = RunPlan::new(&corpus, &selected, questions);
    print_summary(&corpus);
    note_stale_export(&corpus_dir, &corpus);

    let inputs: Vec<ValidationInput> = selected
        .iter()
        .map(|case| case.to_validation_input())
        .collect();
    let started = Instant::now();
    let results = run_with_progress(&validators, &inputs, timeout);
    // Targets whose engine is the client model run as their own validators; the others take
    // their engine column's verdicts.
    let models: Vec<Arc<dyn Validator>> = corpus
        .targets
        .iter()
        .filter_map(|target| target.model_validator())
        .collect();
    let mut model_results = run_with_progress(&models, &inputs, timeout);
    // A target whose firmware holds a minimal trust bundle: its engine again, with the bundle as
    // the whole trust store, as the column `<target>+bundle`.
    let bundle_results = run_bundle_columns(
        &corpus.targets,
        &selected,
        &validators,
        |engines, inputs| run_with_progress(engines, inputs, timeout),
    );
    model_results.runs.extend(bundle_results.runs);
    let timelines = compatibility_timelines(&corpus, &selected, &validators, timeout)?;
    let report = RunReport::new(plan, &results, &model_results)
        .with_timelines(timelines)
        .with_api_pairs(anchorsmith_validators::handshake::api_pairs(&validators));
    let files = report_files(&report, &results);
    let out = crate::resolve_from_root(&args.out);
    write_files(&out, &files)?;
    remove_stale(&out, "results", &files)?;
    println!("\n{}", render_summary_table(&report));
    println!(
        "{} validations in {:.1} s; reports in {}: matrix.md, differences.md, report.html, timeline.md, timeline.svg, results/",
        inputs.len() * validators.len(),
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

/// The compatibility timeline of every scenario in the run, over its targets (their engines
/// among `validators`, or the client model), for report.html. A failed proof is a warning on
/// stderr, not an error: the report is still written, and marks the row.
fn compatibility_timelines(
    corpus: &Corpus,
    selected: &[&Case],
    validators: &[Arc<dyn Validator>],
    timeout: Duration,
) -> anyhow::Result<Vec<ScenarioTimeline>> {
    let engines = target_engines(&corpus.targets, validators);
    let options = RunOptions {
        per_case_timeout: timeout,
        progress: None,
    };
    let mut timelines = Vec::new();
    for scenario in &corpus.scenarios {
        if !selected.iter().any(|case| case.scenario == scenario.name) {
            continue;
        }
        let subjects = subjects_for_targets(scenario, &corpus.cases, &engines);
        eprintln!("timeline: {} ({} subjects)", scenario.name, subjects.len());
        let timeline = ScenarioTimeline::compute(scenario, &subjects, &options)?;
        // The report is still written (the failure is marked in it), but not silently.
        for failure in timeline.failures() {
            eprintln!("warning: timeline proof failed: {failure}");
        }
        timelines.push(timeline);
    }
    Ok(timelines)
}

/// Loads the corpus; input errors become [`BadInput`] (exit status 2).
pub(crate) fn load(corpus_dir: &Path, extra_validators: Vec<String>) -> anyhow::Result<Corpus> {
    let options = LoadOptions {
        extra_validators,
        // The seeds are the project's whichever corpus is read (`--corpus`).
        seeds_dir: default_seeds_dir(&project_root().join("corpus")),
        ..LoadOptions::for_corpus_dir(corpus_dir)
    };
    load_corpus_with(corpus_dir, &options).map_err(|error| {
        if error.is_bad_input() {
            anyhow::Error::new(BadInput(anyhow::Error::new(error)))
        } else {
            anyhow::Error::new(error)
        }
    })
}

/// Reads `questions.toml` and checks its case ids against the whole corpus (a `--filter` may
/// leave some out of the run; they are then not answered). Errors are bad input.
fn load_questions(path: &Path, corpus: &Corpus) -> anyhow::Result<Vec<Question>> {
    let source = std::fs::read_to_string(path)
        .map_err(|error| BadInput(anyhow::anyhow!("{}: {error}", path.display())))?;
    let case_ids: BTreeSet<&str> = corpus.cases.iter().map(|case| case.id.as_str()).collect();
    // Errors name the file as the user knows it, from the project root.
    let shown = path.strip_prefix(project_root()).unwrap_or(path);
    parse_questions(shown, &source, &case_ids)
        .map_err(|diagnostic| BadInput(anyhow::Error::new(diagnostic)).into())
}

/// The cases whose id contains `filter` (all without one); none is bad input.
fn select_cases<'a>(corpus: &'a Corpus, filter: Option<&str>) -> anyhow::Result<Vec<&'a Case>> {
    let selected: Vec<&Case> = corpus
        .cases
        .iter()
        .filter(|case| filter.is_none_or(|text| case.id.contains(text)))
        .collect();
    if selected.is_empty() {
        return Err(BadInput(anyhow::anyhow!("--filter matches no case id")).into());
    }
    Ok(selected)
}

/// Everything written to `--out`, rendered in memory first.
fn report_files(report: &RunReport, results: &RunResults) -> Vec<(PathBuf, String)> {
    // Results files list cases in corpus order, as limbo results files follow their suite.
    let ids: Vec<&str> = report.rows.iter().map(|row| row.id.as_str()).collect();
    let mut files: Vec<(PathBuf, String)> = results
        .runs
        .iter()
        .map(|run| {
            let json = serde_json::to_string_pretty(&run.to_limbo_results(&ids))
                .expect("limbo results serialize");
            (
                Path::new("results").join(format!("{}.json", run.name)),
                json + "\n",
            )
        })
        .collect();
    files.push(("matrix.md".into(), render_matrix_md(report)));
    files.push(("differences.md".into(), render_differences_md(report)));
    files.push(("report.html".into(), render_html(report)));
    if !report.timelines.is_empty() {
        let timelines: Vec<ScenarioTimeline> = report.timelines.values().cloned().collect();
        files.push(("timeline.md".into(), render_md(&timelines)));
        files.push(("timeline.svg".into(), render_svg_file(&timelines)));
    }
    files
}

/// Fails (exit 1) with the list of stale / missing / extra files when the committed corpus drifted.
fn check(corpus_dir: &Path, corpus: &Corpus) -> anyhow::Result<()> {
    let rendered = render_generated(corpus);
    check_generated(corpus_dir, &rendered)?;
    println!("corpus/generated/ is up to date ({} files)", rendered.len());
    Ok(())
}

/// Writes the committed corpus and says what changed.
fn bless(corpus_dir: &Path, corpus: &Corpus) -> anyhow::Result<()> {
    let rendered = render_generated(corpus);
    let changes = write_generated(corpus_dir, &rendered)?;
    if changes.is_empty() {
        println!("corpus/generated/ is up to date ({} files)", rendered.len());
    } else {
        println!(
            "corpus/generated/: {} updated, {} added, {} removed",
            changes.stale.len(),
            changes.missing.len(),
            changes.extra.len()
        );
    }
    Ok(())
}

/// A plain run leaves the committed export alone, but says when it no longer matches the
/// scenarios, since `cargo test` will then fail.
fn note_stale_export(corpus_dir: &Path, corpus: &Corpus) {
    if let Err(drift) = check_generated(corpus_dir, &render_generated(corpus)) {
        println!(
            "note: corpus/generated/ is out of date ({} stale, {} missing, {} extra); \
`cargo xtask corpus --bless` regenerates it",
            drift.stale.len(),
            drift.missing.len(),
            drift.extra.len()
        );
    }
}

fn print_summary(corpus: &Corpus) {
    let derived = corpus.expectations().filter(|(_, e)| e.derived).count();
    let expectations = corpus.expectations().count() - derived;
    let accepted = corpus
        .cases
        .iter()
        .filter(|c| c.reference.is_accept())
        .count();
    println!(
        "{} scenarios, {} cases ({} accepted by the reference), {} documented expectations, \
         {} derived predictions",
        corpus.scenarios.len(),
        corpus.cases.len(),
        accepted,
        expectations,
        derived
    );
}
