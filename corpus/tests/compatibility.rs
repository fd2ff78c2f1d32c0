//! The compatibility timeline through real validators:
//!
//! - root-expiry-long-short through OpenSSL and rustls-webpki: the interval boundaries must be
//!   exactly the certificate dates of the topology (read from it, not typed here), and every
//!   change must be proved;
//! - every scenario × every target, through each target's engine (the client model, the
//!   in-process validators and the harnesses): no proof fails, every change is placed on its
//!   boundaries or recorded with its offset, and no row works before its chain can be served.
//!
//! The harnesses are set up on first use; under `CI=true` a missing one fails the test.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anchorsmith_corpus::compatibility::{
    incidents, subjects_for_targets, subjects_for_validators, Edge, NotAfterReading, Place,
    ScenarioTimeline, Status, TimelineRow,
};
use anchorsmith_corpus::{load_corpus, Corpus, Scenario, TargetEngine};
use anchorsmith_validators::harnesses::{every_harness_ready, in_ci};
use anchorsmith_validators::runner::RunOptions;
use anchorsmith_validators::{in_process_validators, RejectKind, Validator};
use time::{Duration, OffsetDateTime};

const SCENARIO: &str = "root-expiry-long-short";

fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        load_corpus(&PathBuf::from(env!("CARGO_MANIFEST_DIR"))).unwrap_or_else(|e| panic!("{e}"))
    })
}

fn scenario() -> &'static Scenario {
    corpus()
        .scenarios
        .iter()
        .find(|scenario| scenario.name == SCENARIO)
        .expect("the scenario exists")
}

/// The timeline through rustls-webpki and OpenSSL's default profile, computed once.
fn timeline() -> &'static ScenarioTimeline {
    static TIMELINE: OnceLock<ScenarioTimeline> = OnceLock::new();
    TIMELINE.get_or_init(|| {
        let validators: Vec<Arc<dyn Validator>> = in_process_validators()
            .into_iter()
            .filter(|v| ["rustls-webpki", "openssl"].contains(&v.name()))
            .collect();
        assert_eq!(validators.len(), 2);
        let subjects = subjects_for_validators(scenario(), &corpus().cases, &validators);
        ScenarioTimeline::compute(scenario(), &subjects, &RunOptions::default())
            .unwrap_or_else(|e| panic!("{e}"))
    })
}

fn row(validator: &str, chain: &str, store: &str) -> &'static TimelineRow {
    timeline()
        .rows
        .iter()
        .find(|row| row.validator == validator && row.chain == chain && row.store == store)
        .unwrap_or_else(|| panic!("no row {validator} {chain} {store}"))
}

/// A named instant of the topology.
fn instant(name: &str) -> OffsetDateTime {
    incidents(scenario())
        .expect("the topology loads")
        .into_iter()
        .find(|incident| incident.names().any(|named| named == name))
        .unwrap_or_else(|| panic!("no instant {name}"))
        .instant
}

/// The validity of a certificate of the topology.
fn validity(id: &str) -> (OffsetDateTime, OffsetDateTime) {
    let facts = &scenario().pki.facts()[id];
    (facts.not_before, facts.not_after)
}

/// The `[from, to)` of every accepting interval.
fn accepted(row: &TimelineRow) -> Vec<(Option<OffsetDateTime>, Option<OffsetDateTime>)> {
    row.intervals
        .iter()
        .filter(|interval| interval.status == Status::Accept)
        .map(|interval| (interval.from, interval.to))
        .collect()
}

#[test]
fn every_subject_is_there_and_every_change_is_proved() {
    // 2 validators × 2 chains × 3 stores.
    assert_eq!(timeline().rows.len(), 12);
    for row in &timeline().rows {
        // The not-served interval, then the validator's: one change between each two of these.
        assert_eq!(row.intervals[0].status, Status::NotServed);
        assert_eq!(row.changes.len(), row.intervals.len() - 2, "{row:#?}");
        let failed: Vec<_> = row.failed_proofs().collect();
        assert!(failed.is_empty(), "{}: {failed:#?}", row.label);
        for pair in row.intervals.windows(2) {
            assert_eq!(pair[0].to, pair[1].from, "contiguous");
            assert_ne!(pair[0].status, pair[1].status, "merged");
        }
    }
}

