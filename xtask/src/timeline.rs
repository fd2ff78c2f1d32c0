//! `cargo xtask timeline [--scenario S]... [--target T]... [--out DIR]`: when does the connection
//! work? For each subject (a client with one trust store, shown one served chain) of each chosen
//! scenario, the exact intervals of time in which validation succeeds: probed on every
//! certificate validity boundary in play, a day either side of it and between, each change then
//! found to the second by halving and proved on both sides; `not served` before the chain's
//! certificates all exist (`anchorsmith_corpus::compatibility`). Writes `timeline.md` and
//! `timeline.svg` to `--out`, and prints where each subject works, with any change that falls on
//! no certificate boundary (an engine quirk, such as NSS's day of grace before a notBefore).
//!
//! The subjects are the targets (`corpus/targets/`): one per target placed in the scenario × each
//! store and cache it holds there × each served chain, validated by the target's engine (the
//! client model with its knobs, or the real validator it names). `--target` picks targets.
//!
//! Exit status: 2 for an unknown scenario or target (with the known names), 1 when a proof does
//! not show its change (the files are written first, so the failure can be read in them).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchorsmith_corpus::compatibility::{
    date_time, render_md, render_svg_file, subjects_for_targets, Place, ScenarioTimeline, Status,
    Subject,
};
use anchorsmith_corpus::{Corpus, Scenario, Target, TargetEngine};
use anchorsmith_validators::runner::RunOptions;
use anchorsmith_validators::Validator;

use crate::shared::{select_validators, target_engines, write_files};
use crate::{project_root, BadInput, TimelineArgs};

pub fn run(args: TimelineArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let corpus = crate::corpus::load(&project_root().join("corpus"), Vec::new())?;
    let scenarios = select_scenarios(&corpus, &args.scenarios)?;
    // Every name is checked before anything is set up or validated.
    let targets = select_targets(&corpus, &args.targets)?;
    let engines = engines(&targets, Duration::from_secs(args.timeout))?;
    let subjects: Vec<Vec<Subject>> = scenarios
        .iter()
        .map(|scenario| subjects_for_targets(scenario, &corpus.cases, &engines))
        .collect();
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
        .map(|row| row.changes.len())
        .sum();
    let off_boundary: usize = timelines
        .iter()
        .flat_map(|timeline| &timeline.rows)
        .map(|row| row.off_boundary().count())
        .sum();
    let failed: Vec<String> = timelines
        .iter()
        .flat_map(ScenarioTimeline::failures)
        .collect();
    println!(
        "{} scenarios, {} subjects, {proofs} changes proved on both sides ({} failed), \
{off_boundary} not at a certificate boundary, in {:.1} s; wrote timeline.md and timeline.svg to {}",
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
pub(crate) fn select_scenarios<'a>(
    corpus: &'a Corpus,
    names: &[String],
) -> anyhow::Result<Vec<&'a Scenario>> {
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

/// The targets named by `--target` (all without one), in target order; an unknown name is bad
/// input that lists the known ones.
pub(crate) fn select_targets<'a>(
    corpus: &'a Corpus,
    names: &[String],
) -> anyhow::Result<Vec<&'a Target>> {
    if let Some(unknown) = names
        .iter()
        .find(|name| !corpus.targets.iter().any(|t| &t.name == *name))
    {
        let known: Vec<&str> = corpus.targets.iter().map(|t| t.name.as_str()).collect();
        return Err(BadInput(anyhow::anyhow!(
            "--target `{unknown}`: no such target in corpus/targets/ (known: {})",
            known.join(", ")
        ))
        .into());
    }
    Ok(corpus
        .targets
        .iter()
        .filter(|target| names.is_empty() || names.contains(&target.name))
        .collect())
}

/// Each chosen target's engine: the client model, or its real validator column, set up on
/// first use (only the columns these targets need).
pub(crate) fn engines<'a>(
    targets: &[&'a Target],
    timeout: Duration,
) -> anyhow::Result<Vec<(&'a Target, Arc<dyn Validator>)>> {
    let needed: Vec<String> = targets
        .iter()
        .filter_map(|target| match &target.engine {
            TargetEngine::Validator { name } => Some(name.clone()),
            TargetEngine::Model { .. } => None,
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // An empty `wanted` list would select every validator: ask only when one is needed.
    let columns = if needed.is_empty() {
        Vec::new()
    } else {
        select_validators(&[], &needed, timeout)?
    };
    Ok(target_engines(targets.iter().copied(), &columns))
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
            for change in row.off_boundary() {
                if let Place::OffBoundary {
                    nearest,
                    offset_seconds,
                } = &change.place
                {
                    println!(
                        "    not at a certificate boundary: {} → {} at {}, {offset_seconds:+} s from {} {}",
                        change.proof.before.measured,
                        change.proof.after.measured,
                        date_time(change.at),
                        nearest.certificate,
                        nearest.edge
                    );
                }
            }
        }
    }
}
