//! Each knob on a small real PKI built with rcgen (ECDSA P-256): the DST Root CA X3 story in
//! miniature. An old root that expires on 2021-09-30, a new root, the new root cross-signed by
//! the old one, an intermediate under the new root, and a leaf under the intermediate whose AIA
//! names the intermediate's URL. Validated on 2021-10-15, after the old root expired.

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    IsCa, Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};

use super::{AlternateChains, AnchorExpiry, ClientModel, Knobs, BUDGET_EXHAUSTED};
use crate::{PeerName, RejectKind, ValidationInput, Validator, Verdict};

const INTERMEDIATE_URL: &str = "http://aia.test/intermediate.der";

struct Pki {
    old_root: Vec<u8>,
    new_root: Vec<u8>,
    new_by_old: Vec<u8>,
    intermediate: Vec<u8>,
    leaf: Vec<u8>,
}

fn ca(name: &str, serial: u64, from: i32, until: (i32, u8, u8)) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    params.serial_number = Some(SerialNumber::from(serial));
    params.not_before = date_time_ymd(from, 1, 1);
    params.not_after = date_time_ymd(until.0, until.1, until.2);
    params.use_authority_key_identifier_extension = true;
    params
}

/// DER of an authorityInfoAccess extension with one caIssuers URI (no encoder for it in rcgen).
fn aia_ca_issuers(url: &str) -> Vec<u8> {
    let ca_issuers_oid = [0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
    let mut location = vec![0x86, url.len() as u8];
    location.extend(url.as_bytes());
    let mut description = vec![0x30, (ca_issuers_oid.len() + location.len()) as u8];
    description.extend(ca_issuers_oid);
    description.extend(location);
    let mut sequence = vec![0x30, description.len() as u8];
    sequence.extend(description);
    sequence
}

fn pki() -> Pki {
    let old_key = KeyPair::generate().unwrap();
    let old_params = ca("Old Root", 1, 2000, (2021, 9, 30));
    let old_root = old_params.self_signed(&old_key).unwrap();
    let old_issuer = Issuer::new(old_params, old_key);

    let new_key = KeyPair::generate().unwrap();
    let mut new_params = ca("New Root", 2, 2015, (2035, 1, 1));
    new_params.use_authority_key_identifier_extension = false;
    let new_root = new_params.self_signed(&new_key).unwrap();
    let mut cross_params = new_params.clone();
    cross_params.serial_number = Some(SerialNumber::from(3));
    cross_params.not_after = date_time_ymd(2024, 9, 30);
    cross_params.use_authority_key_identifier_extension = true;
    let new_by_old = cross_params.signed_by(&new_key, &old_issuer).unwrap();
    let new_issuer = Issuer::new(new_params, new_key);

    let intermediate_key = KeyPair::generate().unwrap();
    let intermediate_params = ca("Intermediate", 4, 2020, (2025, 9, 15));
    let intermediate = intermediate_params
        .signed_by(&intermediate_key, &new_issuer)
        .unwrap();

    let mut leaf_params = CertificateParams::new(vec!["leaf.test".to_string()]).unwrap();
    leaf_params.distinguished_name = DistinguishedName::new();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "leaf.test");
    leaf_params.serial_number = Some(SerialNumber::from(5));
    leaf_params.not_before = date_time_ymd(2021, 9, 1);
    leaf_params.not_after = date_time_ymd(2021, 12, 1);
    leaf_params.use_authority_key_identifier_extension = true;
    leaf_params.custom_extensions = vec![CustomExtension::from_oid_content(
        &[1, 3, 6, 1, 5, 5, 7, 1, 1],
        aia_ca_issuers(INTERMEDIATE_URL),
    )];
    let leaf = leaf_params
        .signed_by(
            &KeyPair::generate().unwrap(),
            &Issuer::new(intermediate_params, intermediate_key),
        )
        .unwrap();
    Pki {
        old_root: old_root.der().to_vec(),
        new_root: new_root.der().to_vec(),
        new_by_old: new_by_old.der().to_vec(),
        intermediate: intermediate.der().to_vec(),
        leaf: leaf.der().to_vec(),
    }
}

fn case(pki: &Pki, store: &[&Vec<u8>], served: &[&Vec<u8>]) -> ValidationInput {
    ValidationInput {
        id: "model::test".into(),
        trust_anchors: store.iter().map(|der| der.to_vec()).collect(),
        served_chain: served.iter().map(|der| der.to_vec()).collect(),
        peer: pki.leaf.clone(),
        validation_time: Some(date_time_ymd(2021, 10, 15).into()),
        expected_peer_name: Some(PeerName::Dns("leaf.test".into())),
        ..ValidationInput::default()
    }
}

