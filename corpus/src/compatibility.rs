//! The compatibility timeline: for each *subject* (a client holding one trust store and shown one
//! served chain), the exact intervals of time in which validation succeeds, each change proved,
//! as data ([`ScenarioTimeline`]), Markdown ([`render_md`]) and SVG ([`render_svg`]).
//!
//! Exact, not sampled by days. A validator's answer depends on the time mostly through the
//! validity of the certificates it is given: the served chain, the store, the cache and the AIA
//! repository. So the *sweep* validates on every boundary second (a notBefore or notAfter), a
//! day either side of it (grace periods: NSS accepts a leaf up to a day before its notBefore,
//! its "pending slop"), and in the middle of every range between two of those seconds. Then,
//! for every two neighbouring probes with different answers, a *search* halves the range
//! between them until the exact second of each change is found: the answer is not assumed to
//! change only on boundaries, it is measured. Each round of the search validates every pending
//! middle of every subject in one run per validator (one batch per harness process).
//!
//! Each change is then placed: on a certificate boundary (`at` is a notBefore or notAfter
//! second, or the second after a notAfter read as inclusive), or on none, which is an engine
//! quirk and is recorded as such with its offset from the nearest boundary
//! ([`Place::OffBoundary`]), never hidden and never an error.
//!
//! What is still missed: an answer that flips and flips back between two neighbouring probes
//! that agree (an interval shorter than the probe spacing, away from every boundary and from
//! the day either side of it). No validator we run does that; a new quirk that did would not be
//! seen.
//!
//! Every change is *proved*: validated again on its last second before and its first second,
//! which must give the two answers the search found, and they must differ
//! ([`TimelineRow::failed_proofs`]). By construction of the search they do; a proof that fails
//! means the validator does not answer the same twice for the same input and time.
//!
//! A chain cannot be served before all its certificates exist: each row is *not served*
//! ([`Status::NotServed`]) before the latest notBefore of the peer and the served certificates
//! ([`TimelineRow::served_from`]), whatever the validator would say then; the sweep and the
//! search start there. The store, cache and AIA repository do not bound it: a client may hold a
//! certificate before or after it is valid. (NSS's day of grace before a leaf's notBefore
//! therefore never shows in the corpus: the leaf is served from its notBefore on. The search
//! still finds it, as its unit test shows.)
//!
//! On notAfter: RFC 5280 §4.1.2.5 makes the validity period inclusive of both notBefore and
//! notAfter, so a certificate is still valid during its notAfter second. rustls-webpki follows it
//! (it rejects when `time > notAfter`); OpenSSL treats notAfter as exclusive (`X509_cmp_time`
//! counts equality as "earlier", so it rejects *at* notAfter). The proofs record which reading
//! each validator takes ([`Change::not_after_reading`]); `corpus/tests/compatibility.rs` pins
//! both on root-expiry-long-short.
//!
//! Subjects come from the caller: one per target, store, cache and chain
//! ([`subjects_for_targets`]), or one per bare validator, store and chain
//! ([`subjects_for_validators`]). The whole computation is deterministic: every validation time
//! is derived from the certificates, never from the clock. This module knows nothing of the
//! report; `report.html` may embed [`render_svg`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use anchorsmith_validators::runner::{run_all, RunOptions};
use anchorsmith_validators::{Outcome, RejectKind, ValidationInput, Validator, Verdict};
use maud::{html, Markup};
use time::{Duration, OffsetDateTime};

use crate::markdown::table_cell;
use crate::timeline::{coordinate, date, Window, LEFT_MARGIN, PLOT_WIDTH, ROW_HEIGHT, TOP_MARGIN};
use crate::{Case, Scenario, Target};

/// Who is validated over time: one client (a target, or a bare validator) holding one store and
/// shown one served chain.
#[derive(Clone)]
pub struct Subject {
    /// The row's name: the target's (or the validator's, for [`subjects_for_validators`]).
    pub label: String,
    /// The served chain's name in the scenario.
    pub chain: String,
    /// The trust store's name in the scenario.
    pub store: String,
    /// The certificate ids the client has cached (empty: none), when the client keeps a cache;
    /// their DER is in `input.cached`.
    pub cache: Vec<String>,
    pub validator: Arc<dyn Validator>,
    /// Everything but the time: its `validation_time` and `id` are replaced for each
    /// validation. Its `expected_result` is only carried because the limbo harness protocol
    /// requires one; no validator decides by it.
    pub input: ValidationInput,
}

/// Which end of a certificate's validity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Edge {
    NotBefore,
    NotAfter,
}

impl fmt::Display for Edge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Edge::NotBefore => "notBefore",
            Edge::NotAfter => "notAfter",
        })
    }
}

/// One validity boundary in play: a certificate's notBefore or notAfter.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Boundary {
    pub instant: OffsetDateTime,
    /// The scenario's certificate id, or the subject DN of a certificate from elsewhere.
    pub certificate: String,
    pub edge: Edge,
}

/// A validator's answer without its message, or that there was nothing to validate yet: what
/// decides the colour and what is merged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Accept,
    Reject(RejectKind),
    Skip,
    Error,
    /// Before every certificate of the served chain exists: no server could send it, so no
    /// validator was asked.
    NotServed,
}

impl Status {
    pub fn of(verdict: &Verdict) -> Status {
        match verdict {
            Verdict::Accept { .. } => Status::Accept,
            Verdict::Reject { kind, .. } => Status::Reject(*kind),
            Verdict::Skip { .. } => Status::Skip,
            Verdict::Error { .. } => Status::Error,
        }
    }

