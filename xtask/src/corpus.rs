//! `cargo xtask corpus`: load the corpus (corpus/scenarios/ + clients.toml), regenerate the
//! committed export (corpus/generated/), run every case through every validator, and write the
//! reports (results/<validator>.json, matrix.md, differences.md, report.html) to `--out`.
//!
//! `--check` regenerates in memory and fails (exit 1) when the committed files drifted;
//! `--bless` writes them. Bad scenario input exits 2 with file:line:column and field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

use anchorsmith_corpus::generated::{check_generated, render_generated, write_generated};
use anchorsmith_corpus::report::{
    load_questions, render_differences_md, render_html, render_matrix_md, render_summary_table,
    RunReport,
};
use anchorsmith_corpus::{load_corpus, Case, Corpus};
use anchorsmith_validators::runner::RunResults;
use anchorsmith_validators::ValidationInput;

use crate::shared::{remove_stale, run_with_progress, select_validators, write_files};
use crate::{project_root, BadInput, CorpusArgs};

pub fn run(args: CorpusArgs) -> anyhow::Result<()> {
    let corpus_dir = project_root().join("corpus");
    let corpus = load(&corpus_dir)?;
    let rendered = render_generated(&corpus);
    if args.check {
        return check(&corpus_dir, &rendered);
    }
    bless(&corpus_dir, &rendered)?;
    if args.bless {
        return Ok(());
    }
    print_summary(&corpus);
    let timeout = Duration::from_secs(args.timeout);
    let validators = select_validators(&args.validator_cmd, &[], timeout)?;
    let selected: Vec<&Case> = corpus
        .cases
        .iter()
        .filter(|case| {
            args.filter
                .as_deref()
                .is_none_or(|text| case.id.contains(text))
        })
        .collect();
    if selected.is_empty() {
        return Err(BadInput(anyhow::anyhow!("--filter matches no case id")).into());
    }
    let inputs: Vec<ValidationInput> = selected
        .iter()
        .map(|case| case.to_validation_input())
        .collect();
    let started = Instant::now();
    let results = run_with_progress(&validators, &inputs, timeout);
    let mut report = RunReport::new(&corpus, &selected, &results);
    report.questions = load_questions(&corpus_dir.join("questions.toml"), &corpus)
        .map_err(|error| BadInput(anyhow::anyhow!(error)))?;
    let files = report_files(&report, &selected, &results);
    let out = crate::resolve_out(&args.out);
    write_files(&out, &files)?;
    remove_stale(&out, "results", &files)?;
    println!("\n{}", render_summary_table(&report));
    println!(
        "{} validations in {:.1} s; reports in {}: matrix.md, differences.md, report.html, results/",
        inputs.len() * validators.len(),
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

/// Everything written to `--out`, rendered in memory first.
fn report_files(
    report: &RunReport,
    cases: &[&Case],
    results: &RunResults,
) -> Vec<(PathBuf, String)> {
    let ids: Vec<&str> = cases.iter().map(|case| case.id.as_str()).collect();
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
    files
}

/// Loads the corpus; input errors become [`BadInput`] (exit status 2).
fn load(corpus_dir: &Path) -> anyhow::Result<Corpus> {
    load_corpus(corpus_dir).map_err(|error| {
        if error.is_bad_input() {
            anyhow::Error::new(BadInput(anyhow::Error::new(error)))
        } else {
            anyhow::Error::new(error)
        }
    })
}

/// Fails (exit 1) with the list of stale / missing / extra files when the committed corpus drifted.
fn check(corpus_dir: &Path, rendered: &BTreeMap<PathBuf, Vec<u8>>) -> anyhow::Result<()> {
    check_generated(corpus_dir, rendered)?;
    println!("corpus/generated/ is up to date ({} files)", rendered.len());
    Ok(())
}

/// Writes the committed corpus and says what changed.
fn bless(corpus_dir: &Path, rendered: &BTreeMap<PathBuf, Vec<u8>>) -> anyhow::Result<()> {
    let changes = write_generated(corpus_dir, rendered)?;
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

fn print_summary(corpus: &Corpus) {
    let expectations = corpus.expectations().count();
    let accepted = corpus
        .cases
        .iter()
        .filter(|c| c.reference.is_accept())
        .count();
    println!(
        "{} scenarios, {} cases ({} accepted by the reference), {} documented expectations",
        corpus.scenarios.len(),
        corpus.cases.len(),
        accepted,
        expectations
    );
}
