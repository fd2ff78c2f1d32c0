//! `cargo xtask bench bundle`: the trust-bundle builder's coverage computation and selection for
//! 1,000 synthetic endpoints against every Mozilla root plus a handful of synthetic test roots,
//! beside `openssl speed ecdsap256` verifications per second measured in the same run.
//!
//! Two instances, so both selection methods are timed: 5 test roots (few useful candidates: the
//! exact search) and 50 (more than `select::EXACT_LIMIT`: the greedy search, reported with its
//! distance from the lower bound).
//!
//! The synthetic PKI is generated deterministically (a fixed seed, keys from the cache): `roots`
//! ECDSA P-256 roots, each issuing `ENDPOINTS / roots` intermediates; each endpoint is one
//! intermediate as a server would send it without its leaf; every other endpoint also sends a
//! cross-sign of its root by the next root (as Let's Encrypt served X1 signed by DST Root CA X3),
//! so it has two covering anchors, the others one. The test roots join the Mozilla candidates.
//!
//! Coverage (every candidate validated against every endpoint with the device verifier's client
//! model) and selection (the set cover on the resulting matrix) are timed separately: the issue's
//! target, under one second, is for selection; the table says which figure is which.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anchorsmith_bundle::build::{covers, one_per_name_and_key, preference};
use anchorsmith_bundle::coverage::{self, DeviceVerifier};
use anchorsmith_bundle::load::{mozilla_candidates, Candidate, Endpoint};
use anchorsmith_bundle::select;
use anchorsmith_generator::{default_key_cache_dir, generate, parse_topology, GenerateOptions};

use crate::bench::openssl_speed;

/// Test roots per instance: the first is solved exactly, the second greedily.
const INSTANCES: [usize; 2] = [5, 50];
const ENDPOINTS: usize = 1_000;
const MIN_PER_ENDPOINT: usize = 2;
const TIMED_RUNS: usize = 3;
const SELECTION_TARGET: Duration = Duration::from_secs(1);

/// The synthetic PKI as a topology: roots `root{r}`, their cross-signs `x{r}` by `root{r+1}`,
/// intermediates `ep{i}` under `root{i % roots}`.
/// Intermediates under one root share a key: the benchmark measures validation, not key derivation.
fn topology_source(roots: usize) -> String {
    let mut toml = String::from(
        "seed = \"anchorsmith-bench-bundle-v1\"\n\n[instants]\nepoch = 2025-01-01T00:00:00Z\n\n[keys]\n",
    );
    for root in 0..roots {
        writeln!(
            toml,
            "root{root} = \"ecdsa-p256\"\nica{root} = \"ecdsa-p256\""
        )
        .unwrap();
    }
    for root in 0..roots {
        writeln!(
            toml,
            "\n[[cert]]\nid = \"root{root}\"\nsubject = {{ cn = \"Bundle Bench Root {root} (test)\", o = \"anchorsmith test PKI\" }}\n\
             key = \"root{root}\"\nissuer = \"self\"\nnot_before = \"epoch - 1y\"\nnot_after = \"epoch + 30y\"\nserial = \"{:x}\"\n\
             [cert.extensions]\nbasic_constraints = {{ ca = true }}\nkey_usage = {{ usages = [\"key-cert-sign\", \"crl-sign\"] }}",
            0x10 + root
        )
        .unwrap();
    }
    for root in 0..roots {
        writeln!(
            toml,
            "\n[[cert]]\nid = \"x{root}\"\nsubject = {{ cn = \"Bundle Bench Root {root} (test)\", o = \"anchorsmith test PKI\" }}\n\
             key = \"root{root}\"\nissuer = \"root{}\"\nnot_before = \"epoch - 1y\"\nnot_after = \"epoch + 20y\"\nserial = \"{:x}\"\n\
             [cert.extensions]\nbasic_constraints = {{ ca = true }}\nkey_usage = {{ usages = [\"key-cert-sign\", \"crl-sign\"] }}",
            (root + 1) % roots,
            0x100 + root
        )
        .unwrap();
    }
    for index in 0..ENDPOINTS {
        let root = index % roots;
        writeln!(
            toml,
            "\n[[cert]]\nid = \"ep{index}\"\nsubject = {{ cn = \"Bundle Bench Endpoint CA {index} (test)\", o = \"anchorsmith test PKI\" }}\n\
             key = \"ica{root}\"\nissuer = \"root{root}\"\nnot_before = \"epoch\"\nnot_after = \"epoch + 5y\"\nserial = \"{:x}\"\n\
             [cert.extensions]\nbasic_constraints = {{ ca = true, path_len = 0 }}\n\
             key_usage = {{ usages = [\"digital-signature\", \"key-cert-sign\", \"crl-sign\"] }}",
            0x1000 + index
        )
        .unwrap();
    }
    toml
}

