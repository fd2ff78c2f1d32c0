//! Corpus: scenarios (the documented incidents as small synthetic PKIs), their cases and
//! documented expectations, the limbo export, the differential runner and the reports.
//!
//! Layout of a corpus directory (`corpus/`):
//! - `clients.toml`: the vocabulary of documented client behaviours ([`Client`]);
//! - `scenarios/<name>/topology.toml` + `scenario.toml`: one incident each ([`Scenario`]);
//! - `targets/<name>.toml`: the client populations, each with its engine ([`Target`]);
//! - `generated/`: the committed export ([`generated`]).
//!
//! [`load_corpus`] reads and checks everything, generates each topology and expands the cases.

pub mod case;
pub mod compatibility;
pub mod error;
pub mod export;
pub mod generated;
pub mod markdown;
pub mod pki;
pub mod reference;
pub mod report;
pub mod scenario;
pub mod seeds;
pub mod select;
pub mod serving;
pub mod spec;
pub mod target;
pub mod timeline;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

pub use case::{Case, Expectation};
pub use error::CorpusError;
pub use reference::ReferenceVerdict;
pub use scenario::Scenario;
pub use spec::{Client, ExpectedOutcome, Strength};
pub use target::{Target, TargetEngine};

/// The loaded corpus: scenarios in name order, the client vocabulary, and every case.
#[derive(Clone, Debug)]
pub struct Corpus {
    pub scenarios: Vec<Scenario>,
    pub clients: BTreeMap<String, Client>,
    /// The targets, in file-name order.
    pub targets: Vec<Target>,
    pub cases: Vec<Case>,
}

impl Corpus {
    pub fn case(&self, id: &str) -> Option<&Case> {
        self.cases.iter().find(|case| case.id == id)
    }

    /// The scenario a case belongs to.
    pub fn scenario_of(&self, case: &Case) -> &Scenario {
        self.scenarios
            .iter()
            .find(|scenario| scenario.name == case.scenario)
            .expect("every case comes from a loaded scenario")
    }

    /// Every declared expectation once (a case may carry several, an expectation may select
    /// several cases), with its scenario.
    pub fn expectations(&self) -> impl Iterator<Item = (&Scenario, &Expectation)> {
        self.scenarios
            .iter()
            .flat_map(|s| s.expectations.iter().map(move |e| (s, e)))
    }
}

/// Where the loader finds what is not inside the corpus directory.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// The seed documents; default `<corpus_dir>/../../shared/seeds` (`../shared` beside the
    /// checkout, as in CI).
    pub seeds_dir: PathBuf,
    /// Where the generator may cache keys; `None` generates them every time. Generating RSA-4096
    /// keys is the slow part, and every scenario shares one seed, so a key label shared across
    /// scenarios is one cached key.
    pub key_cache_dir: Option<PathBuf>,
    /// Names of external validators (`--validator-cmd name=...`) that a target may name as its
    /// engine, besides the in-process validators and the built-in harnesses.
    pub extra_validators: Vec<String>,
}

impl LoadOptions {
    pub fn for_corpus_dir(corpus_dir: &Path) -> LoadOptions {
        LoadOptions {
            seeds_dir: default_seeds_dir(corpus_dir),
            key_cache_dir: Some(anchorsmith_generator::default_key_cache_dir()),
            extra_validators: Vec::new(),
        }
    }

    /// The validator names a target's engine may take: the in-process validators, the columns of
    /// the built-in harnesses (`validators/harnesses/`, whether set up here or not), then the
    /// extra ones.
    pub fn validator_names(&self) -> Vec<String> {
        use anchorsmith_validators::harnesses::{harnesses_dir, load_manifests};
        // The shipped manifests are checked by the validators crate's tests; an unreadable one
        // only means its names cannot be engines here.
        let builtin = load_manifests(&harnesses_dir()).unwrap_or_default();
        anchorsmith_validators::in_process_validators()
            .iter()
            .map(|validator| validator.name().to_string())
            .chain(
                builtin
                    .iter()
                    .flat_map(|manifest| manifest.columns.iter().map(|column| column.name.clone())),
            )
            .chain(self.extra_validators.iter().cloned())
            .collect()
    }
}

