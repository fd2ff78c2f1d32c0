//! `cargo xtask bench doctor [--chains N]`: the chain doctor's batch engine on N synthetic
//! served chains (default 100,000) against the client-model targets, in chains per second,
//! beside the signature-verification rate measured in the same run (`openssl speed ecdsap256`
//! and the in-process verifier the models use), with the signature cache's work: checks asked
//! for, checks performed.
//!
//! The chains are `anchorsmith_doctor::synthetic`'s (deterministic, one of the seeds' shapes in
//! turn). Chains are made and judged CHUNK at a time, so memory stays flat; only judging
//! (diagnosis and the result line, as `doctor --batch` writes it) is timed.
//!
//! Where the time goes is measured too, one thread on a sample: findings alone, the whole
//! diagnosis with the batch's signature cache and without any, the result line.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anchorsmith_corpus::{Corpus, Target};
use anchorsmith_doctor::batch::{result_line, Batch, Request, Summary};
use anchorsmith_doctor::findings::Reference;
use anchorsmith_doctor::synthetic::{Shape, Synthetic};
use anchorsmith_validators::model::{signature_verifies, SignatureCache};
use rayon::prelude::*;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::bench::openssl_speed;

/// Chains made and judged at a time.
const CHUNK: usize = 10_000;
/// The target on 2 cores.
const TARGET_PER_SEC: f64 = 5_000.0;
/// Chains in the single-thread phase breakdown.
const SAMPLE: usize = 2_000;

/// Where one thread's time goes on `requests`: findings, the whole diagnosis through the batch
/// (its cache), the whole diagnosis without any cache (every model verifying each signature it
/// is asked about, as a single `doctor` run does), the result line.
/// One measured phase: what it does, and one thread's time on the sample.
struct Phase {
    name: &'static str,
    time: Duration,
}

fn phases(batch: &Batch, corpus: &Corpus, requests: &[Request]) -> Vec<Phase> {
    let mut findings = Duration::ZERO;
    let mut diagnosis = Duration::ZERO;
    let mut uncached = Duration::ZERO;
    let mut line = Duration::ZERO;
    // Each model target's plain engine, as `doctor CHAIN.pem` sets it up, seated per scenario;
    // the findings' references built once, as the batch does.
    let plain: Vec<anchorsmith_doctor::Engine> = corpus
        .targets
        .iter()
        .filter_map(|target| {
            target
                .model_validator()
                .map(|engine| (target, engine).into())
        })
        .collect();
    let plain_targets: Vec<&Target> = plain.iter().map(|engine| engine.target).collect();
    let panels =
        anchorsmith_doctor::batch::panels(&corpus.scenarios, &corpus.cases, &plain, &plain_targets);
    let references: Vec<Reference> = corpus
        .scenarios
        .iter()
        .zip(&panels)
        .map(|(scenario, panel)| Reference::of(Some(scenario), panel))
        .collect();
    for request in requests {
        let index = corpus
            .scenarios
            .iter()
            .position(|s| request.scenario.as_ref() == Some(&s.name))
            .expect("a corpus scenario");
        let (scenario, reference) = (&corpus.scenarios[index], &references[index]);
        let started = Instant::now();
        let _ = anchorsmith_doctor::findings::findings(reference, &request.chain, request.at);
        findings += started.elapsed();
        let started = Instant::now();
        let judged = batch.judge(request);
        diagnosis += started.elapsed();
        let started = Instant::now();
        let _ = anchorsmith_doctor::diagnose_with(
            reference,
            Some(scenario),
            &panels[index],
            &request.chain,
            request.at,
        );
        uncached += started.elapsed();
        let started = Instant::now();
        let _ = serde_json::to_string(&result_line(&request.id, &judged));
        line += started.elapsed();
    }
    let phase = |name, time| Phase { name, time };
    vec![
        phase(
            "findings alone (no cache: each signature verified)",
            findings,
        ),
        phase(
            "whole diagnosis through the batch's signature cache",
            diagnosis,
        ),
        phase("whole diagnosis without a signature cache", uncached),
        phase("result line (JSON)", line),
    ]
}

