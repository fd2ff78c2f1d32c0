//! `cargo xtask timeline` from the outside: it writes timeline.md and timeline.svg for
//! root-expiry-long-short, prints where each subject works, and refuses unknown names with exit
//! status 2 and the known ones.

use std::path::Path;
use std::process::{Command, Output};

mod common;

fn timeline(args: &[&str], out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("timeline")
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .expect("xtask runs")
}

#[test]
fn root_expiry_long_short_into_a_temporary_directory() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = timeline(
        &[
            "--scenario",
            "root-expiry-long-short",
            "--target",
            "current-openssl-client",
            "--target",
            "android-pre-7.1.1",
        ],
        dir.path(),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        // current-openssl-client: 3 stores × 2 chains; android-pre-7.1.1: 1 store × 2 chains.
        stderr.contains("timeline: root-expiry-long-short (8 subjects)"),
        "{stderr}"
    );
    // The summary: a current OpenSSL client loses the long chain on the old store at the DST
    // expiry; old Android (the client model ignoring the anchor's expiry) only at the
    // cross-sign's end.
    let works = |target: &str, chain: &str, store: &str| {
        stdout
            .lines()
            .find(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                words.len() > 3 && words[..3] == [target, chain, store]
            })
            .unwrap_or_else(|| panic!("no line for {target} {chain} {store} in {stdout}"))
            .to_string()
    };
    assert!(
        works("current-openssl-client", "long-chain", "old")
            .ends_with("works 2021-08-31 14:01:15 → 2021-09-30 14:01:15"),
        "{stdout}"
    );
    assert!(
        works("android-pre-7.1.1", "long-chain", "old")
            .ends_with("works 2021-08-31 14:01:15 → 2024-09-30 18:14:04"),
        "{stdout}"
    );
    assert!(
        works("android-pre-7.1.1", "short-chain", "old").ends_with("works never"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(0 failed), 0 not at a certificate boundary"),
        "{stdout}"
    );

    let md = std::fs::read_to_string(dir.path().join("timeline.md")).expect("timeline.md");
    assert!(md.contains("## root-expiry-long-short"), "{md}");
    assert!(
        // Before the leaf's notBefore the chain cannot be served, whatever OpenSSL would say.
        md.contains("| current-openssl-client | long-chain | old | … → 2021-08-31 14:01:15 not served · 2021-08-31 14:01:15 → 2021-09-30 14:01:15 accept · 2021-09-30 14:01:15 → … reject:expired |"),
        "{md}"
    );
    assert!(!md.contains("PROOF FAILED"), "{md}");
    let svg = std::fs::read_to_string(dir.path().join("timeline.svg")).expect("timeline.svg");
    assert!(svg.starts_with("<?xml"), "{svg}");
    assert!(
        svg.contains(">dst-expiry<title>2021-09-30 14:01:15 UTC</title>"),
        "{svg}"
    );
    assert!(
        svg.contains(">android-pre-7.1.1 · long-chain · old</text>"),
        "{svg}"
    );
    // Nothing else is written.
    let mut written: Vec<String> = std::fs::read_dir(dir.path())
        .expect("the output directory")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    written.sort();
    assert_eq!(written, ["timeline.md", "timeline.svg"]);
}

#[test]
fn unknown_names_exit_2_with_the_known_ones() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join("out");
    let output = timeline(&["--scenario", "root-expiry"], &out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    // Located on the option's value (the option is its "file"), the known names as help.
    assert!(
        stderr.contains("no such scenario: `root-expiry`")
            && stderr.contains("--> --scenario:1:1")
            && stderr.contains("known: ")
            && stderr.contains("root-expiry-long-short"),
        "{stderr}"
    );
    let output = timeline(&["--target", "firefox-48"], &out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no such target in corpus/targets/: `firefox-48`")
            && stderr.contains("--> --target:1:1")
            && stderr.contains("known: android-pre-7.1.1, "),
        "{stderr}"
    );
    assert!(!out.exists(), "bad input writes nothing");
}

/// `--corpus DIR` reads a corpus of one's own (here a copy of `corpus/` cut down to one scenario
/// and one target) in place of the project's: the subjects are those of the copy alone.
#[test]
fn a_corpus_of_ones_own() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let corpus = common::corpus_copy(
        dir.path(),
        &["root-expiry-long-short"],
        &["android-pre-7.1.1"],
    );
    let out = dir.path().join("out");
    let output = timeline(&["--corpus", corpus.to_str().unwrap()], &out);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    // One target, one store, two served chains; the project's corpus has six scenarios.
    assert!(
        stderr.contains("timeline: root-expiry-long-short (2 subjects)"),
        "{stderr}"
    );
    assert!(stdout.contains("1 scenario(s), 2 subjects"), "{stdout}");
    assert!(out.join("timeline.svg").is_file());
}
