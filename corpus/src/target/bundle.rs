//! A target whose firmware holds a minimal trust bundle (issue 11): in a scenario, instead of
//! (beside) a whole trust store, the anchors the trust-bundle builder (`anchorsmith-bundle`)
//! chooses for the chains the device's servers sent when the firmware was built.
//!
//! The bundle is built when the corpus loads, by the real builder, and proved by it
//! ([`anchorsmith_bundle::build::Bundle::prove`]); a bundle that cannot be built or proved is a
//! load error naming the target and the scenario. The target's engine is then also run with the
//! bundle as the whole trust store, as its own column (`<target>+bundle`): a hypothetical
//! firmware, so it claims no client and is never judged against an expectation. The report shows
//! what the minimal bundle costs: the cases the whole store accepts and the bundle rejects.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::Arc;

use anchorsmith_bundle::build::{build, parse_instant, Request};
use anchorsmith_bundle::coverage::DeviceVerifier;
use anchorsmith_bundle::lint::Lint;
use anchorsmith_bundle::load::{is_ca, Candidate, Endpoint};
use anchorsmith_diagnostics::{Code, Diagnostic, SourceFile};
use anchorsmith_validators::model::ClientModel;
use anchorsmith_validators::runner::RunResults;
use anchorsmith_validators::{ValidationInput, Validator};
use serde::Deserialize;
use strum::VariantNames;
use time::OffsetDateTime;
use toml::Spanned;

use super::{known, Target, TargetEngine};
use crate::{Case, Scenario};

/// `bundle = { … }` in `[scenarios.<name>]`, as written.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(super) struct BundleSpec {
    /// Chain names of the scenario: what the device's servers sent when the firmware was built.
    endpoints: Vec<Spanned<String>>,
    /// A `cargo xtask bundle --device-verifier` name.
    device_verifier: Spanned<String>,
    /// Default 2, as `cargo xtask bundle`.
    #[serde(default)]
    min_anchors_per_endpoint: Option<Spanned<usize>>,
    /// A time of the scenario's `[times]`, or a date (`2040-01-01`) or RFC 3339 instant.
    horizon: Spanned<String>,
}

/// One anchor of a target's bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleAnchor {
    /// Its certificate id in the scenario's topology.
    pub id: String,
    /// Its subject's CN, as the builder names it.
    pub name: String,
    pub der: Vec<u8>,
}

/// The minimal trust bundle a target holds in one scenario, as the builder chose and proved it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetBundle {
    /// The scenario's chains the builder was given, as written.
    pub endpoints: Vec<String>,
    pub verifier: DeviceVerifier,
    pub min_anchors_per_endpoint: usize,
    /// The scenario's earliest validation time: when the firmware is built.
    pub now: OffsetDateTime,
    pub horizon: OffsetDateTime,
    /// The certificate ids offered: every certificate of the stores the target holds there,
    /// once, sorted.
    pub candidates: Vec<String>,
    /// What the builder chose, in its output order.
    pub anchors: Vec<BundleAnchor>,
    /// The builder's findings on the bundle (fewer anchors than asked, a single root, …).
    pub findings: Vec<Lint>,
}

/// The column of a target's engine run against its bundles: `<target>+bundle` (a target name
/// cannot contain `+`, so it never collides with a target).
pub fn bundle_column(target: &str) -> String {
    format!("{target}+bundle")
}

/// Where a bundle's errors point: its target file, and the field path of its table.
struct At<'a> {
    source: &'a SourceFile<'a>,
    /// `scenarios.<name>.bundle`.
    field: String,
}

impl At<'_> {
    fn error(
        &self,
        code: Code,
        span: std::ops::Range<usize>,
        sub_field: &str,
        message: impl Into<String>,
    ) -> Diagnostic {
        let field = if sub_field.is_empty() {
            self.field.clone()
        } else {
            format!("{}.{sub_field}", self.field)
        };
        self.source.error(code, span, field, message)
    }
}

