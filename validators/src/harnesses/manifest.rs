//! `harness.toml`: what one harness directory needs and provides (documented for harness authors
//! in `validators/harnesses/README.md`).

use std::path::{Path, PathBuf};

use anchorsmith_diagnostics::{parse_toml, Code, Diagnostic};
use serde::Deserialize;

use super::kinds::KindRule;

/// One harness directory's manifest.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HarnessManifest {
    /// Debian packages needed to build and run.
    #[serde(default)]
    pub apt: Vec<String>,
    /// PyPI requirements, installed into the shared venv `$VENV`.
    #[serde(default)]
    pub pip: Vec<String>,
    /// npm packages, installed under `$OUT`.
    #[serde(default)]
    pub npm: Vec<String>,
    /// Build command (argv, no shell), run in the harness directory; `None`: nothing to build.
    #[serde(default)]
    pub build: Option<Vec<String>>,
    /// `true`: the columns are validators compiled into this crate (the handshake clients,
    /// [`crate::handshake`]), not limbo-protocol programs; they have no `run`. The packages and
    /// the build are set up all the same.
    #[serde(default)]
    pub in_process: bool,
    /// The report columns this harness provides.
    #[serde(rename = "validator")]
    pub columns: Vec<Column>,
    /// How this library's native errors map onto normalized kinds, for every column of the
    /// harness (they share the library's vocabulary); first matching row wins
    /// ([`super::kinds::map_kind`]).
    #[serde(default, rename = "reject_kind")]
    pub reject_kinds: Vec<KindRule>,
    /// The directory name (not in the file): `$OUT` is `target/harnesses/<name>`.
    #[serde(skip)]
    pub name: String,
    /// The harness directory (not in the file).
    #[serde(skip)]
    pub dir: PathBuf,
}

/// One report column of a harness.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// The validator name: report column and results file name.
    pub name: String,
    /// Command (argv, no shell) that speaks the limbo protocol on stdin/stdout; absent (and
    /// required absent) for the columns of an `in_process` harness.
    #[serde(default)]
    pub run: Option<Vec<String>>,
    /// This column's own native errors onto kinds, tried before the harness's table: for a
    /// harness whose columns are different programs with different vocabularies.
    #[serde(default, rename = "reject_kind")]
    pub reject_kinds: Vec<KindRule>,
    /// The corpus scenarios whose cases this column runs (its other corpus cases are skipped
    /// with `why`); absent: every case. Read by the handshake columns.
    #[serde(default)]
    pub only_scenarios: Option<ScenarioLimit>,
}

/// A column limited to some corpus scenarios, and why (the skip reason the report shows).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioLimit {
    pub scenarios: Vec<String>,
    pub why: String,
}

impl HarnessManifest {
    /// The table that maps `column`'s native errors: its own rows, then the harness's.
    pub fn kinds_of(&self, column: &Column) -> Vec<KindRule> {
        column
            .reject_kinds
            .iter()
            .chain(&self.reject_kinds)
            .cloned()
            .collect()
    }
}

/// Every `*/harness.toml` under `dir`, sorted by directory name. A malformed manifest or a
/// column name used twice is a located error.
pub fn load_manifests(dir: &Path) -> Result<Vec<HarnessManifest>, Diagnostic> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|error| {
            Diagnostic::whole_file(Code::Syntax, dir, format!("cannot read directory: {error}"))
        })?
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join("harness.toml")))
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    let mut manifests: Vec<HarnessManifest> = Vec::new();
    for path in paths {
        let manifest = load_manifest(&path)?;
        for column in &manifest.columns {
            let taken = manifests
                .iter()
                .flat_map(|other| &other.columns)
                .any(|other| other.name == column.name);
            if taken {
                return Err(Diagnostic::whole_file(
                    Code::Duplicate,
                    &path,
                    format!(
                        "validator name `{}` is used by another harness",
                        column.name
                    ),
                ));
            }
        }
        manifests.push(manifest);
    }
    Ok(manifests)
}

fn load_manifest(path: &Path) -> Result<HarnessManifest, Diagnostic> {
    let source = std::fs::read_to_string(path).map_err(|error| {
        Diagnostic::whole_file(Code::Syntax, path, format!("cannot read: {error}"))
    })?;
    let mut manifest: HarnessManifest = parse_toml(path, &source)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    manifest.name = dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    manifest.dir = dir.to_path_buf();
    if manifest.columns.is_empty() {
        return Err(Diagnostic::whole_file(
            Code::Shape,
            path,
            "a harness must provide at least one [[validator]]",
        ));
    }
    for column in &manifest.columns {
        let message = match (&column.run, manifest.in_process) {
            (None, false) => "needs `run`: the command that speaks the limbo protocol",
            (Some(_), true) => {
                "must not have `run`: the columns of an `in_process` harness run in anchorsmith"
            }
            _ => continue,
        };
        return Err(Diagnostic::whole_file(
            Code::Shape,
            path,
            format!("validator `{}` {message}", column.name),
        ));
    }
    Ok(manifest)
}