    /// The validator's outcome; `None` when it was not asked.
    pub fn outcome(self) -> Option<Outcome> {
        match self {
            Status::Accept => Some(Outcome::Accept),
            Status::Reject(_) => Some(Outcome::Reject),
            Status::Skip => Some(Outcome::Skip),
            Status::Error => Some(Outcome::Error),
            Status::NotServed => None,
        }
    }
}

/// `accept`, `reject:expired`, `skip`, `error`: the same words as [`Verdict::label`]; and
/// `not served`.
impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, self.outcome()) {
            (Status::Reject(kind), _) => write!(f, "reject:{kind}"),
            (_, Some(outcome)) => write!(f, "{outcome}"),
            (_, None) => f.write_str("not served"),
        }
    }
}

/// A maximal range of seconds `[from, to)` with one answer; `None` is unbounded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interval {
    /// First second of the interval (inclusive).
    pub from: Option<OffsetDateTime>,
    /// First second after the interval (exclusive).
    pub to: Option<OffsetDateTime>,
    pub status: Status,
    /// The native message of the first validation in the interval (empty on accept).
    pub detail: String,
}

impl Interval {
    /// `2021-01-20 19:14:03 → 2021-09-30 14:01:15`, `…` for an unbounded end.
    pub fn span(&self) -> String {
        let end =
            |instant: Option<OffsetDateTime>| instant.map_or_else(|| "…".to_string(), date_time);
        format!("{} → {}", end(self.from), end(self.to))
    }

    pub fn contains(&self, instant: OffsetDateTime) -> bool {
        self.from.is_none_or(|from| from <= instant) && self.to.is_none_or(|to| instant < to)
    }
}

/// One validation of a proof: when, what the interval says, what the validator answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub at: OffsetDateTime,
    pub expected: Status,
    pub measured: Status,
}

/// Where a change falls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// On these certificate boundaries: each on the change's first second, or on the second
    /// before it (a notAfter read as inclusive).
    Boundaries(Vec<Boundary>),
    /// On no certificate boundary: an engine quirk, such as a grace period. `nearest` is the
    /// boundary nearest the change's first second, `offset_seconds` that second minus the
    /// boundary's (negative: before it).
    OffBoundary {
        nearest: Boundary,
        offset_seconds: i64,
    },
}

/// Evidence that the answer changes between `at - 1s` and `at`: both seconds validated again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    /// On the last second of the earlier interval.
    pub before: Check,
    /// On the first second of the later interval.
    pub after: Check,
}

impl Proof {
    /// Both checks gave what the intervals claim, and the two answers differ.
    pub fn holds(&self) -> bool {
        self.before.expected == self.before.measured
            && self.after.expected == self.after.measured
            && self.before.measured != self.after.measured
    }
}

/// One change between two neighbouring intervals a validator answered, found to the second.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The first second of the later interval: the change lies between `at - 1s` and `at`.
    pub at: OffsetDateTime,
    pub place: Place,
    pub proof: Proof,
}

/// How a validator read a notAfter at a change it caused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotAfterReading {
    /// Still valid during the notAfter second, as RFC 5280 says.
    Inclusive,
    /// Already invalid during the notAfter second.
    Exclusive,
}

impl Change {
    /// The boundaries the change falls on (none when it is off every boundary).
    pub fn boundaries(&self) -> &[Boundary] {
        match &self.place {
            Place::Boundaries(boundaries) => boundaries,
            Place::OffBoundary { .. } => &[],
        }
    }

    /// For a notAfter boundary at this change: whether the validator still accepted its second.
    pub fn not_after_reading(&self, boundary: &Boundary) -> Option<NotAfterReading> {
        if boundary.edge != Edge::NotAfter {
            return None;
        }
        if boundary.instant == self.at {
            Some(NotAfterReading::Exclusive)
        } else if boundary.instant + Duration::SECOND == self.at {
            Some(NotAfterReading::Inclusive)
        } else {
            None
        }
    }
}

/// One subject's timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineRow {
    pub label: String,
    pub chain: String,
    pub store: String,
    /// The client's cached certificate ids (empty: none).
    pub cache: Vec<String>,
    /// The validator's column name (the engine of a target).
    pub validator: String,
    /// The latest notBefore of the peer and the served certificates: the first second the
    /// chain can be served.
    pub served_from: Boundary,
    /// In time order, covering all time, neighbours differing in status: first the
    /// [`Status::NotServed`] interval up to `served_from`, then the validator's answers.
    pub intervals: Vec<Interval>,
    /// One per change between neighbouring intervals the validator answered, in time order
    /// (the start of serving is not one: it is `served_from`).
    pub changes: Vec<Change>,
}

impl TimelineRow {
    /// `old`, or `old + cache le-x3-by-dst` for a client with a cache.
    pub fn store_text(&self) -> String {
        if self.cache.is_empty() {
            self.store.clone()
        } else {
            format!("{} + cache {}", self.store, self.cache.join(", "))
        }
    }

    /// The changes whose proof does not show them.
    pub fn failed_proofs(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|change| !change.proof.holds())
    }

    /// The changes on no certificate boundary: engine quirks.
    pub fn off_boundary(&self) -> impl Iterator<Item = &Change> {
        self.changes
            .iter()
            .filter(|change| matches!(change.place, Place::OffBoundary { .. }))
    }

    /// The answer at `instant`, read off the intervals.
    pub fn status_at(&self, instant: OffsetDateTime) -> Status {
        self.intervals
            .iter()
            .find(|interval| interval.contains(instant))
            .expect("the intervals cover all time")
            .status
    }

    /// `client chain / store at <time>: expected A then B, measured C then D`, for a failed proof.
    pub fn failure_text(&self, change: &Change) -> String {
        format!(
            "{} {} / store {} at {}: expected {} then {}, measured {} then {}",
            self.label,
            self.chain,
            self.store_text(),
            date_time(change.at),
            change.proof.before.expected,
            change.proof.after.expected,
            change.proof.before.measured,
            change.proof.after.measured
        )
    }
}

