//! Every harness's table of native errors (`reject_kind` in `harness.toml`) against real native
//! errors captured from that harness (`reject-kinds.samples.toml` beside it, copied verbatim from
//! results files of `cargo xtask corpus` and `cargo xtask limbo --suite core`).
//!
//! Each sample must map to the kind written beside it, and each row of a table must be the row
//! that decides at least one sample: a row whose kind is wrong fails the first check, a row whose
//! pattern is wrong (or shadowed by an earlier row) fails the second.

use anchorsmith_diagnostics::parse_toml;
use anchorsmith_validators::harnesses::kinds::{map_kind, matching_rule};
use anchorsmith_validators::harnesses::{harnesses_dir, load_manifests, HarnessManifest};
use anchorsmith_validators::RejectKind;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Samples {
    sample: Vec<Sample>,
}

/// One native error as the harness wrote it, and the kind it stands for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sample {
    kind: RejectKind,
    context: String,
}

fn samples_of(manifest: &HarnessManifest) -> Vec<Sample> {
    let path = manifest.dir.join("reject-kinds.samples.toml");
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let samples: Samples = parse_toml(&path, &source).unwrap_or_else(|error| panic!("{error}"));
    samples.sample
}

fn shipped() -> Vec<HarnessManifest> {
    load_manifests(&harnesses_dir()).unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn every_builtin_harness_has_a_table() {
    for manifest in shipped() {
        assert!(
            !manifest.reject_kinds.is_empty(),
            "{}: no reject_kind table",
            manifest.name
        );
    }
}

#[test]
fn every_sample_maps_to_its_kind() {
    for manifest in shipped() {
        for sample in samples_of(&manifest) {
            assert_eq!(
                map_kind(&manifest.reject_kinds, &sample.context),
                sample.kind,
                "{}: sample {:?}",
                manifest.name,
                sample.context
            );
        }
    }
}

#[test]
fn every_row_decides_a_real_sample() {
    for manifest in shipped() {
        let samples = samples_of(&manifest);
        for (index, rule) in manifest.reject_kinds.iter().enumerate() {
            let decided = samples.iter().any(|sample| {
                matching_rule(&manifest.reject_kinds, &sample.context) == Some(index)
            });
            assert!(
                decided,
                "{}: row {index} (native {:?}, kind {}) decides no sample: a wrong pattern, or \
                 shadowed by an earlier row",
                manifest.name,
                rule.native.as_str(),
                rule.kind
            );
        }
    }
}

#[test]
fn the_samples_are_the_harnesses_own() {
    // A samples file belongs to one harness directory; a stray one would test nothing.
    let dirs: Vec<_> = shipped().into_iter().map(|manifest| manifest.dir).collect();
    for entry in std::fs::read_dir(harnesses_dir()).unwrap() {
        let dir = entry.unwrap().path();
        if dir.join("reject-kinds.samples.toml").exists() {
            assert!(
                dirs.contains(&dir),
                "{}: samples without a harness",
                dir.display()
            );
        }
    }
}
