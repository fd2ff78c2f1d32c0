//! `cargo xtask bench gen`: certificates per second for a 1,000-certificate topology (one
//! RSA-2048 root, 9 RSA-2048 intermediates, 990 ECDSA P-256 leaves, every signature RSA-2048
//! PKCS#1 v1.5), with keys already cached, beside `openssl speed rsa2048` signatures per second
//! measured in the same run. One RSA signature per certificate, so the ratio says how close
//! certificate generation comes to raw RSA signing speed on this machine.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anchorsmith_generator::{
    default_key_cache_dir, generate, parse_topology, write_output, GenerateOptions,
};

use crate::bench::openssl_speed;

const INTERMEDIATES: usize = 9;
const LEAVES: usize = 990;
const TIMED_RUNS: usize = 3;

/// The benchmark topology as TOML, so parsing is measured on realistic input.
fn topology_source() -> String {
    let mut toml = String::from("seed = \"anchorsmith-bench-v1\"\n\n[instants]\nepoch = 2025-01-01T00:00:00Z\n\n[keys]\nroot = \"rsa-2048\"\n");
    for index in 0..INTERMEDIATES {
        writeln!(toml, "ca{index} = \"rsa-2048\"").unwrap();
    }
    for index in 0..LEAVES {
        writeln!(toml, "leaf{index} = \"ecdsa-p256\"").unwrap();
    }
    toml.push_str(
        "\n[[cert]]\nid = \"root\"\nsubject = { cn = \"Bench Root (test)\", o = \"anchorsmith test PKI\", c = \"US\" }\n\
         key = \"root\"\nissuer = \"self\"\nnot_before = \"epoch - 1y\"\nnot_after = \"epoch + 20y\"\nserial = \"01\"\n\
         [cert.extensions]\nbasic_constraints = { ca = true }\nkey_usage = { usages = [\"key-cert-sign\", \"crl-sign\"] }\n",
    );
    for index in 0..INTERMEDIATES {
        writeln!(
            toml,
            "\n[[cert]]\nid = \"ca{index}\"\nsubject = {{ cn = \"Bench CA {index} (test)\", o = \"anchorsmith test PKI\" }}\n\
             key = \"ca{index}\"\nissuer = \"root\"\nnot_before = \"epoch\"\nnot_after = \"epoch + 5y\"\nserial = \"{:x}\"\n\
             [cert.extensions]\nbasic_constraints = {{ ca = true, path_len = 0 }}\n\
             key_usage = {{ usages = [\"digital-signature\", \"key-cert-sign\", \"crl-sign\"] }}\n\
             aia_ca_issuers = \"http://root.example.test/\"",
            0x100 + index
        )
        .unwrap();
    }
    for index in 0..LEAVES {
        writeln!(
            toml,
            "\n[[cert]]\nid = \"leaf{index}\"\nsubject = {{ cn = \"leaf{index}.example.test\" }}\nkey = \"leaf{index}\"\n\
             issuer = \"ca{}\"\nnot_before = \"epoch + {index}h\"\nnot_after = \"epoch + {index}h + 90d\"\nserial = \"{:x}\"\n\
             [cert.extensions]\nbasic_constraints = {{ ca = false }}\nkey_usage = {{ usages = [\"digital-signature\"], critical = true }}\n\
             ext_key_usage = {{ usages = [\"server-auth\"] }}\nsubject_alt_name = {{ dns = [\"leaf{index}.example.test\"] }}\n\
             aia_ca_issuers = \"http://ca.example.test/\"",
            index % INTERMEDIATES,
            0x10000 + index
        )
        .unwrap();
    }
    toml
}

pub fn run() -> anyhow::Result<()> {
    let source = topology_source();
    let options = GenerateOptions {
        seed_override: None,
        key_cache_dir: Some(default_key_cache_dir()),
    };

    let parse_started = Instant::now();
    let topology = parse_topology(&source, Path::new("bench-gen.toml"))?;
    let parse_time = parse_started.elapsed();
    let cert_count = topology.certs().len();

    // Warm-up: derives (or loads) the ten RSA keys, so the timed runs measure generation only.
    let warm_started = Instant::now();
    let reference = generate(&topology, &options)?;
    let warm_up = warm_started.elapsed();

    let mut generate_times = Vec::new();
    let mut single_thread_times = Vec::new();
    let mut write_times = Vec::new();
    // Single-threaded, for a like-for-like comparison with `openssl speed` (one thread).
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    for _ in 0..TIMED_RUNS {
        let started = Instant::now();
        let pki = generate(&topology, &options)?;
        generate_times.push(started.elapsed());
        anyhow::ensure!(
            pki.manifest_json() == reference.manifest_json(),
            "generation is not deterministic"
        );

        let started = Instant::now();
        let single = one_thread.install(|| generate(&topology, &options))?;
        single_thread_times.push(started.elapsed());
        anyhow::ensure!(
            single.manifest_json() == reference.manifest_json(),
            "generation depends on threads"
        );

        let scratch = tempfile::tempdir()?;
        let started = Instant::now();
        write_output(&pki, &scratch.path().join("pki"), false, false)?;
        write_times.push(started.elapsed());
    }
    let best = |times: &[Duration]| *times.iter().min().expect("timed runs");
    let (generate_best, single_best, write_best) = (
        best(&generate_times),
        best(&single_thread_times),
        best(&write_times),
    );

    println!("measuring `openssl speed -seconds 3 rsa2048` for reference...");
    let openssl = openssl_speed::measure(&["rsa2048"], 3)?;
    let openssl_sign = openssl["rsa2048"].sign_per_sec;

    let per_second = |elapsed: Duration| cert_count as f64 / elapsed.as_secs_f64();
    let threads = rayon::current_num_threads();
    let rows: Vec<(String, String)> = vec![
        (
            "parse + validate topology".into(),
            format!("{:.1} ms", ms(parse_time)),
        ),
        (
            "warm-up generation (loads/derives keys)".into(),
            format!("{:.1} ms", ms(warm_up)),
        ),
        (
            format!("generate, in memory, {threads} threads"),
            format!("{:.1} ms", ms(generate_best)),
        ),
        (
            "generate, in memory, 1 thread".into(),
            format!("{:.1} ms", ms(single_best)),
        ),
        (
            "write_output (PEM, DER, manifest)".into(),
            format!("{:.1} ms", ms(write_best)),
        ),
        (
            format!("certificates/s, {threads} threads"),
            format!("{:.0}", per_second(generate_best)),
        ),
        (
            "certificates/s, 1 thread".into(),
            format!("{:.0}", per_second(single_best)),
        ),
        (
            format!("certificates/s, {threads} threads + write"),
            format!("{:.0}", per_second(generate_best + write_best)),
        ),
        (
            "openssl speed rsa2048 sign/s (1 thread)".into(),
            format!("{openssl_sign:.0}"),
        ),
        (
            "ratio 1-thread certificates/s / openssl sign/s".into(),
            format!("{:.2}", per_second(single_best) / openssl_sign),
        ),
    ];
    println!();
    println!(
        "bench gen: {cert_count} certificates (1 root, {INTERMEDIATES} intermediates, {LEAVES} leaves; \
         one RSA-2048 signature each), keys cached, best of {TIMED_RUNS}"
    );
    let width = rows.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    println!("| {:width$} | {:>12} |", "measure", "value");
    println!("|{}|{}|", "-".repeat(width + 2), "-".repeat(14));
    for (name, value) in rows {
        println!("| {name:width$} | {value:>12} |");
    }
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
