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
    let field = format!("{field}.bundle");
    let bundle_span = spec.span();
    let spec = spec.get_ref();
    if spec.endpoints.is_empty() {
        return Err(source.error(
            Code::InvalidValue,
            bundle_span,
            format!("{field}.endpoints"),
            "a bundle is built for at least one endpoint (a chain of the scenario)",
        ));
    }
    for (index, endpoint) in spec.endpoints.iter().enumerate() {
        if !scenario.chains.contains_key(endpoint.get_ref()) {
            return Err(source
                .error(
                    Code::UnknownName,
                    endpoint.span(),
                    format!("{field}.endpoints[{index}]"),
                    format!(
                        "unknown chain {:?} in scenario {}",
                        endpoint.get_ref(),
                        scenario.name
                    ),
                )
                .help(known(scenario.chains.keys().map(String::as_str))));
        }
    }
    let verifier = DeviceVerifier::from_str(spec.device_verifier.get_ref()).map_err(|_| {
        source
            .error(
                Code::UnknownName,
                spec.device_verifier.span(),
                format!("{field}.device-verifier"),
                format!(
                    "unknown device verifier {:?}",
                    spec.device_verifier.get_ref()
                ),
            )
            .help(known(DeviceVerifier::VARIANTS.iter().copied()))
    })?;
    // A bundle proved for another verifier than the one the target runs says nothing about it.
    if let TargetEngine::Model { knobs } = engine {
        if *knobs != verifier.knobs() {
            let matching = DeviceVerifier::VARIANTS
                .iter()
                .filter(|name| {
                    DeviceVerifier::from_str(name).is_ok_and(|other| other.knobs() == *knobs)
                })
                .copied()
                .collect::<Vec<_>>();
            return Err(source
                .error(
                    Code::InvalidValue,
                    spec.device_verifier.span(),
                    format!("{field}.device-verifier"),
                    format!(
                        "the device verifier {verifier} is not the target's engine ({})",
                        engine.label()
                    ),
                )
                .help(if matching.is_empty() {
                    "no device verifier has the knobs of this engine".to_string()
                } else {
                    format!("the engine's verifier: {}", matching.join(", "))
                }));
        }
    }
    let min_anchors_per_endpoint = match &spec.min_anchors_per_endpoint {
        None => 2,
        Some(min) if *min.get_ref() == 0 => {
            return Err(source.error(
                Code::InvalidValue,
                min.span(),
                format!("{field}.min-anchors-per-endpoint"),
                "a bundle needs at least one anchor per endpoint",
            ))
        }
        Some(min) => *min.get_ref(),
    };
    let Some(now) = scenario.times.values().map(|(_, at)| *at).min() else {
        return Err(source.error(
            Code::InvalidValue,
            bundle_span,
            field,
            format!(
                "scenario {} has no validation time to build the bundle at",
                scenario.name
            ),
        ));
    };
    let horizon_text = spec.horizon.get_ref();
    let horizon = match scenario.times.get(horizon_text) {
        Some((_, at)) => *at,
        None => parse_instant(horizon_text).map_err(|_| {
            source
                .error(
                    Code::UnknownName,
                    spec.horizon.span(),
                    format!("{field}.horizon"),
                    format!(
                        "unknown time {horizon_text:?} in scenario {}: neither one of its times nor a date",
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
        return Err(source.error(
            Code::InvalidValue,
            spec.horizon.span(),
            format!("{field}.horizon"),
            format!(
                "the horizon is before the firmware is built (the scenario's earliest time, {})",
                anchorsmith_timeaxis::date(now)
            ),
        ));
    }
    let candidates: Vec<String> = stores
        .iter()
        .flat_map(|store| &scenario.stores[store])
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let der = |id: &str| scenario.pki.der(id).to_vec();
    let endpoints: Vec<Endpoint> = spec
        .endpoints
        .iter()
        .map(|chain| {
            let chain_der: Vec<Vec<u8>> = scenario.chains[chain.get_ref()]
                .iter()
                .map(|id| der(id))
                .collect();
            Endpoint {
                host: chain.get_ref().clone(),
                file: scenario.dir.join("scenario.toml"),
                has_leaf: !is_ca(&chain_der[0]),
                chain: chain_der,
            }
        })
        .collect();
    let offered = candidates
        .iter()
        .map(|id| Candidate {
            der: der(id),
            origin: format!("{}/{id}", scenario.name),
        })
        .collect();
    let failed = |why: String| {
        source.error(
            Code::InvalidValue,
            bundle_span.clone(),
            field.clone(),
            format!(
                "target {target}, scenario {}: the trust-bundle builder fails: {why}",
                scenario.name
            ),
        )
    };
    let built = build(Request {
        min_per_endpoint: min_anchors_per_endpoint,
        ..Request::new(endpoints, offered, verifier, now, horizon)
    })
    .map_err(|error| failed(error.to_string()))?;
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
        endpoints: spec
            .endpoints
            .iter()
            .map(|chain| chain.get_ref().clone())
            .collect(),
        verifier,
        min_anchors_per_endpoint,
        now,
        horizon,
        candidates,
        anchors,
        findings: built.lints.clone(),
    })
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
