//! `cargo xtask doctor --batch FILE.jsonl [--results FILE.jsonl] [--scenario S] [--at DATE]
//! [--targets a,b] [--real]`: many served chains, one compact result line per input line (the
//! batch engine is `anchorsmith_doctor::batch`; the line formats: doctor/batch.schema.json).
//!
//! Judged by the targets whose engine is a client model, all sharing one signature cache; targets
//! run by a real validator are left out (named on stderr) unless --real. A chain no scenario
//! knows is judged as the single-chain doctor judges it, by the real validators against the real
//! stores (without --targets, which only a scenario places). Every line is checked
//! before any is judged: bad input anywhere prints a located error per bad line, exits 2 and
//! writes nothing. --results is written to a temporary file beside it and renamed at the end.
//! Exit status: 0 every chain is all good (some target accepts it, none rejects it, no engine
//! failed), 1
//! some chain is not, 2 bad input.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchorsmith_corpus::Target;
use anchorsmith_doctor::batch::{result_line, Batch, Summary};
use anchorsmith_doctor::Panel;
use anchorsmith_validators::model::SignatureCache;
use anyhow::Context;

use crate::{BadInput, DoctorArgs};

/// Chains judged (in parallel) between two writes: bounds memory on big files.
const CHUNK: usize = 2048;
/// Bad lines printed at most; the count says how many more.
const SHOWN_ERRORS: usize = 20;

pub fn run(file: &Path, args: &DoctorArgs) -> anyhow::Result<()> {
    let source = anchorsmith_bundle::load::read(file).map_err(|d| BadInput(d.into()))?;
    let now = anchorsmith_doctor::setup::at(args.at.as_deref()).map_err(crate::doctor::bad)?;
    let corpus = crate::corpus::load(&args.corpus.dir(), Vec::new())?;
    if let Some(name) = &args.scenario {
        crate::shared::select_scenarios(&corpus, "--scenario", std::slice::from_ref(name))?;
    }
    let chosen = crate::shared::select_targets(&corpus, "--targets", &args.targets)?;
    let signatures = Arc::new(SignatureCache::new());
    let (judging, engines) = batch_engines(&chosen, args.real, &signatures)?;
    warn_left_out(&chosen, &judging);
    let panels =
        anchorsmith_doctor::batch::panels(&corpus.scenarios, &corpus.cases, &engines, &judging);
    // A chain no scenario knows is judged as the single-chain doctor judges it: by the real
    // validators against the real stores; unless --targets chose targets, which only a
    // scenario places (as the single-chain doctor refuses --targets for such a chain). With
    // --scenario every line has one, so the real stores are not even read.
    let real = (args.targets.is_empty() && args.scenario.is_none())
        .then(|| Panel::real(anchorsmith_doctor::setup::real_stores(), ""));
    let batch = Batch::new(
        &corpus.scenarios,
        &panels,
        real.as_ref(),
        args.scenario.as_deref(),
        signatures,
        now,
    );
    let requests = batch.read(file, &source).map_err(|errors| {
        for diagnostic in errors.iter().take(SHOWN_ERRORS) {
            eprintln!("{diagnostic}\n");
        }
        BadInput(anyhow::anyhow!(
            "{} bad line(s) in {}{}: nothing judged, nothing written",
            errors.len(),
            file.display(),
            if errors.len() > SHOWN_ERRORS {
                format!(" (the first {SHOWN_ERRORS} shown)")
            } else {
                String::new()
            }
        ))
    })?;
    drop(source);

    let started = Instant::now();
    let bar = indicatif::ProgressBar::new(requests.len() as u64).with_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} chains ({per_sec})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut summary = Summary::default();
    let write = |out: &mut dyn Write, summary: &mut Summary| -> anyhow::Result<()> {
        for chunk in requests.chunks(CHUNK) {
            for (request, diagnosis) in chunk.iter().zip(batch.judge_all(chunk)) {
                summary.add(&diagnosis);
                serde_json::to_writer(&mut *out, &result_line(&request.id, &diagnosis))?;
                out.write_all(b"\n")?;
            }
            bar.inc(chunk.len() as u64);
        }
        out.flush()?;
        Ok(())
    };
    match &args.results {
        Some(path) => {
            let path = crate::resolve_from_root(path);
            let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
            let temporary = tempfile::NamedTempFile::new_in(dir.unwrap_or(Path::new(".")))
                .with_context(|| format!("creating a temporary file beside {}", path.display()))?;
            let mut out = std::io::BufWriter::new(temporary);
            write(&mut out, &mut summary)?;
            out.into_inner()
                .map_err(|error| error.into_error())?
                .persist(&path)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            write(&mut out, &mut summary)?;
        }
    }
    bar.finish_and_clear();
    eprintln!(
        "{}",
        summary_text(&summary, started.elapsed(), batch.signatures())
    );
    if summary.rejected > 0 {
        std::process::exit(1);
    }
    Ok(())
}

/// The targets that judge (the chosen client-model targets; with `real`, every chosen one) and
/// their engines: each client model verifying through the shared `signatures`
/// (`anchorsmith_doctor::setup::model_engines`), the real validators set up here.
pub(crate) fn batch_engines<'a>(
    chosen: &[&'a Target],
    real: bool,
    signatures: &Arc<SignatureCache>,
) -> anyhow::Result<(Vec<&'a Target>, Vec<anchorsmith_doctor::Engine<'a>>)> {
    let (mut engines, real_targets) = anchorsmith_doctor::setup::model_engines(chosen, signatures);
    let mut judging: Vec<&Target> = engines.iter().map(|engine| engine.target).collect();
    if real {
        let real_engines = crate::shared::engines(&real_targets, Duration::from_secs(60))?;
        engines.extend(
            real_engines
                .into_iter()
                .map(anchorsmith_doctor::Engine::from),
        );
        judging = chosen.to_vec();
    }
    Ok((judging, engines))
}

/// Names on stderr the chosen targets that do not judge (their engine is a real validator).
pub(crate) fn warn_left_out(chosen: &[&Target], judging: &[&Target]) {
    let names = anchorsmith_doctor::setup::left_out(chosen, judging);
    if !names.is_empty() {
        eprintln!(
            "doctor --batch: judged by the client-model targets; left out (their engine is a real validator, one process call per chain; --real includes them): {}",
            names.join(", ")
        );
    }
}

/// The closing summary: chains, findings by code, rejections, time and rate, the cache's work.
fn summary_text(summary: &Summary, elapsed: Duration, signatures: &SignatureCache) -> String {
    let seconds = elapsed.as_secs_f64().max(1e-9);
    let codes: Vec<String> = summary
        .by_code_name()
        .iter()
        .map(|(code, count)| format!("{code} {count}"))
        .collect();
    let counts = signatures.counts();
    format!(
        "doctor --batch: {} chain(s) in {:.2} s ({:.0} chains/s){}; with findings: {}; not all good (some target rejects or failed): {}; signatures: {} checks asked, {} verified ({:.1}% from the cache)",
        summary.chains,
        seconds,
        summary.chains as f64 / seconds,
        if summary.by_real_validators > 0 {
            format!(
                ", {} known to no scenario (judged by the real validators against the real stores)",
                summary.by_real_validators
            )
        } else {
            String::new()
        },
        if codes.is_empty() {
            "none".to_string()
        } else {
            codes.join(", ")
        },
        summary.rejected,
        counts.requested,
        counts.performed,
        counts.hit_rate() * 100.0
    )
}
