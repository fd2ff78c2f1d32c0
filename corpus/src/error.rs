//! Typed errors of the corpus loader. Every error about an input file names the file, the line,
//! the column and the field, so `cargo xtask corpus` can print one line that points at the fix.

use std::fmt;
use std::path::{Path, PathBuf};

/// A position in an input file, 1-based (column in characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl Location {
    /// The location of byte `offset` in `text` (the contents of `file`).
    pub fn at(file: &Path, text: &str, offset: usize) -> Location {
        let offset = offset.min(text.len());
        let before = &text[..floor_char_boundary(text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Location {
            file: file.to_path_buf(),
            line,
            column,
        }
    }

    /// Line 1, column 1: for errors about a file as a whole.
    pub fn start_of(file: &Path) -> Location {
        Location {
            file: file.to_path_buf(),
            line: 1,
            column: 1,
        }
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// Why the corpus could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// A file or directory could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not have the expected shape.
    #[error("{location}: {message}")]
    Syntax { location: Location, message: String },
    /// A field names something that does not exist or is inconsistent.
    #[error("{location}: field `{field}`: {message}")]
    Invalid {
        location: Location,
        field: String,
        message: String,
    },
    /// The scenario's topology was rejected by the generator (its message names file and line).
    #[error("{message}")]
    Topology { file: PathBuf, message: String },
}

impl CorpusError {
    pub fn invalid(
        location: Location,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        CorpusError::Invalid {
            location,
            field: field.into(),
            message: message.into(),
        }
    }

    /// True for errors caused by the corpus files (exit status 2), false for I/O failures.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, CorpusError::Io { .. })
    }
}

/// Reads a file, naming it in the error.
pub fn read_to_string(path: &Path) -> Result<String, CorpusError> {
    std::fs::read_to_string(path).map_err(|source| CorpusError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Turns a TOML deserialisation error into a [`CorpusError::Syntax`] with its position.
pub fn toml_error(file: &Path, text: &str, error: &toml::de::Error) -> CorpusError {
    let offset = error.span().map_or(0, |span| span.start);
    CorpusError::Syntax {
        location: Location::at(file, text, offset),
        message: error.message().trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_counts_lines_and_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        let at = Location::at(Path::new("f.toml"), text, text.find('=').unwrap());
        assert_eq!((at.line, at.column), (1, 3));
        let second = text.rfind('=').unwrap();
        let at = Location::at(Path::new("f.toml"), text, second);
        assert_eq!((at.line, at.column), (2, 4));
        assert_eq!(at.to_string(), "f.toml:2:4");
    }
}
