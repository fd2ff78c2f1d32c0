//! The device's trust policy on real certificates: distrust-after dates compared with the leaf's
//! notBefore (not with the current time), distrusted anchors, key types (the Let's Encrypt
//! fixtures in ../shared and PKIs made here with rcgen), trust metadata errors located in their
//! file, and the system store read through SSL_CERT_FILE.

use std::path::{Path, PathBuf};

use anchorsmith_bundle::build::{build, parse_instant, Request};
use anchorsmith_bundle::coverage::{self, DeviceVerifier, Reach};
use anchorsmith_bundle::lint::{Lint, Severity};
use anchorsmith_bundle::load::{self, Candidate, CandidateSource, Endpoint};
use anchorsmith_bundle::policy::{self, KeyPolicy, KeyType, Policy};
use anchorsmith_diagnostics::Code;
use sha2::Digest;
use time::OffsetDateTime;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/letsencrypt")
}

fn at(text: &str) -> OffsetDateTime {
    parse_instant(text).unwrap()
}

fn fixture_candidate(file: &str) -> Candidate {
    let mut found = load::load_candidate_file(&fixtures().join(file)).unwrap();
    found.remove(0)
}

fn fixture_endpoint(host: &str, file: &str) -> Endpoint {
    load::load_endpoint(host, &fixtures().join(file)).unwrap()
}

fn sha256(der: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(der))
}

fn ca_params(cn: &str, from: &str, to: &str) -> rcgen::CertificateParams {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.not_before = at(from);
    params.not_after = at(to);
    params
}

/// A root, an intermediate it issued, and leaves from the intermediate, made here.
struct Pki {
    root: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
    intermediate: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
}

impl Pki {
    fn new(name: &str, root_alg: &'static rcgen::SignatureAlgorithm) -> Pki {
        let root = rcgen::CertifiedIssuer::self_signed(
            ca_params(&format!("{name} Root"), "2020-01-01", "2045-01-01"),
            rcgen::KeyPair::generate_for(root_alg).unwrap(),
        )
        .unwrap();
        let intermediate = rcgen::CertifiedIssuer::signed_by(
            ca_params(&format!("{name} Issuing CA"), "2020-01-01", "2044-01-01"),
            rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap(),
            &root,
        )
        .unwrap();
        Pki { root, intermediate }
    }

    fn root(&self) -> Candidate {
        Candidate {
            der: self.root.der().to_vec(),
            origin: "test".into(),
        }
    }

    /// An endpoint serving a leaf valid for a year from `issued`, and the intermediate.
    fn endpoint_with_leaf(&self, host: &str, issued: &str) -> Endpoint {
        let mut params = rcgen::CertificateParams::new(vec![host.to_string()]).unwrap();
        params.not_before = at(issued);
        params.not_after = at(issued) + time::Duration::days(365);
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let leaf = params.signed_by(&key, &self.intermediate).unwrap();
        Endpoint {
            host: host.into(),
            file: PathBuf::from(format!("{host}.pem")),
            chain: vec![leaf.der().to_vec(), self.intermediate.der().to_vec()],
            has_leaf: true,
        }
    }

    /// An endpoint of which only the intermediate is at hand.
    fn endpoint_without_leaf(&self, host: &str) -> Endpoint {
        Endpoint {
            host: host.into(),
            file: PathBuf::from(format!("{host}.pem")),
            chain: vec![self.intermediate.der().to_vec()],
            has_leaf: false,
        }
    }
}

/// Trust metadata parsed from `text`, as `--trust-metadata` reads it.
fn metadata(text: &str) -> policy::TrustMetadata {
    load::parse_trust_metadata(Path::new("trust.toml"), text).unwrap_or_else(|e| panic!("{e}"))
}

fn distrust_after(der: &[u8], date: &str) -> Policy {
    Policy {
        trust: vec![metadata(&format!(
            "source = \"test store\"\n[[anchor]]\nsha256 = \"{}\"\ndistrust-after = \"{date}\"\nnote = \"test distrust\"\n",
            sha256(der)
        ))],
        ..Policy::default()
    }
}

fn request(endpoints: Vec<Endpoint>, candidates: Vec<Candidate>, now: &str) -> Request {
    Request {
        min_per_endpoint: 1,
        ..Request::new(
            endpoints,
            candidates,
            DeviceVerifier::FullPathBuilding,
            at(now),
            at("2040-01-01"),
        )
    }
}

