//! Real TLS handshakes through every handshake client (`handshake:openssl`, `curl`, `gnutls`,
//! `rustls`, `java`, `chromium`): a rustls server on 127.0.0.1 serves a chain built here, and
//! each real client must accept the good chain and reject an expired one and one from an unknown
//! issuer, and one not yet valid, with the right kind, at a fixed case time (Chromium names both
//! ends of validity `net::ERR_CERT_DATE_INVALID`, kind `other`). And faults: a server that
//! accepts TCP but never speaks TLS gives an error for that case (the client is killed at its
//! timeout), and the next case still gets its verdict.
//!
//! The clients are set up on first use (`validators/harnesses/handshake/harness.toml`); under
//! `CI=true` a missing one fails the test, elsewhere the test says what is missing.

mod fixtures;

use std::net::TcpListener;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anchorsmith_validators::handshake::{
    handshake_columns_ready_or_skip, Client, HandshakeValidator,
};
use anchorsmith_validators::{Outcome, PeerName, RejectKind, ValidationInput, Validator, Verdict};
use fixtures::{at, ca_params, leaf_params, system_time, LEAF_NAME};
use rcgen::{Issuer, KeyPair};

struct Chain {
    root: Vec<u8>,
    other_root: Vec<u8>,
    intermediate: Vec<u8>,
    leaf: Vec<u8>,
    leaf_key_pem: String,
}

/// Root (2020-2035) → intermediate (2021-2030) → leaf for LEAF_NAME (2025-01-01 to 2026-01-01),
/// and an unrelated root.
fn chain() -> Chain {
    let root_key = KeyPair::generate().unwrap();
    let root_params = ca_params("Handshake Root", 1, (at(2020, 1, 1), at(2035, 1, 1)));
    let root = root_params.self_signed(&root_key).unwrap();
    let root_issuer = Issuer::new(root_params, root_key);
    let other_key = KeyPair::generate().unwrap();
    let other = ca_params("Unrelated Root", 9, (at(2020, 1, 1), at(2035, 1, 1)))
        .self_signed(&other_key)
        .unwrap();
    let intermediate_key = KeyPair::generate().unwrap();
    let intermediate_params = ca_params(
        "Handshake Intermediate",
        2,
        (at(2021, 1, 1), at(2030, 1, 1)),
    );
    let intermediate = intermediate_params
        .signed_by(&intermediate_key, &root_issuer)
        .unwrap();
    let intermediate_issuer = Issuer::new(intermediate_params, intermediate_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = leaf_params(3, (at(2025, 1, 1), at(2026, 1, 1)))
        .signed_by(&leaf_key, &intermediate_issuer)
        .unwrap();
    Chain {
        root: root.der().to_vec(),
        other_root: other.der().to_vec(),
        intermediate: intermediate.der().to_vec(),
        leaf: leaf.der().to_vec(),
        leaf_key_pem: leaf_key.serialize_pem(),
    }
}

fn case(id: &str, chain: &Chain, anchor: &[u8], year: i32) -> ValidationInput {
    ValidationInput {
        id: id.into(),
        trust_anchors: vec![anchor.to_vec()],
        served_chain: vec![chain.intermediate.clone()],
        peer: chain.leaf.clone(),
        validation_time: Some(system_time(at(year, 6, 1))),
        expected_peer_name: Some(PeerName::Dns(LEAF_NAME.into())),
        extended_key_usage: vec!["serverAuth".into()],
        peer_key_pem: Some(chain.leaf_key_pem.clone()),
        ..ValidationInput::default()
    }
}

/// The clients, set up once for every test here (the tests run in parallel; set-up may install
/// packages, which must not run four times at once).
fn clients() -> Option<Vec<HandshakeValidator>> {
    static CLIENTS: OnceLock<Option<Vec<HandshakeValidator>>> = OnceLock::new();
    CLIENTS
        .get_or_init(|| {
            handshake_columns_ready_or_skip(Duration::from_secs(20), "running real handshakes")
        })
        .clone()
}

#[test]
fn every_client_accepts_a_good_chain_and_rejects_expired_not_yet_valid_and_unknown_issuer() {
    let Some(clients) = clients() else {
        return;
    };
    assert_eq!(
        clients.iter().map(|c| c.client).collect::<Vec<_>>(),
        Client::all()
    );
    let chain = chain();
    let inputs = [
        case("good", &chain, &chain.root, 2025),
        case("expired", &chain, &chain.root, 2026),
        case("not-yet-valid", &chain, &chain.root, 2024),
        case("unknown-issuer", &chain, &chain.other_root, 2025),
    ];
    for client in &clients {
        let started = Instant::now();
        let verdicts = client.validate_batch(&inputs);
        let labels: Vec<String> = verdicts.iter().map(Verdict::label).collect();
        let (expired, not_yet_valid) = match client.client {
            // One native name for both ends of the validity period: see chromium_* below.
            Client::Chromium => ("reject:other", "reject:other"),
            _ => ("reject:expired", "reject:not-yet-valid"),
        };
        assert_eq!(
            labels,
            ["accept", expired, not_yet_valid, "reject:unknown-issuer"],
            "{}: {verdicts:#?}",
            client.name()
        );
        eprintln!(
            "{}: {:?} in {:.2} s ({})",
            client.name(),
            labels,
            started.elapsed().as_secs_f64(),
            client.version()
        );
    }
}

#[test]
fn a_wrong_name_is_a_name_mismatch_for_every_client() {
    let Some(clients) = clients() else {
        return;
    };
    let chain = chain();
    let mut input = case("wrong-name", &chain, &chain.root, 2025);
    input.expected_peer_name = Some(PeerName::Dns("other.anchorsmith.test".into()));
    for client in &clients {
        let verdict = client.validate(&input);
        assert!(
            matches!(
                verdict,
                Verdict::Reject {
                    kind: RejectKind::NameMismatch,
                    ..
                }
            ),
            "{}: {verdict:?}",
            client.name()
        );
    }
}

#[test]
fn a_server_that_never_speaks_tls_is_an_error_for_that_case_only() {
    let Some(clients) = clients() else {
        return;
    };
    // Accepts TCP connections (the kernel's backlog) and never says a word.
    let silent = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = silent.local_addr().unwrap().port();
    let chain = chain();
    let good = case("good", &chain, &chain.root, 2025);
    for client in clients {
        // A short timeout for the fault (it is what ends it); the next case runs with the usual.
        let impatient = client.clone().with_timeout(Duration::from_secs(1));
        let started = Instant::now();
        let verdict = impatient.validate_against(&good, port);
        let Verdict::Error { detail } = &verdict else {
            panic!("{}: a silent server gave {verdict:?}", client.name());
        };
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{}: the fault took {:?}",
            client.name(),
            started.elapsed()
        );
        eprintln!("{}: {detail}", client.name());
        // The run goes on: the next case, with a real server, gets its verdict.
        assert_eq!(client.validate(&good).outcome(), Outcome::Accept);
    }
    drop(silent);
}

