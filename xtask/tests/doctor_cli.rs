//! `cargo xtask doctor` from the outside, on chains written from the corpus scenarios' own
//! certificates: the wrong same-key intermediate is named (seed 001), the long/short trade-off
//! table at 2021-10-01 tells seed 003's story with cells the targets' engines give, and each kind
//! of bad input exits 2 with nothing on stdout.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anchorsmith_corpus::{Corpus, Scenario};
use anchorsmith_validators::Outcome;

fn corpus() -> Corpus {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    anchorsmith_corpus::load_corpus(&dir.canonicalize().unwrap()).unwrap_or_else(|e| panic!("{e}"))
}

fn scenario<'a>(corpus: &'a Corpus, name: &str) -> &'a Scenario {
    corpus.scenarios.iter().find(|s| s.name == name).unwrap()
}

/// The PEM of the scenario's certificates `ids`, in this order.
fn pem_of(scenario: &Scenario, ids: &[&str]) -> String {
    ids.iter()
        .map(|id| {
            pem::encode(&pem::Pem::new(
                "CERTIFICATE",
                scenario.pki.certs[*id].der.clone(),
            ))
        })
        .collect()
}

fn doctor(chain: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("doctor")
        .arg(chain)
        .args(args)
        .output()
        .expect("xtask runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_wrong_same_key_intermediate_is_named_with_who_still_accepts() {
    let corpus = corpus();
    let scenario = scenario(&corpus, "same-key-intermediates");
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("x3-leaf-served-x1.pem");
    std::fs::write(&chain, pem_of(scenario, &["leaf-by-x3", "le-x1-by-dst"])).unwrap();
    let output = doctor(
        &chain,
        &["--scenario", "same-key-intermediates", "--at", "2016-04-06"],
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let finding = text
        .lines()
        .find(|line| line.contains("[wrong-name-same-key]"))
        .unwrap_or_else(|| panic!("no wrong-name finding:\n{text}"));
    assert!(
        finding.contains("Let's Encrypt Authority X1 (test)"),
        "{finding}"
    );
    assert!(
        finding.contains("serve `le-x3-by-dst` instead"),
        "{finding}"
    );
    // The Chromium target accepts only through its cache of X3 (seed 001), and says so.
    let chromium = text
        .lines()
        .find(|line| line.trim_start().starts_with("chromium-linux-x3-cached"))
        .unwrap_or_else(|| panic!("no chromium verdict:\n{text}"));
    assert!(
        chromium.contains("accept, only through its intermediate cache"),
        "{chromium}"
    );
    assert!(text.contains("The fix: serve `x3-leaf-correct`"), "{text}");
}

/// The trade-off table's cell for `chain` and `column` (`target (store)`).
fn cell(text: &str, chain: &str, column: &str) -> Outcome {
    let mut rows = text.lines().filter(|line| line.starts_with("| "));
    let header: Vec<&str> = rows
        .next()
        .expect("a table")
        .split('|')
        .map(str::trim)
        .collect();
    let at = header
        .iter()
        .position(|name| *name == column)
        .unwrap_or_else(|| panic!("no column {column}:\n{text}"));
    let row: Vec<&str> = rows
        .find(|row| row.starts_with(&format!("| {chain} |")))
        .unwrap_or_else(|| panic!("no row {chain}:\n{text}"))
        .split('|')
        .map(str::trim)
        .collect();
    match row[at] {
        "accept" => Outcome::Accept,
        "reject" => Outcome::Reject,
        other => panic!("cell {other}"),
    }
}

#[test]
fn long_and_short_chains_at_2021_10_01_print_the_trade_off() {
    let corpus = corpus();
    let scenario = scenario(&corpus, "root-expiry-long-short");
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("long.pem");
    std::fs::write(&chain, pem_of(scenario, &["leaf", "r3", "isrg-x1-by-dst"])).unwrap();
    let output = doctor(
        &chain,
        &[
            "--scenario",
            "root-expiry-long-short",
            "--at",
            "2021-10-01",
            "--targets",
            "android-pre-7.1.1,openssl-1.0.2-client",
        ],
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("No single chain serves every target"),
        "{text}"
    );
    // Android's cells: its engine (the client model with its knobs) on the corpus's own cases.
    let android = corpus
        .targets
        .iter()
        .find(|t| t.name == "android-pre-7.1.1")
        .unwrap();
    let model = android.model_validator().expect("a client-model target");
    for chain_name in ["long-chain", "short-chain"] {
        let case = corpus
            .cases
            .iter()
            .find(|case| {
                case.scenario == scenario.name
                    && case.chain == chain_name
                    && case.store == "old"
                    && case.time == "at-2021-10-01"
                    && case.cache.is_empty()
                    && !case.aia
            })
            .unwrap();
        let engine = model.validate(&case.to_validation_input()).outcome();
        assert_eq!(
            cell(&text, chain_name, "android-pre-7.1.1 (old)"),
            engine,
            "{chain_name}"
        );
    }
    // The story of seed 003: the long chain works on old Android and fails on OpenSSL 1.0.x,
    // the short chain the reverse.
    let openssl = "openssl-1.0.2-client (old-new)";
    assert_eq!(
        cell(&text, "long-chain", "android-pre-7.1.1 (old)"),
        Outcome::Accept
    );
    assert_eq!(cell(&text, "long-chain", openssl), Outcome::Reject);
    assert_eq!(
        cell(&text, "short-chain", "android-pre-7.1.1 (old)"),
        Outcome::Reject
    );
    assert_eq!(cell(&text, "short-chain", openssl), Outcome::Accept);
}

#[test]
fn bad_input_exits_2_with_no_output() {
    let corpus = corpus();
    let scenario = scenario(&corpus, "root-expiry-long-short");
    let good = pem_of(scenario, &["leaf", "r3"]);
    let key = &scenario.pki.certs["leaf"].private_key_pkcs8_pem;
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, String, Vec<&str>, &str)> = vec![
        (
            "bad-base64",
            good.replacen("MII", "M!I", 1),
            vec!["--scenario", "root-expiry-long-short"],
            "not valid PEM",
        ),
        (
            "private-key",
            format!("{good}{key}"),
            vec!["--scenario", "root-expiry-long-short"],
            "private key",
        ),
        (
            "empty",
            String::new(),
            vec!["--scenario", "root-expiry-long-short"],
            "no PEM block",
        ),
        (
            "trailing",
            format!("{good}garbage\n"),
            vec!["--scenario", "root-expiry-long-short"],
            "trailing data",
        ),
        (
            "unknown-scenario",
            good.clone(),
            vec![
                "--scenario",
                "no-such-scenario",
                "--targets",
                "android-pre-7.1.1",
            ],
            "no such scenario",
        ),
        (
            "unknown-target",
            good.clone(),
            vec![
                "--scenario",
                "root-expiry-long-short",
                "--targets",
                "no-such-target",
            ],
            "no such target",
        ),
    ];
    for (name, contents, args, message) in cases {
        let file = dir.path().join(format!("{name}.pem"));
        std::fs::write(&file, contents).unwrap();
        let output = doctor(&file, &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(output.stdout.is_empty(), "{name}: {}", stdout(&output));
        assert!(stderr.contains(message), "{name}: {stderr}");
    }
}

/// The codes of the findings `doctor` prints.
fn codes(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.trim_start().strip_prefix('['))
        .filter_map(|rest| rest.split_once(']'))
        .map(|(code, _)| code.to_string())
        .collect()
}

#[test]
fn a_leaf_alone_is_an_incomplete_chain_with_its_aia_url() {
    let corpus = corpus();
    let scenario = scenario(&corpus, "leaf-only-served");
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("leaf-only.pem");
    std::fs::write(&chain, pem_of(scenario, &["leaf"])).unwrap();
    let output = doctor(
        &chain,
        &[
            "--scenario",
            "leaf-only-served",
            "--at",
            "2016-07-01",
            "--targets",
            "firefox-fresh-profile,windows-aia-fetcher",
        ],
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert_eq!(codes(&text), ["incomplete-chain"], "{text}");
    assert!(text.contains("AIA caIssuers URL is http://"), "{text}");
    assert!(
        text.contains("windows-aia-fetcher (store `browser-2016`): accept, only through"),
        "{text}"
    );
    assert!(
        text.contains("The fix: serve `full-chain` (2 of 2 accept)"),
        "{text}"
    );
}

#[test]
fn order_duplicates_the_root_and_an_expiring_cross_sign_are_found() {
    let corpus = corpus();
    let scenario = scenario(&corpus, "root-expiry-long-short");
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("messy.pem");
    let ids = ["leaf", "isrg-x1-by-dst", "r3", "r3", "dst-root"];
    std::fs::write(&chain, pem_of(scenario, &ids)).unwrap();
    let output = doctor(
        &chain,
        &[
            "--scenario",
            "root-expiry-long-short",
            "--at",
            "2024-09-15",
            "--targets",
            "android-pre-7.1.1",
        ],
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    let found = codes(&text);
    for code in [
        "duplicate-certificate",
        "root-included",
        "wrong-order",
        "cross-sign-expiring",
    ] {
        assert!(found.iter().any(|f| f == code), "{code} missing:\n{text}");
    }
    assert!(!found.iter().any(|f| f == "incomplete-chain"), "{text}");
}

#[test]
fn json_output_follows_its_schema_and_carries_the_same_verdicts() {
    let corpus = corpus();
    let scenario = scenario(&corpus, "same-key-intermediates");
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("x3-leaf-served-x1.pem");
    std::fs::write(&chain, pem_of(scenario, &["leaf-by-x3", "le-x1-by-dst"])).unwrap();
    let args = ["--scenario", "same-key-intermediates", "--at", "2016-04-06"];
    let output = doctor(&chain, &[&args[..], &["--json"]].concat());
    assert_eq!(output.status.code(), Some(1));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let schema_file =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../doctor/doctor.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_file).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(document["findings"][0]["code"], "wrong-name-same-key");
    // The same verdicts as the text output, target by target.
    let text = stdout(&doctor(&chain, &args));
    for verdict in document["verdicts"].as_array().unwrap() {
        let line = format!(
            "{} (store `{}`): {}",
            verdict["target"].as_str().unwrap(),
            verdict["store"].as_str().unwrap(),
            verdict["outcome"].as_str().unwrap()
        );
        assert!(text.contains(&line), "{line} not in:\n{text}");
    }
}