/// The reach of every candidate for every endpoint, validated and then under `policy`.
fn reach_under(
    policy: &Policy,
    endpoints: &[Endpoint],
    candidates: &[Candidate],
    now: &str,
) -> Vec<Vec<Reach>> {
    let ders: Vec<Vec<u8>> = candidates.iter().map(|c| c.der.clone()).collect();
    let validated = coverage::matrix(
        DeviceVerifier::FullPathBuilding,
        endpoints,
        &ders,
        at(now),
        at("2040-01-01"),
    );
    assert!(
        validated.iter().all(|row| row[0].covers()),
        "without the policy the root covers: {validated:?}"
    );
    policy::apply(
        policy,
        endpoints,
        &ders,
        at(now),
        at("2040-01-01"),
        validated,
    )
}

#[test]
fn a_leaf_issued_before_distrust_after_stays_covered_after_that_date_with_a_lint() {
    let pki = Pki::new("Fading", &rcgen::PKCS_ECDSA_P256_SHA256);
    let mut asked = request(
        vec![pki.endpoint_with_leaf("old-leaf.example", "2026-05-01")],
        vec![pki.root()],
        // Now is after the distrust-after date: the current leaf still counts.
        "2026-11-30",
    );
    asked.policy = distrust_after(pki.root.der(), "2026-06-01");
    let bundle = build(asked).unwrap_or_else(|e| panic!("{e}"));
    assert!(bundle.reach[0][0].covers());
    let lint = bundle
        .lints
        .iter()
        .find(|lint| matches!(lint, Lint::DistrustAfter { .. }))
        .expect("a distrust-after lint");
    assert_eq!(
        lint,
        &Lint::DistrustAfter {
            anchor: "Fading Root".into(),
            distrust_after: at("2026-06-01"),
            source: "test store: test distrust".into(),
            endpoint: "old-leaf.example".into(),
            leaf_not_before: Some(at("2026-05-01")),
            backup: false,
        }
    );
    // No other anchor carries the renewal: an error.
    assert_eq!(lint.severity(), Severity::Error);
    let sentence = lint.sentence();
    for part in [
        "Fading Root",
        "2026-06-01",
        "old-leaf.example",
        "2026-05-01",
        "renewal",
    ] {
        assert!(sentence.contains(part), "{part}: {sentence}");
    }
    let manifest = bundle.manifest();
    assert_eq!(manifest.anchors[0].distrust_after, Some(at("2026-06-01")));
    assert_eq!(manifest.trust_metadata[0].source, "test store");
    assert_eq!(manifest.trust_metadata[0].unmatched, 0);
    assert!(bundle.report().contains("Fading Root is distrusted"));
}

#[test]
fn a_leaf_issued_after_distrust_after_is_not_covered_even_before_that_date() {
    let pki = Pki::new("Fading", &rcgen::PKCS_ECDSA_P256_SHA256);
    let endpoints = vec![pki.endpoint_with_leaf("new-leaf.example", "2026-07-01")];
    let policy = distrust_after(pki.root.der(), "2026-06-01");
    // Now is before the distrust-after date; what counts is when the leaf was issued.
    let reach = reach_under(&policy, &endpoints, &[pki.root()], "2026-03-01");
    match &reach[0][0] {
        Reach::Never { verdict } => {
            assert!(verdict.contains("issued after 2026-06-01"), "{verdict}");
            assert!(verdict.contains("2026-07-01"), "{verdict}");
        }
        other => panic!("{other:?}"),
    }
    let mut asked = request(endpoints, vec![pki.root()], "2026-03-01");
    asked.policy = policy;
    let error = build(asked).unwrap_err();
    assert_eq!(error.uncovered[0].0, "new-leaf.example");
    assert!(error.uncovered[0].1.contains("issued after"), "{error}");
}

