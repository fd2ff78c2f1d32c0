//! One scenario directory (`topology.toml` + `scenario.toml`) resolved into named chains,
//! stores, times and cases: every name checked against the topology, `clients.toml` and the
//! seeds. A failed check is a [`Diagnostic`] at the span of the offending value, with its field
//! path and a typed [`Code`].

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anchorsmith_diagnostics::{line_column, Code, Diagnostic, SourceFile};
use anchorsmith_generator::Topology;
use anchorsmith_validators::Usage;
use itertools::iproduct;
use time::OffsetDateTime;
use toml::Spanned;

use crate::case::{case_id, is_limbo_id_component, Case, Expectation};
use crate::error::{known, parse_toml_file, CorpusError};
use crate::pki::ScenarioPki;
use crate::reference::{reference_verdict, CertFacts, ReferenceInput, ReferenceVerdict};
use crate::seeds::Seeds;
use crate::spec::{ExpectationSpec, ExpectedOutcome, IdList, ScenarioFile, ScenarioHeader};
use crate::target::ClientKind;

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
    /// Every chain, `[chains]` and `[served]` alike: certificate ids, peer first.
    pub chains: BTreeMap<String, Vec<String>>,
    /// The chains of `chains` a modelled server assembled, and how.
    pub served: BTreeMap<String, crate::serving::ServedBy>,
    pub stores: BTreeMap<String, Vec<String>>,
    /// name → (expression, resolved instant).
    pub times: BTreeMap<String, (String, OffsetDateTime)>,
    pub aia_repository: BTreeMap<String, String>,
    /// The documented expectations, in declaration order.
    pub expectations: Vec<Expectation>,
    pub pki: Arc<ScenarioPki>,
}

/// A case before generation: everything but the bytes and the reference verdicts.
#[derive(Clone, Debug)]
struct CaseSkeleton {
    id: String,
    chain: String,
    store: String,
    time: String,
    cache: Vec<String>,
    aia: bool,
    dns_name: String,
    usage: Usage,
    validation_time: OffsetDateTime,
}

/// Everything of a scenario that can be checked without generating keys: the [`Scenario`] but
/// its PKI, and its cases but their reference verdicts.
#[derive(Debug)]
pub(crate) struct ResolvedScenario {
    pub topology: Topology,
    name: String,
    dir: PathBuf,
    header: ScenarioHeader,
    chains: BTreeMap<String, Vec<String>>,
    served: BTreeMap<String, crate::serving::ServedBy>,
    stores: BTreeMap<String, Vec<String>>,
    times: BTreeMap<String, (String, OffsetDateTime)>,
    aia_repository: BTreeMap<String, String>,
    expectations: Vec<Expectation>,
    skeletons: Vec<CaseSkeleton>,
}

/// Parses and checks one scenario directory (no key generation).
pub(crate) fn resolve_scenario(
    dir: &Path,
    clients: &BTreeMap<String, ClientKind>,
    seeds: &Seeds,
) -> Result<ResolvedScenario, CorpusError> {
    let name = dir
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let scenario_path = dir.join("scenario.toml");
    let (file, text): (ScenarioFile, String) = parse_toml_file(&scenario_path)?;
    let source = SourceFile {
        path: &scenario_path,
        text: &text,
    };
    if !is_limbo_id_component(&name) {
        return Err(Diagnostic::whole_file(
            Code::InvalidValue,
            &scenario_path,
            format!("directory name {name:?} must start with a letter and use only letters, digits, `-` and `.`"),
        )
        .field("scenario")
        .into());
    }
    let topology = anchorsmith_generator::load_topology(&dir.join("topology.toml"))?;

    check_seed_file(
        &source,
        seeds,
        &file.scenario.seed_file,
        "scenario.seed_file",
    )?;
    let mut chains = resolve_id_lists(&source, &topology, "chains", &file.chains)?;
    for (chain, ids) in &file.chains {
        if ids.get_ref().is_empty() {
            return Err(source
                .error(
                    Code::InvalidValue,
                    ids.span(),
                    format!("chains.{}", chain.get_ref()),
                    "a chain needs at least the peer certificate",
                )
                .into());
        }
    }
    let served = served::resolve_served(&source, &topology, seeds, &file, &mut chains)?;
    let stores = resolve_id_lists(&source, &topology, "stores", &file.stores)?;
    let times = resolve_times(&source, &topology, &file)?;
    for (url, id) in &file.aia_repository {
        check_cert_id(&source, &topology, id, &format!("aia_repository.{url:?}"))?;
    }
    let skeletons = expand_cases(&source, &topology, &name, &file, &chains, &times)?;
    let expectations = resolve_expectations(&source, clients, seeds, &file, &chains, &skeletons)?;
    Ok(ResolvedScenario {
        topology,
        name,
        dir: dir.to_path_buf(),
        header: file.scenario,
        chains,
        served,
        stores,
        times,
        aia_repository: file
            .aia_repository
            .into_iter()
            .map(|(url, id)| (url, id.into_inner()))
            .collect(),
        expectations,
        skeletons,
    })
}

