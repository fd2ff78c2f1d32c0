//! The shape of `scenario.toml` (serde, with source spans) and of `clients.toml`.
//!
//! These types only describe the files; resolving names against the topology, the clients and
//! the seeds happens in [`crate::scenario`], which turns spans into file:line:column errors.

use std::collections::BTreeMap;
use std::path::Path;

use anchorsmith_validators::Usage;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{read_to_string, toml_error, CorpusError};

/// A whole `scenario.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub scenario: ScenarioHeader,
    /// Chains exactly as the server sends them: peer first, order and extras kept.
    #[serde(default)]
    pub chains: BTreeMap<String, Spanned<Vec<Spanned<String>>>>,
    /// Trust stores: lists of certificate ids treated as anchors.
    #[serde(default)]
    pub stores: BTreeMap<String, Spanned<Vec<Spanned<String>>>>,
    /// Validation times: instant expressions against the topology's `[instants]`.
    #[serde(default)]
    pub times: BTreeMap<String, Spanned<String>>,
    /// What an AIA-fetching client downloads: URL -> certificate id.
    #[serde(default)]
    pub aia_repository: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub cases: Vec<Spanned<CaseBlock>>,
    #[serde(default)]
    pub expectations: Vec<Spanned<ExpectationSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioHeader {
    /// File name in the seeds directory.
    pub seed_file: Spanned<String>,
    pub title: String,
    pub description: String,
    pub diagram: String,
    pub why_it_matters: String,
}

/// One `[[cases]]` table: a cross product, every combination becomes one case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseBlock {
    pub chains: Vec<Spanned<String>>,
    pub stores: Vec<Spanned<String>>,
    pub times: Vec<Spanned<String>>,
    /// Lists of certificate ids the client already holds; default: one empty cache.
    #[serde(default = "no_cache")]
    pub caches: Vec<Spanned<Vec<Spanned<String>>>>,
    /// Whether the client may fetch AIA caIssuers; default: `[false]`.
    #[serde(default = "no_aia")]
    pub aia: Vec<bool>,
    pub dns_name: String,
    pub usage: Usage,
}

fn no_cache() -> Vec<Spanned<Vec<Spanned<String>>>> {
    vec![Spanned::new(0..0, Vec::new())]
}

fn no_aia() -> Vec<bool> {
    vec![false]
}

/// The outcome a document reports for a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Accept,
    Reject,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accept => "accept",
            Outcome::Reject => "reject",
        }
    }
}

/// One `[[expectations]]` table. Selector fields left out match any case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectationSpec {
    pub chain: Option<Spanned<String>>,
    pub store: Option<Spanned<String>>,
    pub time: Option<Spanned<String>>,
    pub cache: Option<Spanned<Vec<Spanned<String>>>>,
    pub aia: Option<bool>,
    pub client: Spanned<String>,
    pub outcome: Outcome,
    /// Defaults to the scenario's seed file.
    pub seed_file: Option<Spanned<String>>,
    /// The sentence the expectation rests on, verbatim from the seed file.
    pub quote: Spanned<String>,
}

/// `clients.toml`: the vocabulary of documented client behaviours.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClientsFile {
    pub clients: BTreeMap<String, Client>,
}

/// One documented client behaviour.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    pub description: String,
    /// Validators whose verdicts are compared with this client's documented outcomes.
    pub engines: Vec<String>,
}

/// The validator names `clients.toml` may list (the in-process validators).
pub const KNOWN_ENGINES: [&str; 4] = [
    "rustls-webpki",
    "openssl",
    "openssl-partial-chain",
    "openssl-strict",
];

/// Parses a TOML file into `T`, with positioned errors.
pub fn parse_file<T: serde::de::DeserializeOwned>(path: &Path) -> Result<(T, String), CorpusError> {
    let text = read_to_string(path)?;
    let value = toml::from_str::<T>(&text).map_err(|error| toml_error(path, &text, &error))?;
    Ok((value, text))
}

/// Loads `clients.toml` and checks that every engine is a known validator name.
pub fn load_clients(path: &Path) -> Result<ClientsFile, CorpusError> {
    let (clients, text): (ClientsFile, String) = parse_file(path)?;
    for (name, client) in &clients.clients {
        for engine in &client.engines {
            if !KNOWN_ENGINES.contains(&engine.as_str()) {
                let offset = text.find(&format!("\"{engine}\"")).unwrap_or(0);
                return Err(CorpusError::invalid(
                    crate::error::Location::at(path, &text, offset),
                    format!("clients.{name}.engines"),
                    format!(
                        "unknown engine {engine:?} (known: {})",
                        KNOWN_ENGINES.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(clients)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_is_reported_with_its_line() {
        let text = "[scenario]\nseed_file = \"x\"\ntitle = \"t\"\ndescription = \"d\"\ndiagram = \"\"\nwhy_it_matters = \"w\"\nbogus = 1\n";
        let error = toml::from_str::<ScenarioFile>(text).unwrap_err();
        let error = toml_error(Path::new("s.toml"), text, &error);
        let message = error.to_string();
        assert!(message.starts_with("s.toml:7:"), "{message}");
        assert!(message.contains("bogus"), "{message}");
    }

    #[test]
    fn case_block_defaults_to_one_empty_cache_and_no_aia() {
        let text = "chains = [\"a\"]\nstores = [\"s\"]\ntimes = [\"t\"]\ndns_name = \"x.test\"\nusage = \"server-auth\"\n";
        let block: CaseBlock = toml::from_str(text).unwrap();
        assert_eq!(block.caches.len(), 1);
        assert!(block.caches[0].get_ref().is_empty());
        assert_eq!(block.aia, vec![false]);
        assert_eq!(block.usage, Usage::ServerAuth);
    }
}
