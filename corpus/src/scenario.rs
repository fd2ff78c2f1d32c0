//! One scenario directory (`topology.toml` + `scenario.toml`) resolved into named chains,
//! stores, times and cases: every name checked against the topology, `clients.toml` and the
//! seeds, with errors that point at the offending file, line, column and field.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anchorsmith_generator::Topology;
use anchorsmith_validators::Usage;
use time::OffsetDateTime;
use toml::Spanned;

use crate::case::{case_id, is_limbo_id_component, Case, Expectation};
use crate::error::{CorpusError, Location};
use crate::pki::{facts_from_topology, ScenarioPki};
use crate::reference::{reference_verdict, CertFacts, ReferenceInput};
use crate::seeds::Seeds;
use crate::spec::{parse_file, ClientsFile, ExpectationSpec, Outcome, ScenarioFile};

/// A documented expectation as declared, with the cases it selects.
#[derive(Clone, Debug)]
pub struct ExpectationRecord {
    pub expectation: Expectation,
    pub case_ids: Vec<String>,
}

/// A loaded scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The directory name.
    pub name: String,
    pub dir: PathBuf,
    pub title: String,
    pub description: String,
    pub diagram: String,
    pub why_it_matters: String,
    pub seed_file: String,
    pub chains: BTreeMap<String, Vec<String>>,
    pub stores: BTreeMap<String, Vec<String>>,
    /// name → (expression, resolved instant).
    pub times: BTreeMap<String, (String, OffsetDateTime)>,
    pub aia_repository: BTreeMap<String, String>,
    pub expectations: Vec<ExpectationRecord>,
    pub pki: Arc<ScenarioPki>,
}

/// A case before generation: everything but the bytes and the reference verdicts.
#[derive(Clone, Debug)]
pub(crate) struct CaseSkeleton {
    pub id: String,
    pub chain: String,
    pub store: String,
    pub time: String,
    pub cache: Vec<String>,
    pub aia: bool,
    pub dns_name: String,
    pub usage: Usage,
    pub validation_time: OffsetDateTime,
}

/// Everything of a scenario that can be checked without generating keys.
#[derive(Debug)]
pub(crate) struct ResolvedScenario {
    pub name: String,
    pub dir: PathBuf,
    pub file: ScenarioFile,
    pub topology: Topology,
    pub times: BTreeMap<String, (String, OffsetDateTime)>,
    pub skeletons: Vec<CaseSkeleton>,
    pub expectations: Vec<ExpectationRecord>,
}

/// Positions inside `scenario.toml`, for errors.
struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    fn at(&self, span: Range<usize>) -> Location {
        Location::at(self.path, self.text, span.start)
    }

    fn invalid(
        &self,
        span: Range<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> CorpusError {
        CorpusError::invalid(self.at(span), field, message)
    }

    /// The span of a table key such as `long-chain =` (map keys carry no span of their own).
    fn key_span(&self, section: &str, key: &str) -> Range<usize> {
        let section_start = self.text.find(&format!("[{section}]")).unwrap_or(0);
        let relative = self.text[section_start..]
            .find(&format!("{key} ="))
            .or_else(|| self.text[section_start..].find(&format!("\"{key}\"")));
        relative.map_or(section_start..section_start, |r| {
            section_start + r..section_start + r + key.len()
        })
    }
}