#[test]
fn without_a_leaf_the_leaves_to_come_count_from_now() {
    let pki = Pki::new("Fading", &rcgen::PKCS_ECDSA_P256_SHA256);
    let endpoints = vec![pki.endpoint_without_leaf("intermediates.example")];
    let policy = distrust_after(pki.root.der(), "2030-01-01");
    // Before the date: covered until the second after it.
    let before = reach_under(&policy, &endpoints, &[pki.root()], "2026-11-30");
    match &before[0][0] {
        Reach::Until { fails_at, verdict } => {
            assert_eq!(*fails_at, at("2030-01-01T00:00:01Z"));
            assert!(verdict.contains("issued after"), "{verdict}");
        }
        other => panic!("{other:?}"),
    }
    // After the date: every leaf to come is refused.
    let after = reach_under(&policy, &endpoints, &[pki.root()], "2030-06-01");
    assert!(
        matches!(&after[0][0], Reach::Never { verdict } if verdict.contains("from now on")),
        "{after:?}"
    );
    // A date past the horizon changes nothing.
    let late = distrust_after(pki.root.der(), "2041-01-01");
    let unchanged = reach_under(&late, &endpoints, &[pki.root()], "2026-11-30");
    assert_eq!(unchanged[0][0], Reach::Covers);
}

#[test]
fn a_distrusted_anchor_covers_nothing_and_says_why() {
    let endpoints = vec![fixture_endpoint("r10", "r10.pem")];
    let x1 = fixture_candidate("isrg-root-x1.pem");
    let x2 = fixture_candidate("isrg-root-x2.pem");
    let policy = Policy {
        trust: vec![metadata(&format!(
            "source = \"test store\"\n\n[[anchor]]\nsha256 = \"{}\"\ntrust = \"distrusted\"\nnote = \"removed after an incident\"\n\n[[anchor]]\nsha256 = \"{}\"\ntrust = \"trusted\"\n",
            sha256(&x1.der),
            "00".repeat(32)
        ))],
        ..Policy::default()
    };
    let reach = reach_under(&policy, &endpoints, std::slice::from_ref(&x1), "2026-11-30");
    assert!(
        matches!(&reach[0][0], Reach::Never { verdict } if verdict.contains("removed after an incident")),
        "{reach:?}"
    );
    let mut asked = request(endpoints, vec![x1, x2], "2026-11-30");
    asked.policy = policy;
    let error = build(asked).unwrap_err();
    assert_eq!(error.uncovered[0].0, "r10");
    assert!(error.uncovered[0].1.contains("distrusted"), "{error}");
}

#[test]
fn unmatched_metadata_entries_are_counted_in_the_report() {
    let endpoints = vec![fixture_endpoint("r10", "r10.pem")];
    let x1 = fixture_candidate("isrg-root-x1.pem");
    let mut asked = request(endpoints, vec![x1.clone()], "2026-11-30");
    asked.policy.trust = vec![metadata(&format!(
        "source = \"another store\"\n[[anchor]]\nsha256 = \"{}\"\n[[anchor]]\nsha256 = \"{}\"\n",
        sha256(&x1.der).to_uppercase(),
        "ab".repeat(32)
    ))];
    let bundle = build(asked).unwrap();
    let used = &bundle.manifest().trust_metadata[0];
    assert_eq!((used.entries, used.unmatched), (2, 1));
    let report = bundle.report();
    assert!(
        report.contains("(another store): 2 entries, 1 matching no candidate"),
        "{report}"
    );
}

#[test]
fn keys_are_read_from_the_certificates() {
    let key = |file: &str| policy::key_of(&fixture_candidate(file).der).unwrap();
    let x1 = key("isrg-root-x1.pem");
    assert_eq!((x1.key_type, x1.rsa_bits), (Some(KeyType::Rsa), Some(4096)));
    let r10 = key("r10.pem");
    assert_eq!(r10.rsa_bits, Some(2048));
    assert_eq!(key("isrg-root-x2.pem").key_type, Some(KeyType::EcdsaP384));
    let made = |alg| {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let der = ca_params("k", "2020-01-01", "2030-01-01")
            .self_signed(&key)
            .unwrap()
            .der()
            .to_vec();
        policy::key_of(&der).unwrap().key_type
    };
    assert_eq!(
        made(&rcgen::PKCS_ECDSA_P256_SHA256),
        Some(KeyType::EcdsaP256)
    );
    assert_eq!(made(&rcgen::PKCS_ED25519), Some(KeyType::Ed25519));
}

fn rsa_and_p256() -> Policy {
    Policy {
        keys: KeyPolicy {
            supported: Some([KeyType::Rsa, KeyType::EcdsaP256].into_iter().collect()),
            min_rsa_bits: None,
        },
        ..Policy::default()
    }
}

