//! The calibration table, `validators/engine-models.toml`: for each real engine (its validator
//! column name) the knob setting that claims to describe it, and where that claim comes from.

use std::collections::BTreeMap;
use std::path::Path;

use anchorsmith_diagnostics::{parse_toml, Code, Diagnostic};
use serde::Deserialize;

use super::Knobs;

/// One engine's claimed description.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct EngineModel {
    /// Where the knob setting comes from (library documentation, NOTES.md, a source file read).
    pub source: String,
    #[serde(default)]
    pub knobs: Knobs,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    engines: BTreeMap<String, EngineModel>,
}

/// Every engine's model, keyed by validator column name. Bad input is a located [`Diagnostic`].
pub fn engine_models(path: &Path) -> Result<BTreeMap<String, EngineModel>, Diagnostic> {
    let source = std::fs::read_to_string(path).map_err(|error| {
        Diagnostic::whole_file(Code::Syntax, path, format!("cannot read: {error}"))
    })?;
    parse_engine_models(path, &source)
}

/// The shipped `validators/engine-models.toml`, compiled in, for programs that must not depend
/// on where the source tree is (the bundle builder's `bearssl` device verifier). Checked by this
/// crate's tests, so it cannot be malformed in a build.
pub fn shipped_engine_models() -> BTreeMap<String, EngineModel> {
    parse_engine_models(
        Path::new("validators/engine-models.toml"),
        include_str!("../../engine-models.toml"),
    )
    .unwrap_or_else(|diagnostic| {
        panic!("the shipped engine-models.toml is checked by tests: {diagnostic}")
    })
}

/// Parses an `engine-models.toml` text; `path` names it in diagnostics.
pub fn parse_engine_models(
    path: &Path,
    source: &str,
) -> Result<BTreeMap<String, EngineModel>, Diagnostic> {
    Ok(parse_toml::<File>(path, source)?.engines)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shipped_table_parses_and_describes_bearssl() {
        let models = super::shipped_engine_models();
        assert!(
            models["bearssl"].knobs.chain_as_sent,
            "{:?}",
            models["bearssl"]
        );
    }

    use super::*;
    use crate::model::AlternateChains;

    #[test]
    fn the_committed_table_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("engine-models.toml");
        let models = engine_models(&path).unwrap_or_else(|error| panic!("{error}"));
        assert!(models.contains_key("rustls-webpki"));
        assert!(models.values().all(|model| !model.source.trim().is_empty()));
    }

    #[test]
    fn a_misspelt_knob_is_located() {
        let source = "[engines.x]\nsource = \"s\"\nknobs = { alternate-chains = \"sometimes\" }\n";
        let error = parse_engine_models(Path::new("e.toml"), source).unwrap_err();
        assert_eq!(error.code, Code::Shape);
        assert_eq!(error.line, 3);
        let good = "[engines.x]\nsource = \"s\"\nknobs = { alternate-chains = \"never\" }\n";
        let models = parse_engine_models(Path::new("e.toml"), good).unwrap();
        assert_eq!(models["x"].knobs.alternate_chains, AlternateChains::Never);
    }
}
