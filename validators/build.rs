//! Records the versions of the validator libraries actually linked, read from the workspace
//! `Cargo.lock`, so results say "rustls-webpki 0.103.16" rather than the semver range in
//! `Cargo.toml` (a results file must name the exact implementation that produced it).

use std::path::Path;

fn main() {
    let lock_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock_path.display());
    let lock = std::fs::read_to_string(&lock_path).unwrap_or_default();
    for (package, variable) in [
        ("rustls-webpki", "ANCHORSMITH_WEBPKI_VERSION"),
        ("ring", "ANCHORSMITH_RING_VERSION"),
    ] {
        let version = locked_version(&lock, package).unwrap_or_else(|| "unknown".to_string());
        println!("cargo:rustc-env={variable}={version}");
    }
}

/// The version of the first `[[package]]` named `package` in a Cargo.lock text.
fn locked_version(lock: &str, package: &str) -> Option<String> {
    let name_line = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == name_line {
            let version_line = lines.next()?.trim();
            let version = version_line
                .strip_prefix("version = \"")?
                .strip_suffix('"')?;
            return Some(version.to_string());
        }
    }
    None
}