#[test]
fn a_p384_root_is_excluded_when_the_device_has_no_p384() {
    let x1 = fixture_candidate("isrg-root-x1.pem");
    let x2 = fixture_candidate("isrg-root-x2.pem");
    let mut asked = request(
        vec![fixture_endpoint("r10", "r10.pem")],
        vec![x1, x2],
        "2026-11-30",
    );
    asked.policy = rsa_and_p256();
    let bundle = build(asked).unwrap();
    let anchors: Vec<String> = bundle.anchors().into_iter().map(|a| a.name).collect();
    assert_eq!(anchors, ["ISRG Root X1"]);
    let x2_at = bundle
        .request
        .candidates
        .iter()
        .position(|c| c.der == fixture_candidate("isrg-root-x2.pem").der)
        .unwrap();
    // X2 does not reach R10 anyway; the key is the reason given first.
    assert!(
        matches!(&bundle.reach[0][x2_at], Reach::Never { .. }),
        "{:?}",
        bundle.reach[0][x2_at]
    );
    // A device store holding X2 is told it cannot use it.
    let lints = bundle.lint_store(&[x2_at]);
    assert!(
        lints.iter().any(|lint| matches!(lint,
            Lint::UnsupportedKeyType { anchor, key, would_cover }
                if anchor == "ISRG Root X2" && key.key_type == Some(KeyType::EcdsaP384) && would_cover.is_empty())),
        "{lints:?}"
    );
    let manifest = bundle.manifest();
    assert_eq!(
        manifest.anchors[0].key.as_ref().unwrap().rsa_bits,
        Some(4096)
    );
}

#[test]
fn an_endpoint_whose_intermediate_has_an_unsupported_key_is_uncovered_with_the_reason() {
    // E5 has a P-384 key: the device cannot check the leaves it signs.
    let mut asked = request(
        vec![
            fixture_endpoint("r10", "r10.pem"),
            fixture_endpoint("e5", "e5.pem"),
        ],
        vec![
            fixture_candidate("isrg-root-x1.pem"),
            fixture_candidate("isrg-root-x2.pem"),
        ],
        "2026-11-30",
    );
    asked.policy = rsa_and_p256();
    let error = build(asked.clone()).unwrap_err();
    assert_eq!(error.uncovered.len(), 1, "{error}");
    assert_eq!(error.uncovered[0].0, "e5");
    assert!(error.uncovered[0].1.contains("E5"), "{error}");
    assert!(error.uncovered[0].1.contains("ecdsa-p384"), "{error}");
    // With P-384 supported, both are covered.
    asked.policy = Policy::default();
    build(asked).unwrap();
}

#[test]
fn a_short_rsa_intermediate_is_refused_by_min_rsa_bits() {
    let mut asked = request(
        vec![fixture_endpoint("r10", "r10.pem")],
        vec![fixture_candidate("isrg-root-x1.pem")],
        "2026-11-30",
    );
    asked.policy.keys.min_rsa_bits = Some(3072);
    let error = build(asked.clone()).unwrap_err();
    assert!(error.uncovered[0].1.contains("rsa (2048-bit)"), "{error}");
    assert!(error.uncovered[0].1.contains("3072"), "{error}");
    asked.policy.keys.min_rsa_bits = Some(2048);
    build(asked).unwrap();
}

