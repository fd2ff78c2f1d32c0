//! The external harnesses that ship with anchorsmith, described as data.
//!
//! Each `validators/harnesses/<dir>/harness.toml` ([`manifest`]) names the packages a harness
//! needs, the command that builds it and the report columns it provides. [`setup`] makes a
//! harness ready on first use (Debian packages when running as root, PyPI packages in one shared
//! venv, npm packages, then the build) and caches the result under `target/harnesses/`, so the
//! README's two commands are all a fresh machine needs. A ready column is an
//! [`ExternalHarness`](crate::external::ExternalHarness) like any `--validator-cmd`.

pub mod kinds;
pub mod manifest;
pub mod setup;

pub use kinds::{chain_from_context, is_no_verdict, map_kind, matching_rule, KindRule};
pub use manifest::{load_manifests, HarnessManifest};
pub use setup::{check_ready, running_as_root, set_up, Readiness, SetupContext};

/// `validators/harnesses/`, where the harness sources and manifests live.
pub fn harnesses_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("harnesses")
}

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anchorsmith_diagnostics::Diagnostic;

use crate::external::ExternalHarness;
use crate::{ValidationInput, Validator, Verdict};

/// Whether set-up may install and build, or only report what is already there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupMode {
    Install,
    ReportOnly,
}

/// One column of a built-in harness: ready to run, or not available here (with why and how).
pub enum HarnessColumn {
    /// With its table of native errors ([`kinds::map_kind`]) from its manifest.
    Ready(ExternalHarness),
    Unavailable(Unavailable),
}

impl HarnessColumn {
    pub fn name(&self) -> &str {
        match self {
            HarnessColumn::Ready(harness) => &harness.name,
            HarnessColumn::Unavailable(unavailable) => &unavailable.name,
        }
    }

    pub fn into_validator(self) -> Arc<dyn Validator> {
        match self {
            HarnessColumn::Ready(harness) => Arc::new(harness),
            HarnessColumn::Unavailable(unavailable) => Arc::new(unavailable),
        }
    }
}

/// True under `CI=true`, where a validator that is not available is a failure rather than a
/// skip, so that CI always pins every column.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true")
}

/// The names of every built-in harness column, from the manifests alone (nothing is run). The
/// columns of an `in_process` harness (the handshake clients) are not among them: see
/// [`crate::handshake::handshake_columns`].
pub fn builtin_names() -> Result<Vec<String>, Diagnostic> {
    Ok(load_manifests(&harnesses_dir())?
        .into_iter()
        .filter(|manifest| !manifest.in_process)
        .flat_map(|manifest| manifest.columns.into_iter().map(|column| column.name))
        .collect())
}

/// The columns of the built-in limbo-protocol harnesses (`validators/harnesses/*/harness.toml`,
/// except the `in_process` one, whose columns [`crate::handshake`] provides) that have a
/// `wanted` column (all when `wanted` is empty), in directory order. With [`SetupMode::Install`]
/// they are set up under `target_dir` on first use; with [`SetupMode::ReportOnly`] they are only
/// checked. Harnesses with no wanted column are not looked at, so a run of one validator pays
/// nothing for the others. A harness that cannot be set up gives [`HarnessColumn::Unavailable`]
/// columns; only a malformed manifest is an error.
pub fn builtin_columns(
    wanted: &[String],
    timeout: Duration,
    mode: SetupMode,
    target_dir: &Path,
    log: &(dyn Fn(&str) + Sync),
) -> Result<Vec<HarnessColumn>, Diagnostic> {
    let manifests = load_manifests(&harnesses_dir())?;
    let context = SetupContext {
        target_dir: target_dir.to_path_buf(),
        install_system_packages: running_as_root(),
        log,
    };
    let mut columns = Vec::new();
    for manifest in manifests.iter().filter(|manifest| !manifest.in_process) {
        let is_wanted = wanted.is_empty()
            || manifest
                .columns
                .iter()
                .any(|column| wanted.contains(&column.name));
        if !is_wanted {
            continue;
        }
        let readiness = match mode {
            SetupMode::Install => set_up(manifest, &context),
            SetupMode::ReportOnly => check_ready(manifest, &context),
        };
        match readiness {
            Readiness::Ready { columns: ready } => {
                columns.extend(ready.into_iter().map(|(name, argv)| {
                    let kinds = manifest
                        .columns
                        .iter()
                        .find(|column| column.name == name)
                        .map_or_else(
                            || manifest.reject_kinds.clone(),
                            |column| manifest.kinds_of(column),
                        );
                    HarnessColumn::Ready(
                        ExternalHarness::from_argv(name, argv)
                            .with_per_case_timeout(timeout)
                            .with_reject_kinds(kinds),
                    )
                }));
            }
            Readiness::Missing { reason, hint } => {
                columns.extend(manifest.columns.iter().map(|column| {
                    HarnessColumn::Unavailable(Unavailable {
                        name: column.name.clone(),
                        reason: reason.clone(),
                        hint: hint.clone(),
                    })
                }));
            }
        }
    }
    Ok(columns)
}

