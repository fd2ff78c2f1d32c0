//! Bad scenario input: every error names the file, the line (and column) and the field. Each test
//! loads a tiny corpus in a temporary directory (P-256 keys, so generation is instant) with one
//! line changed.

use std::path::Path;

use anchorsmith_corpus::{load_corpus_with, CorpusError, LoadOptions};

const SEED: &str = "The short chain works.\nThe long chain\n   fails after “expiry”.\n";

const CLIENTS: &str = r#"
[clients.path-builder]
description = "any path builder"
engines = ["rustls-webpki", "openssl"]
"#;

const TOPOLOGY: &str = r#"
seed = "anchorsmith-corpus-test"
[instants]
expiry = 2021-09-30T14:01:15Z
[keys]
root = "ecdsa-p256"
int = "ecdsa-p256"
leaf = "ecdsa-p256"
[[cert]]
id = "root"
subject = { cn = "Root (test)", o = "anchorsmith test PKI" }
key = "root"
issuer = "self"
not_before = "2020-01-01T00:00:00Z"
not_after = "expiry"
serial = "01"
[cert.extensions]
basic_constraints = { ca = true, critical = true }
[[cert]]
id = "int"
subject = { cn = "Int (test)", o = "anchorsmith test PKI" }
key = "int"
issuer = "root"
not_before = "2020-01-01T00:00:00Z"
not_after = "2030-01-01T00:00:00Z"
serial = "02"
[cert.extensions]
basic_constraints = { ca = true, path_len = 0, critical = true }
[[cert]]
id = "leaf"
subject = { cn = "www.example.test", o = "anchorsmith test PKI" }
key = "leaf"
issuer = "int"
not_before = "2020-06-01T00:00:00Z"
not_after = "2030-01-01T00:00:00Z"
serial = "03"
[cert.extensions]
basic_constraints = { ca = false }
subject_alt_name = { dns = ["www.example.test"] }
"#;

const SCENARIO: &str = r#"[scenario]
seed_file = "000_test.txt"
title = "tiny"
description = "A tiny scenario."
diagram = "leaf -> int -> root"
why_it_matters = "Tests."

[chains]
full = ["leaf", "int"]
leaf-only = ["leaf"]

[stores]
root = ["root"]

[times]
at-before = "expiry - 1d"
at-after = "expiry + 1d"

[[cases]]
chains = ["full", "leaf-only"]
stores = ["root"]
times = ["at-before", "at-after"]
caches = [[], ["int"]]
dns_name = "www.example.test"
usage = "server-auth"

[[expectations]]
chain = "full"
time = "at-after"
client = "path-builder"
outcome = "reject"
quote = "The long chain fails after “expiry”."
"#;

/// Writes the tiny corpus with `edit` applied to scenario.toml and loads it.
fn load_with(edit: impl Fn(&str) -> String) -> Result<anchorsmith_corpus::Corpus, CorpusError> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |path: &Path, text: &str| {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(&root.join("seeds/000_test.txt"), SEED);
    write(&root.join("corpus/clients.toml"), CLIENTS);
    write(&root.join("corpus/scenarios/tiny/topology.toml"), TOPOLOGY);
    write(
        &root.join("corpus/scenarios/tiny/scenario.toml"),
        &edit(SCENARIO),
    );
    let options = LoadOptions {
        seeds_dir: root.join("seeds"),
        key_cache_dir: None,
    };
    load_corpus_with(&root.join("corpus"), &options)
}

/// The error of a load with `from` replaced by `to`; asserts it points at `line` and `field`.
fn expect_error(from: &str, to: &str, line: usize, field: &str) -> String {
    assert!(SCENARIO.contains(from), "test edit does not apply: {from}");
    let error = load_with(|text| text.replacen(from, to, 1)).expect_err("must fail");
    let message = error.to_string();
    assert!(
        message.contains(&format!("scenario.toml:{line}:")),
        "expected line {line}: {message}"
    );
    assert!(
        message.contains(&format!("field `{field}`")),
        "expected field {field}: {message}"
    );
    assert!(error.is_bad_input());
    message
}

