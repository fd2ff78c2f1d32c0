//! `cargo xtask corpus`: load the corpus (corpus/scenarios/ + clients.toml), regenerate the
//! committed export (corpus/generated/), and — later — run every case through every validator.
//!
//! `--check` regenerates in memory and fails (exit 1) when the committed files drifted;
//! `--bless` writes them. Bad scenario input exits 2 with file:line:column and field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anchorsmith_corpus::generated::{check_generated, render_generated, write_generated};
use anchorsmith_corpus::{load_corpus, Corpus};

use crate::{project_root, BadInput, CorpusArgs};

pub fn run(args: CorpusArgs) -> anyhow::Result<()> {
    let corpus_dir = project_root().join("corpus");
    let corpus = load(&corpus_dir)?;
    let rendered = render_generated(&corpus);
    if args.check {
        return check(&corpus_dir, &rendered);
    }
    bless(&corpus_dir, &rendered)?;
    if !args.bless {
        print_summary(&corpus);
        // The validator run and the reports (matrix, differences, HTML) are added here.
    }
    Ok(())
}

/// Loads the corpus; input errors become [`BadInput`] (exit status 2).
fn load(corpus_dir: &Path) -> anyhow::Result<Corpus> {
    load_corpus(corpus_dir).map_err(|error| {
        if error.is_bad_input() {
            anyhow::Error::new(BadInput(anyhow::Error::new(error)))
        } else {
            anyhow::Error::new(error)
        }
    })
}

/// Fails (exit 1) with the list of stale / missing / extra files when the committed corpus drifted.
fn check(corpus_dir: &Path, rendered: &BTreeMap<PathBuf, Vec<u8>>) -> anyhow::Result<()> {
    check_generated(corpus_dir, rendered)?;
    println!("corpus/generated/ is up to date ({} files)", rendered.len());
    Ok(())
}

/// Writes the committed corpus and says what changed.
fn bless(corpus_dir: &Path, rendered: &BTreeMap<PathBuf, Vec<u8>>) -> anyhow::Result<()> {
    let changes = write_generated(corpus_dir, rendered)?;
    if changes.is_empty() {
        println!("corpus/generated/ is up to date ({} files)", rendered.len());
    } else {
        println!(
            "corpus/generated/: {} updated, {} added, {} removed",
            changes.stale.len(),
            changes.missing.len(),
            changes.extra.len()
        );
    }
    Ok(())
}

fn print_summary(corpus: &Corpus) {
    let expectations = corpus.expectations().count();
    let accepted = corpus.cases.iter().filter(|c| c.reference.is_accept()).count();
    println!(
        "{} scenarios, {} cases ({} accepted by the reference), {} documented expectations",
        corpus.scenarios.len(),
        corpus.cases.len(),
        accepted,
        expectations
    );
}
