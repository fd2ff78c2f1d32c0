//! Targets: the client populations the seed documents are about (`corpus/targets/<name>.toml`).
//!
//! A target is who it stands for (`population`, from a seed file), the client behaviours of
//! `clients.toml` it implements, its quirks, an engine (a real validator column, or the client
//! model with its knobs) and, per scenario, the trust stores and caches it holds. Expectations
//! are judged against the targets that claim their client; a library that claims no client is
//! never counted against one (its differences from the others stay visible in the matrix).
//!
//! Loading happens in two steps, because scenarios and targets name each other: [`parse_targets`]
//! checks what a target file says on its own (seed file, behaviours, engine), then
//! [`check_target_scenarios`] checks its scenario, store and cache names against the loaded
//! scenarios. Both report a located [`Diagnostic`].
//!
//! A target may hold, in a scenario, a minimal trust bundle built by the trust-bundle builder
//! ([`bundle`]); its engine then also runs with the bundle as the whole trust store.

pub mod bundle;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anchorsmith_diagnostics::{Code, Diagnostic, SourceFile};
use anchorsmith_validators::model::Knobs;
use serde::Deserialize;
use toml::Spanned;

use crate::error::{known, parse_toml_file, CorpusError};
use crate::seeds::Seeds;
use crate::spec::{Client, IdList};
use crate::{Case, Scenario};
use bundle::{BundleSpec, TargetBundle};

/// What an expectation's `client` may name: a behaviour of `clients.toml`, or a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    Behaviour,
    Target,
}

/// Every name an expectation's `client` may take: the behaviours, then the targets' names.
pub(crate) fn client_names(
    clients: &BTreeMap<String, Client>,
    targets: &[ParsedTarget],
) -> BTreeMap<String, ClientKind> {
    clients
        .keys()
        .map(|name| (name.clone(), ClientKind::Behaviour))
        .chain(
            targets
                .iter()
                .map(|parsed| (parsed.target.name.clone(), ClientKind::Target)),
        )
        .collect()
}

/// One `corpus/targets/<name>.toml` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetFile {
    population: String,
    seed_file: Spanned<String>,
    #[serde(default)]
    behaviours: Vec<Spanned<String>>,
    #[serde(default)]
    quirks: Vec<String>,
    engine: EngineSpec,
    #[serde(default)]
    scenarios: BTreeMap<Spanned<String>, Spanned<HoldingSpec>>,
}

/// `[engine]`: exactly one of `validator = "<column>"` or `[engine.model]` knobs.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
enum EngineSpec {
    Validator(Spanned<String>),
    Model(Knobs),
}

/// `[scenarios.<name>]`: what the target holds in that scenario.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HoldingSpec {
    stores: Vec<Spanned<String>>,
    /// Default: one empty cache. Only for a model engine with `intermediate-cache = true`.
    #[serde(default)]
    caches: Option<Spanned<Vec<IdList>>>,
    /// The minimal trust bundle the firmware holds, built from these stores' certificates.
    #[serde(default)]
    bundle: Option<Spanned<BundleSpec>>,
}

/// What decides a target's verdicts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetEngine {
    /// A real validator column (in process or a harness): its verdict on an applicable case is
    /// the target's.
    Validator { name: String },
    /// The client model with these knobs, run as the target's own validator.
    Model { knobs: Knobs },
}

impl TargetEngine {
    /// Whether the engine completes chains from an intermediate cache (the client model with
    /// `intermediate-cache`); a real validator has no cache of its own.
    pub fn keeps_a_cache(&self) -> bool {
        match self {
            TargetEngine::Validator { .. } => false,
            TargetEngine::Model { knobs } => knobs.intermediate_cache,
        }
    }

    /// Whether the engine downloads issuers through AIA, so that it applies to `aia` cases.
    pub fn fetches_aia(&self) -> bool {
        match self {
            TargetEngine::Validator { .. } => false,
            TargetEngine::Model { knobs } => knobs.aia_fetching,
        }
    }

    /// `nss-pkix` or `client model (anchor-expiry = ignored)`.
    pub fn label(&self) -> String {
        match self {
            TargetEngine::Validator { name } => name.clone(),
            TargetEngine::Model { knobs } => {
                let settings = knob_settings(knobs);
                if settings.is_empty() {
                    "client model (plain path builder)".into()
                } else {
                    format!("client model ({})", settings.join(", "))
                }
            }
        }
    }
}

/// The knobs that differ from the plain path builder, as `name = value`.
pub fn knob_settings(knobs: &Knobs) -> Vec<String> {
    let set = toml::Value::try_from(knobs).ok();
    let plain = toml::Value::try_from(Knobs::default()).ok();
    let (Some(toml::Value::Table(set)), Some(toml::Value::Table(plain))) = (set, plain) else {
        return Vec::new();
    };
    set.iter()
        .filter(|(name, value)| plain.get(*name) != Some(value))
        .map(|(name, value)| format!("{name} = {value}"))
        .collect()
}