#[test]
fn the_tiny_corpus_loads() {
    let corpus = load_with(|text| text.to_string()).unwrap();
    assert_eq!(corpus.cases.len(), 8);
    let case = corpus.case("tiny::full::store-root::at-after").unwrap();
    assert_eq!(case.expectations.len(), 1);
    assert!(
        !case.reference.is_accept(),
        "an expired anchor fails the reference"
    );
    let cached = corpus
        .case("tiny::leaf-only::store-root::at-before::cache-int")
        .unwrap();
    assert!(cached.reference.is_accept());
    assert!(!cached.plain_reference.is_accept());
}

#[test]
fn unknown_chain_in_cases() {
    let message = expect_error(
        r#"chains = ["full", "leaf-only"]"#,
        r#"chains = ["full", "leaf-onyl"]"#,
        20,
        "cases[0].chains",
    );
    assert!(message.contains("unknown chain \"leaf-onyl\""), "{message}");
}

#[test]
fn unknown_certificate_id_in_a_chain() {
    let message = expect_error(
        r#"full = ["leaf", "int"]"#,
        r#"full = ["leaf", "intermediate"]"#,
        9,
        "chains.full[1]",
    );
    assert!(
        message.contains("unknown certificate id \"intermediate\""),
        "{message}"
    );
}

#[test]
fn unknown_certificate_id_in_a_cache() {
    expect_error(
        r#"caches = [[], ["int"]]"#,
        r#"caches = [[], ["nope"]]"#,
        23,
        "cases[0].caches[1][0]",
    );
}

#[test]
fn unknown_time_expression() {
    expect_error(
        r#"at-after = "expiry + 1d""#,
        r#"at-after = "expiri + 1d""#,
        17,
        "times.at-after",
    );
}

#[test]
fn unknown_client() {
    expect_error(
        r#"client = "path-builder""#,
        r#"client = "android""#,
        30,
        "expectations[0].client",
    );
}

#[test]
fn unknown_seed_file() {
    expect_error(
        r#"seed_file = "000_test.txt""#,
        r#"seed_file = "999.txt""#,
        2,
        "scenario.seed_file",
    );
}

#[test]
fn quote_not_in_the_seed() {
    // Straight quotes instead of the seed's curly ones: not verbatim.
    let message = expect_error(
        "fails after “expiry”.",
        "fails after \\\"expiry\\\".",
        32,
        "expectations[0].quote",
    );
    assert!(message.contains("000_test.txt"), "{message}");
}

#[test]
fn expectation_selecting_no_case() {
    let message = expect_error(
        r#"time = "at-after""#,
        "time = \"at-after\"\naia = true",
        27,
        "expectations[0]",
    );
    assert!(message.contains("selects no case"), "{message}");
}

#[test]
fn duplicate_case_ids() {
    let duplicate = "usage = \"server-auth\"\n\n[[cases]]\nchains = [\"full\"]\nstores = [\"root\"]\ntimes = [\"at-before\"]\ndns_name = \"x.test\"\nusage = \"server-auth\"";
    let message = expect_error("usage = \"server-auth\"", duplicate, 27, "cases[1]");
    assert!(
        message.contains("duplicate case id tiny::full::store-root::at-before"),
        "{message}"
    );
}

#[test]
fn malformed_toml_and_unknown_fields_name_the_line() {
    let error = load_with(|text| text.replacen("outcome = \"reject\"", "outcome = \"maybe\"", 1))
        .unwrap_err();
    assert!(error.to_string().contains("scenario.toml:31:"), "{error}");
    let error = load_with(|text| text.replacen("dns_name =", "dns-name =", 1)).unwrap_err();
    assert!(error.to_string().contains("dns-name"), "{error}");
    let error = load_with(|text| text.replacen("[stores]", "[stores", 1)).unwrap_err();
    assert!(error.to_string().contains("scenario.toml:12:"), "{error}");
}
