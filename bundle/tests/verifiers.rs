//! The device verifiers of issue 11 on real chains: ESP-IDF with and without its cross-signed
//! option on the corpus's long chain, the proof through the real BearSSL and mbedTLS (their
//! limbo harnesses), and alternate paths through known cross-signs on the real Let's Encrypt
//! fixtures.

use std::path::PathBuf;
use std::time::Duration;

use anchorsmith_bundle::build::{build, name, parse_instant, Bundle, Request};
use anchorsmith_bundle::coverage::{self, DeviceVerifier, Reach};
use anchorsmith_bundle::lint::Lint;
use anchorsmith_bundle::load::{self, is_ca, Candidate, Endpoint};
use anchorsmith_validators::harnesses::{
    builtin_columns, in_ci, workspace_harness_dir, HarnessColumn, SetupMode,
};
use time::OffsetDateTime;

fn at(text: &str) -> OffsetDateTime {
    parse_instant(text).unwrap()
}

/// The corpus scenario `root-expiry-long-short`: its certificates by id, and its instants.
struct LongShort {
    scenario: anchorsmith_corpus::Scenario,
}

impl LongShort {
    fn load() -> LongShort {
        let corpus_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../corpus")
            .canonicalize()
            .unwrap();
        let corpus = anchorsmith_corpus::load_corpus(&corpus_dir).unwrap_or_else(|e| panic!("{e}"));
        let scenario = corpus
            .scenarios
            .into_iter()
            .find(|scenario| scenario.name == "root-expiry-long-short")
            .expect("the scenario exists");
        LongShort { scenario }
    }

    fn der(&self, id: &str) -> Vec<u8> {
        self.scenario.pki.certs[id].der.clone()
    }

    /// A served chain of the scenario as an endpoint named by the leaf's DNS name.
    fn endpoint(&self, chain: &str) -> Endpoint {
        let chain_der: Vec<Vec<u8>> = self.scenario.chains[chain]
            .iter()
            .map(|id| self.der(id))
            .collect();
        Endpoint {
            host: "www.example.test".into(),
            file: self.scenario.dir.join("scenario.toml"),
            has_leaf: !is_ca(&chain_der[0]),
            chain: chain_der,
        }
    }

    fn candidate(&self, id: &str) -> Candidate {
        Candidate {
            der: self.der(id),
            origin: format!("root-expiry-long-short/{id}"),
        }
    }

    fn time(&self, name: &str) -> OffsetDateTime {
        self.scenario.times[name].1
    }
}

#[test]
fn esp_idf_cross_signed_ends_the_long_chain_at_a_lower_certificate_and_esp_idf_does_not() {
    let corpus = LongShort::load();
    // leaf → R3 → ISRG Root X1 cross-signed by DST; the bundle holds the self-signed X1.
    let long = corpus.endpoint("long-chain");
    assert_eq!(long.chain.len(), 3);
    let x1 = corpus.der("isrg-x1");
    let (now, horizon) = (corpus.time("at-2021-10-01"), corpus.time("at-2024-10-01"));

    let reach =
        |verifier: DeviceVerifier| coverage::reach(&verifier.model(), &long, &x1, now, horizon);
    // ESP-IDF looks up only the issuer of the topmost certificate sent: DST Root CA X3.
    match reach(DeviceVerifier::EspIdf) {
        Reach::Never { verdict } => assert!(verdict.contains("unknown-issuer"), "{verdict}"),
        other => panic!("esp-idf: {other:?}"),
    }
    // With the cross-signed option, R3's issuer is found in the bundle and ends the path.
    assert_eq!(reach(DeviceVerifier::EspIdfCrossSigned), Reach::Covers);

    // The builder: esp-idf names the endpoint it cannot cover and why; esp-idf-cross-signed
    // chooses X1 and proves it with its model.
    let request = |verifier| Request {
        min_per_endpoint: 1,
        ..Request::new(
            vec![long.clone()],
            vec![corpus.candidate("isrg-x1")],
            verifier,
            now,
            horizon,
        )
    };
    let error = build(request(DeviceVerifier::EspIdf)).unwrap_err();
    assert_eq!(error.uncovered[0].0, "www.example.test");
    assert!(
        error.uncovered[0].1.contains("DST Root CA X3 (test)"),
        "{error}"
    );
    let bundle = build(request(DeviceVerifier::EspIdfCrossSigned)).unwrap();
    assert_eq!(bundle.anchors().len(), 1);
    let proof = bundle.prove().unwrap_or_else(|e| panic!("{e}"));
    // ESP-IDF cannot run here: the model alone proves it.
    assert_eq!(proof.validators, ["esp-idf-cross-signed"]);
    assert!(proof.skipped.is_empty(), "{:?}", proof.skipped);
    let files = bundle.files(&proof, &[]).unwrap();
    let (_, report) = files
        .iter()
        .find(|(path, _)| path.ends_with("report.md"))
        .unwrap();
    assert!(String::from_utf8_lossy(report).contains("which cannot run here"));
}