/// `$OUT`, `$VENV` and `$SRC` in one argv element, replaced by their values.
pub fn expand(arg: &str, variables: &[(&str, &Path)]) -> String {
    let mut expanded = arg.to_string();
    for (name, value) in variables {
        expanded = expanded.replace(&format!("${name}"), &value.to_string_lossy());
    }
    expanded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_manifests_load() {
        let manifests = load_manifests(&crate::harnesses::harnesses_dir()).unwrap();
        for manifest in &manifests {
            assert!(!manifest.name.is_empty());
            assert!(manifest.columns.iter().all(|column| {
                column
                    .run
                    .as_ref()
                    .map_or(manifest.in_process, |run| !run.is_empty())
            }));
        }
    }

    #[test]
    fn only_the_chromium_column_is_limited_to_scenarios() {
        let manifests = load_manifests(&crate::harnesses::harnesses_dir()).unwrap();
        let limited: Vec<(&str, &ScenarioLimit)> = manifests
            .iter()
            .flat_map(|manifest| &manifest.columns)
            .filter_map(|column| Some((column.name.as_str(), column.only_scenarios.as_ref()?)))
            .collect();
        assert_eq!(limited.len(), 1, "{limited:?}");
        assert_eq!(limited[0].0, "handshake:chromium");
        assert!(!limited[0].1.scenarios.is_empty());
    }

    #[test]
    fn a_bad_manifest_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let harness = dir.path().join("x");
        std::fs::create_dir(&harness).unwrap();
        std::fs::write(
            harness.join("harness.toml"),
            "apt = []\n[[validator]]\nname = \"x\"\nrun = \"not-a-list\"\n",
        )
        .unwrap();
        let error = load_manifests(dir.path()).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("validator[0].run"));
        assert_eq!(error.line, 4);
    }

    #[test]
    fn a_bad_reject_kind_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let harness = dir.path().join("x");
        std::fs::create_dir(&harness).unwrap();
        std::fs::write(
            harness.join("harness.toml"),
            "[[validator]]\nname = \"x\"\nrun = [\"x\"]\n\n[[reject_kind]]\nnative = \"E1\"\nkind = \"expired\"\n\n[[reject_kind]]\nnative = \"E2\"\nkind = \"too-old\"\n",
        )
        .unwrap();
        let error = load_manifests(dir.path()).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("reject_kind[1].kind"));
        assert_eq!(error.line, 11);
    }

    #[test]
    fn an_empty_native_pattern_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let harness = dir.path().join("x");
        std::fs::create_dir(&harness).unwrap();
        std::fs::write(
            harness.join("harness.toml"),
            "[[validator]]\nname = \"x\"\nrun = [\"x\"]\n[[reject_kind]]\nnative = \"\"\nkind = \"expired\"\n",
        )
        .unwrap();
        let error = load_manifests(dir.path()).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("reject_kind[0].native"));
        assert_eq!(error.line, 5);
    }

    #[test]
    fn run_is_required_exactly_when_the_harness_is_not_in_process() {
        for (text, message) in [
            ("[[validator]]\nname = \"x\"\n", "needs `run`"),
            (
                "in_process = true\n[[validator]]\nname = \"x\"\nrun = [\"x\"]\n",
                "must not have `run`",
            ),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let harness = dir.path().join("x");
            std::fs::create_dir(&harness).unwrap();
            std::fs::write(harness.join("harness.toml"), text).unwrap();
            let error = load_manifests(dir.path()).unwrap_err();
            assert!(error.message.contains(message), "{error}");
        }
    }

    #[test]
    fn a_column_tries_its_own_rows_first() {
        let dir = tempfile::tempdir().unwrap();
        let harness = dir.path().join("x");
        std::fs::create_dir(&harness).unwrap();
        std::fs::write(
            harness.join("harness.toml"),
            "reject_kind = [{ native = \"E\", kind = \"other\" }]\nin_process = true\n[[validator]]\nname = \"x\"\nreject_kind = [{ native = \"E1\", kind = \"expired\" }]\n",
        )
        .unwrap();
        let manifest = load_manifests(dir.path()).unwrap().remove(0);
        let table = manifest.kinds_of(&manifest.columns[0]);
        let natives: Vec<&str> = table.iter().map(|rule| rule.native.as_str()).collect();
        assert_eq!(natives, ["E1", "E"]);
    }

    #[test]
    fn variables_expand_in_arguments() {
        let out = Path::new("/t/out");
        assert_eq!(expand("$OUT/bin", &[("OUT", out)]), "/t/out/bin");
        assert_eq!(expand("plain", &[("OUT", out)]), "plain");
    }
}
