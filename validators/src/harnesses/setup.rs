//! Making one harness ready to run: its packages, its build, and a stamp so that the next run
//! does nothing. Failures never abort a run: they become [`Readiness::Missing`] with the reason
//! and the exact command that would fix it.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::manifest::{expand, HarnessManifest};

/// Where harnesses are set up, and what set-up may do.
pub struct SetupContext<'a> {
    /// `target/harnesses/` (absolute): `$OUT` of each harness is a directory below it.
    pub target_dir: PathBuf,
    /// Install missing Debian packages (true when running as root); otherwise print the command.
    pub install_system_packages: bool,
    /// Progress lines for people ("building gnutls …").
    pub log: &'a (dyn Fn(&str) + Sync),
}

/// The outcome of setting up one harness.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readiness {
    /// Every column can run: (validator name, argv with variables expanded).
    Ready { columns: Vec<(String, Vec<String>)> },
    /// The harness cannot run here; `hint` is what a person would type to fix it.
    Missing { reason: String, hint: String },
}

/// True when this process may install Debian packages (it runs as root).
pub fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Whether `manifest` is already set up (its packages installed and its build stamp current),
/// without installing or building anything.
pub fn check_ready(manifest: &HarnessManifest, context: &SetupContext<'_>) -> Readiness {
    let layout = Layout::of(manifest, context);
    let missing_packages = missing_debian_packages(&manifest.apt);
    if !missing_packages.is_empty() {
        return Readiness::Missing {
            reason: format!("missing Debian packages: {}", missing_packages.join(", ")),
            hint: "cargo xtask validators (as root), or see validators/harnesses/README.md".into(),
        };
    }
    if !layout.is_current(manifest) {
        return Readiness::Missing {
            reason: "not built yet".into(),
            hint: "cargo xtask validators".into(),
        };
    }
    Readiness::Ready {
        columns: layout.columns(manifest),
    }
}

/// `$OUT` of `manifest`: where its build puts what it compiles.
pub fn out_dir(manifest: &HarnessManifest, context: &SetupContext<'_>) -> PathBuf {
    Layout::of(manifest, context).out
}

/// Where a harness is set up, and the argv of its columns.
struct Layout {
    out: PathBuf,
    venv: PathBuf,
    stamp: PathBuf,
    src: PathBuf,
}

impl Layout {
    fn of(manifest: &HarnessManifest, context: &SetupContext<'_>) -> Layout {
        let out = context.target_dir.join(&manifest.name);
        Layout {
            stamp: out.join(".anchorsmith-stamp"),
            venv: context.target_dir.join("venv"),
            src: manifest.dir.clone(),
            out,
        }
    }

    fn variables(&self) -> [(&str, &Path); 3] {
        [("OUT", &self.out), ("VENV", &self.venv), ("SRC", &self.src)]
    }

    /// The columns that run a command (an `in_process` harness has none).
    fn columns(&self, manifest: &HarnessManifest) -> Vec<(String, Vec<String>)> {
        let variables = self.variables();
        manifest
            .columns
            .iter()
            .filter_map(|column| {
                let argv = column
                    .run
                    .as_ref()?
                    .iter()
                    .map(|arg| expand(arg, &variables))
                    .collect();
                Some((column.name.clone(), argv))
            })
            .collect()
    }

    fn is_current(&self, manifest: &HarnessManifest) -> bool {
        std::fs::read_to_string(&self.stamp).is_ok_and(|seen| seen == fingerprint(manifest))
    }
}