/// A date marked on the timeline: the topology's instants and the scenario's validation times
/// at that second, listed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incident {
    pub instant: OffsetDateTime,
    /// Named instants of the topology (`[instants]`) at this second: what happened, e.g.
    /// `dst-expiry`.
    pub instants: Vec<String>,
    /// Named validation times of the scenario (`[times]`) at this second: when the cases look.
    pub times: Vec<String>,
}

impl Incident {
    /// Every name of the second, the topology's first: `dst-expiry / at-dst-expiry`.
    pub fn label(&self) -> String {
        self.names().collect::<Vec<_>>().join(" / ")
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.instants.iter().chain(&self.times).map(String::as_str)
    }

    /// Something happened then (drawn solid), rather than only a case looking then (dashed).
    pub fn is_instant(&self) -> bool {
        !self.instants.is_empty()
    }
}

/// Every subject's timeline in one scenario, with its incident dates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioTimeline {
    pub scenario: String,
    /// Sorted by instant.
    pub incidents: Vec<Incident>,
    /// In the order of the subjects.
    pub rows: Vec<TimelineRow>,
}

/// Why a timeline could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum CompatibilityError {
    #[error("subject {subject}: certificate {index} of the {role} is not parsable DER: {message}")]
    Certificate {
        subject: String,
        role: &'static str,
        index: usize,
        message: String,
    },
    #[error(transparent)]
    Topology(#[from] anchorsmith_generator::TopologyError),
}

/// One subject per validator × store × served chain of `scenario`, each from the first case of
/// that chain and store without client state (else the first case of that chain and store):
/// the subjects until client targets exist.
pub fn subjects_for_validators(
    scenario: &Scenario,
    cases: &[Case],
    validators: &[Arc<dyn Validator>],
) -> Vec<Subject> {
    let mut bases: BTreeMap<(&str, &str), &Case> = BTreeMap::new();
    for case in cases.iter().filter(|case| case.scenario == scenario.name) {
        let key = (case.chain.as_str(), case.store.as_str());
        let replace = bases
            .get(&key)
            .is_none_or(|seen| seen.needs_client_state() && !case.needs_client_state());
        if replace {
            bases.insert(key, case);
        }
    }
    let mut subjects = Vec::new();
    for validator in validators {
        for ((chain, store), case) in &bases {
            subjects.push(Subject {
                label: validator.name().to_string(),
                chain: chain.to_string(),
                store: store.to_string(),
                cache: case.cache.clone(),
                validator: Arc::clone(validator),
                input: case.to_validation_input(),
            });
        }
    }
    subjects
}

/// One subject per target placed in `scenario` × each of its stores and caches there × each
/// served chain, with the target's engine as the validator. The input is taken from the case of
/// that chain, store and cache whose AIA setting is the engine's (any of its times: the time is
/// replaced); a combination no `[[cases]]` block produces has no subject.
pub fn subjects_for_targets(
    scenario: &Scenario,
    cases: &[Case],
    targets: &[(&Target, Arc<dyn Validator>)],
) -> Vec<Subject> {
    let mut subjects = Vec::new();
    for (target, engine) in targets {
        let Some(holding) = target.scenarios.get(&scenario.name) else {
            continue;
        };
        for chain in scenario.chains.keys() {
            for store in &holding.stores {
                for cache in &holding.caches {
                    let base = cases.iter().find(|case| {
                        case.scenario == scenario.name
                            && case.chain == *chain
                            && case.store == *store
                            && case.cache == *cache
                            && case.aia == target.engine.fetches_aia()
                    });
                    if let Some(case) = base {
                        subjects.push(Subject {
                            label: target.name.clone(),
                            chain: chain.clone(),
                            store: store.clone(),
                            cache: cache.clone(),
                            validator: Arc::clone(engine),
                            input: case.to_validation_input(),
                        });
                    }
                }
            }
        }
    }
    subjects
}

/// The topology's named instants and the scenario's named validation times, one incident per
/// second, sorted by instant.
pub fn incidents(scenario: &Scenario) -> Result<Vec<Incident>, CompatibilityError> {
    let topology = anchorsmith_generator::load_topology(&scenario.dir.join("topology.toml"))?;
    let mut by_second: BTreeMap<OffsetDateTime, Incident> = BTreeMap::new();
    fn at(
        by_second: &mut BTreeMap<OffsetDateTime, Incident>,
        instant: OffsetDateTime,
    ) -> &mut Incident {
        let instant = whole_second(instant);
        by_second.entry(instant).or_insert_with(|| Incident {
            instant,
            instants: Vec::new(),
            times: Vec::new(),
        })
    }
    for (label, instant) in topology.instants().iter() {
        at(&mut by_second, *instant).instants.push(label.clone());
    }
    for (label, (_, instant)) in &scenario.times {
        at(&mut by_second, *instant).times.push(label.clone());
    }
    Ok(by_second.into_values().collect())
}