/// Parses and checks one scenario directory (no key generation).
pub(crate) fn resolve_scenario(
    dir: &Path,
    clients: &ClientsFile,
    seeds: &Seeds,
) -> Result<ResolvedScenario, CorpusError> {
    let name = dir
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let scenario_path = dir.join("scenario.toml");
    let topology_path = dir.join("topology.toml");
    let (file, text): (ScenarioFile, String) = parse_file(&scenario_path)?;
    let source = Source {
        path: &scenario_path,
        text: &text,
    };
    if !is_limbo_id_component(&name) {
        return Err(CorpusError::invalid(
            Location::start_of(&scenario_path),
            "scenario",
            format!("directory name {name:?} must start with a letter and use only letters, digits, `-` and `.`"),
        ));
    }
    let topology = anchorsmith_generator::load_topology(&topology_path).map_err(|error| {
        CorpusError::Topology {
            file: topology_path.clone(),
            message: error.to_string(),
        }
    })?;

    check_seed_file(
        &source,
        seeds,
        &file.scenario.seed_file,
        "scenario.seed_file",
    )?;
    check_named_id_lists(&source, &topology, "chains", &file.chains)?;
    check_named_id_lists(&source, &topology, "stores", &file.stores)?;
    for (chain, ids) in &file.chains {
        if ids.get_ref().is_empty() {
            return Err(source.invalid(
                ids.span(),
                format!("chains.{chain}"),
                "a chain needs at least the peer certificate",
            ));
        }
    }
    let times = resolve_times(&source, &topology, &file)?;
    for (url, id) in &file.aia_repository {
        check_cert_id(&source, &topology, id, &format!("aia_repository.{url:?}"))?;
    }
    let skeletons = expand_cases(&source, &topology, &name, &file, &times)?;
    let expectations = resolve_expectations(&source, clients, seeds, &file, &skeletons)?;
    Ok(ResolvedScenario {
        name,
        dir: dir.to_path_buf(),
        file,
        topology,
        times,
        skeletons,
        expectations,
    })
}

fn check_seed_file(
    source: &Source<'_>,
    seeds: &Seeds,
    seed_file: &Spanned<String>,
    field: &str,
) -> Result<(), CorpusError> {
    if seeds.contains(seed_file.get_ref()) {
        return Ok(());
    }
    Err(source.invalid(
        seed_file.span(),
        field,
        format!(
            "unknown seed file {:?} in {} (known: {})",
            seed_file.get_ref(),
            seeds.dir().display(),
            seeds.file_names().collect::<Vec<_>>().join(", ")
        ),
    ))
}

fn check_cert_id(
    source: &Source<'_>,
    topology: &Topology,
    id: &Spanned<String>,
    field: &str,
) -> Result<(), CorpusError> {
    if topology.cert(id.get_ref()).is_some() {
        return Ok(());
    }
    Err(source.invalid(
        id.span(),
        field,
        format!(
            "unknown certificate id {:?} (known: {})",
            id.get_ref(),
            topology.cert_ids().collect::<Vec<_>>().join(", ")
        ),
    ))
}

fn check_name(source: &Source<'_>, section: &str, name: &str) -> Result<(), CorpusError> {
    if is_limbo_id_component(name) {
        return Ok(());
    }
    Err(source.invalid(
        source.key_span(section, name),
        format!("{section}.{name}"),
        "names become case-id components: start with a letter, then letters, digits, `-`, `.`",
    ))
}

fn check_named_id_lists(
    source: &Source<'_>,
    topology: &Topology,
    section: &str,
    lists: &BTreeMap<String, Spanned<Vec<Spanned<String>>>>,
) -> Result<(), CorpusError> {
    for (name, ids) in lists {
        check_name(source, section, name)?;
        for (index, id) in ids.get_ref().iter().enumerate() {
            check_cert_id(source, topology, id, &format!("{section}.{name}[{index}]"))?;
        }
    }
    Ok(())
}

fn resolve_times(
    source: &Source<'_>,
    topology: &Topology,
    file: &ScenarioFile,
) -> Result<BTreeMap<String, (String, OffsetDateTime)>, CorpusError> {
    let mut times = BTreeMap::new();
    for (name, expression) in &file.times {
        check_name(source, "times", name)?;
        let instant = topology
            .resolve_instant(expression.get_ref())
            .map_err(|message| {
                source.invalid(expression.span(), format!("times.{name}"), message)
            })?;
        times.insert(name.clone(), (expression.get_ref().clone(), instant));
    }
    Ok(times)
}

fn lookup<'m, T>(
    source: &Source<'_>,
    map: &'m BTreeMap<String, T>,
    kind: &str,
    name: &Spanned<String>,
    field: &str,
) -> Result<&'m T, CorpusError> {
    map.get(name.get_ref()).ok_or_else(|| {
        source.invalid(
            name.span(),
            field,
            format!(
                "unknown {kind} {:?} (known: {})",
                name.get_ref(),
                map.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        )
    })
}

