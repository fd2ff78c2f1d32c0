//! The external harnesses that ship with anchorsmith, described as data.
//!
//! Each `validators/harnesses/<dir>/harness.toml` ([`manifest`]) names the packages a harness
//! needs, the command that builds it and the report columns it provides. [`setup`] makes a
//! harness ready on first use (Debian packages when running as root, PyPI packages in one shared
//! venv, npm packages, then the build) and caches the result under `target/harnesses/`, so the
//! README's two commands are all a fresh machine needs. A ready column is an
//! [`ExternalHarness`](crate::external::ExternalHarness) like any `--validator-cmd`.

pub mod manifest;
pub mod setup;

pub use manifest::{load_manifests, HarnessManifest};
pub use setup::{check_ready, running_as_root, set_up, Readiness, SetupContext};

/// `validators/harnesses/`, where the harness sources and manifests live.
pub fn harnesses_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("harnesses")
}

use crate::{ValidationInput, Validator, Verdict};

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