fn check_seed_file(
    source: &SourceFile<'_>,
    seeds: &Seeds,
    seed_file: &Spanned<String>,
    field: &str,
) -> Result<(), Diagnostic> {
    if seeds.contains(seed_file.get_ref()) {
        return Ok(());
    }
    Err(source
        .error(
            Code::UnknownName,
            seed_file.span(),
            field,
            format!(
                "unknown seed file {:?} in {}",
                seed_file.get_ref(),
                seeds.dir().display()
            ),
        )
        .help(known(seeds.file_names())))
}

fn check_cert_id(
    source: &SourceFile<'_>,
    topology: &Topology,
    id: &Spanned<String>,
    field: &str,
) -> Result<(), Diagnostic> {
    if topology.cert(id.get_ref()).is_some() {
        return Ok(());
    }
    Err(source
        .error(
            Code::UnknownName,
            id.span(),
            field,
            format!("unknown certificate id {:?}", id.get_ref()),
        )
        .help(known(topology.cert_ids())))
}

/// `quote` must occur verbatim (whitespace normalised) in `seed_file`, already checked to exist.
pub(crate) fn check_quote(
    source: &SourceFile<'_>,
    seeds: &Seeds,
    seed_file: &Spanned<String>,
    quote: &Spanned<String>,
    field: &str,
) -> Result<(), Diagnostic> {
    if seeds.quote_occurs(seed_file.get_ref(), quote.get_ref()) {
        return Ok(());
    }
    Err(source
        .error(
            Code::Quote,
            quote.span(),
            field,
            format!(
                "quote not found verbatim (whitespace normalised) in seed file {}",
                seed_file.get_ref()
            ),
        )
        .help("copy the sentence from the seed file; curly quotes and punctuation must match"))
}

/// A name that becomes a case-id component (a chain, store or time name).
fn check_name(
    source: &SourceFile<'_>,
    section: &str,
    name: &Spanned<String>,
) -> Result<(), Diagnostic> {
    if is_limbo_id_component(name.get_ref()) {
        return Ok(());
    }
    Err(source.error(
        Code::InvalidValue,
        name.span(),
        format!("{section}.{}", name.get_ref()),
        "names become case-id components: start with a letter, then letters, digits, `-`, `.`",
    ))
}

/// Checks a `[chains]` or `[stores]` table and returns it without spans.
fn resolve_id_lists(
    source: &SourceFile<'_>,
    topology: &Topology,
    section: &str,
    lists: &BTreeMap<Spanned<String>, IdList>,
) -> Result<BTreeMap<String, Vec<String>>, Diagnostic> {
    let mut resolved = BTreeMap::new();
    for (name, ids) in lists {
        check_name(source, section, name)?;
        for (index, id) in ids.get_ref().iter().enumerate() {
            let field = format!("{section}.{}[{index}]", name.get_ref());
            check_cert_id(source, topology, id, &field)?;
        }
        resolved.insert(name.get_ref().clone(), plain_ids(ids));
    }
    Ok(resolved)
}

fn plain_ids(ids: &IdList) -> Vec<String> {
    ids.get_ref()
        .iter()
        .map(|id| id.get_ref().clone())
        .collect()
}

fn resolve_times(
    source: &SourceFile<'_>,
    topology: &Topology,
    file: &ScenarioFile,
) -> Result<BTreeMap<String, (String, OffsetDateTime)>, Diagnostic> {
    let mut times = BTreeMap::new();
    for (name, expression) in &file.times {
        check_name(source, "times", name)?;
        let instant = topology
            .resolve_instant(expression.get_ref())
            .map_err(|message| {
                source.error(
                    Code::InvalidValue,
                    expression.span(),
                    format!("times.{}", name.get_ref()),
                    message,
                )
            })?;
        times.insert(
            name.get_ref().clone(),
            (expression.get_ref().clone(), instant),
        );
    }
    Ok(times)
}

