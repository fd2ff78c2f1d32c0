//! `cargo xtask fuzz [--seconds N] [--target NAME]...`: runs the fuzz targets of `fuzz/` with
//! libFuzzer through cargo-fuzz, each for N seconds, and reports per target the executions, the
//! rate, the corpus size and the crashes.
//!
//! The machine has only stable Rust: cargo-fuzz passes `-Zsanitizer` and
//! `-Cpasses=sancov-module` flags, which stable `rustc` accepts with `RUSTC_BOOTSTRAP=1`. The
//! targets are built without a sanitizer (`--sanitizer none`): they exercise safe Rust, where a
//! fault is a panic (which libFuzzer reports as a crash) or a hang, and address sanitizing
//! would halve the rate for nothing.
//!
//! Before running, each target's working corpus (`fuzz/corpus/<target>/`, not committed) is
//! seeded from the project's own inputs: the corpus scenarios (topology.toml, scenario.toml), the
//! generated certificates (corpus/generated/), the limbo suite and the published harness results
//! (../shared/limbo/). A crashing or hanging input is written to `fuzz/artifacts/<target>/`, and
//! the libFuzzer log of each run to `fuzz/artifacts/<target>.log`.
//!
//! Exit status: 1 when any target crashed or hung (or cargo-fuzz is missing and cannot be
//! installed), 0 otherwise.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use crate::{project_root, FuzzArgs};

/// The targets of `fuzz/fuzz_targets/`, one file each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, strum::Display, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum FuzzTarget {
    Topology,
    Scenario,
    Chain,
    Limbo,
    HarnessResults,
    Encoders,
}

/// Between the topology and the scenario in a `scenario` input; the same text as
/// `anchorsmith_fuzz::SCENARIO_SEPARATOR` (fuzz/src/lib.rs), which reads it.
const SCENARIO_SEPARATOR: &str = "\n# ---- scenario.toml ----\n";

/// What one run of libFuzzer reported.
#[derive(Debug, Default, PartialEq, Eq)]
struct Stats {
    executions: u64,
    exec_per_second: u64,
}

