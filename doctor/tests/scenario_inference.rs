//! Which scenario a served chain belongs to, over the real corpus: the scenario that made the
//! leaf; a leaf several scenarios hold is ambiguous; a leaf none knows (and nothing served any
//! scenario knows) is unknown.

use std::path::PathBuf;

use anchorsmith_doctor::{infer_scenario, Inferred, NoScenario, ServedChain};

#[test]
fn the_scenario_is_the_one_that_made_the_leaf() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let corpus = anchorsmith_corpus::load_corpus(&dir.canonicalize().unwrap())
        .unwrap_or_else(|e| panic!("{e}"));
    let long_short = corpus
        .scenarios
        .iter()
        .find(|s| s.name == "root-expiry-long-short")
        .unwrap();
    let der = |id: &str| long_short.pki.certs[id].der.clone();

    let chain = ServedChain::new(vec![der("leaf"), der("r3")]).unwrap();
    match infer_scenario(&corpus.scenarios, &chain) {
        Ok(Inferred::Leaf(scenario)) => assert_eq!(scenario.name, long_short.name),
        other => panic!("{other:?}"),
    }

    // The leaf sent after its issuer (wrong order): still the leaf's scenario, not R3's many.
    let reversed = ServedChain::new(vec![der("r3"), der("leaf")]).unwrap();
    match infer_scenario(&corpus.scenarios, &reversed) {
        Ok(Inferred::Leaf(scenario)) => assert_eq!(scenario.name, long_short.name),
        other => panic!("{other:?}"),
    }

    // R3 served as the leaf: every scenario holding it made it; which one is meant?
    let r3_first = ServedChain::new(vec![der("r3")]).unwrap();
    let holding: Vec<String> = corpus
        .scenarios
        .iter()
        .filter(|s| s.pki.certs.values().any(|c| c.der == der("r3")))
        .map(|s| s.name.clone())
        .collect();
    assert!(holding.len() > 1, "{holding:?}");
    assert_eq!(
        infer_scenario(&corpus.scenarios, &r3_first).unwrap_err(),
        NoScenario::LeafInSeveral(holding)
    );

    // A certificate no scenario made, nor issued.
    let stranger = rcgen::generate_simple_self_signed(vec!["stranger.example".to_string()])
        .unwrap()
        .cert
        .der()
        .to_vec();
    let unknown = ServedChain::new(vec![stranger]).unwrap();
    assert_eq!(
        infer_scenario(&corpus.scenarios, &unknown).unwrap_err(),
        NoScenario::Unknown
    );
}
