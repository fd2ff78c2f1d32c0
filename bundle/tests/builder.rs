//! The builder on real certificates (the Let's Encrypt fixtures in ../shared), on certificates
//! made here with rcgen, and on the corpus scenario `intermediate-pinned-device`.

use std::path::{Path, PathBuf};

use anchorsmith_bundle::build::{build, is_root, name, parse_instant, Request};
use anchorsmith_bundle::coverage::{self, DeviceVerifier, Reach};
use anchorsmith_bundle::encode::Format;
use anchorsmith_bundle::lint::Lint;
use anchorsmith_bundle::load::{self, Candidate, Endpoint};
use anchorsmith_bundle::select::Method;
use anchorsmith_diagnostics::Code;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/letsencrypt")
}

fn candidate(file: &str) -> Candidate {
    let mut found = load::load_candidate_file(&fixtures().join(file)).unwrap();
    assert_eq!(found.len(), 1);
    found.remove(0)
}

fn endpoint(host: &str, file: &str) -> Endpoint {
    load::load_endpoint(host, &fixtures().join(file)).unwrap()
}

fn at(text: &str) -> time::OffsetDateTime {
    parse_instant(text).unwrap()
}

fn request(endpoints: Vec<Endpoint>, candidates: Vec<Candidate>) -> Request {
    Request::new(
        endpoints,
        candidates,
        DeviceVerifier::FullPathBuilding,
        at("2026-11-30"),
        at("2040-01-01"),
    )
}

/// A self-signed end-entity certificate and its key, made here.
fn leaf_and_key() -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["leaf.example".to_string()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn write(dir: &Path, file: &str, text: &str) -> PathBuf {
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_leaf_offered_as_candidate_is_refused_at_its_block() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::read_to_string(fixtures().join("isrg-root-x1.pem")).unwrap();
    let (leaf, _) = leaf_and_key();
    let text = format!("{root}{leaf}");
    let leaf_line = root.lines().count() + 1;
    write(dir.path(), "roots.pem", &text);
    let error = load::load_candidate_dir(dir.path()).unwrap_err();
    assert_eq!(error.code, Code::InvalidValue);
    assert_eq!((error.line, error.column), (leaf_line, 1));
    assert!(error.message.contains("leaf"), "{error}");
    assert!(
        error.to_string().contains("-----BEGIN CERTIFICATE-----"),
        "{error}"
    );
}

#[test]
fn a_private_key_is_refused_and_never_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::read_to_string(fixtures().join("isrg-root-x2.pem")).unwrap();
    let (_, key) = leaf_and_key();
    write(dir.path(), "a.pem", &format!("{root}\n{key}"));
    let error = load::load_candidate_dir(dir.path()).unwrap_err();
    assert_eq!(error.code, Code::Encoding);
    assert_eq!(error.line, root.lines().count() + 2);
    assert!(error.message.contains("private key"), "{error}");
    assert!(error.help.as_deref().unwrap_or("").contains("never reach"));
}

#[test]
fn garbage_is_refused_where_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let nothing = write(dir.path(), "nothing.pem", "hello\n");
    let error = load::load_candidate_file(&nothing).unwrap_err();
    assert_eq!((error.code, error.line), (Code::Syntax, 1));
    let bad = write(
        dir.path(),
        "bad.pem",
        "junk\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    let error = load::load_candidate_file(&bad).unwrap_err();
    assert_eq!((error.code, error.line), (Code::Encoding, 2));
    assert!(
        error.message.contains("not an X.509 certificate"),
        "{error}"
    );
}

#[test]
fn endpoints_with_and_without_a_leaf() {
    let intermediates = endpoint("r10", "r10.pem");
    assert!(!intermediates.has_leaf);
    let dir = tempfile::tempdir().unwrap();
    let (leaf, _) = leaf_and_key();
    let r10 = std::fs::read_to_string(fixtures().join("r10.pem")).unwrap();
    let leaf_first = write(dir.path(), "chain.pem", &format!("{leaf}{r10}"));
    let with_leaf = load::load_endpoint("a", &leaf_first).unwrap();
    assert!(with_leaf.has_leaf);
    assert_eq!(with_leaf.chain.len(), 2);
    let leaf_last = write(dir.path(), "wrong.pem", &format!("{r10}{leaf}"));
    let error = load::load_endpoint("a", &leaf_last).unwrap_err();
    assert_eq!(error.line, r10.lines().count() + 1);
    assert_eq!(
        load::parse_endpoint_spec("a.example=x.pem").unwrap(),
        ("a.example".to_string(), PathBuf::from("x.pem"))
    );
    assert!(load::parse_endpoint_spec("x.pem").is_err());
}