/// Whether the real library `column` runs here. Under `CI=true` it must; elsewhere the test
/// says why it cannot and pins nothing.
fn real_library(column: &str) -> bool {
    let log = |line: &str| eprintln!("  {line}");
    let columns = builtin_columns(
        &[column.to_string()],
        Duration::from_secs(10),
        SetupMode::Install,
        &workspace_harness_dir(),
        &log,
    )
    .unwrap();
    match columns.iter().find(|c| c.name() == column) {
        Some(HarnessColumn::Ready(_)) => true,
        Some(HarnessColumn::Unavailable(unavailable)) => {
            assert!(
                !in_ci(),
                "{column} is not available under CI: {}",
                unavailable.reason
            );
            eprintln!(
                "not proving with {column}: {} (to get it: {})",
                unavailable.reason, unavailable.hint
            );
            false
        }
        None => panic!("no built-in harness column {column}"),
    }
}

fn long_chain_bundle(verifier: DeviceVerifier, host: &str) -> Bundle {
    let corpus = LongShort::load();
    let mut long = corpus.endpoint("long-chain");
    long.host = host.into();
    build(Request::new(
        vec![long],
        vec![corpus.candidate("isrg-x1"), corpus.candidate("dst-root")],
        verifier,
        corpus.time("at-2021-10-01"),
        corpus.time("at-2024-10-01"),
    ))
    .unwrap_or_else(|e| panic!("{verifier}: {e}"))
}

#[test]
fn the_proof_runs_the_real_bearssl_and_mbedtls() {
    for (verifier, column) in [
        (DeviceVerifier::Bearssl, "bearssl"),
        (DeviceVerifier::Mbedtls, "mbedtls"),
    ] {
        if !real_library(column) {
            continue;
        }
        let bundle = long_chain_bundle(verifier, "www.example.test");
        let proof = bundle.prove().unwrap_or_else(|e| panic!("{verifier}: {e}"));
        assert_eq!(
            proof.validators,
            [format!("{column} (client model)"), column.to_string()],
            "{verifier}"
        );
        assert!(proof.skipped.is_empty(), "{:?}", proof.skipped);
        // At least two checkpoints (now and the end of the chain), each by model and library.
        assert!(proof.validations >= 4, "{proof:?}");
        // BearSSL keeps no anchor dates, so the expired DST root still ends the long chain:
        // two anchors. mbedTLS checks them: X1 alone.
        let names: Vec<String> = bundle.anchors().iter().map(|a| a.name.clone()).collect();
        match verifier {
            DeviceVerifier::Bearssl => {
                assert_eq!(names, ["DST Root CA X3 (test)", "ISRG Root X1 (test)"])
            }
            _ => assert_eq!(names, ["ISRG Root X1 (test)"]),
        }
        // The real library checks the name the device connects to; the model is not asked
        // the name, so only the library can refuse this one.
        let wrong = long_chain_bundle(verifier, "other.example.test");
        let error = wrong.prove().unwrap_err();
        assert_eq!(error.validator, column, "{error}");
        assert_eq!(error.host, "other.example.test");
        assert!(error.verdict.starts_with("reject:name-mismatch"), "{error}");
    }
}