/// The synthetic roots (as candidates) and endpoints.
fn synthetic(roots: usize) -> anyhow::Result<(Vec<Candidate>, Vec<Endpoint>)> {
    let topology = parse_topology(&topology_source(roots), Path::new("bench-bundle.toml"))?;
    let pki = generate(
        &topology,
        &GenerateOptions {
            seed_override: None,
            key_cache_dir: Some(default_key_cache_dir()),
        },
    )?;
    let der = |id: &str| -> anyhow::Result<Vec<u8>> {
        Ok(pki
            .get(id)
            .ok_or_else(|| anyhow::anyhow!("the bench topology has no {id}"))?
            .der
            .clone())
    };
    let anchors = (0..roots)
        .map(|root| {
            Ok(Candidate {
                der: der(&format!("root{root}"))?,
                origin: format!("bench:root{root}"),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let endpoints = (0..ENDPOINTS)
        .map(|index| {
            let mut chain = vec![der(&format!("ep{index}"))?];
            if (index / roots) % 2 == 1 {
                chain.push(der(&format!("x{}", index % roots))?);
            }
            Ok(Endpoint {
                host: format!("ep{index}.bench.test"),
                file: PathBuf::from(format!("bench/ep{index}.pem")),
                chain,
                has_leaf: false,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok((anchors, endpoints))
}

/// One instance's figures, best of [`TIMED_RUNS`].
struct Instance {
    roots: usize,
    candidates: usize,
    backed_up: usize,
    selection: select::Selection,
    coverage: Duration,
    selecting: Duration,
}

fn measure(roots: usize) -> anyhow::Result<Instance> {
    let (test_roots, endpoints) = synthetic(roots)?;
    let (mut candidates, _) = mozilla_candidates();
    candidates.extend(test_roots);
    let candidates = one_per_name_and_key(candidates);
    let ders: Vec<Vec<u8>> = candidates.iter().map(|c| c.der.clone()).collect();
    let order = preference(&candidates);
    let now = anchorsmith_bundle::build::parse_instant("2025-06-01T00:00:00Z")
        .map_err(anyhow::Error::msg)?;
    let horizon = anchorsmith_bundle::build::parse_instant("2040-01-01T00:00:00Z")
        .map_err(anyhow::Error::msg)?;

    let mut coverage_times = Vec::new();
    let mut selection_times = Vec::new();
    let mut outcome = None;
    for _ in 0..TIMED_RUNS {
        let started = Instant::now();
        let reach = coverage::matrix(VERIFIER, &endpoints, &ders, now, horizon);
        coverage_times.push(started.elapsed());
        let matrix = covers(&reach);
        let started = Instant::now();
        let selection = select::select(&matrix, MIN_PER_ENDPOINT, &order);
        selection_times.push(started.elapsed());
        let anchors = |row: &Vec<bool>| row.iter().filter(|&&c| c).count();
        let covered = matrix.iter().filter(|row| anchors(row) > 0).count();
        let backed_up = matrix.iter().filter(|row| anchors(row) > 1).count();
        if let Some((previous, _, _)) = &outcome {
            anyhow::ensure!(previous == &selection, "selection is not deterministic");
        }
        outcome = Some((selection, covered, backed_up));
    }
    let (selection, covered, backed_up) = outcome.expect("timed runs");
    anyhow::ensure!(
        covered == ENDPOINTS,
        "only {covered} of {ENDPOINTS} synthetic endpoints are covered"
    );
    let best = |times: &[Duration]| *times.iter().min().expect("timed runs");
    Ok(Instance {
        roots,
        candidates: candidates.len(),
        backed_up,
        selection,
        coverage: best(&coverage_times),
        selecting: best(&selection_times),
    })
}

const VERIFIER: DeviceVerifier = DeviceVerifier::FullPathBuilding;

pub fn run() -> anyhow::Result<()> {
    let instances = INSTANCES
        .iter()
        .map(|&roots| measure(roots))
        .collect::<anyhow::Result<Vec<_>>>()?;

    println!("measuring `openssl speed -seconds 3 ecdsap256` for reference...");
    let openssl = openssl_speed::measure(&["ecdsap256"], 3)?;
    let verify = Duration::from_secs_f64(1.0 / openssl["ecdsap256"].verify_per_sec);
    let ratio = |elapsed: Duration| elapsed.as_secs_f64() / verify.as_secs_f64();

    type Row = (&'static str, fn(&Instance) -> String);
    let rows: Vec<Row> = vec![
        ("test roots", |i| i.roots.to_string()),
        ("candidates (Mozilla + test roots, merged)", |i| {
            i.candidates.to_string()
        }),
        ("endpoints (intermediates, no leaf)", |_| {
            ENDPOINTS.to_string()
        }),
        ("endpoints with a backup (cross-signed)", |i| {
            i.backed_up.to_string()
        }),
        ("selection method", |i| i.selection.method.to_string()),
        ("chosen anchors", |i| i.selection.chosen.len().to_string()),
        ("lower bound", |i| i.selection.lower_bound.to_string()),
        ("above the lower bound, at most", |i| {
            (i.selection.chosen.len() - i.selection.lower_bound).to_string()
        }),
        ("coverage matrix (validations), wall", |i| {
            format!("{:.1} ms", ms(i.coverage))
        }),
        ("selection only, wall", |i| {
            format!("{:.3} ms", ms(i.selecting))
        }),
        ("selection + coverage under 1 s", |i| {
            met(i.coverage + i.selecting).into()
        }),
        ("selection under 1 s", |i| met(i.selecting).into()),
    ];
    println!();
    println!(
        "bench bundle: {ENDPOINTS} synthetic endpoints against the Mozilla store plus test roots, \
         device verifier {VERIFIER}, {MIN_PER_ENDPOINT} anchors wanted per endpoint, best of \
         {TIMED_RUNS} (wall time, one thread)"
    );
    let width = rows.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    let mut header = format!("| {:width$} |", "measure");
    let mut rule = format!("|{}|", "-".repeat(width + 2));
    for instance in &instances {
        header += &format!(" {:>18} |", format!("{} test roots", instance.roots));
        rule += &format!("{}|", "-".repeat(20));
    }
    println!("{header}\n{rule}");
    for (name, value) in &rows {
        let mut line = format!("| {name:width$} |");
        for instance in &instances {
            line += &format!(" {:>18} |", value(instance));
        }
        println!("{line}");
    }
    let mut line = format!("| {:width$} |", "coverage / one openssl ECDSA-P256 verify");
    for instance in &instances {
        line += &format!(" {:>18} |", format!("{:.0}", ratio(instance.coverage)));
    }
    println!("{line}");
    let mut line = format!("| {:width$} |", "selection / one openssl ECDSA-P256 verify");
    for instance in &instances {
        line += &format!(" {:>18} |", format!("{:.1}", ratio(instance.selecting)));
    }
    println!("{line}");
    println!(
        "\none openssl ECDSA-P256 verify: {:.1} µs (openssl speed, this run)",
        verify.as_secs_f64() * 1e6
    );
    Ok(())
}

fn met(elapsed: Duration) -> &'static str {
    if elapsed < SELECTION_TARGET {
        "met"
    } else {
        "not met"
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
