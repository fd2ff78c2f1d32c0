//! The scenario loader (`anchorsmith_corpus::check_scenario`: topology.toml and scenario.toml of
//! one scenario directory, checked against the corpus's clients.toml and the shared seeds, no key
//! generation). The input is the topology, the line `SEPARATOR`, then the scenario; both are
//! written to a scratch directory, since the loader reads a directory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Between the topology and the scenario in an input (`cargo xtask fuzz` writes seeds so).
const SEPARATOR: &str = anchorsmith_fuzz::SCENARIO_SEPARATOR;

fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a scratch directory"))
        .path()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (topology, scenario) = text.split_once(SEPARATOR).unwrap_or((text, ""));
    // The directory name is part of the scenario's identity (case ids): a valid one.
    let dir = scratch().join("fuzzed");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    std::fs::write(dir.join("topology.toml"), topology).expect("write topology");
    std::fs::write(dir.join("scenario.toml"), scenario).expect("write scenario");
    let clients = repo().join("corpus").join("clients.toml");
    let seeds = repo().join("..").join("shared").join("seeds");
    if let Err(error) = anchorsmith_corpus::check_scenario(&dir, &clients, &seeds) {
        let _ = error.to_string();
    }
});