pub fn run(args: FuzzArgs) -> anyhow::Result<()> {
    let root = project_root();
    let fuzz_dir = root.join("fuzz");
    ensure_cargo_fuzz()?;
    let targets: Vec<FuzzTarget> = if args.targets.is_empty() {
        <FuzzTarget as strum::IntoEnumIterator>::iter().collect()
    } else {
        args.targets.clone()
    };
    // One build for all targets, so the time budget is spent fuzzing.
    eprintln!("building the fuzz targets (the first build takes minutes)");
    let status = cargo_fuzz(&fuzz_dir)
        .args(["build", "--sanitizer", "none"])
        .status()
        .context("running cargo fuzz build")?;
    if !status.success() {
        bail!("cargo fuzz build failed ({status})");
    }
    let mut crashed = Vec::new();
    println!(
        "{:<16} {:>12} {:>8} {:>8} {:>8}",
        "target", "executions", "exec/s", "corpus", "crashes"
    );
    for target in targets {
        let corpus = fuzz_dir.join("corpus").join(target.to_string());
        let seeded = write_seeds(target, &root, &corpus)?;
        let artifacts = fuzz_dir.join("artifacts").join(target.to_string());
        std::fs::create_dir_all(&artifacts)?;
        let log = fuzz_dir.join("artifacts").join(format!("{target}.log"));
        // Inputs found by earlier runs stay for a person to read; only this run's count.
        let earlier = crash_files(&artifacts)?;
        eprintln!(
            "fuzzing {target} for {} s ({seeded} seeds; log: {})",
            args.seconds,
            log.display()
        );
        let output = cargo_fuzz(&fuzz_dir)
            .args(["run", "--sanitizer", "none", &target.to_string()])
            .arg(&corpus)
            .arg("--")
            .arg(format!("-max_total_time={}", args.seconds))
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            // An input that takes 10 s is a hang: libFuzzer writes it as a timeout artifact.
            .arg("-timeout=10")
            .arg("-rss_limit_mb=2048")
            .arg("-print_final_stats=1")
            .output()
            .with_context(|| format!("running cargo fuzz run {target}"))?;
        std::fs::write(&log, &output.stderr)?;
        let stats = parse_stats(&String::from_utf8_lossy(&output.stderr));
        let crashes: Vec<PathBuf> = crash_files(&artifacts)?
            .into_iter()
            .filter(|file| !earlier.contains(file))
            .collect();
        println!(
            "{:<16} {:>12} {:>8} {:>8} {:>8}",
            target.to_string(),
            stats.executions,
            stats.exec_per_second,
            count_files(&corpus)?,
            crashes.len()
        );
        if !output.status.success() || !crashes.is_empty() {
            for crash in &crashes {
                println!("  crashing input: {}", crash.display());
            }
            if crashes.is_empty() {
                println!(
                    "  libFuzzer failed ({}); see {}",
                    output.status,
                    log.display()
                );
            }
            crashed.push(target);
        }
    }
    if !crashed.is_empty() {
        bail!(
            "fuzzing found a crash or hang in: {} (reproduce: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none <target> <input>)",
            crashed
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

/// `cargo fuzz` in `fuzz/`, with the flag that lets stable rustc take its nightly options.
fn cargo_fuzz(fuzz_dir: &Path) -> Command {
    let mut command = Command::new("cargo");
    command
        .arg("fuzz")
        .current_dir(fuzz_dir)
        .env("RUSTC_BOOTSTRAP", "1");
    command
}

/// Installs cargo-fuzz from the crates registry when `cargo fuzz` is not there.
fn ensure_cargo_fuzz() -> anyhow::Result<()> {
    let present = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    if present {
        return Ok(());
    }
    eprintln!("cargo-fuzz is missing: cargo install cargo-fuzz --locked");
    let status = Command::new("cargo")
        .args(["install", "cargo-fuzz", "--locked"])
        .status()
        .context("running cargo install cargo-fuzz")?;
    if !status.success() {
        bail!(
            "cannot install cargo-fuzz ({status}): it needs the crates registry; install it by hand with `cargo install cargo-fuzz --locked`"
        );
    }
    Ok(())
}

/// The numbers of libFuzzer's `-print_final_stats=1` lines (`stat::number_of_executed_units: N`).
fn parse_stats(log: &str) -> Stats {
    let stat = |name: &str| {
        log.lines()
            .filter_map(|line| line.strip_prefix(name))
            .filter_map(|rest| rest.trim_start_matches(':').trim().parse().ok())
            .last()
            .unwrap_or(0)
    };
    Stats {
        executions: stat("stat::number_of_executed_units"),
        exec_per_second: stat("stat::average_exec_per_sec"),
    }
}

/// The inputs libFuzzer wrote for a crash, a hang, a memory blow-up or a leak.
fn crash_files(artifacts: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(artifacts)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| {
                    ["crash-", "timeout-", "oom-", "leak-", "slow-unit-"]
                        .iter()
                        .any(|prefix| name.starts_with(prefix))
                })
        })
        .collect();
    found.sort();
    Ok(found)
}

fn count_files(dir: &Path) -> anyhow::Result<usize> {
    Ok(std::fs::read_dir(dir)?.count())
}

/// Writes the target's seeds into its working corpus; returns how many.
fn write_seeds(target: FuzzTarget, root: &Path, corpus: &Path) -> anyhow::Result<usize> {
    std::fs::create_dir_all(corpus)?;
    let seeds = seeds(target, root)?;
    for (name, bytes) in &seeds {
        std::fs::write(corpus.join(format!("seed-{name}")), bytes)?;
    }
    Ok(seeds.len())
}

