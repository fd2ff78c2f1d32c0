//! Typed errors of the corpus loader. Every error about an input file is an
//! [`anchorsmith_diagnostics::Diagnostic`]: file, line, column, field, a typed [`Code`] and the
//! source line with a caret under the fault, so `cargo xtask corpus` points at the fix.

use std::path::{Path, PathBuf};

use anchorsmith_diagnostics::{Code, Diagnostic};

/// Why the corpus could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// A file or directory could not be read.
    // The I/O error is part of the message and deliberately not a `source`, so an error chain
    // (`{:#}`) does not print it twice.
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// An input file (`clients.toml`, a `scenario.toml`) is malformed or names something that
    /// does not exist.
    #[error("{0}")]
    BadInput(Diagnostic),
    /// The generator could not build a scenario's PKI.
    // The generator's error is part of the message and deliberately not a `source`, so an error
    // chain (`{:#}`) does not print it twice.
    #[error("{}: {error}", topology.display())]
    Generate {
        topology: PathBuf,
        error: anchorsmith_generator::GenerateError,
    },
}

impl From<anchorsmith_generator::TopologyError> for CorpusError {
    fn from(error: anchorsmith_generator::TopologyError) -> Self {
        use anchorsmith_generator::TopologyError;
        match error {
            TopologyError::Invalid(diagnostic) => CorpusError::BadInput(diagnostic),
            TopologyError::Read { file, io_error } => CorpusError::Io {
                path: file,
                error: io_error,
            },
        }
    }
}

impl From<Diagnostic> for CorpusError {
    fn from(diagnostic: Diagnostic) -> Self {
        CorpusError::BadInput(diagnostic)
    }
}

impl CorpusError {
    /// True for errors caused by the corpus files (exit status 2), false for I/O failures.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, CorpusError::Io { .. })
    }

    /// The located diagnostic, for errors in `clients.toml` and `scenario.toml`.
    pub fn diagnostic(&self) -> Option<&Diagnostic> {
        match self {
            CorpusError::BadInput(diagnostic) => Some(diagnostic),
            _ => None,
        }
    }
}

/// Reads a file, naming it in the error. A file that is not UTF-8 is bad input, not an I/O
/// failure.
pub fn read_to_string(path: &Path) -> Result<String, CorpusError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(error) if error.kind() == std::io::ErrorKind::InvalidData => {
            Err(Diagnostic::whole_file(Code::Syntax, path, "not UTF-8 text").into())
        }
        Err(error) => Err(CorpusError::Io {
            path: path.to_path_buf(),
            error,
        }),
    }
}

/// Reads and deserializes a TOML file; returns the value and the text (for later diagnostics).
pub fn parse_toml_file<T: serde::de::DeserializeOwned>(
    path: &Path,
) -> Result<(T, String), CorpusError> {
    let text = read_to_string(path)?;
    let value = anchorsmith_diagnostics::parse_toml(path, &text)?;
    Ok((value, text))
}

/// The help of an unknown-name error: `known: a, b, c`, the names a misspelt one could have
/// meant, or that there are none (an empty topology, no targets).
pub(crate) fn known<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        "known: none (nothing of this kind is declared)".to_string()
    } else {
        format!("known: {}", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_are_not_bad_input_but_diagnostics_are() {
        let missing = read_to_string(Path::new("/nonexistent/clients.toml")).unwrap_err();
        assert!(!missing.is_bad_input());
        assert!(missing.diagnostic().is_none());
        let bad: CorpusError = Diagnostic::whole_file(Code::Syntax, Path::new("x"), "m").into();
        assert!(bad.is_bad_input());
        assert_eq!(bad.diagnostic().map(|d| d.code), Some(Code::Syntax));
    }
}