/// Sets up `manifest` (or finds it already set up) and says whether its columns can run.
pub fn set_up(manifest: &HarnessManifest, context: &SetupContext<'_>) -> Readiness {
    let layout = Layout::of(manifest, context);
    let (out, venv, stamp) = (&layout.out, &layout.venv, &layout.stamp);
    let variables = layout.variables();
    let columns = layout.columns(manifest);
    let fingerprint = fingerprint(manifest);
    let missing_packages = missing_debian_packages(&manifest.apt);
    if missing_packages.is_empty() && layout.is_current(manifest) {
        return Readiness::Ready { columns };
    }
    let steps = || -> Result<(), Missing> {
        install_debian_packages(&missing_packages, context)?;
        std::fs::create_dir_all(out).map_err(|error| Missing::io(out, error))?;
        if !manifest.pip.is_empty() {
            install_pip_packages(venv, &manifest.pip, context)?;
        }
        for package in &manifest.npm {
            // One prefix per package: several versions of one package (three Node.js builds)
            // cannot share a node_modules.
            (context.log)(&format!("{}: npm install {package}", manifest.name));
            let mut command = Command::new("npm");
            command
                .args([
                    "install",
                    "--no-save",
                    "--no-package-lock",
                    "--no-audit",
                    "--no-fund",
                ])
                .arg("--prefix")
                .arg(out.join("npm").join(package))
                .arg(package);
            run(
                command,
                "npm install",
                "install Node.js and npm (Debian: nodejs npm)",
            )?;
        }
        if let Some(build) = &manifest.build {
            (context.log)(&format!("{}: building", manifest.name));
            let argv: Vec<String> = build.iter().map(|arg| expand(arg, &variables)).collect();
            let (program, args) = argv.split_first().ok_or_else(|| Missing {
                reason: "`build` is empty".into(),
                hint: format!("fix {}", manifest.dir.join("harness.toml").display()),
            })?;
            let mut command = Command::new(program);
            command
                .args(args)
                .current_dir(&manifest.dir)
                .env("OUT", out)
                .env("VENV", venv)
                .env("SRC", &manifest.dir);
            run(command, "build", "see the build output above")?;
        }
        std::fs::write(stamp, &fingerprint).map_err(|error| Missing::io(stamp, error))?;
        Ok(())
    };
    match steps() {
        Ok(()) => Readiness::Ready { columns },
        Err(Missing { reason, hint }) => Readiness::Missing { reason, hint },
    }
}

/// Why a step failed, and what to type.
struct Missing {
    reason: String,
    hint: String,
}

impl Missing {
    fn io(path: &Path, error: std::io::Error) -> Missing {
        Missing {
            reason: format!("{}: {error}", path.display()),
            hint: "check the permissions of target/".into(),
        }
    }
}

/// Runs `command`, turning a failure into [`Missing`] with the end of its output.
fn run(mut command: Command, what: &str, hint: &str) -> Result<(), Missing> {
    let output = command.output().map_err(|error| Missing {
        reason: format!("{what}: cannot start {:?}: {error}", command.get_program()),
        hint: hint.to_string(),
    })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let text = if stderr.trim().is_empty() {
        stdout
    } else {
        stderr
    };
    let tail: Vec<&str> = text.lines().rev().take(6).collect();
    Err(Missing {
        reason: format!(
            "{what} failed ({}): {}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ),
        hint: hint.to_string(),
    })
}

/// The packages of `packages` that dpkg does not report as installed.
fn missing_debian_packages(packages: &[String]) -> Vec<String> {
    packages
        .iter()
        .filter(|package| {
            let status = Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", package])
                .output();
            !status.is_ok_and(|output| {
                String::from_utf8_lossy(&output.stdout).contains("install ok installed")
            })
        })
        .cloned()
        .collect()
}

fn install_debian_packages(packages: &[String], context: &SetupContext<'_>) -> Result<(), Missing> {
    if packages.is_empty() {
        return Ok(());
    }
    let hint = format!(
        "apt-get install -y --no-install-recommends {}",
        packages.join(" ")
    );
    if !context.install_system_packages {
        return Err(Missing {
            reason: format!("missing Debian packages: {}", packages.join(", ")),
            hint: format!("sudo {hint}"),
        });
    }
    (context.log)(&format!(
        "installing Debian packages: {}",
        packages.join(" ")
    ));
    let install = || {
        let mut command = Command::new("apt-get");
        command
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive");
        run(command, "apt-get install", &hint)
    };
    // A fresh machine may have no package lists yet: update once and try again.
    install().or_else(|_| {
        let mut update = Command::new("apt-get");
        update.args(["update", "-qq"]);
        run(update, "apt-get update", &hint)?;
        install()
    })
}

fn install_pip_packages(
    venv: &Path,
    packages: &[String],
    context: &SetupContext<'_>,
) -> Result<(), Missing> {
    if !venv.join("bin/python").exists() {
        (context.log)("creating the harness venv");
        // Debian's interpreter, so Debian's python3-* packages (python3-botan) are importable.
        let mut command = Command::new("/usr/bin/python3");
        command
            .args(["-m", "venv", "--system-site-packages"])
            .arg(venv);
        run(
            command,
            "python3 -m venv",
            "apt-get install -y python3-venv",
        )?;
    }
    (context.log)(&format!("pip install {}", packages.join(" ")));
    let mut command = Command::new(venv.join("bin/pip"));
    command
        .args(["install", "-q", "--disable-pip-version-check"])
        .args(packages);
    run(command, "pip install", "check that PyPI is reachable")
}

/// SHA-256 over the manifest's directory and the shared source directories beside it (those
/// without a `harness.toml`, such as `common/`), so any source change rebuilds.
fn fingerprint(manifest: &HarnessManifest) -> String {
    let mut dirs = vec![manifest.dir.clone()];
    if let Some(parent) = manifest.dir.parent() {
        if let Ok(entries) = std::fs::read_dir(parent) {
            let mut shared: Vec<PathBuf> = entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| path.is_dir() && !path.join("harness.toml").exists())
                .collect();
            shared.sort();
            dirs.extend(shared);
        }
    }
    let mut hasher = Sha256::new();
    for dir in dirs {
        let mut files = Vec::new();
        collect_files(&dir, &mut files);
        files.sort();
        for file in files {
            hasher.update(file.to_string_lossy().as_bytes());
            hasher.update(std::fs::read(&file).unwrap_or_default());
        }
    }
    hex::encode(hasher.finalize())
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.filter_map(|entry| entry.ok().map(|entry| entry.path())) {
        // Caches that running a harness's own tests leaves behind are not sources.
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned());
        if name.is_some_and(|name| name.starts_with('.') || name == "__pycache__") {
            continue;
        }
        if path.is_dir() {
            collect_files(&path, files);
        } else {
            files.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harnesses::load_manifests;

    /// A harness directory `h` under a fresh `harnesses/` with `manifest` as its harness.toml.
    fn harness_dir(manifest: &str) -> (tempfile::TempDir, HarnessManifest) {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("harnesses").join("h");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("harness.toml"), manifest).unwrap();
        std::fs::write(dir.join("source.txt"), "v1").unwrap();
        let manifest = load_manifests(&root.path().join("harnesses"))
            .unwrap()
            .remove(0);
        (root, manifest)
    }

    fn context(root: &Path) -> SetupContext<'static> {
        SetupContext {
            target_dir: root.join("target"),
            install_system_packages: false,
            log: &|_| {},
        }
    }

    const COUNTING_BUILD: &str = r#"
