//! The shape of `scenario.toml` and of `clients.toml` (serde), and the loading of the client
//! vocabulary.
//!
//! Every value a later check can reject (a name, a certificate id, a selector, a quote, a seed
//! file, a time) is kept with its source span (`toml::Spanned`), map keys included, so the check
//! reports a diagnostic at exactly that value. Resolving names against the topology, the
//! clients and the seeds happens in [`crate::scenario`].

use std::collections::BTreeMap;
use std::path::Path;

use anchorsmith_validators::{RejectKind, Usage};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{parse_toml_file, CorpusError};
use crate::serving::{PreferredChain, ServerSoftware};

/// A named list of certificate ids (a chain, a store, a cache), each id with its span.
pub type IdList = Spanned<Vec<Spanned<String>>>;

/// A whole `scenario.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub scenario: ScenarioHeader,
    /// Chains exactly as the server sends them: peer first, order and extras kept.
    #[serde(default)]
    pub chains: BTreeMap<Spanned<String>, IdList>,
    /// Chains a modelled server assembles (same namespace as `chains`).
    #[serde(default)]
    pub served: BTreeMap<Spanned<String>, ServedSpec>,
    /// Issuing certificate id -> the chains the ACME CA offers with the leaves it issues, for
    /// `certbot-fullchain`.
    #[serde(default)]
    pub acme_chains: BTreeMap<Spanned<String>, AcmeChainsSpec>,
    /// Trust stores: lists of certificate ids treated as anchors.
    #[serde(default)]
    pub stores: BTreeMap<Spanned<String>, IdList>,
    /// Validation times: instant expressions against the topology's `[instants]`.
    #[serde(default)]
    pub times: BTreeMap<Spanned<String>, Spanned<String>>,
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
    pub caches: Vec<IdList>,
    /// Whether the client may fetch AIA caIssuers; default: `[false]`.
    #[serde(default = "no_aia")]
    pub aia: Spanned<Vec<bool>>,
    pub dns_name: String,
    pub usage: Usage,
}

fn no_cache() -> Vec<IdList> {
    vec![Spanned::new(0..0, Vec::new())]
}

fn no_aia() -> Spanned<Vec<bool>> {
    Spanned::new(0..0, vec![false])
}

/// One `[served.<chain>]` table: the chain a server of `software` sends for `leaf`, and the
/// seed sentence (with its strength) the model of that software rests on.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServedSpec {
    pub software: ServerSoftware,
    pub leaf: Spanned<String>,
    /// `iis` only (required there): the intermediate store, in the order IIS searches it.
    pub intermediate_store: Option<IdList>,
    /// `certbot-fullchain` only: which of the chains offered for the leaf's issuer
    /// (`[acme_chains.<issuer>]`) follows the leaf; default `default`.
    pub preferred_chain: Option<Spanned<PreferredChain>>,
    /// How strongly the quoted sentence states the server's behaviour.
    pub strength: Strength,
    /// Defaults to the scenario's seed file.
    pub seed_file: Option<Spanned<String>>,
    /// The sentence the model of the software rests on, verbatim from the seed file.
    pub quote: Spanned<String>,
}

/// One `[acme_chains.<issuer>]` table: the chains (certificate ids after the leaf) the ACME CA
/// offers with a leaf that certificate issued.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcmeChainsSpec {
    pub default: IdList,
    pub alternate: Option<IdList>,
}

/// The outcome a seed document reports for a client.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum ExpectedOutcome {
    Accept,
    Reject,
}

/// How strongly the quoted seed sentence states an expectation.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Strength {
    /// A report of what happened, or a plain statement of fact ("does NOT work").
    Stated,
    /// Someone who knows the system explains why (a CA's staff, a maintainer).
    ExpertExplanation,
    /// The sentence hedges ("seems to", "under some circumstances", "might").
    Hedged,
    /// The writer says it is a guess ("this is only speculation").
    Speculation,
}

/// One `[[expectations]]` table as written. Selector fields left out match any case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectationSpec {
    pub chain: Option<Spanned<String>>,
    pub store: Option<Spanned<String>>,
    pub time: Option<Spanned<String>>,
    pub cache: Option<IdList>,
    pub aia: Option<bool>,
    pub client: Spanned<String>,
    pub outcome: ExpectedOutcome,
    /// Defaults to the scenario's seed file.
    pub seed_file: Option<Spanned<String>>,
    /// The sentence the expectation rests on, verbatim from the seed file.
    pub quote: Spanned<String>,
    /// How strongly that sentence states the expectation.
    pub strength: Strength,
    /// A prediction the seed does not make: the quote is the context it is derived from.
    #[serde(default)]
    pub derived: bool,
    /// The expected reason; only with `outcome = "reject"`.
    pub reject_kind: Option<Spanned<RejectKind>>,
}

/// `clients.toml` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientsFile {
    clients: BTreeMap<String, ClientSpec>,
}