#[test]
fn a_case_the_server_cannot_serve_is_skipped_with_the_reason() {
    let Some(clients) = clients() else {
        return;
    };
    let chain = chain();
    let mut input = case("bad-key", &chain, &chain.root, 2025);
    input.peer_key_pem =
        Some("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into());
    for client in &clients {
        let Verdict::Skip { reason } = client.validate(&input) else {
            panic!("{}: an unusable key must skip", client.name());
        };
        assert!(reason.contains("cannot serve"), "{reason}");
    }
}

/// Why `handshake:curl` pairs with `openssl-partial-chain`: with only the intermediate trusted,
/// `openssl s_client` (like the `openssl` column) wants the root above it, while curl (like the
/// `openssl-partial-chain` column) accepts. Each handshake agrees with its paired in-process API.
#[test]
fn each_handshake_agrees_with_its_api_column_on_a_pinned_intermediate() {
    let Some(clients) = clients() else {
        return;
    };
    let chain = chain();
    let input = case("pinned", &chain, &chain.intermediate, 2025);
    let api: Vec<_> = anchorsmith_validators::in_process_validators();
    for client in &clients {
        let verdict = client.validate(&input);
        match client.client {
            Client::Openssl => assert!(
                matches!(
                    verdict,
                    Verdict::Reject {
                        kind: RejectKind::UnknownIssuer,
                        ..
                    }
                ),
                "{verdict:?}"
            ),
            _ => assert_eq!(verdict.outcome(), Outcome::Accept, "{}", client.name()),
        }
        let Some(pair) = client.api_pair() else {
            continue;
        };
        if let Some(api) = api.iter().find(|api| api.name() == pair.api) {
            assert_eq!(
                api.validate(&input).label(),
                verdict.label(),
                "{} vs {}",
                pair.handshake,
                pair.api
            );
        }
    }
}

/// Chromium at a fixed case time (libfaketime): the good chain at 2025-06-01 is accepted and the
/// same chain at 2026-06-01 is refused as `net::ERR_CERT_DATE_INVALID`, so its clock is the
/// case's, not today's; an unknown issuer and a leaf served without its intermediate (seed 000's
/// served chain) are `net::ERR_CERT_AUTHORITY_INVALID`, kind `unknown-issuer`.
#[test]
fn chromium_reads_the_case_time_and_names_its_errors() {
    let Some(clients) = clients() else {
        return;
    };
    let chromium = clients
        .iter()
        .find(|client| client.client == Client::Chromium)
        .expect("a chromium column");
    let chain = chain();
    let mut leaf_only = case("leaf-only", &chain, &chain.root, 2025);
    leaf_only.served_chain.clear();
    let inputs = [
        case("good", &chain, &chain.root, 2025),
        case("expired", &chain, &chain.root, 2026),
        case("unknown-issuer", &chain, &chain.other_root, 2025),
        leaf_only,
    ];
    let started = Instant::now();
    let verdicts = chromium.validate_batch(&inputs);
    let seen: Vec<(String, String)> = verdicts
        .iter()
        .map(|verdict| match verdict {
            Verdict::Reject { kind, detail } => (format!("reject:{kind}"), detail.clone()),
            other => (other.label(), String::new()),
        })
        .collect();
    let expected = [
        ("accept", ""),
        ("reject:other", "net::ERR_CERT_DATE_INVALID"),
        ("reject:unknown-issuer", "net::ERR_CERT_AUTHORITY_INVALID"),
        ("reject:unknown-issuer", "net::ERR_CERT_AUTHORITY_INVALID"),
    ]
    .map(|(label, detail)| (label.to_string(), detail.to_string()));
    assert_eq!(seen, expected, "{verdicts:#?}");
    eprintln!(
        "handshake:chromium: {} cases in {:.2} s ({})",
        inputs.len(),
        started.elapsed().as_secs_f64(),
        chromium.version()
    );
}