#[test]
fn openssl_loses_the_long_chain_on_an_old_store_exactly_when_dst_expires() {
    let dst_expiry = instant("dst-expiry");
    assert_eq!(validity("dst-root").1, dst_expiry);
    let (leaf_from, _) = validity("leaf");
    let openssl = row("openssl", "long-chain", "old");
    // OpenSSL reads notAfter as exclusive: DST's own notAfter second is already expired.
    assert_eq!(accepted(openssl), vec![(Some(leaf_from), Some(dst_expiry))]);
    assert_eq!(
        openssl.status_at(dst_expiry),
        Status::Reject(RejectKind::Expired)
    );
    let proof = openssl
        .changes
        .iter()
        .find(|change| change.at == dst_expiry)
        .expect("the change at the DST expiry is proved");
    let dst = proof
        .boundaries()
        .iter()
        .find(|b| b.certificate == "dst-root" && b.edge == Edge::NotAfter)
        .expect("DST's notAfter explains it");
    assert_eq!(
        proof.not_after_reading(dst),
        Some(NotAfterReading::Exclusive)
    );
}

#[test]
fn webpki_ignores_the_anchor_expiry_until_the_cross_sign_ends() {
    let (dst_expiry, cross_sign_end) = (instant("dst-expiry"), instant("cross-sign-end"));
    assert_eq!(validity("isrg-x1-by-dst").1, cross_sign_end);
    let (leaf_from, _) = validity("leaf");
    let webpki = row("rustls-webpki", "long-chain", "old");
    // No change at the DST expiry; the cross-sign is valid through its notAfter second
    // (inclusive, as RFC 5280 says), so the long chain works until the second after it.
    assert_eq!(
        accepted(webpki),
        vec![(Some(leaf_from), Some(cross_sign_end + Duration::SECOND))]
    );
    assert!(webpki.changes.iter().all(|change| change.at != dst_expiry));
    let proof = webpki
        .changes
        .iter()
        .find(|change| change.at == cross_sign_end + Duration::SECOND)
        .expect("the change at the cross-sign's end is proved");
    let cross_sign = proof
        .boundaries()
        .iter()
        .find(|b| b.certificate == "isrg-x1-by-dst" && b.edge == Edge::NotAfter)
        .expect("the cross-sign's notAfter explains it");
    assert_eq!(
        proof.not_after_reading(cross_sign),
        Some(NotAfterReading::Inclusive)
    );
}

#[test]
fn the_short_chain_never_works_with_only_the_old_root_and_always_with_the_new() {
    let (leaf_from, leaf_to) = validity("leaf");
    for validator in ["openssl", "rustls-webpki"] {
        assert!(accepted(row(validator, "short-chain", "old")).is_empty());
        let works = accepted(row(validator, "short-chain", "new"));
        assert_eq!(works.len(), 1, "{validator}: {works:?}");
        // The leaf bounds it, the way each library reads notAfter.
        assert_eq!(works[0].0, Some(leaf_from), "{validator}");
        let end = if validator == "openssl" {
            leaf_to
        } else {
            leaf_to + Duration::SECOND
        };
        assert_eq!(works[0].1, Some(end), "{validator}");
    }
}

/// Every target's engine, or `None` (with the reason printed) when a harness is missing outside
/// CI: the client model for model targets, else the validator column it names.
fn target_engines(
    corpus: &Corpus,
) -> Option<Vec<(&anchorsmith_corpus::Target, Arc<dyn Validator>)>> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("corpus/ is inside the workspace");
    let harnesses = match every_harness_ready(
        std::time::Duration::from_secs(30),
        &workspace.join("target").join("harnesses"),
    ) {
        Ok(harnesses) => harnesses,
        Err(missing) => {
            assert!(
                !in_ci(),
                "harnesses missing under CI:\n{}",
                missing.join("\n")
            );
            eprintln!(
                "not checking every target's timeline: missing here\n{}",
                missing.join("\n")
            );
            return None;
        }
    };
    let columns: Vec<Arc<dyn Validator>> = in_process_validators()
        .into_iter()
        .chain(harnesses)
        .collect();
    Some(
        corpus
            .targets
            .iter()
            .map(|target| {
                let engine = match &target.engine {
                    TargetEngine::Model { .. } => target.model_validator(),
                    TargetEngine::Validator { name } => {
                        columns.iter().find(|column| column.name() == name).cloned()
                    }
                };
                (
                    target,
                    engine.unwrap_or_else(|| panic!("no engine for target {}", target.name)),
                )
            })
            .collect(),
    )
}