fn expand_cases(
    source: &Source<'_>,
    topology: &Topology,
    scenario: &str,
    file: &ScenarioFile,
    times: &BTreeMap<String, (String, OffsetDateTime)>,
) -> Result<Vec<CaseSkeleton>, CorpusError> {
    let mut skeletons: Vec<CaseSkeleton> = Vec::new();
    let mut first_seen: BTreeMap<String, Range<usize>> = BTreeMap::new();
    for (block_index, block) in file.cases.iter().enumerate() {
        let block_span = block.span();
        let block = block.get_ref();
        let field = |name: &str| format!("cases[{block_index}].{name}");
        for chain in &block.chains {
            lookup(source, &file.chains, "chain", chain, &field("chains"))?;
        }
        for store in &block.stores {
            lookup(source, &file.stores, "store", store, &field("stores"))?;
        }
        for time in &block.times {
            lookup(source, times, "time", time, &field("times"))?;
        }
        for (cache_index, cache) in block.caches.iter().enumerate() {
            for (id_index, id) in cache.get_ref().iter().enumerate() {
                let cache_field = field(&format!("caches[{cache_index}][{id_index}]"));
                check_cert_id(source, topology, id, &cache_field)?;
                if !is_limbo_id_component(id.get_ref()) {
                    return Err(source.invalid(id.span(), cache_field, "certificate ids in a cache become part of the case id: letters, digits, `-`, `.`"));
                }
            }
        }
        if block.aia.iter().any(|aia| *aia) && file.aia_repository.is_empty() {
            return Err(source.invalid(
                block_span.clone(),
                field("aia"),
                "aia = true needs an [aia_repository] table",
            ));
        }
        for chain in &block.chains {
            for store in &block.stores {
                for time in &block.times {
                    for cache in &block.caches {
                        for aia in &block.aia {
                            let cache: Vec<String> = cache
                                .get_ref()
                                .iter()
                                .map(|id| id.get_ref().clone())
                                .collect();
                            let id = case_id(
                                scenario,
                                chain.get_ref(),
                                store.get_ref(),
                                time.get_ref(),
                                &cache,
                                *aia,
                            );
                            if let Some(previous) = first_seen.get(&id) {
                                let previous = source.at(previous.clone());
                                return Err(source.invalid(
                                    block_span.clone(),
                                    format!("cases[{block_index}]"),
                                    format!(
                                        "duplicate case id {id} (first produced at line {})",
                                        previous.line
                                    ),
                                ));
                            }
                            first_seen.insert(id.clone(), block_span.clone());
                            skeletons.push(CaseSkeleton {
                                id,
                                chain: chain.get_ref().clone(),
                                store: store.get_ref().clone(),
                                time: time.get_ref().clone(),
                                cache,
                                aia: *aia,
                                dns_name: block.dns_name.clone(),
                                usage: block.usage,
                                validation_time: times[time.get_ref()].1,
                            });
                        }
                    }
                }
            }
        }
    }
    Ok(skeletons)
}

/// `chain=long-chain store=old cache=[] aia=false`: the selector as written.
fn selector_text(spec: &ExpectationSpec) -> String {
    let mut parts = Vec::new();
    if let Some(chain) = &spec.chain {
        parts.push(format!("chain={}", chain.get_ref()));
    }
    if let Some(store) = &spec.store {
        parts.push(format!("store={}", store.get_ref()));
    }
    if let Some(time) = &spec.time {
        parts.push(format!("time={}", time.get_ref()));
    }
    if let Some(cache) = &spec.cache {
        let ids: Vec<&str> = cache
            .get_ref()
            .iter()
            .map(|id| id.get_ref().as_str())
            .collect();
        parts.push(format!("cache=[{}]", ids.join(",")));
    }
    if let Some(aia) = spec.aia {
        parts.push(format!("aia={aia}"));
    }
    if parts.is_empty() {
        "every case".into()
    } else {
        parts.join(" ")
    }
}