impl ScenarioTimeline {
    /// Computes and proves every subject's intervals (see the module header). Validations run
    /// through the runner, so a panic or a hang is an `error` answer, not a crash; each round
    /// (the sweep, each step of the search, the proofs) gives each validator all its
    /// validations in one run (one batch per harness process).
    pub fn compute(
        scenario: &Scenario,
        subjects: &[Subject],
        options: &RunOptions,
    ) -> Result<ScenarioTimeline, CompatibilityError> {
        let names = certificate_names(scenario);
        let placed = subjects
            .iter()
            .map(|subject| boundaries_of(subject, &names))
            .collect::<Result<Vec<_>, _>>()?;
        let served_from: Vec<Boundary> = placed.iter().map(|placed| served_from(placed)).collect();
        let boundaries: Vec<Vec<Boundary>> = placed.into_iter().map(distinct).collect();
        let sweep: Vec<Vec<OffsetDateTime>> = boundaries
            .iter()
            .zip(&served_from)
            .map(|(boundaries, from)| probes(&boundary_seconds(boundaries), from.instant))
            .collect();
        let samples = search(subjects, sweep, options);
        let intervals: Vec<Vec<Interval>> = samples
            .iter()
            .zip(&served_from)
            .map(|(samples, from)| intervals(from.instant, samples))
            .collect();
        let proof_times: Vec<Vec<OffsetDateTime>> = intervals
            .iter()
            .map(|intervals| {
                validated_changes(intervals)
                    .flat_map(|at| [at - Duration::SECOND, at])
                    .collect()
            })
            .collect();
        let proof_verdicts = validate_at(subjects, &proof_times, options);
        let rows = subjects
            .iter()
            .zip(intervals)
            .zip(served_from)
            .zip(boundaries.iter().zip(&proof_verdicts))
            .map(
                |(((subject, intervals), served_from), (boundaries, verdicts))| {
                    let changes = changes(&intervals, boundaries, verdicts);
                    TimelineRow {
                        label: subject.label.clone(),
                        chain: subject.chain.clone(),
                        store: subject.store.clone(),
                        cache: subject.cache.clone(),
                        validator: subject.validator.name().to_string(),
                        served_from,
                        intervals,
                        changes,
                    }
                },
            )
            .collect();
        Ok(ScenarioTimeline {
            scenario: scenario.name.clone(),
            incidents: incidents(scenario)?,
            rows,
        })
    }

    /// One line per failed proof: `scenario: client chain / store at …: expected … measured …`.
    pub fn failures(&self) -> Vec<String> {
        self.rows
            .iter()
            .flat_map(|row| {
                row.failed_proofs()
                    .map(move |change| format!("{}: {}", self.scenario, row.failure_text(change)))
            })
            .collect()
    }
}

/// DER → the scenario's certificate id, to name boundaries as the topology does.
fn certificate_names(scenario: &Scenario) -> BTreeMap<&[u8], &str> {
    scenario
        .pki
        .certs
        .iter()
        .map(|(id, cert)| (cert.der.as_slice(), id.as_str()))
        .collect()
}

/// Which certificates of a subject bound when its chain can be served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// The peer and the served certificates: what the server sends.
    Served,
    /// The store, the cache, the AIA repository: what the client holds or fetches.
    Held,
}

/// Every validity boundary of every certificate the subject's validator is given, with whether
/// the server sends that certificate.
fn boundaries_of(
    subject: &Subject,
    names: &BTreeMap<&[u8], &str>,
) -> Result<Vec<(Role, Boundary)>, CompatibilityError> {
    let input = &subject.input;
    let groups: [(&'static str, Vec<&[u8]>); 5] = [
        ("peer", vec![input.peer.as_slice()]),
        (
            "served chain",
            input.served_chain.iter().map(Vec::as_slice).collect(),
        ),
        (
            "trust store",
            input.trust_anchors.iter().map(Vec::as_slice).collect(),
        ),
        ("cache", input.cached.iter().map(Vec::as_slice).collect()),
        (
            "AIA repository",
            input
                .aia_repository
                .iter()
                .map(|(_, der)| der.as_slice())
                .collect(),
        ),
    ];
    let mut boundaries = Vec::new();
    for (role, ders) in groups {
        for (index, der) in ders.into_iter().enumerate() {
            let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|error| {
                CompatibilityError::Certificate {
                    subject: subject.label.clone(),
                    role,
                    index,
                    message: error.to_string(),
                }
            })?;
            let certificate = names
                .get(der)
                .map_or_else(|| cert.subject().to_string(), |id| id.to_string());
            let validity = cert.validity();
            for (edge, time) in [
                (Edge::NotBefore, &validity.not_before),
                (Edge::NotAfter, &validity.not_after),
            ] {
                let role = if matches!(role, "peer" | "served chain") {
                    Role::Served
                } else {
                    Role::Held
                };
                boundaries.push((
                    role,
                    Boundary {
                        instant: whole_second(time.to_datetime()),
                        certificate: certificate.clone(),
                        edge,
                    },
                ));
            }
        }
    }
    Ok(boundaries)
}

/// The boundaries without their roles, sorted and distinct.
fn distinct(placed: Vec<(Role, Boundary)>) -> Vec<Boundary> {
    let mut boundaries: Vec<Boundary> = placed.into_iter().map(|(_, boundary)| boundary).collect();
    boundaries.sort();
    boundaries.dedup();
    boundaries
}

/// The latest notBefore of what the server sends: the first second all of it exists.
fn served_from(placed: &[(Role, Boundary)]) -> Boundary {
    placed
        .iter()
        .filter(|(role, boundary)| *role == Role::Served && boundary.edge == Edge::NotBefore)
        .map(|(_, boundary)| boundary)
        // Of certificates starting on the same second, the first by id names it.
        .max_by(|a, b| {
            a.instant
                .cmp(&b.instant)
                .then_with(|| b.certificate.cmp(&a.certificate))
        })
        .expect("the peer is always served")
        .clone()
}