#[test]
fn an_anchor_left_out_for_its_key_is_named_with_what_it_would_cover() {
    // The intermediate (P-256) is cross-signed by a P-384 root and a P-256 root; the server
    // sends both copies, so either root validates the chain.
    let wide = rcgen::CertifiedIssuer::self_signed(
        ca_params("Wide Root", "2020-01-01", "2045-01-01"),
        rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap(),
    )
    .unwrap();
    let narrow = rcgen::CertifiedIssuer::self_signed(
        ca_params("Narrow Root", "2020-01-01", "2045-01-01"),
        rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap(),
    )
    .unwrap();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let params = ca_params("Shared Issuing CA", "2020-01-01", "2044-01-01");
    let by_wide = params.signed_by(&key, &wide).unwrap();
    let by_narrow = params.signed_by(&key, &narrow).unwrap();
    let leaf_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut leaf_params = rcgen::CertificateParams::new(vec!["api.example".to_string()]).unwrap();
    leaf_params.not_before = at("2026-10-01");
    leaf_params.not_after = at("2027-10-01");
    let issuer = rcgen::Issuer::new(params, key);
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    let endpoint = Endpoint {
        host: "api.example".into(),
        file: "api.example.pem".into(),
        chain: vec![
            leaf.der().to_vec(),
            by_wide.der().to_vec(),
            by_narrow.der().to_vec(),
        ],
        has_leaf: true,
    };
    let candidates = vec![
        Candidate {
            der: wide.der().to_vec(),
            origin: "test".into(),
        },
        Candidate {
            der: narrow.der().to_vec(),
            origin: "test".into(),
        },
    ];
    let mut asked = request(vec![endpoint], candidates, "2026-11-30");
    let everything = build(asked.clone()).unwrap();
    assert!(everything.reach[0].iter().all(Reach::covers));
    asked.policy = rsa_and_p256();
    let bundle = build(asked).unwrap();
    assert_eq!(bundle.anchors()[0].name, "Narrow Root");
    let lint = bundle
        .lints
        .iter()
        .find(|lint| matches!(lint, Lint::UnsupportedKeyType { .. }))
        .expect("the P-384 root is named");
    let Lint::UnsupportedKeyType {
        anchor,
        key,
        would_cover,
    } = lint
    else {
        unreachable!()
    };
    assert_eq!(anchor, "Wide Root");
    assert_eq!(key.key_type, Some(KeyType::EcdsaP384));
    assert_eq!(would_cover, &["api.example"]);
    assert!(lint.sentence().contains("would cover api.example"));
    assert!(lint.sentence().contains("ecdsa-p384"));
}

/// A metadata error: its code, line, column and field.
fn refused(text: &str) -> anchorsmith_diagnostics::Diagnostic {
    load::parse_trust_metadata(Path::new("trust.toml"), text).unwrap_err()
}

#[test]
fn bad_trust_metadata_is_located() {
    let good = "a".repeat(64);
    let error = refused(&format!(
        "source = \"s\"\n\n[[anchor]]\nsha256 = \"{good}\"\n\n[[anchor]]\nsha256 = \"12ab\"\n"
    ));
    assert_eq!(error.code, Code::Shape);
    assert_eq!((error.line, error.column), (7, 10));
    assert_eq!(error.field.as_deref(), Some("anchor[1].sha256"));
    assert!(error.message.contains("`12ab` is not a SHA-256"), "{error}");
    assert_eq!(error.file, Path::new("trust.toml"));
    assert!(error.to_string().contains("sha256 = \"12ab\""), "{error}");

    let error = refused(&format!(
        "source = \"s\"\n[[anchor]]\nsha256 = \"{good}\"\ndistrust-after = \"2024-13-01\"\n"
    ));
    assert_eq!((error.code, error.line, error.column), (Code::Shape, 4, 18));
    assert_eq!(error.field.as_deref(), Some("anchor[0].distrust-after"));
    assert!(error.message.contains("2024-13-01"), "{error}");

    let error = refused(&format!(
        "source = \"s\"\n[[anchor]]\nsha256 = \"{good}\"\ntrust = \"maybe\"\n"
    ));
    assert_eq!((error.code, error.line, error.column), (Code::Shape, 4, 9));
    assert_eq!(error.field.as_deref(), Some("anchor[0].trust"));
    assert!(error.message.contains("maybe"), "{error}");

    let error = refused(&format!(
        "source = \"s\"\n[[anchor]]\nsha256 = \"{good}\"\ndistrust_after = \"2024-01-01\"\n"
    ));
    assert_eq!((error.code, error.line), (Code::Shape, 4));
    assert!(error.message.contains("distrust_after"), "{error}");

    let error = refused(&format!(
        "source = \"s\"\n[[anchor]]\nsha256 = \"{good}\"\n[[anchor]]\nsha256 = \"{}\"\n",
        good.to_uppercase()
    ));
    assert_eq!(
        (error.code, error.line, error.column),
        (Code::Duplicate, 5, 10)
    );

    let error = refused(&format!("[[anchor]]\nsha256 = \"{good}\"\n"));
    assert_eq!(error.code, Code::Shape);
    assert!(error.message.contains("source"), "{error}");

    // RFC 3339 instants and colon-separated fingerprints are read.
    let parsed = metadata(&format!(
        "source = \"s\"\n[[anchor]]\nsha256 = \"{}\"\ndistrust-after = \"2024-11-30T12:00:00Z\"\n",
        vec!["AB"; 32].join(":")
    ));
    assert_eq!(parsed.anchors[0].sha256, "ab".repeat(32));
    assert_eq!(
        parsed.anchors[0].distrust_after,
        Some(at("2024-11-30T12:00:00Z"))
    );
}