fn selects(spec: &ExpectationSpec, case: &CaseSkeleton) -> bool {
    spec.chain
        .as_ref()
        .is_none_or(|c| *c.get_ref() == case.chain)
        && spec
            .store
            .as_ref()
            .is_none_or(|s| *s.get_ref() == case.store)
        && spec.time.as_ref().is_none_or(|t| *t.get_ref() == case.time)
        && spec.cache.as_ref().is_none_or(|cache| {
            cache
                .get_ref()
                .iter()
                .map(|id| id.get_ref())
                .eq(case.cache.iter())
        })
        && spec.aia.is_none_or(|aia| aia == case.aia)
}

fn resolve_expectations(
    source: &Source<'_>,
    clients: &ClientsFile,
    seeds: &Seeds,
    file: &ScenarioFile,
    skeletons: &[CaseSkeleton],
) -> Result<Vec<ExpectationRecord>, CorpusError> {
    let mut records = Vec::new();
    for (index, spanned) in file.expectations.iter().enumerate() {
        let spec = spanned.get_ref();
        let field = |name: &str| format!("expectations[{index}].{name}");
        if let Some(chain) = &spec.chain {
            lookup(source, &file.chains, "chain", chain, &field("chain"))?;
        }
        if let Some(store) = &spec.store {
            lookup(source, &file.stores, "store", store, &field("store"))?;
        }
        if let Some(time) = &spec.time {
            lookup(source, &file.times, "time", time, &field("time"))?;
        }
        if !clients.clients.contains_key(spec.client.get_ref()) {
            return Err(source.invalid(
                spec.client.span(),
                field("client"),
                format!(
                    "unknown client {:?} (known: {})",
                    spec.client.get_ref(),
                    clients
                        .clients
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let seed_file = spec.seed_file.as_ref().unwrap_or(&file.scenario.seed_file);
        check_seed_file(source, seeds, seed_file, &field("seed_file"))?;
        if !seeds.quote_occurs(seed_file.get_ref(), spec.quote.get_ref()) {
            return Err(source.invalid(
                spec.quote.span(),
                field("quote"),
                format!(
                    "quote not found verbatim (whitespace normalised) in seed file {}",
                    seed_file.get_ref()
                ),
            ));
        }
        let case_ids: Vec<String> = skeletons
            .iter()
            .filter(|case| selects(spec, case))
            .map(|case| case.id.clone())
            .collect();
        if case_ids.is_empty() {
            return Err(source.invalid(
                spanned.span(),
                format!("expectations[{index}]"),
                format!("selects no case ({})", selector_text(spec)),
            ));
        }
        records.push(ExpectationRecord {
            expectation: Expectation {
                client: spec.client.get_ref().clone(),
                outcome: spec.outcome,
                seed_file: seed_file.get_ref().clone(),
                quote: crate::seeds::normalise_whitespace(spec.quote.get_ref()),
                selector: selector_text(spec),
            },
            case_ids,
        });
    }
    Ok(records)
}

/// The reference verdict of a skeleton over `certs`; `with_client_state` adds cache and AIA.
fn reference_for(
    certs: &BTreeMap<String, CertFacts>,
    served_chain: &[String],
    trust_store: &[String],
    aia_ids: &[String],
    case: &CaseSkeleton,
    with_client_state: bool,
) -> crate::reference::ReferenceVerdict {
    let mut available: Vec<&str> = served_chain[1..].iter().map(String::as_str).collect();
    if with_client_state {
        available.extend(case.cache.iter().map(String::as_str));
        if case.aia {
            available.extend(aia_ids.iter().map(String::as_str));
        }
    }
    reference_verdict(&ReferenceInput {
        certs,
        peer: &served_chain[0],
        available,
        trust_store,
        validation_time: case.validation_time,
        dns_name: &case.dns_name,
        usage: case.usage,
    })
}

/// The prose of a case's limbo description.
fn export_description(
    resolved: &ResolvedScenario,
    case: &CaseSkeleton,
    expectations: &[Expectation],
) -> String {
    let header = &resolved.file.scenario;
    let mut text = format!(
        "**{}** (anchorsmith corpus, scenario `{}`)\n\n",
        header.title, resolved.name
    );
    text.push_str(header.description.trim());
    text.push_str("\n\n```text\n");
    text.push_str(header.diagram.trim_matches('\n'));
    text.push_str("\n```\n\n");
    text.push_str(&format!(
        "Seed document: `{}`. {}\n\n",
        header.seed_file.get_ref(),
        header.why_it_matters
    ));
    if !case.cache.is_empty() || case.aia {
        let mut state = Vec::new();
        if !case.cache.is_empty() {
            state.push(format!("a client cache holding {}", case.cache.join(", ")));
        }
        if case.aia {
            state.push("AIA caIssuers fetching".to_string());
        }
        text.push_str(&format!(
            "This case needs {}, which limbo cannot express: it is exported as its plain view (the served chain only), and the expected result is the reference verdict on that view.\n\n",
            state.join(" and ")
        ));
    }
    if expectations.is_empty() {
        text.push_str("Documented expectations: none (the seed is silent on this combination; the expected result is the reference verdict).\n");
    } else {
        text.push_str("Documented expectations:\n");
        for e in expectations {
            let verb = match e.outcome {
                Outcome::Accept => "accepts",
                Outcome::Reject => "rejects",
            };
            text.push_str(&format!(
                "- client `{}` {verb} ({}): \"{}\"\n",
                e.client, e.seed_file, e.quote
            ));
        }
    }
    text
}

/// Builds the scenario and its cases from a resolved scenario and its generated PKI.
pub(crate) fn build_scenario(
    resolved: ResolvedScenario,
    pki: ScenarioPki,
) -> (Scenario, Vec<Case>) {
    let pki = Arc::new(pki);
    let certs = facts_from_topology(&resolved.topology);
    let ids =
        |lists: &BTreeMap<String, Spanned<Vec<Spanned<String>>>>| -> BTreeMap<String, Vec<String>> {
            lists
                .iter()
                .map(|(name, ids)| {
                    (
                        name.clone(),
                        ids.get_ref()
                            .iter()
                            .map(|id| id.get_ref().clone())
                            .collect(),
                    )
                })
                .collect()
        };
    let chains = ids(&resolved.file.chains);
    let stores = ids(&resolved.file.stores);
    let aia_repository: BTreeMap<String, String> = resolved
        .file
        .aia_repository
        .iter()
        .map(|(url, id)| (url.clone(), id.get_ref().clone()))
        .collect();
    let aia_ids: Vec<String> = aia_repository.values().cloned().collect();
    let header = &resolved.file.scenario;
    let cases = resolved
        .skeletons
        .iter()
        .map(|case| {
            let served_chain = chains[&case.chain].clone();
            let trust_store = stores[&case.store].clone();
            let expectations: Vec<Expectation> = resolved
                .expectations
                .iter()
                .filter(|record| record.case_ids.contains(&case.id))
                .map(|record| record.expectation.clone())
                .collect();
            Case {
                id: case.id.clone(),
                scenario: resolved.name.clone(),
                description: header.description.trim().to_string(),
                chain: case.chain.clone(),
                store: case.store.clone(),
                time: case.time.clone(),
                cache: case.cache.clone(),
                aia: case.aia,
                reference: reference_for(&certs, &served_chain, &trust_store, &aia_ids, case, true),
                plain_reference: reference_for(
                    &certs,
                    &served_chain,
                    &trust_store,
                    &aia_ids,
                    case,
                    false,
                ),
                export_description: export_description(&resolved, case, &expectations),
                served_chain,
                trust_store,
                aia_repository: if case.aia {
                    aia_repository
                        .iter()
                        .map(|(u, i)| (u.clone(), i.clone()))
                        .collect()
                } else {
                    Vec::new()
                },
                validation_time: case.validation_time,
                dns_name: case.dns_name.clone(),
                usage: case.usage,
                expectations,
                pki: Arc::clone(&pki),
            }
        })
        .collect();
    let scenario = Scenario {
        name: resolved.name.clone(),
        dir: resolved.dir.clone(),
        title: header.title.clone(),
        description: header.description.trim().to_string(),
        diagram: header.diagram.trim_matches('\n').to_string(),
        why_it_matters: header.why_it_matters.clone(),
        seed_file: header.seed_file.get_ref().clone(),
        chains,
        stores,
        times: resolved.times.clone(),
        aia_repository,
        expectations: resolved.expectations.clone(),
        pki,
    };
    (scenario, cases)
}
