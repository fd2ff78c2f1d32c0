//! Reading suite and results files: `.json` or `.json.gz` (by magic number), parsed once,
//! straight into the typed [`crate::limbo`] structs.
//!
//! Bad input (a malformed file, a value outside limbo's enums, an unsupported version, an id
//! seen twice) becomes a [`Diagnostic`] with the file, line, column, field path
//! (`testcases[3].expected_result`) and the source line with a caret. The fast path does not
//! track field paths; only when it fails is the text parsed again, with
//! [`anchorsmith_diagnostics::parse_json`], to locate the fault.

use std::io::Read;
use std::path::{Path, PathBuf};

use anchorsmith_diagnostics::{json_diagnostic, parse_json, Diagnostic};
use serde::de::DeserializeOwned;

use super::PreparedSuite;
use crate::limbo::{Limbo, LimboResults};

/// Why a suite or results file could not be used. Both variants are bad input.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("{path}: cannot read: {error}")]
    Read {
        path: PathBuf,
        // Not `source`: the message already carries it, and anyhow would print it twice.
        error: std::io::Error,
    },
    /// The file does not parse as the limbo format: located, rendered with a caret.
    #[error("{0}")]
    Invalid(Box<Diagnostic>),
}

/// Which suite to run: the two shipped with the project or any limbo file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SuiteSpec {
    Core,
    Full,
    Path(PathBuf),
}

impl SuiteSpec {
    /// `core`, `full`, or a path (relative paths are taken as given, i.e. from the current dir).
    pub fn parse(text: &str) -> SuiteSpec {
        match text {
            "core" => SuiteSpec::Core,
            "full" => SuiteSpec::Full,
            other => SuiteSpec::Path(PathBuf::from(other)),
        }
    }

    /// The file to read. `shared/` sits beside the workspace root.
    pub fn resolve(&self, workspace_root: &Path) -> PathBuf {
        let shared_limbo = workspace_root.join("..").join("shared").join("limbo");
        match self {
            SuiteSpec::Core => shared_limbo.join("limbo-core.json"),
            SuiteSpec::Full => shared_limbo.join("limbo-full.json.gz"),
            SuiteSpec::Path(path) => path.clone(),
        }
    }
}

/// The bytes of a file, gunzipped when it is gzip (by magic number, so a misnamed file still
/// works).
pub fn read_maybe_gzipped(path: &Path) -> Result<Vec<u8>, SuiteError> {
    let read_error = |error| SuiteError::Read {
        path: path.to_path_buf(),
        error,
    };
    let raw = std::fs::read(path).map_err(read_error)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut decoded = Vec::with_capacity(raw.len() * 6);
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut decoded)
            .map_err(read_error)?;
        Ok(decoded)
    } else {
        Ok(raw)
    }
}

/// Parse a limbo testcase file from bytes (`path` names it in errors).
pub fn parse_limbo(path: &Path, bytes: &[u8]) -> Result<Limbo, SuiteError> {
    parse(path, bytes)
}

/// Read and parse a limbo testcase file (`.json` or `.json.gz`).
pub fn load_limbo(path: &Path) -> Result<Limbo, SuiteError> {
    parse(path, &read_maybe_gzipped(path)?)
}

/// Read and parse a limbo harness results file (`.json` or `.json.gz`).
pub fn load_results(path: &Path) -> Result<LimboResults, SuiteError> {
    parse(path, &read_maybe_gzipped(path)?)
}

/// Read, parse and convert a suite file.
pub fn load_suite(path: &Path) -> Result<PreparedSuite, SuiteError> {
    let limbo = load_limbo(path)?;
    Ok(PreparedSuite::prepare(path, &limbo))
}

/// The document in `bytes`. The limbo types check every value (enums, version, unique ids)
/// while parsing, so what parses is valid.
fn parse<T: DeserializeOwned>(path: &Path, bytes: &[u8]) -> Result<T, SuiteError> {
    serde_json::from_slice(bytes)
        .map_err(|error| SuiteError::Invalid(Box::new(locate::<T>(path, bytes, &error))))
}