#[test]
fn a_real_library_that_cannot_run_fails_the_proof_under_ci_and_is_a_visible_skip_elsewhere() {
    let mut bundle = long_chain_bundle(DeviceVerifier::Mbedtls, "www.example.test");
    bundle.request.harness_dir = None;
    match bundle.prove() {
        Err(error) => {
            assert!(in_ci(), "outside CI it is a skip: {error}");
            assert_eq!(error.validator, "mbedtls");
            assert!(error.verdict.contains("CI=true"), "{error}");
        }
        Ok(proof) => {
            assert!(!in_ci(), "under CI it is a failure");
            assert_eq!(proof.validators, ["mbedtls (client model)"]);
            assert_eq!(proof.skipped.len(), 1, "{:?}", proof.skipped);
            assert_eq!(proof.skipped[0].validator, "mbedtls");
            assert!(proof.skipped[0].reason.contains("no harness directory"));
            // The report and the manifest show it.
            let files = bundle.files(&proof, &[]).unwrap();
            let file = |wanted: &str| {
                let (_, bytes) = files
                    .iter()
                    .find(|(path, _)| path.ends_with(wanted))
                    .unwrap();
                String::from_utf8(bytes.clone()).unwrap()
            };
            assert!(file("report.md").contains("Not proved here"), "report.md");
            assert!(file("report.md").contains(&proof.skipped[0].sentence()));
            let manifest: serde_json::Value = serde_json::from_str(&file("manifest.json")).unwrap();
            assert_eq!(manifest["proof"]["skipped"][0]["validator"], "mbedtls");
        }
    }
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/letsencrypt")
}

fn fixture(file: &str) -> Candidate {
    let mut found = load::load_candidate_file(&fixtures().join(file)).unwrap();
    assert_eq!(found.len(), 1);
    found.remove(0)
}

fn fixture_endpoint(host: &str, file: &str) -> Endpoint {
    load::load_endpoint(host, &fixtures().join(file)).unwrap()
}

/// The YR hierarchy's YR1 (intermediates only), ISRG Root X1 the only candidate.
fn yr1_request(verifier: DeviceVerifier, cross_signs: Vec<Candidate>) -> Request {
    Request {
        min_per_endpoint: 1,
        cross_signs,
        ..Request::new(
            vec![fixture_endpoint("yr1.example", "extra/yr1.pem")],
            vec![fixture("isrg-root-x1.pem")],
            verifier,
            at("2026-11-30"),
            at("2040-01-01"),
        )
    }
}

#[test]
fn a_path_builder_reaches_x1_through_a_known_cross_sign_and_bearssl_cannot() {
    let cross_sign = || vec![fixture("extra/root-yr-by-x1.pem")];
    // Without the cross-sign, X1 cannot be reached from YR1.
    let error = build(yr1_request(DeviceVerifier::FullPathBuilding, Vec::new())).unwrap_err();
    assert_eq!(error.uncovered[0].0, "yr1.example");

    for verifier in [
        DeviceVerifier::FullPathBuilding,
        DeviceVerifier::PartialChain,
    ] {
        let bundle = build(yr1_request(verifier, cross_sign())).unwrap();
        assert_eq!(bundle.anchors()[0].name, "ISRG Root X1", "{verifier}");
        // The covering needs the cross-sign, and it is recorded.
        assert_eq!(bundle.via.get(&(0, 0)), Some(&vec![0]), "{verifier}");
        assert!(bundle.lints.contains(&Lint::ViaCrossSign {
            endpoint: "yr1.example".into(),
            anchor: "ISRG Root X1".into(),
            cross_signs: vec!["Root YR cross-signed by ISRG Root X1".into()],
        }));
        let proof = bundle.prove().unwrap_or_else(|e| panic!("{verifier}: {e}"));
        let files = bundle.files(&proof, &[]).unwrap();
        let file = |wanted: &str| {
            let (_, bytes) = files
                .iter()
                .find(|(path, _)| path.ends_with(wanted))
                .unwrap();
            String::from_utf8(bytes.clone()).unwrap()
        };
        let report = file("report.md");
        assert!(
            report.contains(
                "ISRG Root X1 (via cross-sign Root YR cross-signed by ISRG Root X1, not sent by the server)"
            ),
            "{report}"
        );
        assert!(report.contains("builds paths from the intermediates it holds"));
        let manifest: serde_json::Value = serde_json::from_str(&file("manifest.json")).unwrap();
        assert_eq!(manifest["via"][0]["endpoint"], "yr1.example");
        assert_eq!(manifest["via"][0]["anchor"], "ISRG Root X1");
        assert_eq!(
            manifest["via"][0]["cross_signs"][0],
            "Root YR cross-signed by ISRG Root X1"
        );
        assert_eq!(manifest["cross_signs"].as_array().unwrap().len(), 1);
        assert!(file("report.html").contains("via cross-sign Root YR cross-signed by ISRG Root X1"));
    }

    // BearSSL uses the chain exactly as sent: the cross-sign the server does not send is of no
    // use to it, and the report would say so.
    let error = build(yr1_request(DeviceVerifier::Bearssl, cross_sign())).unwrap_err();
    assert_eq!(error.uncovered[0].0, "yr1.example");

    // A covering that does not need the cross-sign records none: Root YR itself covers YR1.
    let mut asked = yr1_request(DeviceVerifier::FullPathBuilding, cross_sign());
    asked.candidates = vec![fixture("extra/root-yr.pem")];
    let bundle = build(asked).unwrap();
    assert!(bundle.via.is_empty(), "{:?}", bundle.via);
    assert!(bundle
        .lints
        .iter()
        .all(|lint| !matches!(lint, Lint::ViaCrossSign { .. })));
}

