//! Builds x509-limbo's own rustls-webpki harness (`shared/limbo/harness/rust-rustls/` and its
//! support crate `shared/limbo/harness-support/rust/`) in release mode, under `target/peer/`.
//!
//! The sources are copied into `target/peer/src/` first, keeping their relative layout (the
//! support crate reads `../../limbo-schema.json` at compile time): `shared/` is read-only in CI,
//! and cargo writes next to a manifest. The copy gets an empty `[workspace]` table, because
//! `target/` lies inside our workspace and cargo would otherwise take the harness for a stray
//! member of it. Nothing of the harness is committed to this repository.
//!
//! cargo is asked to build offline first (every crate already in the registry cache), then, if
//! that fails, online, so a machine that has built it once needs no network.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

/// The harness's crate name, which is also its binary's name.
const HARNESS_BINARY: &str = "rust-rustls-harness";

/// Where the harness's sources are (`shared/limbo`) and where it is built (`target/peer`).
pub struct PeerBuild {
    pub shared_limbo: PathBuf,
    pub peer_dir: PathBuf,
}

impl PeerBuild {
    pub fn new(project_root: &Path) -> PeerBuild {
        PeerBuild {
            shared_limbo: project_root.join("..").join("shared").join("limbo"),
            peer_dir: project_root.join("target").join("peer"),
        }
    }

    fn source_dir(&self) -> PathBuf {
        self.peer_dir.join("src")
    }

    fn manifest(&self) -> PathBuf {
        self.source_dir()
            .join("harness")
            .join("rust-rustls")
            .join("Cargo.toml")
    }

    fn target_dir(&self) -> PathBuf {
        self.peer_dir.join("build")
    }

    /// The release binary (after [`PeerBuild::build`]).
    pub fn binary(&self) -> PathBuf {
        self.target_dir().join("release").join(HARNESS_BINARY)
    }

    /// The rustls-webpki version the harness is locked to, from its Cargo.lock.
    pub fn webpki_version(&self) -> Option<String> {
        let lock = std::fs::read_to_string(self.manifest().with_file_name("Cargo.lock")).ok()?;
        locked_version(&lock, "rustls-webpki")
    }

    /// Copies the sources into `target/peer/src/` and builds them with `cargo build --release
    /// --locked`; cargo's own output goes to our stderr.
    pub fn build(&self) -> anyhow::Result<PathBuf> {
        self.copy_sources()?;
        let attempt = |offline: bool| -> anyhow::Result<bool> {
            let mut command = Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()));
            command
                .args([
                    "build",
                    "--release",
                    "--locked",
                    "--quiet",
                    "--manifest-path",
                ])
                .arg(self.manifest())
                .arg("--target-dir")
                .arg(self.target_dir());
            if offline {
                command.arg("--offline");
            }
            let output = command
                .output()
                .context("running cargo to build limbo's harness")?;
            if !output.status.success() && !offline {
                bail!(
                    "building limbo's harness failed:\n{}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            Ok(output.status.success())
        };
        if !attempt(true)? {
            eprintln!("limbo harness: not buildable offline, fetching its crates");
            attempt(false)?;
        }
        let binary = self.binary();
        if !binary.is_file() {
            bail!(
                "cargo built limbo's harness but {} is missing",
                binary.display()
            );
        }
        Ok(binary)
    }

    fn copy_sources(&self) -> anyhow::Result<()> {
        let source = self.source_dir();
        let manifest = self.manifest();
        let original_manifest = self.shared_limbo.join(
            manifest
                .strip_prefix(&source)
                .expect("the manifest is in the copy"),
        );
        for relative in ["harness", "harness-support"] {
            copy_tree(
                &self.shared_limbo.join(relative),
                &source.join(relative),
                &original_manifest,
            )?;
        }
        copy_file(
            &self.shared_limbo.join("limbo-schema.json"),
            &source.join("limbo-schema.json"),
        )?;
        let text = std::fs::read_to_string(&original_manifest)
            .with_context(|| format!("reading {}", original_manifest.display()))?;
        write_if_changed(&manifest, standalone_manifest(&text).as_bytes())
    }
}

/// The manifest as its own workspace root (an empty `[workspace]` table, added once).
fn standalone_manifest(text: &str) -> String {
    if text.lines().any(|line| line.trim() == "[workspace]") {
        text.to_string()
    } else {
        format!("{}\n\n[workspace]\n", text.trim_end())
    }
}

/// `version` of the package `name` in a Cargo.lock.
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    lines.find(|line| line.trim() == wanted)?;
    let version = lines.next()?.trim().strip_prefix("version = ")?;
    Some(version.trim_matches('"').to_string())
}

/// Copies a directory tree but `except` (a file in it); copies are writable whatever the
/// source's mode (the cargo build writes beside them, and the next copy overwrites them).
fn copy_tree(from: &Path, to: &Path, except: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let destination = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &destination, except)?;
        } else if entry.path() != except {
            copy_file(&entry.path(), &destination)?;
        }
    }
    Ok(())
}

fn copy_file(from: &Path, to: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    write_if_changed(to, &bytes)
}

/// Writes only on change, so that cargo's freshness check sees the same mtimes on a rerun and
/// does not rebuild the harness.
fn write_if_changed(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if std::fs::read(path).ok().as_deref() != Some(bytes) {
        std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_becomes_its_own_workspace_once() {
        let once = standalone_manifest("[package]\nname = \"h\"\n");
        assert_eq!(once, "[package]\nname = \"h\"\n\n[workspace]\n");
        assert_eq!(standalone_manifest(&once), once);
    }

    #[test]
    fn reads_a_locked_version() {
        let lock = "[[package]]\nname = \"ring\"\nversion = \"0.17.14\"\n\n[[package]]\n\
                    name = \"rustls-webpki\"\nversion = \"0.103.17\"\n";
        assert_eq!(
            locked_version(lock, "rustls-webpki").as_deref(),
            Some("0.103.17")
        );
        assert_eq!(locked_version(lock, "nope"), None);
    }

    #[test]
    fn copies_read_only_trees_and_keeps_unchanged_files() {
        use std::os::unix::fs::PermissionsExt;
        let from = tempfile::tempdir().unwrap();
        std::fs::create_dir(from.path().join("sub")).unwrap();
        let file = from.path().join("sub").join("a.rs");
        std::fs::write(&file, "fn a() {}").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).unwrap();
        let to = tempfile::tempdir().unwrap();
        let nothing = Path::new("/nonexistent");
        copy_tree(from.path(), to.path(), nothing).unwrap();
        let copy = to.path().join("sub").join("a.rs");
        assert_eq!(std::fs::read_to_string(&copy).unwrap(), "fn a() {}");
        let modified = std::fs::metadata(&copy).unwrap().modified().unwrap();
        copy_tree(from.path(), to.path(), nothing).unwrap();
        assert_eq!(
            std::fs::metadata(&copy).unwrap().modified().unwrap(),
            modified
        );
    }
}
