//! The handshake columns of a run: set up by the harness machinery from
//! `validators/harnesses/handshake/harness.toml` (its Debian packages, the javac build, the
//! stamp), then each client checked for what set-up cannot see (its version answers; libfaketime
//! freezes a clock). A client that cannot run is an [`Unavailable`] column with the reason and
//! the exact fix.

use std::path::Path;
use std::time::{Duration, SystemTime};

use anchorsmith_diagnostics::{Code, Diagnostic};

use super::process::{self, Clock};
use super::rustls_client::RUSTLS_VERSION;
use super::{ApiPair, Client, HandshakeValidator};
use crate::harnesses::setup::out_dir;
use crate::harnesses::{
    check_ready, harnesses_dir, in_ci, load_manifests, running_as_root, set_up,
    workspace_harness_dir, Readiness, SetupContext, SetupMode, Unavailable,
};
use crate::Validator;

/// One handshake column: ready, or not available here (with why and how).
#[derive(Debug)]
pub enum HandshakeColumn {
    Ready(HandshakeValidator),
    Unavailable(Unavailable),
}

impl HandshakeColumn {
    pub fn name(&self) -> &str {
        match self {
            HandshakeColumn::Ready(validator) => validator.name(),
            HandshakeColumn::Unavailable(unavailable) => &unavailable.name,
        }
    }

    /// The verification-API column it should agree with (a ready column only).
    pub fn api_pair(&self) -> Option<ApiPair> {
        match self {
            HandshakeColumn::Ready(validator) => validator.api_pair(),
            HandshakeColumn::Unavailable(_) => None,
        }
    }

    pub fn into_validator(self) -> std::sync::Arc<dyn Validator> {
        match self {
            HandshakeColumn::Ready(validator) => std::sync::Arc::new(validator),
            HandshakeColumn::Unavailable(unavailable) => std::sync::Arc::new(unavailable),
        }
    }
}

/// The names of the handshake columns, from the manifest alone (nothing is run).
pub fn handshake_names() -> Vec<String> {
    Client::all()
        .into_iter()
        .map(|client| client.column().to_string())
        .collect()
}

/// The handshake columns in `wanted` (all when empty), set up under `target_dir` with
/// [`SetupMode::Install`] or only checked with [`SetupMode::ReportOnly`]. Only a malformed
/// manifest, or one whose columns are not the clients here, is an error.
pub fn handshake_columns(
    wanted: &[String],
    timeout: Duration,
    mode: SetupMode,
    target_dir: &Path,
    log: &(dyn Fn(&str) + Sync),
) -> Result<Vec<HandshakeColumn>, Diagnostic> {
    let manifests = load_manifests(&harnesses_dir())?;
    let Some(manifest) = manifests.iter().find(|manifest| manifest.in_process) else {
        return Ok(Vec::new());
    };
    let manifest_path = manifest.dir.join("harness.toml");
    let names: Vec<&str> = manifest.columns.iter().map(|c| c.name.as_str()).collect();
    if names != handshake_names() {
        return Err(Diagnostic::whole_file(
            Code::Shape,
            &manifest_path,
            format!(
                "the in-process columns must be exactly {} in that order (found {})",
                handshake_names().join(", "),
                names.join(", ")
            ),
        ));
    }
    let is_wanted = |name: &str| wanted.is_empty() || wanted.iter().any(|w| w == name);
    if !names.iter().any(|name| is_wanted(name)) {
        return Ok(Vec::new());
    }
    let context = SetupContext {
        target_dir: target_dir.to_path_buf(),
        install_system_packages: running_as_root(),
        log,
    };
    let readiness = match mode {
        SetupMode::Install => set_up(manifest, &context),
        SetupMode::ReportOnly => check_ready(manifest, &context),
    };
    let faketime = faketime_works();
    let mut columns = Vec::new();
    for column in manifest.columns.iter().filter(|c| is_wanted(&c.name)) {
        let client = Client::of_column(&column.name).expect("checked above");
        let unavailable = |reason: String, hint: String| {
            HandshakeColumn::Unavailable(Unavailable {
                name: column.name.clone(),
                reason,
                hint,
            })
        };
        if let Readiness::Missing { reason, hint } = &readiness {
            columns.push(unavailable(reason.clone(), hint.clone()));
            continue;
        }
        if uses_faketime(client) {
            if let Err(reason) = &faketime {
                columns.push(unavailable(
                    reason.clone(),
                    "apt-get install -y --no-install-recommends faketime".into(),
                ));
                continue;
            }
        }
        match version_of(client) {
            Ok(version) => columns.push(HandshakeColumn::Ready(HandshakeValidator {
                client,
                reject_kinds: manifest.kinds_of(column),
                only_scenarios: column.only_scenarios.clone(),
                timeout,
                version,
                out_dir: out_dir(manifest, &context),
            })),
            Err(reason) => columns.push(unavailable(
                reason,
                format!(
                    "cargo xtask validators (as root), or the packages in {}",
                    manifest_path.display()
                ),
            )),
        }
    }
    Ok(columns)
}

