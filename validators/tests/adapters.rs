//! The real adapters (rustls-webpki and the three OpenSSL profiles) on real certificates built
//! in the test, checked against the behaviour measured in NOTES.md, plus a sanity run over
//! limbo's core suite.

mod fixtures;

use anchorsmith_validators::limbo::{ExpectedResult, Limbo};
use anchorsmith_validators::openssl_validator::{OpenSslProfile, OpenSslValidator};
use anchorsmith_validators::webpki_validator::RustlsWebpki;
use anchorsmith_validators::{
    in_process_validators, PeerName, RejectKind, Usage, ValidationInput, Validator, Verdict,
};
use fixtures::*;

fn openssl(profile: OpenSslProfile) -> OpenSslValidator {
    OpenSslValidator::new(profile)
}

/// Every in-process validator rejects `case`, for the reason `kind`.
fn assert_every_validator_rejects(case: &ValidationInput, kind: RejectKind) {
    for validator in in_process_validators() {
        let verdict = validator.validate(case);
        assert_eq!(
            reject_kind(&verdict),
            Some(kind),
            "{}: {verdict:?}",
            validator.name()
        );
    }
}

fn reject_kind(verdict: &Verdict) -> Option<RejectKind> {
    match verdict {
        Verdict::Reject { kind, .. } => Some(*kind),
        _ => None,
    }
}

#[test]
fn all_accept_a_good_chain_and_report_it() {
    let pki = build(&Topology::default());
    let case = input("good", &pki, LEAF_NAME, mid_2025());
    for validator in in_process_validators() {
        let verdict = validator.validate(&case);
        assert_eq!(
            verdict,
            Verdict::Accept {
                chain_built: vec![
                    LEAF_NAME.to_string(),
                    "Test Intermediate CA".to_string(),
                    "Test Root CA".to_string()
                ]
            },
            "{}",
            validator.name()
        );
    }
}

