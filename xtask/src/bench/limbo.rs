//! `cargo xtask bench limbo`: wall time of the full limbo suite (9,780 cases) per in-process
//! validator, INCLUDING reading, gunzipping, parsing and converting the 41 MB testcase file, as
//! `cargo xtask limbo --suite full` does it; the load time is also reported on its own.
//!
//! Beside each figure stands the wall time of limbo's own harness for the same library, from the
//! table in `shared/limbo/README.md` (measured on a machine of this kind; those harnesses read
//! the uncompressed JSON on stdin). Target: rustls-webpki under 2 s.

use std::path::Path;
use std::time::{Duration, Instant};

use anchorsmith_validators::in_process_validators;
use anchorsmith_validators::runner::{run_all, RunOptions};
use anchorsmith_validators::suite::{self, PreparedSuite, SuiteSpec};

pub fn run() -> anyhow::Result<()> {
    let root = crate::project_root();
    let path = SuiteSpec::Full.resolve(&root);
    let references = reference_wall_times(
        &root
            .join("..")
            .join("shared")
            .join("limbo")
            .join("README.md"),
    );

    let (suite, phases) = load_timed(&path)?;
    println!(
        "limbo-full: {} testcases, {} threads",
        suite.cases.len(),
        available_threads()
    );
    println!(
        "load: read+gunzip {:.3} s, parse {:.3} s, convert {:.3} s, total {:.3} s",
        phases.read.as_secs_f64(),
        phases.parse.as_secs_f64(),
        phases.convert.as_secs_f64(),
        phases.total().as_secs_f64()
    );
    println!();
    println!(
        "{:<24} {:>9} {:>10} {:>9}   {:<28} {:>8}",
        "validator", "load s", "validate s", "total s", "limbo harness", "its s"
    );
    for validator in in_process_validators() {
        // Each validator pays for its own load, as a separate `cargo xtask limbo` run would.
        let started = Instant::now();
        let (suite, _) = load_timed(&path)?;
        let loaded = started.elapsed();
        let results = run_all(
            std::slice::from_ref(&validator),
            &suite.inputs,
            &RunOptions::default(),
        );
        let total = started.elapsed();
        let reference_name = reference_harness_for(validator.name());
        let reference = references.iter().find(|(name, _)| name == reference_name);
        println!(
            "{:<24} {:>9.3} {:>10.3} {:>9.3}   {:<28} {:>8}",
            validator.name(),
            loaded.as_secs_f64(),
            results.runs[0].wall_time.as_secs_f64(),
            total.as_secs_f64(),
            reference_name,
            reference.map_or("?".to_string(), |(_, seconds)| format!("{seconds:.1}")),
        );
    }
    println!(
        "\nlimbo harness times: shared/limbo/README.md (uncompressed JSON on stdin); ours include \
         gunzip and use the runner (per-case deadline, all cores). Target: rustls-webpki total < 2 s."
    );
    Ok(())
}

fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |threads| threads.get())
}

struct LoadPhases {
    read: Duration,
    parse: Duration,
    convert: Duration,
}

impl LoadPhases {
    fn total(&self) -> Duration {
        self.read + self.parse + self.convert
    }
}

fn load_timed(path: &Path) -> anyhow::Result<(PreparedSuite, LoadPhases)> {
    let started = Instant::now();
    let bytes = suite::read_maybe_gzipped(path)?;
    let read = started.elapsed();
    let started = Instant::now();
    let limbo = suite::parse_limbo(path, &bytes)?;
    let parse = started.elapsed();
    let started = Instant::now();
    let prepared = PreparedSuite::prepare(path, &limbo);
    let convert = started.elapsed();
    Ok((
        prepared,
        LoadPhases {
            read,
            parse,
            convert,
        },
    ))
}

/// Which row of limbo's reference table measures the same library.
fn reference_harness_for(validator: &str) -> &'static str {
    if validator.starts_with("openssl") {
        "openssl-3.0"
    } else if validator == "rustls-webpki" {
        "rustls-webpki"
    } else {
        "-"
    }
}

/// `(file, seconds)` from the README table's rows `| name | harness | … | 2.6 s |`.
fn reference_wall_times(readme: &Path) -> Vec<(String, f64)> {
    std::fs::read_to_string(readme)
        .map(|text| parse_reference_table(&text))
        .unwrap_or_default()
}

fn parse_reference_table(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            let seconds = cells.last()?.strip_suffix(" s")?.parse().ok()?;
            Some((cells.first()?.to_string(), seconds))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_reference_table() {
        let text = "| file | harness | wall |\n|---|---|---|\n| rustls-webpki | rustls-webpki 0.103.13 | 2.6 s |\n\
                    | openssl-3.0 | OpenSSL | 8.5 s |\n";
        assert_eq!(
            parse_reference_table(text),
            [
                ("rustls-webpki".to_string(), 2.6),
                ("openssl-3.0".to_string(), 8.5)
            ]
        );
    }
}