#[test]
fn the_mozilla_store_is_compiled_in_at_the_locked_version() {
    let (candidates, _) = load::mozilla_candidates();
    assert!(candidates.len() > 100);
    assert!(candidates.iter().all(|c| load::is_ca(&c.der)));
    let names: Vec<String> = candidates.iter().map(|c| name(&c.der)).collect();
    assert!(names.iter().any(|n| n == "ISRG Root X1"));
    let lock =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock")).unwrap();
    let version = load::MOZILLA_CRATE.trim_start_matches("webpki-root-certs ");
    assert!(
        lock.contains(&format!(
            "name = \"webpki-root-certs\"\nversion = \"{version}\""
        )),
        "MOZILLA_CRATE is not the version in Cargo.lock"
    );
}

#[test]
fn coverage_follows_the_verifier_and_the_chain_s_life() {
    let r10 = endpoint("r10", "r10.pem");
    let x1 = candidate("isrg-root-x1.pem");
    let x2 = candidate("isrg-root-x2.pem");
    let model = DeviceVerifier::FullPathBuilding.model();
    let (now, horizon) = (at("2026-11-30"), at("2040-01-01"));
    assert_eq!(
        coverage::reach(&model, &r10, &x1.der, now, horizon),
        Reach::Covers
    );
    assert!(matches!(
        coverage::reach(&model, &r10, &x2.der, now, horizon),
        Reach::Never { .. }
    ));
    // R10 expires on 2027-03-12: the chain is checked until then, not to 2040.
    assert_eq!(
        coverage::served_until(&r10, horizon).date().to_string(),
        "2027-03-12"
    );
    // After X1 expires (2035) a chain from it cannot be covered by a full path builder...
    let late = at("2035-06-05");
    let x2_by_x1 = endpoint("x2", "isrg-root-x2-by-x1.pem");
    assert!(!coverage::reach(&model, &x2_by_x1, &x1.der, now, late).covers());
    // ...and the checkpoints include each boundary, the second after a notAfter.
    let points = coverage::checkpoints([x1.der.as_slice()], at("2030-01-01"), late);
    assert_eq!(points.len(), 3);
    assert_eq!(points[1].to_string(), "2035-06-04 11:04:39.0 +00:00:00");
    // ESP-IDF looks up the topmost certificate's issuer: E5 cross-signed by X1 needs X1.
    let e5_cross = endpoint("e5x", "e5-by-x1.pem");
    let esp = DeviceVerifier::EspIdf.model();
    assert!(coverage::reach(&esp, &e5_cross, &x1.der, now, horizon).covers());
    assert!(!coverage::reach(&esp, &e5_cross, &x2.der, now, horizon).covers());
    // BearSSL's knobs come from the calibrated engine table.
    assert!(DeviceVerifier::Bearssl.knobs().chain_as_sent);
}