pub fn run(chains: usize) -> anyhow::Result<()> {
    let corpus = crate::corpus::load(&crate::project_root().join("corpus"), Vec::new())?;
    let synthetic = Synthetic::new(&corpus)?;
    let targets: Vec<_> = corpus.targets.iter().collect();
    let signatures = Arc::new(SignatureCache::new());
    let (judging, engines) = crate::doctor_batch::batch_engines(&targets, false, &signatures)?;
    crate::doctor_batch::warn_left_out(&targets, &judging);
    let now = OffsetDateTime::now_utc();
    let panels =
        anchorsmith_doctor::batch::panels(&corpus.scenarios, &corpus.cases, &engines, &judging);
    // Every synthetic chain is a scenario's: no real panel.
    let batch = Batch::new(
        &corpus.scenarios,
        &panels,
        None,
        None,
        Arc::clone(&signatures),
        now,
    );

    let mut making = Duration::ZERO;
    let mut judging_time = Duration::ZERO;
    let mut summary = Summary::default();
    let mut output_bytes = 0usize;
    let mut verdicts = 0usize;
    let mut start = 0;
    eprintln!("bench doctor: {chains} synthetic chains, {CHUNK} at a time...");
    while start < chains {
        let end = (start + CHUNK).min(chains);
        let started = Instant::now();
        let requests = synthetic.requests(start..end)?;
        making += started.elapsed();
        let started = Instant::now();
        let lines: Vec<(String, anchorsmith_doctor::Diagnosis)> = requests
            .par_iter()
            .map(|request| {
                let diagnosis = batch.judge(request);
                (
                    serde_json::to_string(&result_line(&request.id, &diagnosis))
                        .expect("JSON values serialize"),
                    diagnosis,
                )
            })
            .collect();
        judging_time += started.elapsed();
        for (line, diagnosis) in &lines {
            output_bytes += line.len() + 1;
            verdicts += diagnosis.verdicts.len();
            summary.add(diagnosis);
        }
        start = end;
    }
    let counts = signatures.counts();
    let per_sec = chains as f64 / judging_time.as_secs_f64().max(1e-9);

    // The in-process verify rate (x509-parser/ring, what the models use) on the leaves' own
    // signatures, one thread, no cache.
    let sample = synthetic.requests(0..SAMPLE.min(chains.max(1)))?;
    let pairs: Vec<(&[u8], &Vec<u8>)> = sample
        .iter()
        .filter(|r| {
            !r.chain.rest().is_empty() && Synthetic::shape(r.line - 1) != Shape::WrongSameKey
        })
        .map(|r| (r.chain.leaf(), &r.chain.rest()[0]))
        .collect();
    let started = Instant::now();
    for (leaf, issuer) in &pairs {
        let leaf = X509Certificate::from_der(leaf).expect("parses").1;
        let issuer = X509Certificate::from_der(issuer).expect("parses").1;
        signature_verifies(&leaf, &issuer).map_err(anyhow::Error::msg)?;
    }
    let in_process = pairs.len() as f64 / started.elapsed().as_secs_f64().max(1e-9);

    // Where one thread's time goes, on a sample judged with a fresh cache (so its leaves'
    // signatures are verified, as in the timed run).
    let fresh = Arc::new(SignatureCache::new());
    let sample_panels =
        anchorsmith_doctor::batch::model_panels(&corpus.scenarios, &corpus.cases, &targets, &fresh);
    let sample_batch = Batch::new(&corpus.scenarios, &sample_panels, None, None, fresh, now);
    let phase_times = phases(&sample_batch, &corpus, &sample);

    println!("measuring `openssl speed -seconds 3 ecdsap256` for reference...");
    let openssl = openssl_speed::measure(&["ecdsap256"], 3)?;
    let openssl_verify = openssl["ecdsap256"].verify_per_sec;

    let threads = rayon::current_num_threads();
    println!();
    println!(
        "bench doctor: {chains} synthetic served chains (shapes in turn: correct, leaf only, wrong same-key intermediate, long, short), {} client-model targets, {threads} threads",
        judging.len()
    );
    let rows: Vec<(String, String)> = vec![
        ("chains judged".into(), chains.to_string()),
        ("verdicts (target x store)".into(), verdicts.to_string()),
        (
            "chains per second (diagnosis + result line)".into(),
            format!("{per_sec:.0}"),
        ),
        (
            format!("target {TARGET_PER_SEC:.0} chains/s on 2 cores"),
            if per_sec >= TARGET_PER_SEC {
                "met".into()
            } else {
                "not met".into()
            },
        ),
        (
            "judging, wall".into(),
            format!("{:.2} s", judging_time.as_secs_f64()),
        ),
        (
            "making the chains, wall (not in the rate)".into(),
            format!("{:.2} s", making.as_secs_f64()),
        ),
        (
            "signature checks asked for".into(),
            counts.requested.to_string(),
        ),
        (
            "signature checks performed".into(),
            counts.performed.to_string(),
        ),
        (
            "cache hit rate".into(),
            format!("{:.2}%", counts.hit_rate() * 100.0),
        ),
        (
            "signatures performed per chain".into(),
            format!("{:.2}", counts.performed as f64 / chains.max(1) as f64),
        ),
        (
            "openssl speed ecdsap256 verify/s (1 thread)".into(),
            format!("{openssl_verify:.0}"),
        ),
        (
            "in-process ECDSA-P256 verify/s (x509-parser, 1 thread)".into(),
            format!("{in_process:.0}"),
        ),
        (
            "chains/s / openssl verify/s".into(),
            format!("{:.3}", per_sec / openssl_verify),
        ),
        (
            "chains/s / in-process verify/s".into(),
            format!("{:.3}", per_sec / in_process),
        ),
        (
            "chains not all good (a target rejects or failed)".into(),
            summary.rejected.to_string(),
        ),
        ("result lines, bytes".into(), output_bytes.to_string()),
    ];
    print_table(&rows);
    let findings: Vec<String> = summary
        .by_code_name()
        .iter()
        .map(|(code, count)| format!("{code} {count}"))
        .collect();
    println!("\nchains with findings, by code: {}", findings.join(", "));
    println!(
        "\nwhere one thread's time goes ({} chains, µs per chain):",
        sample.len()
    );
    let per_chain = |d: Duration| d.as_secs_f64() * 1e6 / sample.len().max(1) as f64;
    for phase in &phase_times {
        println!("  {:60} {:>8.1}", phase.name, per_chain(phase.time));
    }
    println!(
        "  {:60} {:>8.1}",
        "one ECDSA-P256 verify in-process",
        1e6 / in_process
    );
    Ok(())
}

fn print_table(rows: &[(String, String)]) {
    let width = rows.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    println!("| {:width$} | {:>14} |", "measure", "value");
    println!("|{}|{}|", "-".repeat(width + 2), "-".repeat(16));
    for (name, value) in rows {
        println!("| {name:width$} | {value:>14} |");
    }
}
