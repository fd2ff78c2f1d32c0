//! The name prefilter of `coverage::matrix` changes no coverage: on a small real instance (Let's
//! Encrypt chains with and without cross-signs, against the Mozilla store plus the fixtures'
//! roots and intermediates), under every device verifier, the matrix covers exactly where
//! validating every pair covers.

use std::path::PathBuf;

use anchorsmith_bundle::build::parse_instant;
use anchorsmith_bundle::coverage::{self, DeviceVerifier, Reach, NOT_NAMED};
use anchorsmith_bundle::load;
use strum::VariantNames;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/letsencrypt")
}

#[test]
fn the_prefilter_gives_the_same_coverage_as_validating_every_pair() {
    let endpoints: Vec<_> = ["r10.pem", "e5-by-x1.pem", "e6.pem"]
        .iter()
        .map(|file| load::load_endpoint(file, &fixtures().join(file)).unwrap())
        .collect();
    let (mut candidates, _) = load::mozilla_candidates();
    for file in [
        "isrg-root-x1.pem",
        "isrg-root-x2.pem",
        "isrg-root-x2-by-x1.pem",
        "r10.pem",
        "e5.pem",
    ] {
        candidates.extend(load::load_candidate_file(&fixtures().join(file)).unwrap());
    }
    let ders: Vec<Vec<u8>> = candidates.into_iter().map(|c| c.der).collect();
    let now = parse_instant("2026-11-30").unwrap();
    let horizon = parse_instant("2040-01-01").unwrap();
    for name in DeviceVerifier::VARIANTS {
        let verifier: DeviceVerifier = name.parse().unwrap();
        let model = verifier.model();
        let matrix = coverage::matrix(verifier, &endpoints, &ders, now, horizon);
        let mut covering = 0;
        let mut filtered = 0;
        for (endpoint, row) in endpoints.iter().zip(&matrix) {
            for (anchor, prefiltered) in ders.iter().zip(row) {
                let every_pair = coverage::reach(&model, endpoint, anchor, now, horizon);
                assert_eq!(
                    prefiltered.covers(),
                    every_pair.covers(),
                    "{verifier}: {} with {}",
                    endpoint.host,
                    anchorsmith_bundle::build::name(anchor)
                );
                if matches!(prefiltered, Reach::Never { verdict } if verdict == NOT_NAMED) {
                    filtered += 1;
                } else {
                    assert_eq!(prefiltered, &every_pair);
                }
                covering += usize::from(every_pair.covers());
            }
        }
        // The instance exercises both sides: some anchors cover, most are filtered out.
        assert!(covering > 0, "{verifier}: nothing covers");
        assert!(
            filtered > ders.len(),
            "{verifier}: the prefilter ruled out nothing"
        );
    }
}