/// Validators take the time to the second.
fn whole_second(instant: OffsetDateTime) -> OffsetDateTime {
    instant.replace_nanosecond(0).unwrap_or(instant)
}

/// The distinct boundary seconds, sorted.
fn boundary_seconds(boundaries: &[Boundary]) -> Vec<OffsetDateTime> {
    let mut seconds: Vec<OffsetDateTime> = boundaries.iter().map(|b| b.instant).collect();
    seconds.sort();
    seconds.dedup();
    seconds
}

/// The sweep from `from` (the first second served) over sorted, distinct boundary seconds:
/// `from`, each boundary second and the seconds a day either side of it (grace periods), the
/// middle of each range between two of those, and a day after the last (the unbounded end).
fn probes(seconds: &[OffsetDateTime], from: OffsetDateTime) -> Vec<OffsetDateTime> {
    let mut points: BTreeSet<OffsetDateTime> = seconds
        .iter()
        .flat_map(|&second| [second - Duration::DAY, second, second + Duration::DAY])
        .chain([from])
        .filter(|&second| second >= from)
        .collect();
    let last = *points.last().expect("`from` is a probe");
    points.insert(last + Duration::DAY);
    let middles: Vec<OffsetDateTime> = points
        .iter()
        .zip(points.iter().skip(1))
        .filter_map(|(&a, &b)| middle(a, b))
        .collect();
    points.extend(middles);
    points.into_iter().collect()
}

/// The second halfway between `a` and `b`, when one lies strictly between them.
fn middle(a: OffsetDateTime, b: OffsetDateTime) -> Option<OffsetDateTime> {
    let gap = (b - a).whole_seconds();
    (gap > 1).then(|| a + Duration::seconds(gap / 2))
}

/// Every subject's answers: validated at each of its probes, then, round after round, at the
/// middle of every range between two neighbouring answers that differ, until every such pair
/// is a second apart. Sorted by time.
fn search(
    subjects: &[Subject],
    probes: Vec<Vec<OffsetDateTime>>,
    options: &RunOptions,
) -> Vec<Vec<(OffsetDateTime, Verdict)>> {
    let mut samples: Vec<BTreeMap<OffsetDateTime, Verdict>> = vec![BTreeMap::new(); subjects.len()];
    let mut pending = probes;
    while pending.iter().any(|times| !times.is_empty()) {
        let verdicts = validate_at(subjects, &pending, options);
        for ((samples, times), verdicts) in samples.iter_mut().zip(&pending).zip(verdicts) {
            samples.extend(times.iter().copied().zip(verdicts));
        }
        pending = samples.iter().map(unresolved_middles).collect();
    }
    samples
        .into_iter()
        .map(|samples| samples.into_iter().collect())
        .collect()
}

/// The middle of every range between two neighbouring samples whose answers differ and that
/// are more than a second apart.
fn unresolved_middles(samples: &BTreeMap<OffsetDateTime, Verdict>) -> Vec<OffsetDateTime> {
    samples
        .iter()
        .zip(samples.iter().skip(1))
        .filter(|((_, a), (_, b))| Status::of(a) != Status::of(b))
        .filter_map(|((&a, _), (&b, _))| middle(a, b))
        .collect()
}

/// A row's intervals from its samples (sorted by time, the first at `served_from`): not served
/// before `served_from`, then the answers, equal neighbours merged, each change at the first
/// sample with the new answer (after the search, the second after the last with the old one).
fn intervals(served_from: OffsetDateTime, samples: &[(OffsetDateTime, Verdict)]) -> Vec<Interval> {
    let mut intervals = vec![Interval {
        from: None,
        to: Some(served_from),
        status: Status::NotServed,
        detail: String::new(),
    }];
    for (at, verdict) in samples.iter().filter(|(at, _)| *at >= served_from) {
        let status = Status::of(verdict);
        let last = intervals
            .last_mut()
            .expect("the not-served interval comes first");
        if last.status != status {
            last.to = Some(*at);
            intervals.push(Interval {
                from: Some(*at),
                to: None,
                status,
                detail: detail(verdict).to_string(),
            });
        }
    }
    intervals
}

fn detail(verdict: &Verdict) -> &str {
    match verdict {
        Verdict::Accept { .. } => "",
        Verdict::Reject { detail, .. } | Verdict::Error { detail } => detail,
        Verdict::Skip { reason } => reason,
    }
}

/// The first second of every interval after the first the validator answered: where its
/// answer changes.
fn validated_changes(intervals: &[Interval]) -> impl Iterator<Item = OffsetDateTime> + '_ {
    intervals
        .iter()
        .filter(|interval| interval.status != Status::NotServed)
        .skip(1)
        .filter_map(|interval| interval.from)
}

/// The first second of every interval but the first: where the row changes colour.
fn row_changes(intervals: &[Interval]) -> impl Iterator<Item = OffsetDateTime> + '_ {
    intervals
        .iter()
        .skip(1)
        .filter_map(|interval| interval.from)
}

/// Where the change starting at `at` falls among `boundaries` (sorted, not empty).
fn place(at: OffsetDateTime, boundaries: &[Boundary]) -> Place {
    let on: Vec<Boundary> = boundaries
        .iter()
        .filter(|b| b.instant == at || b.instant + Duration::SECOND == at)
        .cloned()
        .collect();
    if !on.is_empty() {
        return Place::Boundaries(on);
    }
    let nearest = boundaries
        .iter()
        .min_by_key(|b| (at - b.instant).whole_seconds().abs())
        .expect("the peer's validity is always in play")
        .clone();
    Place::OffBoundary {
        offset_seconds: (at - nearest.instant).whole_seconds(),
        nearest,
    }
}