/// Every built-in harness column, set up under `target_dir`, ready to run; or, when some cannot
/// be set up here, one line per missing column saying why and how to get it. For tests that pin
/// every harness: under `CI=true` they fail on the lines, elsewhere they report them and stop.
pub fn every_harness_ready(
    timeout: Duration,
    target_dir: &Path,
) -> Result<Vec<Arc<dyn Validator>>, Vec<String>> {
    let log = |line: &str| eprintln!("  {line}");
    let columns = builtin_columns(&[], timeout, SetupMode::Install, target_dir, &log)
        .map_err(|diagnostic| vec![diagnostic.to_string()])?;
    let missing: Vec<String> = columns
        .iter()
        .filter_map(|column| match column {
            HarnessColumn::Unavailable(unavailable) => Some(format!(
                "{}: {} (to get it: {})",
                unavailable.name, unavailable.reason, unavailable.hint
            )),
            HarnessColumn::Ready(_) => None,
        })
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }
    Ok(columns
        .into_iter()
        .map(HarnessColumn::into_validator)
        .collect())
}

/// Where the tests set the harnesses up: `target/harnesses/` of this workspace, as
/// `cargo xtask` does.
pub fn workspace_harness_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("validators/ is inside the workspace")
        .join("target")
        .join("harnesses")
}

/// [`every_harness_ready`] under `target/harnesses/` with the one CI rule of the tests that pin
/// harness behaviour: under `CI=true` a missing harness fails the test (CI always pins every
/// column); elsewhere the missing columns are printed with how to get them, and `None` tells the
/// test to pin nothing (`purpose` says what is then not checked).
pub fn every_harness_ready_or_skip(
    timeout: Duration,
    purpose: &str,
) -> Option<Vec<Arc<dyn Validator>>> {
    match every_harness_ready(timeout, &workspace_harness_dir()) {
        Ok(validators) => Some(validators),
        Err(missing) => {
            assert!(
                !in_ci(),
                "harnesses missing under CI:\n{}",
                missing.join("\n")
            );
            eprintln!("not {purpose}: missing here\n{}", missing.join("\n"));
            None
        }
    }
}

/// A column whose harness could not be set up here: every case is a [`Verdict::Skip`] that says
/// why and what to type, so a local run still shows the column and how to fill it.
#[derive(Clone, Debug)]
pub struct Unavailable {
    pub name: String,
    pub reason: String,
    pub hint: String,
}

impl Validator for Unavailable {
    fn name(&self) -> &str {
        &self.name
    }

    fn version(&self) -> String {
        "not available".into()
    }

    fn validate(&self, _input: &ValidationInput) -> Verdict {
        Verdict::Skip {
            reason: format!(
                "not available here ({}); to get it: {}",
                self.reason, self.hint
            ),
        }
    }
}