/// One `[clients.<name>]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientSpec {
    description: String,
}

/// One documented client behaviour from `clients.toml`. It names no validator: the targets that
/// implement it do (`corpus/targets/`, [`crate::Target`]).
#[derive(Clone, Debug, Serialize)]
pub struct Client {
    pub description: String,
}

/// Loads `clients.toml`: client name → behaviour.
pub fn load_clients(path: &Path) -> Result<BTreeMap<String, Client>, CorpusError> {
    let (file, _text): (ClientsFile, String) = parse_toml_file(path)?;
    Ok(file
        .clients
        .into_iter()
        .map(|(name, spec)| {
            (
                name,
                Client {
                    description: spec
                        .description
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" "),
                },
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchorsmith_diagnostics::Code;

    #[test]
    fn unknown_field_is_reported_with_its_line_and_field() {
        let text = "[scenario]\nseed_file = \"x\"\ntitle = \"t\"\ndescription = \"d\"\ndiagram = \"\"\nwhy_it_matters = \"w\"\nbogus = 1\n";
        let error = anchorsmith_diagnostics::parse_toml::<ScenarioFile>(Path::new("s.toml"), text)
            .unwrap_err();
        assert_eq!(error.code, Code::Shape);
        assert_eq!(error.line, 7);
        assert_eq!(error.field.as_deref(), Some("scenario.bogus"));
        assert!(error.message.contains("bogus"), "{error}");
    }

    #[test]
    fn case_block_defaults_to_one_empty_cache_and_no_aia() {
        let text = "chains = [\"a\"]\nstores = [\"s\"]\ntimes = [\"t\"]\ndns_name = \"x.test\"\nusage = \"server-auth\"\n";
        let block: CaseBlock = toml::from_str(text).unwrap();
        assert_eq!(block.caches.len(), 1);
        assert!(block.caches[0].get_ref().is_empty());
        assert_eq!(*block.aia.get_ref(), vec![false]);
        assert_eq!(block.usage, Usage::ServerAuth);
    }

    #[test]
    fn table_keys_keep_their_spans() {
        let text = "[scenario]\nseed_file = \"x\"\ntitle = \"t\"\ndescription = \"d\"\ndiagram = \"\"\nwhy_it_matters = \"w\"\n[chains]\nfull = [\"leaf\"]\n";
        let file: ScenarioFile = toml::from_str(text).unwrap();
        let (name, _) = file.chains.iter().next().unwrap();
        assert_eq!(&text[name.span()], "full");
        assert!(file.chains.contains_key("full"));
    }

    #[test]
    fn expected_outcome_spellings_come_from_one_derive() {
        assert_eq!(ExpectedOutcome::Accept.to_string(), "accept");
        assert_eq!(<&str>::from(ExpectedOutcome::Reject), "reject");
        let parsed: ExpectationSpec = toml::from_str(
            "client = \"c\"\noutcome = \"reject\"\nquote = \"q\"\nstrength = \"stated\"\n",
        )
        .unwrap();
        assert_eq!(parsed.outcome, ExpectedOutcome::Reject);
        assert!(!parsed.derived, "documented unless said otherwise");
        assert!(parsed.reject_kind.is_none());
    }

    #[test]
    fn strength_and_reject_kind_are_kebab_case() {
        assert_eq!(
            Strength::ExpertExplanation.to_string(),
            "expert-explanation"
        );
        let parsed: ExpectationSpec = toml::from_str(
            "client = \"c\"\noutcome = \"reject\"\nquote = \"q\"\nstrength = \"expert-explanation\"\nderived = true\nreject_kind = \"unknown-issuer\"\n",
        )
        .unwrap();
        assert_eq!(parsed.strength, Strength::ExpertExplanation);
        assert!(parsed.derived);
        assert_eq!(
            parsed.reject_kind.map(Spanned::into_inner),
            Some(RejectKind::UnknownIssuer)
        );
    }

    #[test]
    fn strength_is_required() {
        let missing = toml::from_str::<ExpectationSpec>(
            "client = \"c\"\noutcome = \"reject\"\nquote = \"q\"\n",
        );
        assert!(missing.unwrap_err().to_string().contains("strength"));
    }

    #[test]
    fn a_client_names_no_engine_any_more() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clients.toml");
        let text = "[clients.a]\ndescription = \"d\"\nengines = [\"openssl\"]\n";
        std::fs::write(&path, text).unwrap();
        let error = load_clients(&path).unwrap_err();
        let diagnostic = error.diagnostic().expect("a located error");
        assert_eq!(diagnostic.code, Code::Shape);
        assert_eq!(diagnostic.line, 3);
        std::fs::write(
            &path,
            "[clients.a]\ndescription = \"\"\"\ntwo\nlines\"\"\"\n",
        )
        .unwrap();
        assert_eq!(load_clients(&path).unwrap()["a"].description, "two lines");
    }
}