fn run(knobs: Knobs, input: &ValidationInput) -> Verdict {
    ClientModel::new("model", knobs).validate(input)
}

fn kind(verdict: &Verdict) -> Option<RejectKind> {
    match verdict {
        Verdict::Reject { kind, .. } => Some(*kind),
        _ => None,
    }
}

fn chain(verdict: &Verdict) -> Vec<&str> {
    match verdict {
        Verdict::Accept { chain_built } => chain_built.iter().map(String::as_str).collect(),
        other => panic!("not accepted: {other:?}"),
    }
}

fn openssl_1_0() -> Knobs {
    Knobs {
        trusted_first: false,
        alternate_chains: AlternateChains::WhenUntrusted,
        ..Knobs::default()
    }
}

#[test]
fn the_plain_path_builder_takes_the_short_chain_past_the_expired_root() {
    let pki = pki();
    let long = case(
        &pki,
        &[&pki.old_root, &pki.new_root],
        &[&pki.intermediate, &pki.new_by_old],
    );
    let verdict = run(Knobs::default(), &long);
    assert_eq!(chain(&verdict), ["leaf.test", "Intermediate", "New Root"]);
}

#[test]
fn untrusted_first_without_backtracking_fails_on_the_expired_root() {
    let pki = pki();
    let long = case(
        &pki,
        &[&pki.old_root, &pki.new_root],
        &[&pki.intermediate, &pki.new_by_old],
    );
    assert_eq!(kind(&run(openssl_1_0(), &long)), Some(RejectKind::Expired));
    let trusted_first = Knobs {
        trusted_first: true,
        ..openssl_1_0()
    };
    assert!(kind(&run(trusted_first, &long)).is_none());
    // The short chain has nothing to follow but the store.
    let short = case(&pki, &[&pki.old_root, &pki.new_root], &[&pki.intermediate]);
    assert!(kind(&run(openssl_1_0(), &short)).is_none());
}

#[test]
fn alternate_chains_retry_only_an_untrusted_chain() {
    let pki = pki();
    // Served: the cross-sign, whose issuer (Old Root) is not trusted here. Untrusted first, the
    // first chain ends at the cross-sign untrusted; a retry finds New Root in the store.
    let untrusted_top = case(
        &pki,
        &[&pki.new_root],
        &[&pki.intermediate, &pki.new_by_old],
    );
    let never = Knobs {
        alternate_chains: AlternateChains::Never,
        ..openssl_1_0()
    };
    assert_eq!(
        kind(&run(never, &untrusted_top)),
        Some(RejectKind::UnknownIssuer)
    );
    assert!(kind(&run(openssl_1_0(), &untrusted_top)).is_none());
}

#[test]
fn anchor_expiry_ignored_keeps_old_android_on_the_long_chain() {
    let pki = pki();
    let only_old = case(
        &pki,
        &[&pki.old_root],
        &[&pki.intermediate, &pki.new_by_old],
    );
    assert_eq!(
        kind(&run(Knobs::default(), &only_old)),
        Some(RejectKind::Expired)
    );
    let android = Knobs {
        anchor_expiry: AnchorExpiry::Ignored,
        ..Knobs::default()
    };
    assert_eq!(
        chain(&run(android, &only_old)),
        ["leaf.test", "Intermediate", "New Root", "Old Root"]
    );
}

#[test]
fn partial_chain_lets_a_trusted_intermediate_end_the_path() {
    let pki = pki();
    let firmware = case(&pki, &[&pki.intermediate], &[]);
    assert_eq!(
        kind(&run(Knobs::default(), &firmware)),
        Some(RejectKind::UnknownIssuer)
    );
    let partial = Knobs {
        partial_chain: true,
        ..Knobs::default()
    };
    assert_eq!(
        chain(&run(partial, &firmware)),
        ["leaf.test", "Intermediate"]
    );
}