/// Named seed inputs for `target`.
fn seeds(target: FuzzTarget, root: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let scenarios = scenario_dirs(root)?;
    let limbo = root.join("..").join("shared").join("limbo");
    Ok(match target {
        FuzzTarget::Topology => scenarios
            .iter()
            .map(|(name, dir)| Ok((name.clone(), std::fs::read(dir.join("topology.toml"))?)))
            .collect::<anyhow::Result<_>>()?,
        FuzzTarget::Scenario => scenarios
            .iter()
            .map(|(name, dir)| {
                let topology = std::fs::read_to_string(dir.join("topology.toml"))?;
                let scenario = std::fs::read_to_string(dir.join("scenario.toml"))?;
                Ok((
                    name.clone(),
                    format!("{topology}{SCENARIO_SEPARATOR}{scenario}").into_bytes(),
                ))
            })
            .collect::<anyhow::Result<_>>()?,
        FuzzTarget::Chain => {
            let mut seeds = Vec::new();
            for (name, certs) in generated_certificates(root)? {
                // Each certificate as PEM and as DER, and the scenario's certificates as one file.
                let mut chain = String::new();
                for (file, pem, der) in &certs {
                    seeds.push((format!("{name}-{file}.pem"), pem.clone().into_bytes()));
                    seeds.push((format!("{name}-{file}.der"), der.clone()));
                    chain.push_str(pem);
                }
                seeds.push((format!("{name}-all.pem"), chain.into_bytes()));
            }
            seeds
        }
        FuzzTarget::Limbo => {
            let suite = std::fs::read(limbo.join("limbo-core.json"))
                .context("reading ../shared/limbo/limbo-core.json")?;
            let suite: serde_json::Value = serde_json::from_slice(&suite)?;
            // One small suite per testcase: libFuzzer mutates small inputs best.
            suite["testcases"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(index, testcase)| {
                    let one = serde_json::json!({"version": 1, "testcases": [testcase]});
                    Ok((format!("core-{index}"), serde_json::to_vec_pretty(&one)?))
                })
                .collect::<anyhow::Result<_>>()?
        }
        FuzzTarget::HarnessResults => {
            let mut seeds = Vec::new();
            for entry in std::fs::read_dir(limbo.join("results"))? {
                let path = entry?.path();
                let bytes = anchorsmith_validators::suite::read_maybe_gzipped(&path)?;
                let file: serde_json::Value = serde_json::from_slice(&bytes)?;
                let stem = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("results")
                    .trim_end_matches(".json.gz")
                    .to_string();
                // Ten pieces of ten results from each harness's file.
                let results = file["results"].as_array().cloned().unwrap_or_default();
                for (index, piece) in results.chunks(10).take(10).enumerate() {
                    let piece = serde_json::json!({
                        "version": 1,
                        "harness": file["harness"],
                        "results": piece,
                    });
                    seeds.push((
                        format!("{stem}-{index}"),
                        serde_json::to_vec_pretty(&piece)?,
                    ));
                }
            }
            seeds
        }
        FuzzTarget::Encoders => generated_certificates(root)?
            .into_iter()
            .map(|(name, certs)| {
                let anchors: Vec<(String, Vec<u8>)> = certs
                    .into_iter()
                    .map(|(file, _, der)| (file, der))
                    .collect();
                (name, frame(&anchors))
            })
            .collect(),
    })
}

/// The encoder target's framing of anchors: per anchor a u8 name length, the name, a big-endian
/// u16 DER length and the DER. The inverse of `anchorsmith_fuzz::anchors` (fuzz/src/lib.rs).
fn frame(anchors: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, der) in anchors {
        let name = &name.as_bytes()[..name.len().min(usize::from(u8::MAX))];
        out.push(u8::try_from(name.len()).expect("cut to 255"));
        out.extend_from_slice(name);
        let len = u16::try_from(der.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&der[..usize::from(len)]);
    }
    out
}

/// The corpus scenario directories (corpus/scenarios/*/), by name.
fn scenario_dirs(root: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(root.join("corpus").join("scenarios"))? {
        let path = entry?.path();
        if path.join("scenario.toml").is_file() {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            dirs.push((name.into_owned(), path));
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// A certificate file of corpus/generated/<scenario>/: its stem, its PEM text and its DER.
type Generated = (String, String, Vec<u8>);

/// The certificates of corpus/generated/, by scenario, read with the bundle's PEM reader.
fn generated_certificates(root: &Path) -> anyhow::Result<Vec<(String, Vec<Generated>)>> {
    let mut scenarios = Vec::new();
    let generated = root.join("corpus").join("generated");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&generated)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "pem"))
            .collect();
        files.sort();
        let mut certs = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file)?;
            let stem = file.file_stem().unwrap_or_default().to_string_lossy();
            for (der, _) in anchorsmith_bundle::load::certificates(&file, &text)
                .map_err(|diagnostic| anyhow::anyhow!("{diagnostic}"))?
            {
                certs.push((stem.to_string(), text.clone(), der));
            }
        }
        let name = dir.file_name().unwrap_or_default().to_string_lossy();
        scenarios.push((name.into_owned(), certs));
    }
    Ok(scenarios)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_stats_are_read_from_the_log() {
        let log = "#1024 pulse\nstat::number_of_executed_units: 1234567\n\
                   stat::average_exec_per_sec:     20576\nstat::new_units_added: 12\n";
        assert_eq!(
            parse_stats(log),
            Stats {
                executions: 1_234_567,
                exec_per_second: 20_576
            }
        );
        assert_eq!(parse_stats("no stats"), Stats::default());
    }

    #[test]
    fn anchors_are_framed_name_then_der() {
        let framed = frame(&[("ab".into(), vec![1, 2, 3]), (String::new(), vec![])]);
        assert_eq!(framed, [2, b'a', b'b', 0, 3, 1, 2, 3, 0, 0, 0]);
    }
}