#[test]
fn a_known_cross_sign_names_root_yr_as_the_successor_of_x1() {
    let request = |cross_signs: Vec<Candidate>| Request {
        min_per_endpoint: 1,
        cross_signs,
        ..Request::new(
            vec![
                fixture_endpoint("r10.example", "r10.pem"),
                fixture_endpoint("yr1.example", "extra/yr1.pem"),
            ],
            vec![fixture("isrg-root-x1.pem"), fixture("extra/root-yr.pem")],
            DeviceVerifier::FullPathBuilding,
            at("2026-11-30"),
            at("2040-01-01"),
        )
    };
    let replacement = |bundle: &Bundle| {
        bundle
            .lints
            .iter()
            .find_map(|lint| match lint {
                Lint::ExpiresBeforeHorizon {
                    anchor,
                    replacement,
                    ..
                } if anchor == "ISRG Root X1" => Some(replacement.clone()),
                _ => None,
            })
            .expect("X1 expires in 2035, before the horizon")
    };
    // Root YR covers none of X1's RSA endpoints (R10): without the cross-sign, nothing shows
    // it is X1's successor.
    let without = build(request(Vec::new())).unwrap();
    assert!(replacement(&without).is_empty(), "{:?}", without.lints);
    let with = build(request(vec![fixture("extra/root-yr-by-x1.pem")])).unwrap();
    assert_eq!(replacement(&with), ["Root YR"]);
    assert_eq!(
        name(&with.request.cross_signs[0].der),
        "Root YR",
        "the cross-sign carries Root YR's name"
    );
}

/// A CA's parameters: `cn`, valid 2024–2034.
fn ca_params(cn: &str) -> rcgen::CertificateParams {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    params.not_before = at("2024-01-01");
    params.not_after = at("2034-01-01");
    params
}