/// The changes of one row, from the verdicts at `at - 1s` and `at` of each change the validator
/// answered, in order.
fn changes(intervals: &[Interval], boundaries: &[Boundary], verdicts: &[Verdict]) -> Vec<Change> {
    let answered: Vec<&Interval> = intervals
        .iter()
        .filter(|interval| interval.status != Status::NotServed)
        .collect();
    answered
        .windows(2)
        .zip(verdicts.chunks(2))
        .map(|(pair, measured)| {
            let at = pair[1].from.expect("a later interval starts somewhere");
            Change {
                at,
                place: place(at, boundaries),
                proof: Proof {
                    before: Check {
                        at: at - Duration::SECOND,
                        expected: pair[0].status,
                        measured: Status::of(&measured[0]),
                    },
                    after: Check {
                        at,
                        expected: pair[1].status,
                        measured: Status::of(&measured[1]),
                    },
                },
            }
        })
        .collect()
}

/// Validates each subject at each of its times; the answers in the same shape. Each validator
/// runs once over all its subjects' validations.
fn validate_at(
    subjects: &[Subject],
    times: &[Vec<OffsetDateTime>],
    options: &RunOptions,
) -> Vec<Vec<Verdict>> {
    let id = |subject: usize, at: OffsetDateTime| {
        format!("timeline::subject{subject}::t{}", at.unix_timestamp())
    };
    let mut by_validator: BTreeMap<&str, (Arc<dyn Validator>, Vec<ValidationInput>)> =
        BTreeMap::new();
    for (index, (subject, times)) in subjects.iter().zip(times).enumerate() {
        let entry = by_validator
            .entry(subject.validator.name())
            .or_insert_with(|| (Arc::clone(&subject.validator), Vec::new()));
        for &at in times {
            // Two changes a second apart share a proof second: validate it once (the runner
            // keys verdicts by id).
            if entry.1.last().is_some_and(|last| last.id == id(index, at)) {
                continue;
            }
            let mut input = subject.input.clone();
            input.id = id(index, at);
            input.validation_time = Some(SystemTime::from(at));
            entry.1.push(input);
        }
    }
    let mut verdicts: BTreeMap<String, Verdict> = BTreeMap::new();
    for (validator, inputs) in by_validator.into_values() {
        for run in run_all(&[validator], &inputs, options).runs {
            verdicts.extend(run.verdicts);
        }
    }
    times
        .iter()
        .enumerate()
        .map(|(index, times)| {
            times
                .iter()
                .map(|&at| {
                    verdicts
                        .get(&id(index, at))
                        .cloned()
                        .unwrap_or(Verdict::Error {
                            detail: "the runner returned no verdict".into(),
                        })
                })
                .collect()
        })
        .collect()
}

/// `2021-09-30 14:01:15` (UTC).
pub fn date_time(instant: OffsetDateTime) -> String {
    format!(
        "{} {:02}:{:02}:{:02}",
        date(instant),
        instant.hour(),
        instant.minute(),
        instant.second()
    )
}

/// `2021-01-20 19:14:03 → 2021-09-30 14:01:15 accept`.
fn interval_text(interval: &Interval) -> String {
    format!("{} {}", interval.span(), interval.status)
}

/// `leaf notBefore 2021-08-31 14:01:15`.
fn boundary_text(boundary: &Boundary) -> String {
    format!(
        "{} {} {}",
        boundary.certificate,
        boundary.edge,
        date_time(boundary.instant)
    )
}

/// What explains a change: the boundaries it falls on, or how far it is from the nearest.
fn place_text(change: &Change) -> String {
    match &change.place {
        Place::Boundaries(boundaries) => boundaries
            .iter()
            .map(|boundary| {
                let reading = match change.not_after_reading(boundary) {
                    Some(NotAfterReading::Inclusive) => ", still valid on that second (inclusive)",
                    Some(NotAfterReading::Exclusive) => ", invalid on that second (exclusive)",
                    None => "",
                };
                format!("{}{reading}", boundary_text(boundary))
            })
            .collect::<Vec<_>>()
            .join("; "),
        Place::OffBoundary {
            nearest,
            offset_seconds,
        } => {
            let side = if *offset_seconds < 0 {
                "before"
            } else {
                "after"
            };
            format!(
                "not at a certificate boundary: {} s {side} {} {} (an engine quirk)",
                offset_seconds.unsigned_abs(),
                nearest.certificate,
                nearest.edge
            )
        }
    }
}

fn change_text(row: &TimelineRow, change: &Change) -> String {
    let proof = &change.proof;
    let verdict = if proof.holds() {
        "proved".to_string()
    } else {
        format!(
            "**PROOF FAILED**: expected {} then {}",
            proof.before.expected, proof.after.expected
        )
    };
    format!(
        "- `{}` {} / store {}: {} at {}, {} at {} ({}): {verdict}",
        row.label,
        row.chain,
        row.store_text(),
        proof.before.measured,
        date_time(proof.before.at),
        proof.after.measured,
        date_time(proof.after.at),
        place_text(change),
    )
}