build = ["sh", "-c", "echo built >> \"$OUT/builds\""]
[[validator]]
name = "h-column"
run = ["$OUT/harness", "--mode", "x"]
"#;

    fn builds(root: &Path) -> usize {
        std::fs::read_to_string(root.join("target/h/builds")).map_or(0, |text| text.lines().count())
    }

    #[test]
    fn a_harness_is_built_once_and_again_when_its_sources_change() {
        let (root, manifest) = harness_dir(COUNTING_BUILD);
        let context = context(root.path());
        assert!(matches!(
            check_ready(&manifest, &context),
            Readiness::Missing { .. }
        ));
        let Readiness::Ready { columns } = set_up(&manifest, &context) else {
            panic!("the build should succeed");
        };
        let out = root.path().join("target/h");
        assert_eq!(
            columns,
            [(
                "h-column".to_string(),
                vec![
                    format!("{}/harness", out.display()),
                    "--mode".into(),
                    "x".into()
                ]
            )]
        );
        assert!(matches!(
            check_ready(&manifest, &context),
            Readiness::Ready { .. }
        ));
        set_up(&manifest, &context);
        assert_eq!(builds(root.path()), 1, "a current stamp skips the build");
        std::fs::write(manifest.dir.join("source.txt"), "v2").unwrap();
        set_up(&manifest, &context);
        assert_eq!(builds(root.path()), 2, "a changed source rebuilds");
    }

    #[test]
    fn a_missing_debian_package_names_the_command_when_not_root() {
        let (root, manifest) = harness_dir(&format!(
            "apt = [\"anchorsmith-no-such-package\"]\n{COUNTING_BUILD}"
        ));
        let Readiness::Missing { reason, hint } = set_up(&manifest, &context(root.path())) else {
            panic!("a missing package cannot be ready");
        };
        assert!(reason.contains("anchorsmith-no-such-package"), "{reason}");
        assert_eq!(
            hint,
            "sudo apt-get install -y --no-install-recommends anchorsmith-no-such-package"
        );
        assert_eq!(
            builds(root.path()),
            0,
            "nothing is built without its packages"
        );
    }

    #[test]
    fn a_failing_build_is_missing_with_the_end_of_its_output() {
        let (root, manifest) = harness_dir(
            "build = [\"sh\", \"-c\", \"echo compiler says no >&2; exit 3\"]\n[[validator]]\nname = \"h\"\nrun = [\"x\"]\n",
        );
        let Readiness::Missing { reason, .. } = set_up(&manifest, &context(root.path())) else {
            panic!("a failed build cannot be ready");
        };
        assert!(reason.contains("compiler says no"), "{reason}");
        assert!(!root.path().join("target/h/.anchorsmith-stamp").exists());
    }
}