/// A self-signed version-1 root (no extensions at all), made with OpenSSL.
fn version_1_root() -> Vec<u8> {
    use openssl::asn1::Asn1Time;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    use openssl::x509::{X509Builder, X509NameBuilder};
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "Old Version 1 Root")
        .unwrap();
    let name = name.build();
    let mut builder = X509Builder::new().unwrap();
    builder.set_version(0).unwrap();
    builder.set_subject_name(&name).unwrap();
    builder.set_issuer_name(&name).unwrap();
    builder.set_pubkey(&key).unwrap();
    builder
        .set_not_before(&Asn1Time::from_unix(1_577_836_800).unwrap())
        .unwrap();
    builder
        .set_not_after(&Asn1Time::from_unix(2_366_755_200).unwrap())
        .unwrap();
    builder.sign(&key, MessageDigest::sha256()).unwrap();
    builder.build().to_der().unwrap()
}

fn pem(der: &[u8]) -> String {
    pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec()))
}

#[test]
fn a_version_1_certificate_in_a_candidate_file_is_refused_and_a_leaf_too() {
    // Nothing tells an old version-1 root from a self-signed version-1 server certificate: a
    // user's file must name CAs; curated stores (the system store, certdata) may hold old roots.
    let dir = tempfile::tempdir().unwrap();
    let root = version_1_root();
    let file = dir.path().join("v1.pem");
    std::fs::write(&file, pem(&root)).unwrap();
    let error = load::load_candidate_file(&file).unwrap_err();
    assert!(error.message.contains("leaf"), "{error}");
    assert!(error.to_string().contains("--system-store"), "{error}");
    assert!(load::can_anchor(&root));
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["leaf.example".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    std::fs::write(&file, leaf.pem()).unwrap();
    let error = load::load_candidate_file(&file).unwrap_err();
    assert!(error.message.contains("leaf"), "{error}");
}

/// The system store read through SSL_CERT_FILE. The variable is set for a child process running
/// this one test, not in this process, where other tests run in parallel threads.
#[test]
fn the_system_store_is_read_from_ssl_cert_file() {
    const CHILD: &str = "ANCHORSMITH_SYSTEM_STORE_CHILD";
    if let Some(expected) = std::env::var_os(CHILD) {
        let (candidates, source) = load::system_candidates();
        let ders: Vec<&[u8]> = candidates.iter().map(|c| c.der.as_slice()).collect();
        let mut sorted = ders.clone();
        sorted.sort();
        let mut hasher = sha2::Sha256::new();
        for der in &sorted {
            hasher.update(der);
        }
        assert_eq!(
            source,
            CandidateSource::System {
                count: 2,
                sha256: hex::encode(hasher.finalize()),
                // The leaf and the block that is no certificate.
                skipped: 2,
                unreadable: Vec::new(),
            }
        );
        let expected = std::fs::read(expected).unwrap();
        let x1 = fixture_candidate("isrg-root-x1.pem").der;
        let v1 = expected;
        assert!(ders.contains(&x1.as_slice()) && ders.contains(&v1.as_slice()));
        assert!(candidates.iter().all(|c| c.origin == "system"));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let v1 = version_1_root();
    let v1_file = dir.path().join("v1.der");
    std::fs::write(&v1_file, &v1).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["leaf.example".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let x1 = std::fs::read_to_string(fixtures().join("isrg-root-x1.pem")).unwrap();
    let store = dir.path().join("store.pem");
    std::fs::write(
        &store,
        format!(
            "{x1}{}{}{}",
            leaf.pem(),
            pem(b"not a certificate"),
            pem(&v1)
        ),
    )
    .unwrap();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "the_system_store_is_read_from_ssl_cert_file",
            "--nocapture",
        ])
        .env(CHILD, &v1_file)
        .env("SSL_CERT_FILE", &store)
        .env_remove("SSL_CERT_DIR")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
}

/// `bytes` as certdata.txt writes them: `\ooo` escapes, 16 to a line, then `END`.
fn octal(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(16) {
        for byte in chunk {
            out += &format!("\\{byte:03o}");
        }
        out += "\n";
    }
    out + "END\n"
}

/// A certificate object and its trust object, as certdata.txt lists them.
fn certdata_pair(
    label: &str,
    der: &[u8],
    cert_distrust: Option<&str>,
    server_auth: &str,
) -> String {
    use sha1::Digest as _;
    let distrust = match cert_distrust {
        Some(date) => format!(
            "# For Server Distrust After: {date}\nCKA_NSS_SERVER_DISTRUST_AFTER MULTILINE_OCTAL\n{}",
            octal(date.as_bytes())
        ),
        None => "CKA_NSS_SERVER_DISTRUST_AFTER CK_BBOOL CK_FALSE\n".into(),
    };
    format!(
        "\n#\n# Certificate \"{label}\"\n#\nCKA_CLASS CK_OBJECT_CLASS CKO_CERTIFICATE\nCKA_TOKEN CK_BBOOL CK_TRUE\nCKA_LABEL UTF8 \"{label}\"\nCKA_CERTIFICATE_TYPE CK_CERTIFICATE_TYPE CKC_X_509\nCKA_VALUE MULTILINE_OCTAL\n{}CKA_NSS_MOZILLA_CA_POLICY CK_BBOOL CK_TRUE\n{distrust}CKA_NSS_EMAIL_DISTRUST_AFTER CK_BBOOL CK_FALSE\n\n# Trust for \"{label}\"\nCKA_CLASS CK_OBJECT_CLASS CKO_NSS_TRUST\nCKA_TOKEN CK_BBOOL CK_TRUE\nCKA_LABEL UTF8 \"{label}\"\nCKA_CERT_SHA1_HASH MULTILINE_OCTAL\n{}CKA_TRUST_SERVER_AUTH CK_TRUST {server_auth}\nCKA_TRUST_EMAIL_PROTECTION CK_TRUST CKT_NSS_MUST_VERIFY_TRUST\nCKA_TRUST_STEP_UP_APPROVED CK_BBOOL CK_FALSE\n",
        octal(der),
        octal(&sha1::Sha1::digest(der))
    )
}

#[test]
fn certdata_gives_candidates_with_their_trust_and_distrust_after() {
    use anchorsmith_bundle::certdata;
    let fading = Pki::new("Fading", &rcgen::PKCS_ECDSA_P256_SHA256);
    let gone = Pki::new("Gone", &rcgen::PKCS_ECDSA_P256_SHA256);
    let mail = Pki::new("Mail", &rcgen::PKCS_ECDSA_P256_SHA256);
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["leaf.example".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let text = format!(
        "# header\nCKA_CLASS CK_OBJECT_CLASS CKO_NSS_BUILTIN_ROOT_LIST\nBEGINDATA\nCKA_CLASS CK_OBJECT_CLASS CKO_NSS_BUILTIN_ROOT_LIST\nCKA_LABEL UTF8 \"Mozilla Builtin Roots\"\n{}{}{}{}",
        certdata_pair("Fading Root", fading.root.der(), Some("260601000000Z"), "CKT_NSS_TRUSTED_DELEGATOR"),
        certdata_pair("Gone Root", gone.root.der(), None, "CKT_NSS_NOT_TRUSTED"),
        certdata_pair("Mail Root", mail.root.der(), None, "CKT_NSS_MUST_VERIFY_TRUST"),
        certdata_pair("A leaf", leaf.der(), None, "CKT_NSS_NOT_TRUSTED"),
    );
    let file = Path::new("certdata.txt");
    let parsed = certdata::parse_certdata(file, &text).unwrap_or_else(|e| panic!("{e}"));
    let ders: Vec<&[u8]> = parsed.candidates.iter().map(|c| c.der.as_slice()).collect();
    assert_eq!(
        ders,
        [
            fading.root.der().as_ref(),
            gone.root.der().as_ref(),
            mail.root.der().as_ref()
        ]
    );
    assert!(matches!(
        parsed.source,
        CandidateSource::Certdata {
            count: 3,
            skipped: 1,
            ..
        }
    ));
    let trust: Vec<(policy::Trust, Option<OffsetDateTime>)> = parsed
        .trust
        .anchors
        .iter()
        .map(|a| (a.trust, a.distrust_after))
        .collect();
    assert_eq!(
        trust,
        [
            (policy::Trust::Trusted, Some(at("2026-06-01"))),
            (policy::Trust::Distrusted, None),
            (policy::Trust::Distrusted, None),
        ]
    );
    assert_eq!(parsed.trust.anchors[0].sha256, sha256(fading.root.der()));

    // Applied: the Fading root covers a leaf issued before its date, not one issued after;
    // the Gone root covers nothing.
    let build_with = |endpoint: Endpoint| {
        let mut asked = request(vec![endpoint], parsed.candidates.clone(), "2026-11-30");
        asked.policy.trust = vec![parsed.trust.clone()];
        build(asked)
    };
    let before = build_with(fading.endpoint_with_leaf("before.example", "2026-05-01")).unwrap();
    assert!(before
        .lints
        .iter()
        .any(|l| matches!(l, Lint::DistrustAfter { .. })));
    let error = build_with(fading.endpoint_with_leaf("after.example", "2026-07-01")).unwrap_err();
    assert!(error.uncovered[0].1.contains("issued after"), "{error}");
    let error = build_with(gone.endpoint_with_leaf("gone.example", "2026-05-01")).unwrap_err();
    assert!(
        error.uncovered[0].1.contains("CKT_NSS_NOT_TRUSTED"),
        "{error}"
    );
}

#[test]
fn bad_certdata_is_located() {
    use anchorsmith_bundle::certdata;
    let pki = Pki::new("Fading", &rcgen::PKCS_ECDSA_P256_SHA256);
    let good = certdata_pair(
        "Root",
        pki.root.der(),
        Some("260601000000Z"),
        "CKT_NSS_TRUSTED_DELEGATOR",
    );
    let line_of =
        |text: &str, needle: &str| text.lines().position(|line| line.contains(needle)).unwrap() + 1;
    let check = |text: String, needle: &str, says: &str| {
        let error = certdata::parse_certdata(Path::new("certdata.txt"), &text).unwrap_err();
        assert_eq!(error.line, line_of(&text, needle), "{error}");
        assert!(error.message.contains(says), "{error}");
    };
    // A bad date: at its attribute.
    check(
        good.replace(&octal(b"260601000000Z"), &octal(b"261301000000Z")),
        "CKA_NSS_SERVER_DISTRUST_AFTER MULTILINE_OCTAL",
        "not a UTCTime",
    );
    // A broken octal line: at that line.
    check(good.replacen("\\060", "\\0x0", 1), "\\0x0", "octal");
    // An unknown trust value.
    check(
        good.replace("CKT_NSS_TRUSTED_DELEGATOR", "CKT_NSS_MAYBE"),
        "CKT_NSS_MAYBE",
        "unknown trust",
    );
    // A value that is no certificate.
    let mut bytes = pki.root.der().to_vec();
    bytes.truncate(40);
    check(
        good.replacen(&octal(pki.root.der()), &octal(&bytes), 1),
        "CKA_VALUE MULTILINE_OCTAL",
        "not an X.509 certificate",
    );
}

#[test]
fn intermediates_that_expire_before_distrust_after_are_covered_and_the_later_leaves_flagged() {
    // R10 expires in 2027, before X1's date: covered, and the leaves issued after 2030 (before
    // the horizon) are named.
    let x1 = fixture_candidate("isrg-root-x1.pem");
    let yr = fixture_candidate("extra/root-yr.pem");
    let mut asked = request(
        vec![fixture_endpoint("r10", "r10.pem")],
        vec![x1.clone(), yr],
        "2026-11-30",
    );
    asked.policy = distrust_after(&x1.der, "2030-01-01");
    let bundle = build(asked).unwrap();
    let lints: Vec<&Lint> = bundle
        .lints
        .iter()
        .filter(|lint| matches!(lint, Lint::DistrustAfter { .. }))
        .collect();
    assert_eq!(
        lints,
        [&Lint::DistrustAfter {
            anchor: "ISRG Root X1".into(),
            distrust_after: at("2030-01-01"),
            source: "test store: test distrust".into(),
            endpoint: "r10".into(),
            leaf_not_before: None,
            backup: false,
        }]
    );
    assert!(lints[0].sentence().contains("issued after that date"));
}
