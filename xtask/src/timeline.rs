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
//! client model with its knobs, or the real validator it names). `--target` picks targets;
//! `--corpus DIR` reads another corpus directory in place of `corpus/`.
//!
//! Exit status: 2 for an unknown scenario or target (with the known names), 1 when a proof does
//! not show its change (the files are written first, so the failure can be read in them).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anchorsmith_corpus::compatibility::{
    date_time, render_md, render_svg_file, subjects_for_targets, Place, ScenarioTimeline, Status,
    Subject,
};
use anchorsmith_validators::runner::RunOptions;

use crate::shared::{engines, select_scenarios, select_targets, write_files};
use crate::TimelineArgs;

pub fn run(args: TimelineArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let corpus = crate::corpus::load(&args.corpus.dir(), Vec::new())?;
    let scenarios = select_scenarios(&corpus, "--scenario", &args.scenarios)?;
    // Every name is checked before anything is set up or validated.
    let targets = select_targets(&corpus, "--target", &args.targets)?;
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
    let out = crate::resolve_from_root(&args.out);
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
        "{} scenario(s), {} subjects, {proofs} changes proved on both sides ({} failed), \
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