/// Every handshake column, ready, set up under `target/harnesses/`, with the CI rule of the
/// harness tests: under `CI=true` a missing client fails the test; elsewhere the missing columns
/// are printed with how to get them and `None` tells the test to check nothing (`purpose` says
/// what is then not checked).
pub fn handshake_columns_ready_or_skip(
    timeout: Duration,
    purpose: &str,
) -> Option<Vec<HandshakeValidator>> {
    let log = |line: &str| eprintln!("  {line}");
    let columns = handshake_columns(
        &[],
        timeout,
        SetupMode::Install,
        &workspace_harness_dir(),
        &log,
    )
    .unwrap_or_else(|diagnostic| panic!("{diagnostic}"));
    let mut ready = Vec::new();
    let mut missing = Vec::new();
    for column in columns {
        match column {
            HandshakeColumn::Ready(validator) => ready.push(validator),
            HandshakeColumn::Unavailable(unavailable) => missing.push(format!(
                "{}: {} (to get it: {})",
                unavailable.name, unavailable.reason, unavailable.hint
            )),
        }
    }
    if missing.is_empty() && !ready.is_empty() {
        return Some(ready);
    }
    assert!(
        !in_ci(),
        "handshake clients missing under CI:\n{}",
        missing.join("\n")
    );
    eprintln!("not {purpose}: missing here\n{}", missing.join("\n"));
    None
}

fn uses_faketime(client: Client) -> bool {
    matches!(
        client,
        Client::Curl | Client::Gnutls | Client::Java | Client::Chromium
    )
}

/// Whether libfaketime freezes a child's clock here (the clients under it are never trusted
/// blindly: a verdict at the real time would be a wrong verdict).
fn faketime_works() -> Result<(), String> {
    // 2021-10-01 00:00:00 UTC.
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_633_046_400);
    let argv = ["date", "+%s"].map(String::from);
    let clock = Clock::Frozen {
        at,
        monotonic: false,
    };
    match process::run(&argv, b"", clock, Duration::from_secs(10)) {
        Ok(finished) if finished.stdout.trim() == "1633046400" => Ok(()),
        Ok(finished) => Err(format!(
            "libfaketime did not freeze the clock (`date +%s` under it printed {:?})",
            finished.stdout.trim()
        )),
        Err(fault) => Err(format!("libfaketime: {fault}")),
    }
}

/// The version line of the real program (`openssl version`, `curl --version`, ...).
fn version_of(client: Client) -> Result<String, String> {
    let (argv, from_stderr): (Vec<String>, bool) = match client {
        Client::Openssl => (words(&["openssl", "version"]), false),
        Client::Curl => (words(&["curl", "--version"]), false),
        Client::Gnutls => (words(&["gnutls-cli", "--version"]), false),
        Client::Java => (words(&["java", "-version"]), true),
        Client::Rustls => return Ok(format!("rustls {RUSTLS_VERSION} (ring provider)")),
        // The browser's own line (`Chromium 148...`), through the script that runs it.
        Client::Chromium => {
            let script = super::chromium::script().to_string_lossy().into_owned();
            (
                words(&["python3", &script, "--browser", "chromium", "--version"]),
                false,
            )
        }
    };
    let finished = process::run(&argv, b"", Clock::Real, Duration::from_secs(20))
        .map_err(|fault| format!("`{}`: {fault}", argv.join(" ")))?;
    let text = if from_stderr {
        &finished.stderr
    } else {
        &finished.stdout
    };
    match text.lines().map(str::trim).find(|line| !line.is_empty()) {
        Some(line) if finished.status.success() => Ok(line.to_string()),
        _ => Err(format!(
            "`{}` failed ({})",
            argv.join(" "),
            finished.describe_status()
        )),
    }
}

fn words(argv: &[&str]) -> Vec<String> {
    argv.iter().map(|arg| arg.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rustls_version_is_the_locked_one() {
        let lock =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock"))
                .unwrap();
        let locked = lock
            .split("[[package]]")
            .find(|package| package.contains("\nname = \"rustls\"\n"))
            .and_then(|package| {
                package
                    .lines()
                    .find_map(|line| line.strip_prefix("version = \""))
                    .map(|version| version.trim_end_matches('"').to_string())
            })
            .expect("rustls is in Cargo.lock");
        assert_eq!(locked, RUSTLS_VERSION, "update RUSTLS_VERSION");
    }

    #[test]
    fn a_client_not_set_up_is_unavailable_with_the_fix() {
        // A fresh target directory: nothing built there, and ReportOnly builds nothing.
        let target = tempfile::tempdir().unwrap();
        let columns = handshake_columns(
            &[],
            Duration::from_secs(10),
            SetupMode::ReportOnly,
            target.path(),
            &|_| {},
        )
        .unwrap();
        let names: Vec<&str> = columns.iter().map(HandshakeColumn::name).collect();
        assert_eq!(names, handshake_names());
        for column in &columns {
            let HandshakeColumn::Unavailable(unavailable) = column else {
                panic!("{}: ready without its build", column.name());
            };
            assert!(!unavailable.hint.is_empty(), "{unavailable:?}");
            assert!(column.api_pair().is_none());
        }
        let only_curl = handshake_columns(
            &["handshake:curl".into()],
            Duration::from_secs(10),
            SetupMode::ReportOnly,
            target.path(),
            &|_| {},
        )
        .unwrap();
        assert_eq!(only_curl.len(), 1);
        assert!(handshake_columns(
            &["openssl".into()],
            Duration::from_secs(10),
            SetupMode::ReportOnly,
            target.path(),
            &|_| {}
        )
        .unwrap()
        .is_empty());
    }

    #[test]
    fn the_manifest_lists_every_client() {
        let manifests = load_manifests(&harnesses_dir()).unwrap();
        let manifest = manifests.iter().find(|m| m.in_process).unwrap();
        let names: Vec<String> = manifest.columns.iter().map(|c| c.name.clone()).collect();
        assert_eq!(names, handshake_names());
    }
}
