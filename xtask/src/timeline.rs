//! `cargo xtask timeline [--scenario S]... [--target T]... [--out DIR]`: when does the connection
//! work? For each subject (a client with one trust store, shown one served chain) of each chosen
//! scenario, the exact intervals of time in which validation succeeds, computed from every
//! certificate validity boundary in play and proved on both sides of every change
//! (`anchorsmith_corpus::compatibility`). Writes `timeline.md` and `timeline.svg` to `--out`.
//!
//! The subjects come from [`subjects`], the one place that decides who is validated. Until client
//! targets exist it gives one subject per in-process validator × store × served chain, and
//! `--target` names validators.
//!
//! Exit status: 2 for an unknown scenario or target (with the known names), 1 when a proof does
//! not show its change (the files are written first, so the failure can be read in them).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchorsmith_corpus::compatibility::{
    date_time, render_md, render_svg_file, subjects_for_validators, ScenarioTimeline, Status,
    Subject,
};
use anchorsmith_corpus::{Corpus, Scenario};
use anchorsmith_validators::runner::RunOptions;
use anchorsmith_validators::{in_process_validators, Validator};

use crate::shared::write_files;
use crate::{project_root, BadInput, TimelineArgs};

pub fn run(args: TimelineArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let corpus = crate::corpus::load(&project_root().join("corpus"), Vec::new())?;
    let scenarios = select_scenarios(&corpus, &args.scenarios)?;
    // Every name is checked before the first validation.
    let subjects = scenarios
        .iter()
        .map(|scenario| subjects(&corpus, scenario, &args.targets))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let options = RunOptions {
        per_case_timeout: Duration::from_secs(args.timeout),
        progress: None,
    };
    let mut timelines = Vec::new();
    for (scenario, subjects) in scenarios.iter().zip(&subjects) {
        eprintln!("timeline: {} ({} subjects)", scenario.name, subjects.len());
        timelines.push(ScenarioTimeline::compute(scenario, subjects, &options)?);
    }
    let out = crate::resolve_out(&args.out);
    write_files(
        &out,
        &[
            (PathBuf::from("timeline.md"), render_md(&timelines)),
            (PathBuf::from("timeline.svg"), render_svg_file(&timelines)),
        ],
    )?;
    print_summary(&timelines);
    let proofs: usize = timelines
        .iter()
        .flat_map(|timeline| &timeline.rows)
        .map(|row| row.proofs.len())
        .sum();
    let failed: Vec<String> = timelines
        .iter()
        .flat_map(|timeline| {
            timeline.rows.iter().flat_map(move |row| {
                row.failed_proofs().map(move |proof| {
                    format!(
                        "{}: {} {} / store {} at {}: expected {} then {}, measured {} then {}",
                        timeline.scenario,
                        row.label,
                        row.chain,
                        row.store_text(),
                        date_time(proof.at),
                        proof.before.expected,
                        proof.after.expected,
                        proof.before.measured,
                        proof.after.measured
                    )
                })
            })
        })
        .collect();
    println!(
        "{} scenarios, {} subjects, {proofs} changes proved on both sides ({} failed) in {:.1} s; \
wrote timeline.md and timeline.svg to {}",
        timelines.len(),
        subjects.iter().map(Vec::len).sum::<usize>(),
        failed.len(),
        started.elapsed().as_secs_f64(),
        out.display()
    );
    if !failed.is_empty() {
        anyhow::bail!(
            "{} proofs do not show their change:\n  {}",
            failed.len(),
            failed.join("\n  ")
        );
    }
    Ok(())
}

/// The scenarios named by `--scenario` (all without one), in corpus order; an unknown name is
/// bad input that lists the known ones.
fn select_scenarios<'a>(corpus: &'a Corpus, names: &[String]) -> anyhow::Result<Vec<&'a Scenario>> {
    if let Some(unknown) = names
        .iter()
        .find(|name| !corpus.scenarios.iter().any(|s| &s.name == *name))
    {
        let known: Vec<&str> = corpus.scenarios.iter().map(|s| s.name.as_str()).collect();
        return Err(BadInput(anyhow::anyhow!(
            "--scenario `{unknown}`: no such scenario (known: {})",
            known.join(", ")
        ))
        .into());
    }
    Ok(corpus
        .scenarios
        .iter()
        .filter(|scenario| names.is_empty() || names.contains(&scenario.name))
        .collect())
}

/// Who is validated in `scenario`: the one function to replace when client targets exist (then
/// a subject per target that applies to the scenario × its stores × the served chains, its
/// engine as the validator and its cache in the input).
///
/// Today: each in-process validator named by `targets` (all without one) × each store × each
/// served chain. An unknown name is bad input that lists the known ones.
pub fn subjects(
    corpus: &Corpus,
    scenario: &Scenario,
    targets: &[String],
) -> anyhow::Result<Vec<Subject>> {
    let validators = in_process_validators();
    if let Some(unknown) = targets
        .iter()
        .find(|name| !validators.iter().any(|v| v.name() == name.as_str()))
    {
        let known: Vec<&str> = validators.iter().map(|v| v.name()).collect();
        return Err(BadInput(anyhow::anyhow!(
            "--target `{unknown}`: no such target (known: {})",
            known.join(", ")
        ))
        .into());
    }
    let chosen: Vec<Arc<dyn Validator>> = validators
        .into_iter()
        .filter(|v| targets.is_empty() || targets.iter().any(|name| name == v.name()))
        .collect();
    Ok(subjects_for_validators(scenario, &corpus.cases, &chosen))
}

/// One line per subject: where the connection works.
fn print_summary(timelines: &[ScenarioTimeline]) {
    for timeline in timelines {
        println!("\n{}", timeline.scenario);
        for row in &timeline.rows {
            let works: Vec<String> = row
                .intervals
                .iter()
                .filter(|interval| interval.status == Status::Accept)
                .map(|interval| interval.span())
                .collect();
            println!(
                "  {:<24} {:<14} {:<10} works {}",
                row.label,
                row.chain,
                row.store_text(),
                if works.is_empty() {
                    "never".to_string()
                } else {
                    works.join(", ")
                }
            );
        }
    }
}