/// `timeline.md`: per scenario its incident dates, a table with one row per subject, the
/// changes not at a certificate boundary, and the proofs.
pub fn render_md(timelines: &[ScenarioTimeline]) -> String {
    let mut out = String::from(
        "# Compatibility timeline\n\n\
         When validation succeeds for each subject (a client with one trust store, shown one \
         served chain). Each change is found to the second: validated on every certificate \
         validity boundary in play, a day either side of it and between them, then narrowed \
         by halving, and proved by validating on both sides. A change on no certificate \
         boundary is an engine quirk and is listed as such. Before the latest notBefore of the \
         served certificates the chain cannot be served: `not served`, whatever a validator \
         would say. Intervals are `from → to`, from inclusive, to exclusive, in UTC to the \
         second; `…` is unbounded.\n",
    );
    for timeline in timelines {
        out.push_str(&format!("\n## {}\n\n", timeline.scenario));
        let incidents: Vec<String> = timeline
            .incidents
            .iter()
            .map(|incident| format!("`{}` {}", incident.label(), date_time(incident.instant)))
            .collect();
        out.push_str(&format!("Incident dates: {}.\n\n", incidents.join(", ")));
        out.push_str("| subject | chain | store | intervals |\n|---|---|---|---|\n");
        for row in &timeline.rows {
            let intervals: Vec<String> = row.intervals.iter().map(interval_text).collect();
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                table_cell(&row.label),
                table_cell(&row.chain),
                table_cell(&row.store_text()),
                table_cell(&intervals.join(" · "))
            ));
        }
        let quirks: Vec<String> = timeline
            .rows
            .iter()
            .flat_map(|row| {
                row.off_boundary()
                    .map(move |change| change_text(row, change))
            })
            .collect();
        if !quirks.is_empty() {
            out.push_str("\nChanges not at a certificate boundary (engine quirks):\n\n");
            for quirk in quirks {
                out.push_str(&quirk);
                out.push('\n');
            }
        }
        out.push_str("\nServed from (the latest notBefore of the served certificates):\n\n");
        for row in &timeline.rows {
            out.push_str(&format!(
                "- `{}` {} / store {}: {}\n",
                row.label,
                row.chain,
                row.store_text(),
                boundary_text(&row.served_from)
            ));
        }
        out.push_str("\nProofs (the last second before each change, then the first after):\n\n");
        for row in &timeline.rows {
            for change in &row.changes {
                out.push_str(&change_text(row, change));
                out.push('\n');
            }
        }
    }
    out
}

/// The colour of a status: green works, red fails, grey did not decide, light grey not served.
fn fill(status: Status) -> &'static str {
    match status.outcome() {
        Some(Outcome::Accept) => "#58b368",
        Some(Outcome::Reject) => "#d9534f",
        Some(Outcome::Skip | Outcome::Error) => "#b0b0b0",
        None => "#e4e4e4",
    }
}

/// The line of each incident label, given its centre x and its text: the lowest line whose
/// previous label ends far enough to the left, so labels of dates close together (or long
/// labels naming several things at one second) do not overprint each other.
fn label_lines(labels: &[(f64, String)]) -> Vec<usize> {
    // Sans-serif at 11 px is about 6 px a character; a few pixels apart at least.
    const CHARACTER: f64 = 6.0;
    const GAP: f64 = 8.0;
    let mut line_ends: Vec<f64> = Vec::new();
    labels
        .iter()
        .map(|(x, text)| {
            let half = CHARACTER * text.chars().count() as f64 / 2.0;
            let (start, end) = (x - half, x + half);
            let line = line_ends
                .iter()
                .position(|&previous| start - previous >= GAP)
                .unwrap_or(line_ends.len());
            if line == line_ends.len() {
                line_ends.push(end);
            } else {
                line_ends[line] = end;
            }
            line
        })
        .collect()
}

/// Where everything of one scenario's picture goes.
struct Layout<'a> {
    window: Window,
    /// The incidents inside the window, in order.
    incidents: Vec<&'a Incident>,
    /// The x of each, in order.
    xs: Vec<f64>,
    /// The label line of each incident.
    lines: Vec<usize>,
    /// The y of the first row.
    top: f64,
    /// The y below the last row.
    bottom: f64,
}