/// What a target holds in one scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holding {
    /// Names of the scenario's trust stores; the target applies to cases with any of them.
    pub stores: Vec<String>,
    /// Cache contents (certificate ids) it applies to; default: only the empty cache.
    pub caches: Vec<Vec<String>>,
    /// The minimal trust bundle built from the certificates of `stores`, when the target
    /// declares one: its engine also runs with it as the whole trust store (the bundle column).
    pub bundle: Option<TargetBundle>,
}

/// One target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The file stem.
    pub name: String,
    pub population: String,
    pub seed_file: String,
    /// Client behaviours (`clients.toml`) this target implements.
    pub behaviours: Vec<String>,
    pub quirks: Vec<String>,
    pub engine: TargetEngine,
    /// Scenario name → what the target holds there.
    pub scenarios: BTreeMap<String, Holding>,
}

impl Target {
    /// Whether this target stands for the client `client` of an expectation: it is that target,
    /// or implements that behaviour.
    pub fn claims(&self, client: &str) -> bool {
        self.name == client || self.behaviours.iter().any(|b| b == client)
    }

    /// The target's own validator when its engine is the client model (named after the
    /// target); `None` for a real engine, whose column's verdicts are the target's.
    pub fn model_validator(&self) -> Option<std::sync::Arc<dyn anchorsmith_validators::Validator>> {
        match &self.engine {
            TargetEngine::Validator { .. } => None,
            TargetEngine::Model { knobs } => Some(std::sync::Arc::new(
                anchorsmith_validators::model::ClientModel::new(self.name.clone(), knobs.clone()),
            )),
        }
    }

    /// Whether the target's verdict on `case` means anything: the case's scenario is one the
    /// target is placed in, with one of its stores and caches, and AIA as its engine does it.
    pub fn applies_to(&self, case: &Case) -> bool {
        self.scenarios.get(&case.scenario).is_some_and(|holding| {
            holding.stores.contains(&case.store)
                && holding.caches.contains(&case.cache)
                && case.aia == self.engine.fetches_aia()
        })
    }
}

/// A parsed target file, with what [`check_target_scenarios`] still needs to point at.
#[derive(Debug)]
pub(crate) struct ParsedTarget {
    path: PathBuf,
    text: String,
    scenarios: BTreeMap<Spanned<String>, Spanned<HoldingSpec>>,
    target: Target,
}

/// The `*.toml` files of `dir`, sorted by name; a missing directory has none.
fn target_files(dir: &Path) -> Result<Vec<PathBuf>, CorpusError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => {
            return Err(CorpusError::Io {
                path: dir.to_path_buf(),
                error,
            })
        }
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|error| CorpusError::Io {
                path: dir.to_path_buf(),
                error,
            })?
            .path();
        if path.extension().is_some_and(|ext| ext == "toml") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Parses every target file of `dir` and checks its seed file, behaviours and engine.
pub(crate) fn parse_targets(
    dir: &Path,
    clients: &BTreeMap<String, Client>,
    seeds: &Seeds,
    validator_names: &[String],
) -> Result<Vec<ParsedTarget>, CorpusError> {
    target_files(dir)?
        .into_iter()
        .map(|path| parse_target(&path, clients, seeds, validator_names))
        .collect()
}

fn parse_target(
    path: &Path,
    clients: &BTreeMap<String, Client>,
    seeds: &Seeds,
    validator_names: &[String],
) -> Result<ParsedTarget, CorpusError> {
    let name = path
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let (file, text): (TargetFile, String) = parse_toml_file(path)?;
    let source = SourceFile { path, text: &text };
    if !crate::case::is_limbo_id_component(&name) {
        return Err(Diagnostic::whole_file(
            Code::InvalidValue,
            path,
            format!("target file name {name:?} must start with a letter and use only letters, digits, `-` and `.`"),
        )
        .into());
    }
    if !seeds.contains(file.seed_file.get_ref()) {
        return Err(source
            .error(
                Code::UnknownName,
                file.seed_file.span(),
                "seed_file",
                format!("unknown seed file {:?}", file.seed_file.get_ref()),
            )
            .help(known(seeds.file_names()))
            .into());
    }
    for (index, behaviour) in file.behaviours.iter().enumerate() {
        if !clients.contains_key(behaviour.get_ref()) {
            return Err(source
                .error(
                    Code::UnknownName,
                    behaviour.span(),
                    format!("behaviours[{index}]"),
                    format!("unknown client behaviour {:?}", behaviour.get_ref()),
                )
                .help(known(clients.keys().map(String::as_str)))
                .into());
        }
    }
    let engine = match file.engine {
        EngineSpec::Validator(validator) => {
            if !validator_names.contains(validator.get_ref()) {
                return Err(source
                    .error(
                        Code::UnknownName,
                        validator.span(),
                        "engine.validator",
                        format!("unknown validator {:?}", validator.get_ref()),
                    )
                    .help(known(validator_names.iter().map(String::as_str)))
                    .into());
            }
            TargetEngine::Validator {
                name: validator.into_inner(),
            }
        }
        EngineSpec::Model(knobs) => TargetEngine::Model { knobs },
    };
    let target = Target {
        name,
        population: normalise(&file.population),
        seed_file: file.seed_file.into_inner(),
        behaviours: file
            .behaviours
            .into_iter()
            .map(Spanned::into_inner)
            .collect(),
        quirks: file.quirks.iter().map(|quirk| normalise(quirk)).collect(),
        engine,
        scenarios: BTreeMap::new(),
    };
    Ok(ParsedTarget {
        path: path.to_path_buf(),
        text,
        scenarios: file.scenarios,
        target,
    })
}