/// `<corpus_dir>/../../shared/seeds`.
pub fn default_seeds_dir(corpus_dir: &Path) -> PathBuf {
    let absolute = std::path::absolute(corpus_dir).unwrap_or_else(|_| corpus_dir.to_path_buf());
    absolute.parent().and_then(Path::parent).map_or_else(
        || PathBuf::from("../shared/seeds"),
        |root| root.join("shared").join("seeds"),
    )
}

/// Loads the corpus at `corpus_dir` with the default [`LoadOptions`].
pub fn load_corpus(corpus_dir: &Path) -> Result<Corpus, CorpusError> {
    load_corpus_with(corpus_dir, &LoadOptions::for_corpus_dir(corpus_dir))
}

/// Loads the corpus: parses `clients.toml` and every scenario, checks every name, quote and
/// selector, generates each topology (in parallel) and expands the cases.
pub fn load_corpus_with(corpus_dir: &Path, options: &LoadOptions) -> Result<Corpus, CorpusError> {
    let clients = spec::load_clients(&corpus_dir.join("clients.toml"))?;
    let seeds = seeds::Seeds::load(&options.seeds_dir)?;
    let parsed_targets = target::parse_targets(
        &corpus_dir.join("targets"),
        &clients,
        &seeds,
        &options.validator_names(),
    )?;
    let scenario_dirs = scenario_dirs(&corpus_dir.join("scenarios"))?;
    // An expectation names a behaviour or a target.
    let client_names = target::client_names(&clients, &parsed_targets);
    // Check every scenario before generating any keys: a typo fails fast.
    let resolved = scenario_dirs
        .iter()
        .map(|dir| scenario::resolve_scenario(dir, &client_names, &seeds))
        .collect::<Result<Vec<_>, _>>()?;
    let generated = resolved
        .into_par_iter()
        .map(|resolved| {
            let pki = pki::generate_pki(&resolved.topology, options.key_cache_dir.as_deref())?;
            Ok(scenario::build_scenario(resolved, pki))
        })
        .collect::<Result<Vec<_>, CorpusError>>()?;
    let mut scenarios = Vec::new();
    let mut cases = Vec::new();
    for (scenario, scenario_cases) in generated {
        scenarios.push(scenario);
        cases.extend(scenario_cases);
    }
    let targets = parsed_targets
        .into_iter()
        .map(|parsed| target::check_target_scenarios(parsed, &scenarios))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Corpus {
        scenarios,
        clients,
        targets,
        cases,
    })
}

/// Parses and checks one scenario directory (its `topology.toml` and `scenario.toml`) against
/// `clients.toml` and the seeds, generating no keys and reading no targets: the scenario loader
/// on its own, the entry point of the fuzz target `fuzz/fuzz_targets/scenario.rs`.
pub fn check_scenario(dir: &Path, clients: &Path, seeds_dir: &Path) -> Result<(), CorpusError> {
    let clients = spec::load_clients(clients)?;
    let seeds = seeds::Seeds::load(seeds_dir)?;
    let client_names = target::client_names(&clients, &[]);
    scenario::resolve_scenario(dir, &client_names, &seeds).map(|_| ())
}

/// Scenario directories (those holding a `scenario.toml`), sorted by name.
fn scenario_dirs(scenarios_dir: &Path) -> Result<Vec<PathBuf>, CorpusError> {
    let io_error = |error| CorpusError::Io {
        path: scenarios_dir.to_path_buf(),
        error,
    };
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(scenarios_dir).map_err(io_error)? {
        let path = entry.map_err(io_error)?.path();
        if path.join("scenario.toml").is_file() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}