/// Slow path, only on error: parse the text again, tracking the field path.
fn locate<T: DeserializeOwned>(path: &Path, bytes: &[u8], error: &serde_json::Error) -> Diagnostic {
    let text = String::from_utf8_lossy(bytes);
    match parse_json::<T>(path, &text) {
        Err(diagnostic) => diagnostic,
        // Only invalid UTF-8 fails the fast path and not this one (the lossy text has none).
        Ok(_) => json_diagnostic(path, &text, error),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::limbo_json;
    use super::*;
    use anchorsmith_diagnostics::Code;

    fn diagnostic(result: Result<impl std::fmt::Debug, SuiteError>) -> Diagnostic {
        match result.unwrap_err() {
            SuiteError::Invalid(diagnostic) => *diagnostic,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn a_bad_enum_value_is_located_with_field_path_and_caret() {
        let json = limbo_json(&["x::one", "x::two"]);
        let second_line = json
            .lines()
            .position(|line| line.contains("x::two"))
            .unwrap()
            + 1;
        let (head, tail) = json.split_at(json.find("x::two").unwrap());
        let bad = format!("{head}{}", tail.replacen("\"SUCCESS\"", "\"MAYBE\"", 1));
        let error = diagnostic(parse_limbo(Path::new("suite.json"), bad.as_bytes()));
        assert_eq!(error.code, Code::Shape);
        assert_eq!(error.field.as_deref(), Some("testcases[1].expected_result"));
        assert_eq!(error.line, second_line);
        assert!(error.message.contains("unknown variant `MAYBE`"), "{error}");
        let rendered = error.to_string();
        assert!(
            rendered.contains(&format!("--> suite.json:{second_line}:")),
            "{rendered}"
        );
        assert!(
            rendered.contains("\"expected_result\": \"MAYBE\""),
            "{rendered}"
        );
        assert!(rendered.contains('^'), "{rendered}");
    }

    #[test]
    fn wrong_types_missing_fields_versions_and_repeated_ids_are_located() {
        let bad_type =
            limbo_json(&["x::one"]).replace("\"trusted_certs\": []", "\"trusted_certs\": 5");
        let error = diagnostic(parse_limbo(Path::new("t.json"), bad_type.as_bytes()));
        assert_eq!(error.field.as_deref(), Some("testcases[0].trusted_certs"));
        assert!(error.message.contains("invalid type"), "{error}");
        // serde_json reports a number where an enum belongs as a syntax error; still located.
        let bad_kind = limbo_json(&["x::one"]).replace("\"SERVER\"", "5");
        let error = diagnostic(parse_limbo(Path::new("k.json"), bad_kind.as_bytes()));
        assert_eq!(error.field.as_deref(), Some("testcases[0].validation_kind"));

        let missing = diagnostic(parse_limbo(
            Path::new("m.json"),
            br#"{"version":1,"testcases":[{"id":"a::b"}]}"#,
        ));
        assert!(missing.message.contains("missing field"), "{missing}");
        assert_eq!(missing.field.as_deref(), Some("testcases[0]"));

        let version = diagnostic(parse_limbo(
            Path::new("v.json"),
            br#"{"version":2,"testcases":[]}"#,
        ));
        assert_eq!(version.field.as_deref(), Some("version"));
        assert!(version.message.contains("unsupported limbo version 2"));

        let repeated = limbo_json(&["x::one", "x::one", "x::two"]);
        let error = diagnostic(parse_limbo(Path::new("r.json"), repeated.as_bytes()));
        assert!(
            error
                .message
                .contains("testcases[1] repeats the id `x::one` of testcases[0]"),
            "{error}"
        );
        // serde_json places the error where it stopped reading: the start of the next testcase.
        assert_eq!(error.line, 4, "{error}");

        let syntax = diagnostic(parse_limbo(Path::new("s.json"), b"{\"version\": 1,"));
        assert_eq!(syntax.code, Code::Syntax);
    }

    #[test]
    fn bad_results_files_are_located_too() {
        let results = br#"{"version": 1, "harness": "h", "results": [
  {"id": "a", "actual_result": "MAYBE", "context": null}]}"#;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, results).unwrap();
        let error = diagnostic(load_results(&path));
        assert_eq!(error.field.as_deref(), Some("results[0].actual_result"));
        assert_eq!(error.line, 2);
    }

    #[test]
    fn gzipped_and_plain_files_read_alike() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let json = limbo_json(&["x::one"]);
        let plain = dir.path().join("s.json");
        std::fs::write(&plain, &json).unwrap();
        let gzipped = dir.path().join("s.json.gz");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(json.as_bytes()).unwrap();
        std::fs::write(&gzipped, encoder.finish().unwrap()).unwrap();
        assert_eq!(load_limbo(&plain).unwrap().testcases[0].id, "x::one");
        assert_eq!(load_limbo(&gzipped).unwrap().testcases[0].id, "x::one");
        let missing = load_limbo(&dir.path().join("nope.json"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("nope.json: cannot read"), "{missing}");
    }

    #[test]
    fn suite_spec_resolves_shipped_suites() {
        let root = Path::new("/w/main");
        assert_eq!(
            SuiteSpec::parse("core").resolve(root),
            Path::new("/w/main/../shared/limbo/limbo-core.json")
        );
        assert_eq!(
            SuiteSpec::parse("full").resolve(root),
            Path::new("/w/main/../shared/limbo/limbo-full.json.gz")
        );
        assert_eq!(
            SuiteSpec::parse("x/y.json").resolve(root),
            Path::new("x/y.json")
        );
    }
    /// Found by the `harness_results` fuzz target: a results file whose bad line starts with
    /// carriage returns and runs wide; rendering its diagnostic panicked in annotate-snippets.
    #[test]
    fn fuzz_a_wide_line_of_carriage_returns_renders_its_diagnostic() {
        let bytes =
            b"{\n\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\rs\r\r\r\r\r\r\x8c\x8c\x8c\x8c\x8c\x8c\x8c\
            \x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\
            \x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8e\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\
            \x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\
            \x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8c\x8cd.\",\n      \"egati6e\"\n    \xff\
            \xff\xff\xff\xff\xff\xff\xff!\xff\xff\xff\xff\xff\xff\xff}\n  ],\n  \"version\":\
             1\n}";
        let error = diagnostic(parse::<LimboResults>(Path::new("results.json"), bytes));
        assert!(error.to_string().contains("results.json:"), "{error}");
    }
    /// Found by the `harness_results` fuzz target: a string broken by a newline, so the error
    /// sits on a blank line above a wide line indented by 20 spaces; annotate-snippets' trimming
    /// of that indentation overflowed (the input, cut after the wide line).
    #[test]
    fn fuzz_an_error_on_a_blank_line_above_a_wide_indented_line_renders() {
        let mut bytes = b"{\n  \"harness\": \"openss\n\n".to_vec();
        bytes.extend_from_slice(&[b' '; 20]);
        bytes.push(b'%');
        bytes.extend_from_slice(&[b' '; 74]);
        bytes.extend_from_slice(&[0xe4; 102]);
        bytes.extend_from_slice(&[b' '; 13]);
        bytes
            .extend_from_slice(b"\n\n  : \"rfc5280::nc::nc-forbids-\"\n    }\n  \"version\": 0\n}");
        let error = diagnostic(parse::<LimboResults>(Path::new("results.json"), &bytes));
        assert!(error.to_string().contains("results.json:3:"), "{error}");
    }
}
