//! Every harness's table of native errors (`reject_kind` in `harness.toml`, the harness's rows
//! and a column's own rows) against real native errors captured from that harness
//! (`reject-kinds.samples.toml` beside it, copied verbatim from results files of `cargo xtask
//! corpus` and `cargo xtask limbo --suite core`). A sample naming a `column` belongs to that
//! column; one without belongs to every column of its harness.
//!
//! Each sample must map to the kind written beside it, and each row of a table must be the row
//! that decides at least one sample: a row whose kind is wrong fails the first check, a row whose
//! pattern is wrong (or shadowed by an earlier row) fails the second.

use anchorsmith_diagnostics::parse_toml;
use anchorsmith_validators::harnesses::kinds::KindRule;
use anchorsmith_validators::harnesses::kinds::{map_kind, matching_rule};
use anchorsmith_validators::harnesses::manifest::Column;
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
    /// The column it came from, when the harness's columns have their own tables.
    column: Option<String>,
    kind: RejectKind,
    context: String,
}

impl Sample {
    fn belongs_to(&self, column: &Column) -> bool {
        self.column.as_ref().is_none_or(|name| *name == column.name)
    }
}

/// Each column of `manifest` with its whole table and its samples.
fn tables(manifest: &HarnessManifest) -> Vec<(&Column, Vec<KindRule>, Vec<Sample>)> {
    manifest
        .columns
        .iter()
        .map(|column| {
            let samples = samples_of(manifest)
                .into_iter()
                .filter(|sample| sample.belongs_to(column))
                .collect();
            (column, manifest.kinds_of(column), samples)
        })
        .collect()
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
fn every_builtin_column_has_a_table() {
    for manifest in shipped() {
        for (column, table, _) in tables(&manifest) {
            assert!(
                !table.is_empty(),
                "{} ({}): no reject_kind table",
                manifest.name,
                column.name
            );
        }
    }
}

#[test]
fn every_sample_maps_to_its_kind() {
    for manifest in shipped() {
        let names: Vec<&str> = manifest.columns.iter().map(|c| c.name.as_str()).collect();
        for sample in samples_of(&manifest) {
            if let Some(column) = &sample.column {
                assert!(
                    names.contains(&column.as_str()),
                    "{}: sample of unknown column {column}",
                    manifest.name
                );
            }
        }
        for (column, table, samples) in tables(&manifest) {
            for sample in samples {
                assert_eq!(
                    map_kind(&table, &sample.context),
                    sample.kind,
                    "{} ({}): sample {:?}",
                    manifest.name,
                    column.name,
                    sample.context
                );
            }
        }
    }
}

#[test]
fn every_row_decides_a_real_sample() {
    for manifest in shipped() {
        for (column, table, samples) in tables(&manifest) {
            for (index, rule) in table.iter().enumerate() {
                let decided = samples
                    .iter()
                    .any(|sample| matching_rule(&table, &sample.context) == Some(index));
                assert!(
                    decided,
                    "{} ({}): row {index} (native {:?}, kind {}) decides no sample: a wrong \
                     pattern, or shadowed by an earlier row",
                    manifest.name,
                    column.name,
                    rule.native.as_str(),
                    rule.kind
                );
            }
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