#[test]
fn all_reject_an_expired_leaf_as_expired() {
    let pki = build(&Topology {
        leaf_validity: (at(2023, 1, 1), at(2024, 1, 1)),
        ..Topology::default()
    });
    let case = input("expired-leaf", &pki, LEAF_NAME, mid_2025());
    assert_every_validator_rejects(&case, RejectKind::Expired);
    match openssl(OpenSslProfile::Default).validate(&case) {
        Verdict::Reject { detail, .. } => {
            assert!(
                detail.starts_with("error 10 at depth 0 (leaf.anchorsmith.test)"),
                "{detail}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn not_yet_valid_leaf() {
    let pki = build(&Topology::default());
    let case = input("early", &pki, LEAF_NAME, at(2024, 6, 1));
    assert_every_validator_rejects(&case, RejectKind::NotYetValid);
}

/// NOTES.md: webpki keeps only subject, SPKI and name constraints of an anchor, so an expired
/// root still anchors; OpenSSL checks the anchor's validity (error 10).
#[test]
fn expired_anchor_splits_webpki_and_openssl() {
    let pki = build(&Topology {
        root_validity: (at(2015, 1, 1), at(2024, 1, 1)),
        ..Topology::default()
    });
    let case = input("expired-anchor", &pki, LEAF_NAME, mid_2025());
    assert!(matches!(
        RustlsWebpki.validate(&case),
        Verdict::Accept { .. }
    ));
    for profile in OpenSslProfile::ALL {
        let verdict = openssl(profile).validate(&case);
        assert_eq!(
            reject_kind(&verdict),
            Some(RejectKind::Expired),
            "{}: {verdict:?}",
            profile.name()
        );
        if let Verdict::Reject { detail, .. } = verdict {
            assert!(detail.contains("at depth 2 (Test Root CA)"), "{detail}");
        }
    }
}

#[test]
fn wrong_name_is_a_name_mismatch() {
    let pki = build(&Topology::default());
    let case = input("wrong-name", &pki, "other.anchorsmith.test", mid_2025());
    assert_every_validator_rejects(&case, RejectKind::NameMismatch);
    let mut by_ip = input("wrong-ip", &pki, LEAF_NAME, mid_2025());
    by_ip.expected_peer_name = Some(PeerName::Ip("192.0.2.1".parse().unwrap()));
    assert_every_validator_rejects(&by_ip, RejectKind::NameMismatch);
}

#[test]
fn unknown_issuer_when_the_anchor_is_someone_else() {
    let pki = build(&Topology::default());
    let stranger = build(&Topology {
        root_name: "Test Stranger Root CA",
        ..Topology::default()
    });
    let mut case = input("unknown-issuer", &pki, LEAF_NAME, mid_2025());
    case.trust_anchors = vec![stranger.root.clone()];
    assert_every_validator_rejects(&case, RejectKind::UnknownIssuer);
    // Without the served intermediate, even the right anchor cannot be reached.
    let mut missing = input("missing-intermediate", &pki, LEAF_NAME, mid_2025());
    missing.served_chain.clear();
    assert_every_validator_rejects(&missing, RejectKind::UnknownIssuer);
    // ...but a client that cached it builds the chain.
    missing.cached = vec![pki.intermediate.clone()];
    for validator in in_process_validators() {
        assert!(
            matches!(validator.validate(&missing), Verdict::Accept { .. }),
            "{}",
            validator.name()
        );
    }
}

/// An anchor with the right name but another key: webpki finds the candidate by name and reports
/// the failed signature; OpenSSL matches the authorityKeyIdentifier first, finds no issuer and
/// reports error 20.
#[test]
fn same_name_other_key_anchor() {
    let pki = build(&Topology::default());
    let impostor = build(&Topology::default());
    let mut case = input("impostor-anchor", &pki, LEAF_NAME, mid_2025());
    case.trust_anchors = vec![impostor.root.clone()];
    for validator in in_process_validators() {
        let verdict = validator.validate(&case);
        let expected = if validator.name() == "rustls-webpki" {
            RejectKind::BadSignature
        } else {
            RejectKind::UnknownIssuer
        };
        assert_eq!(
            reject_kind(&verdict),
            Some(expected),
            "{}: {verdict:?}",
            validator.name()
        );
    }
}

/// X509_STRICT requires authorityKeyIdentifier (OpenSSL 3 error 85); the other profiles and
/// webpki do not look for it.
#[test]
fn strict_profile_requires_an_authority_key_identifier() {
    let pki = build(&Topology {
        authority_key_identifier: false,
        ..Topology::default()
    });
    let case = input("no-aki", &pki, LEAF_NAME, mid_2025());
    match openssl(OpenSslProfile::Strict).validate(&case) {
        Verdict::Reject {
            kind: RejectKind::Other,
            detail,
        } => {
            assert!(detail.starts_with("error 85 at depth 0"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
    for validator in [
        &RustlsWebpki as &dyn Validator,
        &openssl(OpenSslProfile::Default),
        &openssl(OpenSslProfile::PartialChain),
    ] {
        assert!(
            matches!(validator.validate(&case), Verdict::Accept { .. }),
            "{}",
            validator.name()
        );
    }
}

/// NOTES.md: leaf issuer "CA X3", served intermediate "CA X1" with the same key: webpki
/// UnknownIssuer, OpenSSL error 20; with the subject "CA X3" both accept.
#[test]
fn same_key_different_subject_does_not_chain() {
    let pki = build(&Topology {
        intermediate_subject: "Test Other Intermediate CA",
        ..Topology::default()
    });
    let case = input("same-key-other-subject", &pki, LEAF_NAME, mid_2025());
    assert_every_validator_rejects(&case, RejectKind::UnknownIssuer);
    match openssl(OpenSslProfile::Default).validate(&case) {
        Verdict::Reject { detail, .. } => assert!(detail.starts_with("error 20 "), "{detail}"),
        other => panic!("{other:?}"),
    }
}

/// PARTIAL_CHAIN lets a trusted intermediate end the chain; the default profile insists on a
/// self-signed anchor (error 2: unable to get issuer certificate).
#[test]
fn partial_chain_trusts_an_intermediate_anchor() {
    let pki = build(&Topology::default());
    let mut case = input("intermediate-anchor", &pki, LEAF_NAME, mid_2025());
    case.trust_anchors = vec![pki.intermediate.clone()];
    case.served_chain.clear();
    assert_eq!(
        openssl(OpenSslProfile::PartialChain).validate(&case),
        Verdict::Accept {
            chain_built: vec![LEAF_NAME.into(), "Test Intermediate CA".into()]
        }
    );
    let verdict = openssl(OpenSslProfile::Default).validate(&case);
    assert_eq!(
        reject_kind(&verdict),
        Some(RejectKind::UnknownIssuer),
        "{verdict:?}"
    );
    assert!(matches!(
        RustlsWebpki.validate(&case),
        Verdict::Accept { .. }
    ));
}

#[test]
fn what_an_adapter_cannot_honour_is_skipped() {
    let pki = build(&Topology::default());
    let mut depth = input("depth", &pki, LEAF_NAME, mid_2025());
    depth.max_chain_depth = Some(1);
    assert!(matches!(
        RustlsWebpki.validate(&depth),
        Verdict::Skip { .. }
    ));
    // OpenSSL honours a maximum depth: 1 allows leaf + intermediate + root.
    assert!(matches!(
        openssl(OpenSslProfile::Default).validate(&depth),
        Verdict::Accept { .. }
    ));
    depth.max_chain_depth = Some(0);
    let verdict = openssl(OpenSslProfile::Default).validate(&depth);
    assert_eq!(
        reject_kind(&verdict),
        Some(RejectKind::PathTooLong),
        "{verdict:?}"
    );

    let mut client_with_name = input("client-name", &pki, LEAF_NAME, mid_2025());
    client_with_name.usage = Usage::ClientAuth;
    assert!(matches!(
        RustlsWebpki.validate(&client_with_name),
        Verdict::Skip { .. }
    ));

    let mut key_usage = input("key-usage", &pki, LEAF_NAME, mid_2025());
    key_usage.key_usage = vec!["digitalSignature".into()];
    for validator in in_process_validators() {
        assert!(
            matches!(validator.validate(&key_usage), Verdict::Skip { .. }),
            "{}",
            validator.name()
        );
    }
}

#[test]
fn server_leaf_is_not_a_client_certificate() {
    let pki = build(&Topology::default());
    let mut case = input("client", &pki, LEAF_NAME, mid_2025());
    case.usage = Usage::ClientAuth;
    case.expected_peer_name = None;
    assert_every_validator_rejects(&case, RejectKind::Usage);
}

#[test]
fn garbage_peer_is_a_rejection_not_a_crash() {
    let pki = build(&Topology::default());
    let mut case = input("garbage", &pki, LEAF_NAME, mid_2025());
    case.peer = b"not a certificate".to_vec();
    assert_every_validator_rejects(&case, RejectKind::Other);
}

/// Sanity run over limbo's core suite: prints agreement with `expected_result` per validator
/// (not pinned here; the suite tables pin it). Fails on any validator error.
#[test]
fn limbo_core_sanity() {
    let text = std::fs::read_to_string(shared_dir().join("limbo/limbo-core.json")).unwrap();
    let limbo: Limbo = serde_json::from_str(&text).unwrap();
    let inputs: Vec<_> = limbo
        .testcases
        .iter()
        .map(|case| case.to_input().unwrap())
        .collect();
    let options = anchorsmith_validators::runner::RunOptions::default();
    let results =
        anchorsmith_validators::runner::run_all(&in_process_validators(), &inputs, &options);
    for run in &results.runs {
        let (mut matched, mut unexpected_success, mut unexpected_failure, mut skipped) =
            (0, 0, 0, 0);
        for case in &limbo.testcases {
            let expected_success = case.expected_result == ExpectedResult::Success;
            match &run.verdicts[&case.id] {
                Verdict::Accept { .. } if expected_success => matched += 1,
                Verdict::Reject { .. } if !expected_success => matched += 1,
                Verdict::Accept { .. } => unexpected_success += 1,
                Verdict::Reject { .. } => unexpected_failure += 1,
                Verdict::Skip { .. } => skipped += 1,
                Verdict::Error { detail } => panic!("{} on {}: {detail}", run.name, case.id),
            }
        }
        println!(
            "{:24} {} cases: {matched} match, {unexpected_success} unexpected success, \
             {unexpected_failure} unexpected failure, {skipped} skipped ({:?}) [{}]",
            run.name,
            inputs.len(),
            run.wall_time,
            run.version
        );
        assert!(
            matched * 2 > inputs.len(),
            "{}: only {matched} match",
            run.name
        );
    }
}

mod lets_encrypt {
    //! The real Let's Encrypt certificates in ../shared/fixtures/letsencrypt. There is no
    //! leaf among them, so R3 is the peer: OpenSSL's sslserver purpose accepts a CA certificate
    //! as the peer, webpki refuses it (CaUsedAsEndEntity).

    use super::*;

    fn der(file: &str) -> Vec<u8> {
        let text =
            std::fs::read_to_string(shared_dir().join("fixtures/letsencrypt").join(file)).unwrap();
        pem::parse(text).unwrap().into_contents()
    }

    fn r3_case(anchors: &[&str], served: &[&str], time: time::OffsetDateTime) -> ValidationInput {
        ValidationInput {
            id: "le::r3".into(),
            trust_anchors: anchors.iter().map(|f| der(f)).collect(),
            served_chain: served.iter().map(|f| der(f)).collect(),
            peer: der("r3.pem"),
            validation_time: Some(system_time(time)),
            ..ValidationInput::default()
        }
    }

    #[test]
    fn r3_under_isrg_root_x1() {
        let case = r3_case(&["isrg-root-x1.pem"], &[], at(2021, 6, 1));
        for profile in OpenSslProfile::ALL {
            assert_eq!(
                openssl(profile).validate(&case),
                Verdict::Accept {
                    chain_built: vec!["R3".into(), "ISRG Root X1".into()]
                },
                "{}",
                profile.name()
            );
        }
        match RustlsWebpki.validate(&case) {
            Verdict::Reject {
                kind: RejectKind::ConstraintViolation,
                detail,
            } => {
                assert!(detail.contains("CaUsedAsEndEntity"), "{detail}")
            }
            other => panic!("{other:?}"),
        }
    }

    /// The DST Root CA X3 expiry (2021-09-30): the long chain through the cross-sign fails in
    /// OpenSSL on the expired anchor (error 10 at depth 2); with ISRG Root X1 also trusted,
    /// trusted-first builds the short chain and ignores the served cross-sign.
    #[test]
    fn dst_root_expiry_long_chain() {
        let served = ["isrg-root-x1-by-dst-x3.pem"];
        let only_old = r3_case(&["dst-root-ca-x3.pem"], &served, at(2021, 10, 15));
        match openssl(OpenSslProfile::Default).validate(&only_old) {
            Verdict::Reject {
                kind: RejectKind::Expired,
                detail,
            } => {
                assert!(
                    detail.starts_with("error 10 at depth 2 (DST Root CA X3)"),
                    "{detail}"
                )
            }
            other => panic!("{other:?}"),
        }
        let both = r3_case(
            &["dst-root-ca-x3.pem", "isrg-root-x1.pem"],
            &served,
            at(2021, 10, 15),
        );
        assert_eq!(
            openssl(OpenSslProfile::Default).validate(&both),
            Verdict::Accept {
                chain_built: vec!["R3".into(), "ISRG Root X1".into()]
            }
        );
    }
}

/// A certificate that is not a CA (basicConstraints CA:FALSE) signing the leaf: every validator
/// rejects it, and OpenSSL's code (79, X509_V_ERR_INVALID_CA in OpenSSL 3) must map to a
/// constraint violation, not to `other`.
#[test]
fn a_non_ca_issuer_is_a_constraint_violation() {
    use rcgen::{IsCa, Issuer, KeyPair};
    let root_key = KeyPair::generate().unwrap();
    let root_params = ca_params("Test Root CA", 1, (at(2020, 1, 1), at(2035, 1, 1)));
    let root = root_params.self_signed(&root_key).unwrap();
    let root_issuer = Issuer::new(root_params, root_key);
    let middle_key = KeyPair::generate().unwrap();
    let mut middle_params = ca_params("Test Intermediate CA", 2, (at(2021, 1, 1), at(2030, 1, 1)));
    middle_params.is_ca = IsCa::ExplicitNoCa;
    middle_params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    middle_params.use_authority_key_identifier_extension = true;
    let middle = middle_params.signed_by(&middle_key, &root_issuer).unwrap();
    let mut leaf = leaf_params(3, (at(2025, 1, 1), at(2026, 1, 1)));
    leaf.use_authority_key_identifier_extension = true;
    let leaf = leaf
        .signed_by(
            &KeyPair::generate().unwrap(),
            &Issuer::new(middle_params, middle_key),
        )
        .unwrap();
    let pki = Pki {
        root: root.der().to_vec(),
        intermediate: middle.der().to_vec(),
        leaf: leaf.der().to_vec(),
    };
    let case = input("non-ca-issuer", &pki, LEAF_NAME, mid_2025());
    assert_every_validator_rejects(&case, RejectKind::ConstraintViolation);
}
