//! Issue 11, "Done when — Synthetic": fed the endpoints of the corpus scenario
//! `intermediate-pinned-device`, the builder chooses roots that survive the X3 → R3 switch, and
//! lints the firmware of the time, which trusted only the intermediate X3 (seed 004).

use std::path::PathBuf;

use anchorsmith_bundle::build::{build, is_root, name, Request};
use anchorsmith_bundle::coverage::DeviceVerifier;
use anchorsmith_bundle::lint::Lint;
use anchorsmith_bundle::load::{is_ca, Candidate, Endpoint};

#[test]
fn roots_survive_the_x3_to_r3_switch_and_the_x3_only_store_is_flagged() {
    let corpus_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus")
        .canonicalize()
        .unwrap();
    let corpus = anchorsmith_corpus::load_corpus(&corpus_dir).unwrap_or_else(|e| panic!("{e}"));
    let scenario = corpus
        .scenarios
        .iter()
        .find(|scenario| scenario.name == "intermediate-pinned-device")
        .expect("the scenario exists");
    let der = |id: &str| scenario.pki.certs[id].der.clone();
    let endpoints: Vec<Endpoint> = scenario
        .chains
        .iter()
        .map(|(chain, ids)| {
            let chain_der: Vec<Vec<u8>> = ids.iter().map(|id| der(id)).collect();
            Endpoint {
                host: chain.clone(),
                file: scenario.dir.join("scenario.toml"),
                has_leaf: !is_ca(&chain_der[0]),
                chain: chain_der,
            }
        })
        .collect();
    // The candidates: every certificate of the device's two stores, pinned and fixed.
    let mut ids: Vec<&String> = scenario.stores.values().flatten().collect();
    ids.sort();
    ids.dedup();
    let candidates: Vec<Candidate> = ids
        .iter()
        .map(|id| Candidate {
            der: der(id),
            origin: format!("intermediate-pinned-device/{id}"),
        })
        .collect();
    let time = |name: &str| scenario.times[name].1;
    let bundle = build(Request {
        min_per_endpoint: 1,
        ..Request::new(
            endpoints,
            candidates,
            // The device accepted an intermediate as an anchor: a partial-chain verifier.
            DeviceVerifier::PartialChain,
            time("at-2020-12-15"),
            time("at-2021-03-18"),
        )
    })
    .unwrap_or_else(|e| panic!("{e}"));

    // The bundle: roots only, and each chain, before and after the switch, validates to one.
    let anchors = bundle.anchors();
    assert!(
        anchors.iter().all(|anchor| is_root(&anchor.der)),
        "{anchors:?}"
    );
    for (endpoint, row) in bundle.request.endpoints.iter().zip(&bundle.reach) {
        assert!(
            bundle.selection.chosen.iter().any(|&c| row[c].covers()),
            "{} is not covered by the bundle",
            endpoint.host
        );
    }
    assert!(bundle
        .lints
        .iter()
        .all(|lint| !matches!(lint, Lint::OnlyIntermediate { .. })));
    // Proved with the device model and, the chains having leaves, with real OpenSSL.
    let proof = bundle.prove().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(proof.validators, ["partial-chain", "openssl-partial-chain"]);
    assert!(proof.validations > 2 * bundle.request.endpoints.len());

    // The firmware of the time: X3 alone. It covers the X3 chain, not R3's, and is flagged.
    let x3 = bundle
        .request
        .candidates
        .iter()
        .position(|c| c.der == der("le-x3-by-dst"))
        .unwrap();
    let host = |e: usize| bundle.request.endpoints[e].host.as_str();
    let covered: Vec<&str> = (0..bundle.reach.len())
        .filter(|&e| bundle.reach[e][x3].covers())
        .map(host)
        .collect();
    assert_eq!(covered, ["x3-chain"]);
    let lints = bundle.lint_store(&[x3]);
    assert_eq!(
        lints.first(),
        Some(&Lint::OnlyIntermediate {
            endpoint: "x3-chain".into(),
            anchors: vec![name(&der("le-x3-by-dst"))],
        })
    );
    assert!(lints[0].sentence().contains("rotates its intermediates"));
}