/// Checks that `name` is a key of `map` (`kind` is what the map holds, for the message).
fn check_known<K: std::borrow::Borrow<str> + Ord, V>(
    source: &SourceFile<'_>,
    map: &BTreeMap<K, V>,
    kind: &str,
    name: &Spanned<String>,
    field: &str,
) -> Result<(), Diagnostic> {
    if map.contains_key(name.get_ref().as_str()) {
        return Ok(());
    }
    Err(source
        .error(
            Code::UnknownName,
            name.span(),
            field,
            format!("unknown {kind} {:?}", name.get_ref()),
        )
        .help(known(map.keys().map(|key| key.borrow()))))
}

fn expand_cases(
    source: &SourceFile<'_>,
    topology: &Topology,
    scenario: &str,
    file: &ScenarioFile,
    chains: &BTreeMap<String, Vec<String>>,
    times: &BTreeMap<String, (String, OffsetDateTime)>,
) -> Result<Vec<CaseSkeleton>, Diagnostic> {
    let mut skeletons: Vec<CaseSkeleton> = Vec::new();
    // Case id → the `[[cases]]` table that first produced it.
    let mut first_seen: BTreeMap<String, Range<usize>> = BTreeMap::new();
    for (block_index, spanned_block) in file.cases.iter().enumerate() {
        let block = spanned_block.get_ref();
        let field = |name: &str| format!("cases[{block_index}].{name}");
        for (index, chain) in block.chains.iter().enumerate() {
            let chain_field = field(&format!("chains[{index}]"));
            check_known(source, chains, "chain", chain, &chain_field)?;
        }
        for (index, store) in block.stores.iter().enumerate() {
            let store_field = field(&format!("stores[{index}]"));
            check_known(source, &file.stores, "store", store, &store_field)?;
        }
        for (index, time) in block.times.iter().enumerate() {
            check_known(
                source,
                times,
                "time",
                time,
                &field(&format!("times[{index}]")),
            )?;
        }
        for (cache_index, cache) in block.caches.iter().enumerate() {
            for (id_index, id) in cache.get_ref().iter().enumerate() {
                let cache_field = field(&format!("caches[{cache_index}][{id_index}]"));
                check_cert_id(source, topology, id, &cache_field)?;
                if !is_limbo_id_component(id.get_ref()) {
                    return Err(source.error(
                        Code::InvalidValue,
                        id.span(),
                        cache_field,
                        "certificate ids in a cache become part of the case id: letters, digits, `-`, `.`",
                    ));
                }
            }
        }
        if block.aia.get_ref().iter().any(|aia| *aia) && file.aia_repository.is_empty() {
            return Err(source.error(
                Code::InvalidValue,
                block.aia.span(),
                field("aia"),
                "aia = true needs an [aia_repository] table",
            ));
        }
        let combinations = iproduct!(
            &block.chains,
            &block.stores,
            &block.times,
            &block.caches,
            block.aia.get_ref()
        );
        for (chain, store, time, cache, &aia) in combinations {
            let cache = plain_ids(cache);
            let id = case_id(
                scenario,
                chain.get_ref(),
                store.get_ref(),
                time.get_ref(),
                &cache,
                aia,
            );
            if let Some(first) = first_seen.get(&id) {
                let (first_line, _) = line_column(source.text, first.start);
                return Err(source.error(
                    Code::Duplicate,
                    spanned_block.span(),
                    format!("cases[{block_index}]"),
                    format!("duplicate case id {id} (first produced at line {first_line})"),
                ));
            }
            first_seen.insert(id.clone(), spanned_block.span());
            skeletons.push(CaseSkeleton {
                id,
                chain: chain.get_ref().clone(),
                store: store.get_ref().clone(),
                time: time.get_ref().clone(),
                cache,
                aia,
                dns_name: block.dns_name.clone(),
                usage: block.usage,
                validation_time: times[time.get_ref()].1,
            });
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
        parts.push(format!("cache=[{}]", plain_ids(cache).join(",")));
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
    source: &SourceFile<'_>,
    clients: &BTreeMap<String, ClientKind>,
    seeds: &Seeds,
    file: &ScenarioFile,
    chains: &BTreeMap<String, Vec<String>>,
    skeletons: &[CaseSkeleton],
) -> Result<Vec<Expectation>, Diagnostic> {
    let mut expectations = Vec::new();
    for (index, spanned) in file.expectations.iter().enumerate() {
        let spec = spanned.get_ref();
        let field = |name: &str| format!("expectations[{index}].{name}");
        if let Some(chain) = &spec.chain {
            check_known(source, chains, "chain", chain, &field("chain"))?;
        }
        if let Some(store) = &spec.store {
            check_known(source, &file.stores, "store", store, &field("store"))?;
        }
        if let Some(time) = &spec.time {
            check_known(source, &file.times, "time", time, &field("time"))?;
        }
        check_known(source, clients, "client", &spec.client, &field("client"))?;
        if let (Some(kind), ExpectedOutcome::Accept) = (&spec.reject_kind, spec.outcome) {
            return Err(source
                .error(
                    Code::InvalidValue,
                    kind.span(),
                    field("reject_kind"),
                    format!(
                        "reject_kind {:?} with outcome \"accept\": an accepted chain has no reject reason",
                        <&str>::from(kind.get_ref())
                    ),
                )
                .help("remove reject_kind, or set outcome = \"reject\""));
        }
        let seed_file = spec.seed_file.as_ref().unwrap_or(&file.scenario.seed_file);
        check_seed_file(source, seeds, seed_file, &field("seed_file"))?;
        check_quote(source, seeds, seed_file, &spec.quote, &field("quote"))?;
        let case_ids: Vec<String> = skeletons
            .iter()
            .filter(|case| selects(spec, case))
            .map(|case| case.id.clone())
            .collect();
        if case_ids.is_empty() {
            return Err(source.error(
                Code::InvalidValue,
                spanned.span(),
                format!("expectations[{index}]"),
                format!("selects no case ({})", selector_text(spec)),
            ));
        }
        expectations.push(Expectation {
            client: spec.client.get_ref().clone(),
            outcome: spec.outcome,
            reject_kind: spec.reject_kind.as_ref().map(|kind| *kind.get_ref()),
            strength: spec.strength,
            derived: spec.derived,
            seed_file: seed_file.get_ref().clone(),
            quote: crate::seeds::normalise_whitespace(spec.quote.get_ref()),
            selector: selector_text(spec),
            case_ids,
        });
    }
    Ok(expectations)
}

/// The reference verdict of a skeleton over `certs`; `with_client_state` adds cache and AIA.
fn reference_for(
    certs: &BTreeMap<String, CertFacts>,
    scenario: &Scenario,
    case: &CaseSkeleton,
    with_client_state: bool,
) -> ReferenceVerdict {
    let served_chain = &scenario.chains[&case.chain];
    let mut available: Vec<&str> = served_chain[1..].iter().map(String::as_str).collect();
    if with_client_state {
        available.extend(case.cache.iter().map(String::as_str));
        if case.aia {
            available.extend(scenario.aia_repository.values().map(String::as_str));
        }
    }
    reference_verdict(&ReferenceInput {
        certs,
        peer: &served_chain[0],
        available,
        trust_store: &scenario.stores[&case.store],
        validation_time: case.validation_time,
        dns_name: &case.dns_name,
        usage: case.usage,
    })
}

/// Builds the scenario and its cases from a resolved scenario and its generated PKI.
pub(crate) fn build_scenario(
    resolved: ResolvedScenario,
    pki: ScenarioPki,
) -> (Scenario, Vec<Case>) {
    let pki = Arc::new(pki);
    let header = resolved.header;
    let scenario = Scenario {
        name: resolved.name,
        dir: resolved.dir,
        title: header.title,
        description: header.description.trim().to_string(),
        diagram: header.diagram.trim_matches('\n').to_string(),
        why_it_matters: header.why_it_matters,
        seed_file: header.seed_file.into_inner(),
        chains: resolved.chains,
        served: resolved.served,
        stores: resolved.stores,
        times: resolved.times,
        aia_repository: resolved.aia_repository,
        expectations: resolved.expectations,
        pki: Arc::clone(&pki),
    };
    let cases = resolved
        .skeletons
        .into_iter()
        .map(|case| Case {
            reference: reference_for(pki.facts(), &scenario, &case, true),
            plain_reference: reference_for(pki.facts(), &scenario, &case, false),
            expectations: scenario
                .expectations
                .iter()
                .filter(|expectation| expectation.case_ids.contains(&case.id))
                .cloned()
                .collect(),
            scenario: scenario.name.clone(),
            served_chain: scenario.chains[&case.chain].clone(),
            trust_store: scenario.stores[&case.store].clone(),
            aia_repository: if case.aia {
                scenario
                    .aia_repository
                    .iter()
                    .map(|(url, id)| (url.clone(), id.clone()))
                    .collect()
            } else {
                Vec::new()
            },
            id: case.id,
            chain: case.chain,
            store: case.store,
            time: case.time,
            cache: case.cache,
            aia: case.aia,
            validation_time: case.validation_time,
            dns_name: case.dns_name,
            usage: case.usage,
            pki: Arc::clone(&pki),
        })
        .collect();
    (scenario, cases)
}

mod served;