/// Checks `spec` (at `field` of `source`) against `scenario` and the target's engine, then builds
/// and proves the bundle from the certificates of `stores`.
pub(super) fn check_bundle(
    source: &SourceFile<'_>,
    field: &str,
    spec: &Spanned<BundleSpec>,
    scenario: &Scenario,
    stores: &[String],
    target: &str,
    engine: &TargetEngine,
) -> Result<TargetBundle, Diagnostic> {
    let at = At {
        source,
        field: format!("{field}.bundle"),
    };
    let endpoints = endpoint_names(&at, spec, scenario)?;
    let verifier = device_verifier(&at, spec.get_ref(), engine)?;
    let min_anchors_per_endpoint = min_anchors(&at, spec.get_ref())?;
    let (now, horizon) = period(&at, spec, scenario)?;
    let candidates: Vec<String> = stores
        .iter()
        .flat_map(|store| &scenario.stores[store])
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let der = |id: &str| scenario.pki.der(id).to_vec();
    let request = Request {
        min_per_endpoint: min_anchors_per_endpoint,
        ..Request::new(
            endpoints
                .iter()
                .map(|chain| endpoint(scenario, chain))
                .collect(),
            candidates
                .iter()
                .map(|id| Candidate {
                    der: der(id),
                    origin: format!("{}/{id}", scenario.name),
                })
                .collect(),
            verifier,
            now,
            horizon,
        )
    };
    let failed = |why: String| {
        at.error(
            Code::InvalidValue,
            spec.span(),
            "",
            format!(
                "target {target}, scenario {}: the trust-bundle builder fails: {why}",
                scenario.name
            ),
        )
    };
    let built = build(request).map_err(|error| failed(error.to_string()))?;
    built.prove().map_err(|error| failed(error.to_string()))?;
    let anchors = built
        .anchors()
        .into_iter()
        .map(|anchor| BundleAnchor {
            id: candidates
                .iter()
                .find(|id| der(id) == anchor.der)
                .cloned()
                .expect("the builder chooses among the candidates offered"),
            name: anchor.name,
            der: anchor.der,
        })
        .collect();
    Ok(TargetBundle {
        endpoints,
        verifier,
        min_anchors_per_endpoint,
        now,
        horizon,
        candidates,
        anchors,
        findings: built.lints,
    })
}

/// The endpoint names, each a chain of `scenario`; at least one.
fn endpoint_names(
    at: &At<'_>,
    spec: &Spanned<BundleSpec>,
    scenario: &Scenario,
) -> Result<Vec<String>, Diagnostic> {
    let names = &spec.get_ref().endpoints;
    if names.is_empty() {
        return Err(at.error(
            Code::InvalidValue,
            spec.span(),
            "endpoints",
            "a bundle is built for at least one endpoint (a chain of the scenario)",
        ));
    }
    for (index, name) in names.iter().enumerate() {
        if !scenario.chains.contains_key(name.get_ref()) {
            return Err(at
                .error(
                    Code::UnknownName,
                    name.span(),
                    &format!("endpoints[{index}]"),
                    format!(
                        "unknown chain {:?} in scenario {}",
                        name.get_ref(),
                        scenario.name
                    ),
                )
                .help(known(scenario.chains.keys().map(String::as_str))));
        }
    }
    Ok(names.iter().map(|name| name.get_ref().clone()).collect())
}

/// The chain `name` of `scenario` as the builder's endpoint, named after the chain.
fn endpoint(scenario: &Scenario, name: &str) -> Endpoint {
    let chain: Vec<Vec<u8>> = scenario.chains[name]
        .iter()
        .map(|id| scenario.pki.der(id).to_vec())
        .collect();
    Endpoint {
        host: name.to_string(),
        file: scenario.dir.join("scenario.toml"),
        has_leaf: !is_ca(&chain[0]),
        chain,
    }
}