/// Checks the scenario, store and cache names of `parsed` against `scenarios` and returns the
/// finished target.
pub(crate) fn check_target_scenarios(
    parsed: ParsedTarget,
    scenarios: &[Scenario],
) -> Result<Target, Diagnostic> {
    let source = SourceFile {
        path: &parsed.path,
        text: &parsed.text,
    };
    let mut target = parsed.target;
    for (name, holding) in &parsed.scenarios {
        let field = format!("scenarios.{}", name.get_ref());
        let Some(scenario) = scenarios.iter().find(|s| s.name == *name.get_ref()) else {
            return Err(source
                .error(
                    Code::UnknownName,
                    name.span(),
                    field,
                    format!("unknown scenario {:?}", name.get_ref()),
                )
                .help(known(scenarios.iter().map(|s| s.name.as_str()))));
        };
        let spec = holding.get_ref();
        if spec.stores.is_empty() {
            return Err(source.error(
                Code::InvalidValue,
                holding.span(),
                field,
                "a target holds at least one of the scenario's trust stores",
            ));
        }
        for (index, store) in spec.stores.iter().enumerate() {
            if !scenario.stores.contains_key(store.get_ref()) {
                return Err(source
                    .error(
                        Code::UnknownName,
                        store.span(),
                        format!("{field}.stores[{index}]"),
                        format!(
                            "unknown store {:?} in scenario {}",
                            store.get_ref(),
                            scenario.name
                        ),
                    )
                    .help(known(scenario.stores.keys().map(String::as_str))));
            }
        }
        let caches = match &spec.caches {
            None => vec![Vec::new()],
            Some(caches) => {
                if !target.engine.keeps_a_cache() {
                    // A real library handed "cached" certificates only sees more served ones: that
                    // is a path builder given extra certificates, not a client with a cache.
                    return Err(source
                        .error(
                            Code::InvalidValue,
                            caches.span(),
                            format!("{field}.caches"),
                            "only an engine that keeps an intermediate cache can hold one",
                        )
                        .help(
                            "use `[engine.model]` with `intermediate-cache = true`; a real \
                             validator would only see the cache as extra served certificates",
                        ));
                }
                let mut plain = Vec::new();
                for (cache_index, cache) in caches.get_ref().iter().enumerate() {
                    let mut ids = Vec::new();
                    for (id_index, id) in cache.get_ref().iter().enumerate() {
                        if !scenario.pki.facts().contains_key(id.get_ref()) {
                            return Err(source
                                .error(
                                    Code::UnknownName,
                                    id.span(),
                                    format!("{field}.caches[{cache_index}][{id_index}]"),
                                    format!("unknown certificate id {:?}", id.get_ref()),
                                )
                                .help(known(scenario.pki.order.iter().map(String::as_str))));
                        }
                        ids.push(id.get_ref().clone());
                    }
                    plain.push(ids);
                }
                plain
            }
        };
        let stores: Vec<String> = spec.stores.iter().map(|s| s.get_ref().clone()).collect();
        let bundle = spec
            .bundle
            .as_ref()
            .map(|bundle| {
                bundle::check_bundle(
                    &source,
                    &field,
                    bundle,
                    scenario,
                    &stores,
                    &target.name,
                    &target.engine,
                )
            })
            .transpose()?;
        target.scenarios.insert(
            name.get_ref().clone(),
            Holding {
                stores,
                caches,
                bundle,
            },
        );
    }
    Ok(target)
}

/// Multi-line TOML strings read as one paragraph.
fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchorsmith_validators::model::AnchorExpiry;

    #[test]
    fn an_engine_is_a_validator_or_the_model_with_knobs() {
        let validator: EngineSpec = toml::from_str("validator = \"openssl\"\n").unwrap();
        assert!(matches!(validator, EngineSpec::Validator(name) if name.get_ref() == "openssl"));
        let model: EngineSpec = toml::from_str("[model]\nanchor-expiry = \"ignored\"\n").unwrap();
        let EngineSpec::Model(knobs) = model else {
            panic!("a model engine")
        };
        assert_eq!(knobs.anchor_expiry, AnchorExpiry::Ignored);
        assert!(toml::from_str::<EngineSpec>("validator = \"a\"\nmodel = {}\n").is_err());
    }

    #[test]
    fn a_model_label_lists_only_the_knobs_that_differ_from_the_plain_builder() {
        let knobs = Knobs {
            anchor_expiry: AnchorExpiry::Ignored,
            ..Knobs::default()
        };
        assert_eq!(
            TargetEngine::Model { knobs }.label(),
            "client model (anchor-expiry = \"ignored\")"
        );
        assert_eq!(
            TargetEngine::Model {
                knobs: Knobs::default()
            }
            .label(),
            "client model (plain path builder)"
        );
    }
}