#[test]
fn the_real_chains_get_a_minimal_set_of_roots_and_x1_s_expiry_is_named() {
    let endpoints = vec![
        endpoint("r10", "r10.pem"),
        endpoint("e5", "e5.pem"),
        endpoint("e5-cross", "e5-by-x1.pem"),
        endpoint("yr1", "extra/yr1.pem"),
    ];
    let candidates = vec![
        candidate("isrg-root-x1.pem"),
        candidate("isrg-root-x2.pem"),
        candidate("extra/root-yr.pem"),
        candidate("extra/root-yr-by-x1.pem"),
        candidate("r11.pem"),
    ];
    let bundle = build(request(endpoints, candidates)).unwrap();
    let chosen: Vec<String> = bundle.anchors().iter().map(|a| a.name.clone()).collect();
    assert_eq!(chosen, ["ISRG Root X1", "ISRG Root X2", "Root YR"]);
    assert_eq!(bundle.selection.method, Method::Exact);
    assert!(bundle.anchors().iter().all(|a| is_root(&a.der)));
    let x1_expiry = bundle.lints.iter().find_map(|lint| match lint {
        Lint::ExpiresBeforeHorizon {
            anchor,
            replacement,
            ..
        } if anchor == "ISRG Root X1" => Some(replacement.clone()),
        _ => None,
    });
    assert_eq!(x1_expiry, Some(vec!["Root YR".to_string()]));
    assert!(bundle.lints.contains(&Lint::BelowMinimum {
        endpoint: "r10".into(),
        have: 1,
        want: 2
    }));
    let report = bundle.report();
    assert!(
        report.contains("| r10 (intermediates only) | 2026-11-30T00:00:00Z | 2027-03-12"),
        "{report}"
    );
    let pem = bundle.pem();
    assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 3);
    assert!(!pem.contains("PRIVATE"));
    let files = bundle
        .files(&bundle.prove().unwrap(), &[Format::Pem, Format::EspIdf])
        .unwrap();
    let names: Vec<&str> = files
        .iter()
        .map(|(path, _)| path.to_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "bundle.pem",
            "x509_crt_bundle",
            "manifest.json",
            "report.md",
            "report.html"
        ]
    );
    let manifest: serde_json::Value = serde_json::from_slice(&files[2].1).unwrap();
    assert_eq!(manifest["method"], "exact");
    // The manifest gives each format's size, as written.
    assert_eq!(
        manifest["bytes_per_format"]["esp-idf"],
        serde_json::json!(files[1].1.len())
    );
    assert_eq!(manifest["anchors"][0]["covers"][0], "r10");
}

#[test]
fn an_endpoint_nothing_covers_is_named_with_the_reason() {
    let error = build(request(
        vec![endpoint("r10", "r10.pem"), endpoint("e5", "e5.pem")],
        vec![candidate("isrg-root-x1.pem")],
    ))
    .unwrap_err();
    assert_eq!(error.uncovered.len(), 1);
    assert_eq!(error.uncovered[0].0, "e5");
    assert!(error.to_string().contains("ISRG Root X2"), "{error}");
}

#[test]
fn the_bundle_over_its_byte_budget_is_flagged() {
    let mut asked = request(
        vec![endpoint("r10", "r10.pem")],
        vec![candidate("isrg-root-x1.pem")],
    );
    asked.max_bytes = Some(100);
    let bundle = build(asked).unwrap();
    assert!(bundle
        .lints
        .iter()
        .any(|lint| matches!(lint, Lint::ExceedsMaxBytes { max: 100, .. })));
}

#[test]
fn a_cross_sign_of_a_chosen_root_is_no_backup() {
    // Under partial-chain, Root YR cross-signed by X1 would anchor yr1 too, but it is the same
    // name and key as Root YR: one anchor to the device, merged, and the endpoint has one.
    let mut asked = request(
        vec![endpoint("yr1", "extra/yr1.pem")],
        vec![
            candidate("extra/root-yr-by-x1.pem"),
            candidate("extra/root-yr.pem"),
        ],
    );
    asked.verifier = DeviceVerifier::PartialChain;
    let bundle = build(asked).unwrap();
    assert_eq!(bundle.request.candidates.len(), 1);
    assert_eq!(bundle.merged.len(), 1);
    let anchors = bundle.anchors();
    assert_eq!(anchors.len(), 1);
    assert!(is_root(&anchors[0].der));
    assert!(bundle.lints.contains(&Lint::BelowMinimum {
        endpoint: "yr1".into(),
        have: 1,
        want: 2
    }));
}

#[test]
fn two_anchors_with_one_subject_and_two_keys_are_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for _ in 0..2 {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Vendor Root");
        text += &params.self_signed(&key).unwrap().pem();
    }
    let file = write(dir.path(), "twins.pem", &text);
    let mut candidates = vec![candidate("isrg-root-x1.pem")];
    candidates.extend(load::load_candidate_file(&file).unwrap());
    let bundle = build(request(vec![endpoint("r10", "r10.pem")], candidates)).unwrap();
    assert_eq!(
        bundle.request.candidates.len(),
        3,
        "different keys are not merged"
    );
    let lints = bundle.lint_store(&[1, 2]);
    assert_eq!(
        lints,
        [Lint::SameSubject {
            subject: "CN=Vendor Root".into(),
            count: 2
        }]
    );
    assert!(bundle
        .lint_store(&[0])
        .iter()
        .all(|l| !matches!(l, Lint::SameSubject { .. })));
}