#[test]
fn every_scenario_and_target_is_proved_placed_and_served_before_it_works() {
    let corpus = corpus();
    let Some(engines) = target_engines(corpus) else {
        return;
    };
    let mut subjects = 0;
    for scenario in &corpus.scenarios {
        let these = subjects_for_targets(scenario, &corpus.cases, &engines);
        subjects += these.len();
        let timeline = ScenarioTimeline::compute(scenario, &these, &RunOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(timeline.rows.len(), these.len());
        assert!(
            timeline.failures().is_empty(),
            "{}",
            timeline.failures().join("\n")
        );
        let facts = scenario.pki.facts();
        for row in &timeline.rows {
            let context = format!(
                "{} {} {} {}",
                scenario.name,
                row.label,
                row.chain,
                row.store_text()
            );
            // Served from the latest notBefore of the chain's certificates (peer first).
            let served_from = scenario.chains[&row.chain]
                .iter()
                .map(|id| facts[id].not_before)
                .max()
                .expect("a chain has a peer");
            assert_eq!(row.served_from.instant, served_from, "{context}");
            assert_eq!(row.served_from.edge, Edge::NotBefore, "{context}");
            assert_eq!(
                row.status_at(served_from - Duration::SECOND),
                Status::NotServed,
                "{context}"
            );
            assert_ne!(row.status_at(served_from), Status::NotServed, "{context}");
            // All time covered, neighbours differ, one change between each two answered ones.
            assert_eq!(row.intervals[0].from, None, "{context}");
            assert_eq!(row.intervals.last().unwrap().to, None, "{context}");
            for pair in row.intervals.windows(2) {
                assert_eq!(pair[0].to, pair[1].from, "{context}: contiguous");
                assert_ne!(pair[0].status, pair[1].status, "{context}: merged");
            }
            assert_eq!(row.changes.len(), row.intervals.len() - 2, "{context}");
            for change in &row.changes {
                assert!(change.at > served_from, "{context}: {change:#?}");
                assert!(change.proof.holds(), "{context}: {change:#?}");
                match &change.place {
                    Place::Boundaries(boundaries) => {
                        assert!(!boundaries.is_empty(), "{context}");
                        for boundary in boundaries {
                            assert!(
                                [change.at, change.at - Duration::SECOND]
                                    .contains(&boundary.instant),
                                "{context}: {change:#?}"
                            );
                        }
                    }
                    Place::OffBoundary {
                        nearest,
                        offset_seconds,
                    } => {
                        assert_eq!(
                            (change.at - nearest.instant).whole_seconds(),
                            *offset_seconds,
                            "{context}"
                        );
                        assert!(![0, 1].contains(offset_seconds), "{context}: {change:#?}");
                        eprintln!("{context}: not at a certificate boundary: {change:?}");
                    }
                }
            }
        }
    }
    // Every target placed in some scenario gives subjects.
    assert!(subjects >= corpus.targets.len(), "{subjects} subjects");
}

/// The example of the issue: hardcoded-root-list's long chain includes a cross-sign valid only
/// from 2021-01-20, so no timeline shows it working in December 2020.
#[test]
fn the_long_chain_is_not_served_before_its_cross_sign_exists() {
    let scenario = corpus()
        .scenarios
        .iter()
        .find(|scenario| scenario.name == "hardcoded-root-list")
        .expect("the scenario exists");
    let validators: Vec<Arc<dyn Validator>> = in_process_validators()
        .into_iter()
        .filter(|v| v.name() == "openssl")
        .collect();
    let subjects: Vec<_> = subjects_for_validators(scenario, &corpus().cases, &validators)
        .into_iter()
        .filter(|subject| subject.chain == "le-long")
        .collect();
    assert!(!subjects.is_empty());
    let timeline = ScenarioTimeline::compute(scenario, &subjects, &RunOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let cross_sign = &scenario.pki.facts()["isrg-x1-by-dst"];
    let december = time::macros::datetime!(2020-12-15 12:00:00 UTC);
    for row in &timeline.rows {
        assert_eq!(row.served_from.certificate, "isrg-x1-by-dst");
        assert_eq!(row.served_from.instant, cross_sign.not_before);
        assert_eq!(row.status_at(december), Status::NotServed, "{row:#?}");
    }
}

#[test]
fn incidents_at_the_same_second_are_listed_once_with_every_name() {
    for scenario in &corpus().scenarios {
        let incidents = incidents(scenario).expect("the topology loads");
        for pair in incidents.windows(2) {
            assert!(pair[0].instant < pair[1].instant, "{}", scenario.name);
        }
        let names: usize = incidents.iter().map(|i| i.names().count()).sum();
        assert!(names >= scenario.times.len(), "{}", scenario.name);
        for (name, (_, instant)) in &scenario.times {
            let incident = incidents
                .iter()
                .find(|incident| incident.times.contains(name))
                .unwrap_or_else(|| panic!("{}: no incident {name}", scenario.name));
            assert_eq!(incident.instant, *instant);
        }
    }
    let hardcoded = corpus()
        .scenarios
        .iter()
        .find(|scenario| scenario.name == "hardcoded-root-list")
        .expect("the scenario exists");
    let shared: Vec<String> = incidents(hardcoded)
        .expect("the topology loads")
        .iter()
        .filter(|incident| incident.is_instant() && !incident.times.is_empty())
        .map(|incident| incident.label())
        .collect();
    assert!(
        shared.contains(&"webkit-bug-filed / at-2020-12-15".to_string()),
        "{shared:?}"
    );
}
