//! The compatibility timeline on a real scenario through real validators: root-expiry-long-short
//! through OpenSSL and rustls-webpki. The interval boundaries must be exactly the certificate
//! dates of the topology (read from it, not typed here), and every change must be proved.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use anchorsmith_corpus::compatibility::{
    incidents, subjects_for_validators, Edge, NotAfterReading, ScenarioTimeline, Status,
    TimelineRow,
};
use anchorsmith_corpus::{load_corpus, Corpus, Scenario};
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
        .find(|incident| incident.label == name)
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
        assert_eq!(row.proofs.len(), row.intervals.len() - 1, "{row:#?}");
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
        .proofs
        .iter()
        .find(|proof| proof.at == dst_expiry)
        .expect("the change at the DST expiry is proved");
    let dst = proof
        .boundaries
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
    assert!(webpki.proofs.iter().all(|proof| proof.at != dst_expiry));
    let proof = webpki
        .proofs
        .iter()
        .find(|proof| proof.at == cross_sign_end + Duration::SECOND)
        .expect("the change at the cross-sign's end is proved");
    let cross_sign = proof
        .boundaries
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