/// The device verifier named, which must be the target's own when its engine is the client
/// model: a bundle proved for another verifier says nothing about the device.
fn device_verifier(
    at: &At<'_>,
    spec: &BundleSpec,
    engine: &TargetEngine,
) -> Result<DeviceVerifier, Diagnostic> {
    let written = &spec.device_verifier;
    let verifier = DeviceVerifier::from_str(written.get_ref()).map_err(|_| {
        at.error(
            Code::UnknownName,
            written.span(),
            "device-verifier",
            format!("unknown device verifier {:?}", written.get_ref()),
        )
        .help(known(DeviceVerifier::VARIANTS.iter().copied()))
    })?;
    // The proof of a bearssl or mbedtls bundle runs the real library through its harness, with
    // the endpoint's host as the leaf's name; a corpus chain has no host, and loading the
    // corpus does not set harnesses up.
    if let Some(column) = anchorsmith_bundle::proof::harness_column(verifier) {
        return Err(at
            .error(
                Code::InvalidValue,
                written.span(),
                "device-verifier",
                format!("a target's bundle cannot be proved with {verifier} when the corpus loads (its proof runs the real {column} harness)"),
            )
            .help("use full-path-building, partial-chain, esp-idf or esp-idf-cross-signed"));
    }
    let knobs = match engine {
        TargetEngine::Model { knobs } => knobs.clone(),
        // A real engine stands for the verifier of the same library; a bundle proved for
        // another verifier would say nothing about it.
        TargetEngine::Validator { name } => match name.as_str() {
            "rustls-webpki" | "openssl" => DeviceVerifier::FullPathBuilding.knobs(),
            "openssl-partial-chain" => DeviceVerifier::PartialChain.knobs(),
            _ => {
                return Err(at
                    .error(
                        Code::InvalidValue,
                        written.span(),
                        "device-verifier",
                        format!("no device verifier stands for the engine {name}, so its bundle could not be proved for it"),
                    )
                    .help("a bundle target's engine is the client model, rustls-webpki, openssl or openssl-partial-chain"))
            }
        },
    };
    let knobs = &knobs;
    if *knobs == verifier.knobs() {
        return Ok(verifier);
    }
    let matching: Vec<&str> = DeviceVerifier::VARIANTS
        .iter()
        .copied()
        .filter(|name| DeviceVerifier::from_str(name).is_ok_and(|other| other.knobs() == *knobs))
        .collect();
    Err(at
        .error(
            Code::InvalidValue,
            written.span(),
            "device-verifier",
            format!(
                "the device verifier {verifier} is not the target's engine ({})",
                engine.label()
            ),
        )
        .help(if matching.is_empty() {
            "no device verifier has the knobs of this engine".to_string()
        } else {
            format!("the engine's verifier: {}", matching.join(", "))
        }))
}

/// `min-anchors-per-endpoint`: at least 1; 2 when left out, as `cargo xtask bundle`.
fn min_anchors(at: &At<'_>, spec: &BundleSpec) -> Result<usize, Diagnostic> {
    match &spec.min_anchors_per_endpoint {
        None => Ok(2),
        Some(min) if *min.get_ref() == 0 => Err(at.error(
            Code::InvalidValue,
            min.span(),
            "min-anchors-per-endpoint",
            "a bundle needs at least one anchor per endpoint",
        )),
        Some(min) => Ok(*min.get_ref()),
    }
}