#[test]
fn the_real_path_builders_prove_a_leaf_chain_through_a_held_cross_sign() {
    // Old Root cross-signs New Root; the server sends leaf → Issuing CA (under New Root) and
    // not the cross-sign; the device trusts Old Root alone.
    let (old_key, new_key, issuing_key, leaf_key) = (
        rcgen::KeyPair::generate().unwrap(),
        rcgen::KeyPair::generate().unwrap(),
        rcgen::KeyPair::generate().unwrap(),
        rcgen::KeyPair::generate().unwrap(),
    );
    let (old, new, issuing) = (
        ca_params("Old Root"),
        ca_params("New Root"),
        ca_params("Issuing CA"),
    );
    let old_root = old.self_signed(&old_key).unwrap();
    let cross_sign = new
        .signed_by(&new_key, &rcgen::Issuer::from_params(&old, &old_key))
        .unwrap();
    let issuing_ca = issuing
        .signed_by(&issuing_key, &rcgen::Issuer::from_params(&new, &new_key))
        .unwrap();
    let mut leaf = rcgen::CertificateParams::new(vec!["device.example.test".to_string()]).unwrap();
    leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    leaf.not_before = at("2026-01-01");
    leaf.not_after = at("2028-01-01");
    let leaf = leaf
        .signed_by(
            &leaf_key,
            &rcgen::Issuer::from_params(&issuing, &issuing_key),
        )
        .unwrap();
    let request = |verifier: DeviceVerifier, cross_signs: Vec<Candidate>| Request {
        min_per_endpoint: 1,
        cross_signs,
        ..Request::new(
            vec![Endpoint {
                host: "device.example.test".into(),
                file: PathBuf::from("made-here.pem"),
                chain: vec![leaf.der().to_vec(), issuing_ca.der().to_vec()],
                has_leaf: true,
            }],
            vec![Candidate {
                der: old_root.der().to_vec(),
                origin: "made here".into(),
            }],
            verifier,
            at("2026-11-30"),
            at("2030-01-01"),
        )
    };
    let held = || {
        vec![Candidate {
            der: cross_sign.der().to_vec(),
            origin: "made here".into(),
        }]
    };
    let bundle = build(request(DeviceVerifier::FullPathBuilding, held())).unwrap();
    assert_eq!(bundle.via.get(&(0, 0)), Some(&vec![0]));
    // rustls-webpki and OpenSSL accept only if they are handed the cross-sign: the chain sent
    // stops at Issuing CA, whose issuer New Root is not in the bundle.
    let proof = bundle.prove().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        proof.validators,
        ["full-path-building", "rustls-webpki", "openssl"]
    );
    // A bundle proved without the cross-sign held fails.
    let mut unheld = bundle.clone();
    unheld.request.cross_signs.clear();
    assert!(unheld.prove().is_err());
    // mbedTLS uses the chain as sent: Old Root covers nothing.
    assert!(build(request(DeviceVerifier::Mbedtls, held())).is_err());
    assert!(build(request(DeviceVerifier::FullPathBuilding, Vec::new())).is_err());
}

#[test]
fn with_cross_signs_the_prefilter_still_gives_the_coverage_of_every_pair() {
    let endpoints = vec![
        fixture_endpoint("yr1.example", "extra/yr1.pem"),
        fixture_endpoint("r10.example", "r10.pem"),
    ];
    let (mut candidates, _) = load::mozilla_candidates();
    candidates.push(fixture("extra/root-yr.pem"));
    let ders: Vec<Vec<u8>> = candidates.into_iter().map(|c| c.der).collect();
    let held: Vec<Vec<u8>> = [
        "extra/root-yr-by-x1.pem",
        "extra/isrg-root-x2-by-x1-2026.pem",
    ]
    .iter()
    .map(|file| fixture(file).der)
    .collect();
    let (now, horizon) = (at("2026-11-30"), at("2040-01-01"));
    let verifier = DeviceVerifier::FullPathBuilding;
    let found = coverage::coverage(verifier, &endpoints, &ders, &held, now, horizon);
    let model = verifier.model();
    let mut through_cross_sign = Vec::new();
    for (e, endpoint) in endpoints.iter().enumerate() {
        for (c, anchor) in ders.iter().enumerate() {
            let every_pair = coverage::reach_holding(&model, endpoint, anchor, &held, now, horizon);
            assert_eq!(
                found.reach[e][c].covers(),
                every_pair.covers(),
                "{} with {}",
                endpoint.host,
                name(anchor)
            );
            if found.via.contains_key(&(e, c)) {
                through_cross_sign.push((endpoint.host.as_str(), name(anchor)));
            }
        }
    }
    // ISRG Root X1 (in the Mozilla store) reaches YR1 only through Root YR's cross-sign; the
    // X2 cross-sign is not needed by anything here.
    assert_eq!(
        through_cross_sign,
        [("yr1.example", "ISRG Root X1".to_string())]
    );
    assert_eq!(found.via.values().collect::<Vec<_>>(), [&vec![0]]);
}