#[test]
fn the_whole_bundle_is_proved_at_every_checkpoint() {
    for verifier in [
        DeviceVerifier::FullPathBuilding,
        DeviceVerifier::EspIdf,
        DeviceVerifier::Bearssl,
    ] {
        let mut asked = request(
            vec![
                endpoint("r10", "r10.pem"),
                endpoint("e5-cross", "e5-by-x1.pem"),
                endpoint("e5", "e5.pem"),
            ],
            vec![candidate("isrg-root-x1.pem"), candidate("isrg-root-x2.pem")],
        );
        asked.verifier = verifier;
        let bundle = build(asked).unwrap();
        assert_eq!(bundle.anchors().len(), 2, "{verifier}");
        bundle.prove().unwrap_or_else(|e| panic!("{verifier}: {e}"));
    }
    // A bundle missing the anchor an endpoint needs fails its proof.
    let mut bundle = build(request(
        vec![endpoint("r10", "r10.pem"), endpoint("e5", "e5.pem")],
        vec![candidate("isrg-root-x1.pem"), candidate("isrg-root-x2.pem")],
    ))
    .unwrap();
    let x2 = bundle
        .request
        .candidates
        .iter()
        .position(|c| name(&c.der) == "ISRG Root X2")
        .unwrap();
    let x1 = 1 - x2;
    // Pretend X2 covered r10 and choose it alone: the proof must catch it.
    bundle.reach[0][x2] = Reach::Covers;
    bundle.selection.chosen = vec![x2];
    let error = bundle.prove().unwrap_err();
    assert_eq!(error.host, "r10");
    assert!(error.verdict.starts_with("reject"), "{error}");
    bundle.selection.chosen = vec![x1, x2];
    bundle.prove().unwrap();
}

#[test]
fn the_same_inputs_give_the_same_bytes_whatever_the_candidate_order() {
    let endpoints = || vec![endpoint("r10", "r10.pem"), endpoint("e5", "e5.pem")];
    let mut candidates = vec![
        candidate("isrg-root-x1.pem"),
        candidate("isrg-root-x2.pem"),
        candidate("extra/root-yr.pem"),
    ];
    let files = |candidates: Vec<Candidate>| {
        let bundle = build(request(endpoints(), candidates)).unwrap();
        bundle
            .files(&bundle.prove().unwrap(), &Format::ALL)
            .unwrap()
    };
    let first = files(candidates.clone());
    assert_eq!(first, files(candidates.clone()));
    candidates.reverse();
    let reversed = files(candidates);
    assert_eq!(first, reversed);
}

#[test]
fn an_uncovered_endpoint_names_the_candidate_that_stops_too_early() {
    // X2 cross-signed by X1 (until 2025-09-15) anchoring E5 under partial-chain: at 2025-01-01
    // it validates, and fails once the cross-sign expires, before E5's chain does.
    let mut asked = request(
        vec![endpoint("e5", "e5.pem")],
        vec![
            candidate("isrg-root-x2.pem"),
            candidate("isrg-root-x2-by-x1.pem"),
        ],
    );
    asked.verifier = DeviceVerifier::PartialChain;
    asked.now = at("2025-01-01");
    // Different keys would not merge; these share one, so make the cross-sign stand alone.
    asked.candidates.remove(0);
    let error = build(asked).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("ISRG Root X2 validates it only until 2025-09-15T16:00:01Z"),
        "{error}"
    );
}

/// Whether every opened element of `page` is closed in order (void elements excepted), and no
/// `<` or `&` stands outside markup or an entity: the page is well formed.
fn well_formed(page: &str) -> Result<(), String> {
    const VOID: [&str; 2] = ["meta", "br"];
    let mut open: Vec<String> = Vec::new();
    let mut rest = page.strip_prefix("<!DOCTYPE html>").ok_or("no doctype")?;
    while let Some(start) = rest.find('<') {
        let text = &rest[..start];
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..];
            if !["&lt;", "&gt;", "&amp;", "&quot;", "&#"]
                .iter()
                .any(|e| entity.starts_with(e))
            {
                return Err(format!("bare & in {text:?}"));
            }
        }
        let end = rest[start..].find('>').ok_or("unclosed tag")? + start;
        let tag = &rest[start + 1..end];
        if tag.contains('<') {
            return Err(format!("bare < in {tag:?}"));
        }
        let tag_name = |t: &str| t.split_whitespace().next().unwrap_or("").to_string();
        if let Some(closing) = tag.strip_prefix('/') {
            let expected = open.pop().ok_or(format!("stray </{closing}>"))?;
            if expected != closing {
                return Err(format!("</{closing}> closes <{expected}>"));
            }
        } else if !VOID.contains(&tag_name(tag).as_str()) {
            open.push(tag_name(tag));
        }
        rest = &rest[end + 1..];
    }
    if open.is_empty() {
        Ok(())
    } else {
        Err(format!("left open: {open:?}"))
    }
}