/// When the firmware is built (the scenario's earliest time) and the horizon (one of its times,
/// or a date), not before it.
fn period(
    at: &At<'_>,
    spec: &Spanned<BundleSpec>,
    scenario: &Scenario,
) -> Result<(OffsetDateTime, OffsetDateTime), Diagnostic> {
    let Some(now) = scenario.times.values().map(|(_, instant)| *instant).min() else {
        return Err(at.error(
            Code::InvalidValue,
            spec.span(),
            "",
            format!(
                "scenario {} has no validation time to build the bundle at",
                scenario.name
            ),
        ));
    };
    let written = &spec.get_ref().horizon;
    let horizon = match scenario.times.get(written.get_ref()) {
        Some((_, instant)) => *instant,
        None => parse_instant(written.get_ref()).map_err(|_| {
            at.error(
                Code::UnknownName,
                written.span(),
                "horizon",
                format!(
                    "unknown time {:?} in scenario {}: neither one of its times nor a date",
                    written.get_ref(),
                    scenario.name
                ),
            )
            .help(format!(
                "{}, or a date such as 2040-01-01",
                known(scenario.times.keys().map(String::as_str))
            ))
        })?,
    };
    if horizon < now {
        return Err(at.error(
            Code::InvalidValue,
            written.span(),
            "horizon",
            format!(
                "the horizon is before the firmware is built (the scenario's earliest time, {})",
                anchorsmith_timeaxis::date(now)
            ),
        ));
    }
    Ok((now, horizon))
}

impl Target {
    /// The bundle the target holds for `case`, when it applies to the case and holds one in
    /// its scenario.
    pub fn bundle_for(&self, case: &Case) -> Option<&TargetBundle> {
        if !self.applies_to(case) {
            return None;
        }
        self.scenarios.get(&case.scenario)?.bundle.as_ref()
    }

    /// Whether the target holds a bundle in any scenario.
    pub fn holds_a_bundle(&self) -> bool {
        self.scenarios
            .values()
            .any(|holding| holding.bundle.is_some())
    }

    /// The inputs of the target's bundle column: each case of `cases` it holds a bundle for,
    /// with the bundle as the whole trust store. The case id is kept (verdicts are keyed by it);
    /// so is the case's `expected_result`, which the limbo harness protocol requires and no
    /// harness uses for its verdict.
    pub fn bundle_inputs(&self, cases: &[&Case]) -> Vec<ValidationInput> {
        cases
            .iter()
            .filter_map(|case| {
                let bundle = self.bundle_for(case)?;
                Some(ValidationInput {
                    trust_anchors: bundle
                        .anchors
                        .iter()
                        .map(|anchor| anchor.der.clone())
                        .collect(),
                    ..case.to_validation_input()
                })
            })
            .collect()
    }

    /// The engine of the bundle column: the client model with the target's knobs, named after
    /// the column, or the target's real validator among `columns` (`None` when it is not there).
    pub fn bundle_engine(&self, columns: &[Arc<dyn Validator>]) -> Option<Arc<dyn Validator>> {
        match &self.engine {
            TargetEngine::Model { knobs } => Some(Arc::new(ClientModel::new(
                bundle_column(&self.name),
                knobs.clone(),
            ))),
            TargetEngine::Validator { name } => {
                columns.iter().find(|column| column.name() == name).cloned()
            }
        }
    }
}

/// Runs every bundle column: for each target that holds a bundle, its engine (see
/// [`Target::bundle_engine`]) on its [`Target::bundle_inputs`] through `run` (the caller's
/// runner, with its progress and timeouts), the run named after the column. A target whose
/// real engine is not among `columns` has no run; the report then marks its cells skipped.
pub fn run_bundle_columns(
    targets: &[Target],
    cases: &[&Case],
    columns: &[Arc<dyn Validator>],
    run: impl Fn(&[Arc<dyn Validator>], &[ValidationInput]) -> RunResults,
) -> RunResults {
    let mut results = RunResults::default();
    for target in targets.iter().filter(|target| target.holds_a_bundle()) {
        let inputs = target.bundle_inputs(cases);
        let Some(engine) = target.bundle_engine(columns) else {
            continue;
        };
        if inputs.is_empty() {
            continue;
        }
        for mut bundle_run in run(&[engine], &inputs).runs {
            // A real engine's run carries the engine's name; the column is the target's.
            bundle_run.name = bundle_column(&target.name);
            results.runs.push(bundle_run);
        }
    }
    results
}