impl<'a> Layout<'a> {
    /// The window spans a year around the validation times (what the scenario looks at),
    /// widened to the topology's instants and the changes within three years of them; an
    /// instant further away (a date the topologies share but this incident is not about) is
    /// left out rather than drawn at the edge.
    fn of(timeline: &'a ScenarioTimeline) -> Layout<'a> {
        let looked_at = timeline
            .incidents
            .iter()
            .filter(|incident| !incident.times.is_empty());
        let core: Vec<OffsetDateTime> = if looked_at.clone().next().is_some() {
            looked_at.map(|incident| incident.instant).collect()
        } else {
            timeline
                .incidents
                .iter()
                .map(|incident| incident.instant)
                .collect()
        };
        let window = Window::around(
            core.into_iter(),
            timeline
                .incidents
                .iter()
                .map(|incident| incident.instant)
                .chain(
                    timeline
                        .rows
                        .iter()
                        .flat_map(|row| row_changes(&row.intervals).collect::<Vec<_>>()),
                ),
        );
        let incidents: Vec<&Incident> = timeline
            .incidents
            .iter()
            .filter(|incident| window.start <= incident.instant && incident.instant <= window.end)
            .collect();
        let xs: Vec<f64> = incidents
            .iter()
            .map(|incident| x_of(window, incident.instant))
            .collect();
        let labelled: Vec<(f64, String)> = xs
            .iter()
            .zip(&incidents)
            .map(|(&x, incident)| (x, incident.label()))
            .collect();
        let lines = label_lines(&labelled);
        let label_rows = lines.iter().max().map_or(0, |max| max + 1);
        let top = TOP_MARGIN + 12.0 * label_rows.saturating_sub(1) as f64;
        let bottom = top + ROW_HEIGHT * timeline.rows.len() as f64;
        Layout {
            window,
            incidents,
            xs,
            lines,
            top,
            bottom,
        }
    }

    fn height(&self) -> f64 {
        self.bottom + 54.0
    }
}

/// Rows are labelled `client · chain · store`, longer than a certificate id: the plot starts
/// this much further right than the certificate timeline's.
const EXTRA_LEFT: f64 = 90.0;
const LEFT: f64 = LEFT_MARGIN + EXTRA_LEFT;
const SVG_WIDTH: f64 = LEFT + PLOT_WIDTH + 20.0;

/// The x of `instant` in this picture.
fn x_of(window: Window, instant: OffsetDateTime) -> f64 {
    window.x_of(instant) + EXTRA_LEFT
}

/// One scenario's picture as an SVG element, for `report.html` to embed: one row per subject,
/// green where the connection works, red where it fails, grey where the validator errored or
/// skipped; the incident dates as labelled vertical lines (solid: the topology's instants;
/// dashed: the validation times). Self-contained and escaped by construction.
pub fn render_svg(timeline: &ScenarioTimeline) -> Markup {
    let layout = Layout::of(timeline);
    let Layout {
        window,
        top,
        bottom,
        ..
    } = layout;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(SVG_WIDTH)
            height=(coordinate(layout.height())) font-family="sans-serif" font-size="11"
            role="img" {
            title {
                "When validation succeeds in " (timeline.scenario)
                ", per client, store and served chain"
            }
            @for (index, row) in timeline.rows.iter().enumerate() {
                (row_markup(row, top + ROW_HEIGHT * index as f64, window))
            }
            @for ((incident, x), line) in layout.incidents.iter().zip(&layout.xs).zip(&layout.lines) {
                @let lift = 12.0 * *line as f64;
                line x1=(coordinate(*x)) y1=(coordinate(top - 6.0 - lift))
                    x2=(coordinate(*x)) y2=(coordinate(bottom))
                    stroke="#222"
                    stroke-dasharray=[(!incident.is_instant()).then_some("3,2")] {}
                text x=(coordinate(*x)) y=(coordinate(top - 9.0 - lift)) text-anchor="middle" {
                    (incident.label())
                    title { (date_time(incident.instant)) " UTC" }
                }
            }
            text x=(LEFT) y=(coordinate(bottom + 14.0)) { (date(window.start)) }
            text x=(coordinate(LEFT + PLOT_WIDTH)) y=(coordinate(bottom + 14.0))
                text-anchor="end" { (date(window.end)) }
            (legend(bottom + 22.0))
        }
    }
}

/// `timeline.svg`: a standalone file with every scenario's picture under its name, one above
/// the other.
pub fn render_svg_file(timelines: &[ScenarioTimeline]) -> String {
    const HEADING: f64 = 22.0;
    let mut placed = Vec::new();
    let mut y = 0.0;
    for timeline in timelines {
        placed.push((y, timeline));
        y += HEADING + Layout::of(timeline).height();
    }
    let file = html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(SVG_WIDTH) height=(coordinate(y))
            font-family="sans-serif" {
            title { "Compatibility timeline" }
            @for (y, timeline) in &placed {
                text x="4" y=(coordinate(y + 16.0)) font-size="14" font-weight="bold" {
                    (timeline.scenario)
                }
                g transform=(format!("translate(0,{})", coordinate(y + HEADING))) {
                    (render_svg(timeline))
                }
            }
        }
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n",
        file.into_string()
    )
}

fn legend(y: f64) -> Markup {
    let entries = [
        (fill(Status::Accept), "works"),
        (fill(Status::Reject(RejectKind::Other)), "fails"),
        (fill(Status::Error), "validator errored or skipped"),
        (fill(Status::NotServed), "not served yet"),
    ];
    html! {
        @for ((colour, text), x) in entries.iter().zip([0.0, 70.0, 140.0, 310.0]) {
            rect x=(coordinate(LEFT + x)) y=(coordinate(y)) width="10" height="10" fill=(colour) {}
            text x=(coordinate(LEFT + x + 14.0)) y=(coordinate(y + 9.0)) { (text) }
        }
        text x=(LEFT) y=(coordinate(y + 23.0)) fill="#555" {
            "solid: incident · dashed: validation time"
        }
    }
}

/// One subject's label and coloured intervals, at height `y`.
/// A row with a failed proof says so on its label, the failures in its tooltip.
fn row_markup(row: &TimelineRow, y: f64, window: Window) -> Markup {
    let label = format!("{} · {} · {}", row.label, row.chain, row.store_text());
    let failures: Vec<String> = row
        .failed_proofs()
        .map(|change| row.failure_text(change))
        .collect();
    html! {
        text x=(coordinate(LEFT - 6.0)) y=(coordinate(y + 10.0)) text-anchor="end" {
            (label)
            @if !failures.is_empty() {
                tspan fill="#b00000" font-weight="bold" {
                    " ⚠ unproved"
                    title { "proof failed: " (failures.join("; ")) }
                }
            }
        }
        @for interval in &row.intervals {
            @let x0 = interval.from.map_or(LEFT, |from| x_of(window, from));
            @let x1 = interval.to.map_or(LEFT + PLOT_WIDTH, |to| x_of(window, to));
            @if x1 > x0 {
                rect x=(coordinate(x0)) y=(coordinate(y + 1.0)) width=(coordinate(x1 - x0))
                    height="12" fill=(fill(interval.status)) {
                    title { (label) ": " (interval_text(interval)) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