#[test]
fn the_cache_and_aia_are_used_only_when_their_knobs_say_so() {
    let pki = pki();
    let mut leaf_only = case(&pki, &[&pki.new_root], &[]);
    leaf_only.cached = vec![pki.intermediate.clone()];
    leaf_only.aia_repository = vec![
        ("http://elsewhere.test/x.der".into(), pki.new_root.clone()),
        (INTERMEDIATE_URL.into(), pki.intermediate.clone()),
    ];
    assert_eq!(
        kind(&run(Knobs::default(), &leaf_only)),
        Some(RejectKind::UnknownIssuer)
    );
    let cache = Knobs {
        intermediate_cache: true,
        ..Knobs::default()
    };
    assert!(kind(&run(cache, &leaf_only)).is_none());
    let aia = Knobs {
        aia_fetching: true,
        ..Knobs::default()
    };
    assert!(kind(&run(aia.clone(), &leaf_only)).is_none());
    // Only the URL the certificate names is fetched.
    leaf_only
        .aia_repository
        .retain(|(url, _)| url != INTERMEDIATE_URL);
    assert_eq!(kind(&run(aia, &leaf_only)), Some(RejectKind::UnknownIssuer));
}

#[test]
fn chain_as_sent_refuses_what_a_path_builder_would_reorder() {
    let pki = pki();
    let bearssl = Knobs {
        chain_as_sent: true,
        ..Knobs::default()
    };
    let in_order = case(&pki, &[&pki.new_root], &[&pki.intermediate]);
    assert!(kind(&run(bearssl.clone(), &in_order)).is_none());
    let extra_first = case(
        &pki,
        &[&pki.new_root],
        &[&pki.new_by_old, &pki.intermediate],
    );
    assert!(kind(&run(Knobs::default(), &extra_first)).is_none());
    assert_eq!(
        kind(&run(bearssl, &extra_first)),
        Some(RejectKind::UnknownIssuer)
    );
}

#[test]
fn topmost_issuer_only_looks_up_the_last_certificate_sent() {
    let pki = pki();
    let esp_idf = Knobs {
        topmost_issuer_only: true,
        ..Knobs::default()
    };
    let short = case(&pki, &[&pki.new_root], &[&pki.intermediate]);
    assert!(kind(&run(esp_idf.clone(), &short)).is_none());
    // Long chain: the last certificate sent is issued by Old Root, which this bundle lacks,
    // although New Root (the issuer of a certificate below it) is in it.
    let long = case(
        &pki,
        &[&pki.new_root],
        &[&pki.intermediate, &pki.new_by_old],
    );
    assert!(kind(&run(Knobs::default(), &long)).is_none());
    assert_eq!(kind(&run(esp_idf, &long)), Some(RejectKind::UnknownIssuer));
}

#[test]
fn an_exhausted_signature_budget_is_a_rejection_that_says_so() {
    let pki = pki();
    let short = case(&pki, &[&pki.new_root], &[&pki.intermediate]);
    let tight = Knobs {
        signature_budget: 1,
        ..Knobs::default()
    };
    match run(tight, &short) {
        Verdict::Reject { detail, .. } => assert_eq!(detail, BUDGET_EXHAUSTED),
        other => panic!("{other:?}"),
    }
    let enough = Knobs {
        signature_budget: 2,
        ..Knobs::default()
    };
    assert!(kind(&run(enough, &short)).is_none());
}

#[test]
fn a_wrong_name_and_an_expired_leaf_are_reported_as_such() {
    let pki = pki();
    let mut input = case(&pki, &[&pki.new_root], &[&pki.intermediate]);
    input.expected_peer_name = Some(PeerName::Dns("other.test".into()));
    assert_eq!(
        kind(&run(Knobs::default(), &input)),
        Some(RejectKind::NameMismatch)
    );
    input.expected_peer_name = None;
    input.validation_time = Some(date_time_ymd(2022, 1, 1).into());
    assert_eq!(
        kind(&run(Knobs::default(), &input)),
        Some(RejectKind::Expired)
    );
}

#[test]
fn forward_only_finds_an_issuer_only_among_the_certificates_sent_after() {
    let pki = pki();
    let android = Knobs {
        anchor_expiry: AnchorExpiry::Ignored,
        ..Knobs::default()
    };
    let mbedtls = Knobs {
        forward_only: true,
        ..android.clone()
    };
    let after = case(
        &pki,
        &[&pki.old_root],
        &[&pki.intermediate, &pki.new_by_old],
    );
    assert!(kind(&run(mbedtls.clone(), &after)).is_none());
    // The cross-sign sent before the intermediate it issued: a path builder still finds it.
    let before = case(
        &pki,
        &[&pki.old_root],
        &[&pki.new_by_old, &pki.intermediate],
    );
    assert!(kind(&run(android, &before)).is_none());
    assert_eq!(
        kind(&run(mbedtls, &before)),
        Some(RejectKind::UnknownIssuer)
    );
}