#[test]
fn report_html_is_well_formed_and_escapes_names() {
    let bundle = build(request(
        vec![
            endpoint("<r10 & \"co\">", "r10.pem"),
            endpoint("e5", "e5.pem"),
        ],
        vec![candidate("isrg-root-x1.pem"), candidate("isrg-root-x2.pem")],
    ))
    .unwrap();
    let proof = bundle.prove().unwrap();
    let files = bundle.files(&proof, &[]).unwrap();
    let (_, html) = files
        .iter()
        .find(|(path, _)| path == Path::new("report.html"))
        .expect("report.html is written");
    let html = String::from_utf8(html.clone()).unwrap();
    well_formed(&html).unwrap();
    assert!(html.contains("&lt;r10 &amp; &quot;co&quot;&gt;"), "{html}");
    assert!(!html.contains("<r10"));
    assert!(!html.contains("<script"));
    // The anchors, the timeline with now and the horizon, and the lints by severity.
    assert!(html.contains("ISRG Root X1") && html.contains("ISRG Root X2"));
    assert!(html.contains("<svg") && html.contains("now 2026-11-30"));
    assert!(html.contains("horizon 2040-01-01"));
    assert!(html.contains("class=\"warning\""), "{html}");
    // The same inputs give the same bytes.
    assert_eq!(bundle.files(&proof, &[]).unwrap(), files);
}

#[test]
fn the_well_formedness_check_can_fail() {
    assert!(well_formed("<!DOCTYPE html><p><b></p></b>").is_err());
    assert!(well_formed("<!DOCTYPE html><p>a & b</p>").is_err());
    assert!(well_formed("<!DOCTYPE html><p>a &amp; b<br></p>").is_ok());
}

#[test]
fn two_roots_of_one_operator_are_one_point_of_failure() {
    // E5 served with ISRG Root X2 cross-signed by X1 (the chain Let's Encrypt offered while X2
    // was young): it validates to X2 and, through the cross-sign, to X1. Two roots, one CA.
    let dir = tempfile::tempdir().unwrap();
    let chain = std::fs::read_to_string(fixtures().join("e5.pem")).unwrap()
        + &std::fs::read_to_string(fixtures().join("isrg-root-x2-by-x1.pem")).unwrap();
    let file = write(dir.path(), "e5-x2-cross.pem", &chain);
    let e5 = load::load_endpoint("e5-x2-cross", &file).unwrap();
    let candidates = vec![
        candidate("isrg-root-x1.pem"),
        candidate("isrg-root-x2.pem"),
        candidate("dst-root-ca-x3.pem"),
    ];
    let bundle = build(Request {
        now: at("2025-01-01"),
        horizon: at("2025-06-01"),
        ..request(vec![e5], candidates)
    })
    .unwrap();
    let chosen: Vec<String> = bundle.anchors().iter().map(|a| a.name.clone()).collect();
    assert_eq!(chosen, ["ISRG Root X1", "ISRG Root X2"]);
    assert_eq!(
        bundle.lints,
        [Lint::SingleOperator {
            endpoint: "e5-x2-cross".into(),
            operator: "Internet Security Research Group".into(),
        }]
    );
    assert!(bundle.lints[0]
        .sentence()
        .contains("depends on one CA operator, Internet Security Research Group"));
    // One root of the two: the finding is the single root, not the operator.
    let x2 = bundle
        .request
        .candidates
        .iter()
        .position(|c| name(&c.der) == "ISRG Root X2")
        .unwrap();
    assert_eq!(
        bundle.lint_store(&[x2]),
        [
            Lint::SingleRoot {
                endpoint: "e5-x2-cross".into(),
                root: "ISRG Root X2".into(),
            },
            Lint::BelowMinimum {
                endpoint: "e5-x2-cross".into(),
                have: 1,
                want: 2
            }
        ]
    );
}
