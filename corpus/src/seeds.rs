//! The incident documents (`../shared/seeds/`) and the verbatim-quote check: an expectation's
//! quote must occur in its seed file, comparing with whitespace normalised and nothing else
//! (curly quotes, case and punctuation must match exactly).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{read_to_string, CorpusError};

/// The seed documents, by file name, with their whitespace-normalised text.
#[derive(Debug, Default)]
pub struct Seeds {
    dir: PathBuf,
    normalised: BTreeMap<String, String>,
}

impl Seeds {
    /// Reads every file of `dir`.
    pub fn load(dir: &Path) -> Result<Seeds, CorpusError> {
        let entries = std::fs::read_dir(dir).map_err(|error| CorpusError::Io {
            path: dir.to_path_buf(),
            error,
        })?;
        let mut normalised = BTreeMap::new();
        for entry in entries {
            let path = entry
                .map_err(|error| CorpusError::Io {
                    path: dir.to_path_buf(),
                    error,
                })?
                .path();
            if path.is_file() {
                let name = path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                normalised.insert(name, normalise_whitespace(&read_to_string(&path)?));
            }
        }
        Ok(Seeds {
            dir: dir.to_path_buf(),
            normalised,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn contains(&self, file_name: &str) -> bool {
        self.normalised.contains_key(file_name)
    }

    pub fn file_names(&self) -> impl Iterator<Item = &str> {
        self.normalised.keys().map(String::as_str)
    }

    /// Whether `quote` occurs verbatim (whitespace normalised) in seed `file_name`.
    pub fn quote_occurs(&self, file_name: &str, quote: &str) -> bool {
        let quote = normalise_whitespace(quote);
        !quote.is_empty()
            && self
                .normalised
                .get(file_name)
                .is_some_and(|text| text.contains(&quote))
    }
}

/// Collapses every run of whitespace to one space and trims the ends.
pub fn normalise_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_match_across_line_breaks_but_not_across_quote_styles() {
        let mut seeds = Seeds::default();
        seeds.normalised.insert(
            "s.txt".into(),
            normalise_whitespace("It doesn’t  send\nalong the intermediate."),
        );
        assert!(seeds.quote_occurs("s.txt", "doesn’t send along"));
        assert!(!seeds.quote_occurs("s.txt", "doesn't send along"));
        assert!(!seeds.quote_occurs("other.txt", "send"));
        assert!(!seeds.quote_occurs("s.txt", "  "));
    }
}
