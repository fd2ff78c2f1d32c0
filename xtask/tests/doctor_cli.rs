//! `cargo xtask doctor` from the outside, on chains written from the corpus scenarios' own
//! certificates: the wrong same-key intermediate is named (seed 001), the long/short trade-off
//! table at 2021-10-01 tells seed 003's story with cells the targets' engines give, and each kind
//! of bad input exits 2 with nothing on stdout.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anchorsmith_corpus::{Corpus, Scenario};
use anchorsmith_validators::Outcome;

mod common;

fn corpus() -> Corpus {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    anchorsmith_corpus::load_corpus(&dir.canonicalize().unwrap()).unwrap_or_else(|e| panic!("{e}"))
}

fn scenario<'a>(corpus: &'a Corpus, name: &str) -> &'a Scenario {
    corpus.scenarios.iter().find(|s| s.name == name).unwrap()
}

/// The PEM of the scenario's certificates `ids`, in this order.

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
    std::fs::write(
        &chain,
        common::pem_of(scenario, &["leaf-by-x3", "le-x1-by-dst"]),
    )
    .unwrap();
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
        "skip" => Outcome::Skip,
        "error" => Outcome::Error,
        other => panic!("cell {other}"),
    }
}

#[test]
fn long_and_short_chains_at_2021_10_01_print_the_trade_off() {
    let corpus = corpus();
    let scenario = scenario(&corpus, "root-expiry-long-short");
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("long.pem");
    std::fs::write(
        &chain,
        common::pem_of(scenario, &["leaf", "r3", "isrg-x1-by-dst"]),
    )
    .unwrap();
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

/// `doctor` with `args` must fail as bad input: exit 2, nothing on stdout, nothing in `--out`,
/// and a located error on stderr (`location` is `file:line:column`) with `message`; with
/// `caret`, the source line shown with a caret under the fault.
fn assert_bad_input(args: &[&str], location: &str, message: &str, caret: bool) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("doctor")
        .args(args)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("xtask runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(output.stdout.is_empty(), "{}", stdout(&output));
    assert!(!out.exists(), "nothing is written on bad input");
    assert!(
        stderr.contains(&format!("--> {location}")),
        "{location}:\n{stderr}"
    );
    assert!(stderr.contains(message), "{message}:\n{stderr}");
    if caret {
        let under = |line: &str| {
            line.split_once('|')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('^'))
        };
        assert!(stderr.lines().any(under), "no caret:\n{stderr}");
    }
}

/// A chain file holding `contents`, in a directory kept as long as the returned guard.
fn chain_file(contents: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chain.pem");
    std::fs::write(&file, contents).unwrap();
    let path = file.display().to_string();
    (dir, path)
}

fn good_pem() -> String {
    let corpus = corpus();
    common::pem_of(scenario(&corpus, "root-expiry-long-short"), &["leaf", "r3"])
}

#[test]
fn bad_base64_is_located_on_the_bad_character() {
    let (_dir, file) = chain_file(&good_pem().replacen("MII", "M!I", 1));
    assert_bad_input(
        &[&file],
        &format!("{file}:2:2"),
        "`!` is not a base64 character",
        true,
    );
}

#[test]
fn a_private_key_in_a_chain_file_is_refused() {
    let corpus = corpus();
    let scenario = scenario(&corpus, "root-expiry-long-short");
    let good = common::pem_of(scenario, &["leaf", "r3"]);
    let key = &scenario.pki.certs["leaf"].private_key_pkcs8_pem;
    let (_dir, file) = chain_file(&format!("{good}{key}"));
    let line = good.lines().count() + 1;
    assert_bad_input(
        &[&file],
        &format!("{file}:{line}:1"),
        "this block is a private key",
        true,
    );
    assert_bad_input(
        &[&file],
        &format!("{file}:{line}:1"),
        "a chain file must never hold a private key",
        true,
    );
}

#[test]
fn an_empty_chain_file_is_refused() {
    let (_dir, file) = chain_file("\n");
    assert_bad_input(
        &[&file],
        &format!("{file}:1:1"),
        "the chain file is empty",
        false,
    );
}

#[test]
fn trailing_garbage_after_a_certificate_is_located() {
    let good = good_pem();
    let (_dir, file) = chain_file(&format!("{good}garbage\n"));
    let line = good.lines().count() + 1;
    assert_bad_input(
        &[&file],
        &format!("{file}:{line}:1"),
        "trailing data after the last certificate",
        true,
    );
}

#[test]
fn a_refused_connection_is_located_on_the_connect_argument() {
    let address = common::free_loopback_address();
    assert_bad_input(
        &["--connect", &address],
        "--connect:1:1",
        "connection refused",
        true,
    );
}

#[test]
fn a_timed_out_handshake_is_located_on_the_connect_argument() {
    // A listener that never answers: the TCP connection completes in its backlog, the TLS
    // handshake waits for a reply that never comes.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = silent.local_addr().unwrap().to_string();
    assert_bad_input(
        &["--connect", &address, "--connect-timeout", "1"],
        "--connect:1:1",
        "timed out after 1 s",
        true,
    );
}

#[test]
fn unknown_names_and_an_ambiguous_leaf_are_bad_input() {
    let corpus = corpus();
    let long_short = scenario(&corpus, "root-expiry-long-short");
    let (_dir, file) = chain_file(&common::pem_of(long_short, &["leaf", "r3"]));
    // Located on the value of the option as doctor spells it, listing the known names.
    assert_bad_input(
        &[&file, "--scenario", "no-such-scenario"],
        "--scenario:1:1",
        "no such scenario: `no-such-scenario`",
        true,
    );
    assert_bad_input(
        &[&file, "--targets", "android-pre-7.1.1,no-such-target"],
        "--targets:1:1",
        "no such target in corpus/targets/: `no-such-target`",
        true,
    );
    assert_bad_input(
        &[&file, "--targets", "no-such-target"],
        "--targets:1:1",
        "known: android-pre-7.1.1",
        true,
    );
    // A bad --at is located on its value, checked before anything else happens.
    assert_bad_input(
        &[&file, "--at", "2021-13-01"],
        "--at:1:1",
        "is neither a date",
        true,
    );
    // R3 served as if it were the leaf: four scenarios hold it; which one is meant?
    let (_dir, r3_first) = chain_file(&common::pem_of(long_short, &["r3"]));
    assert_bad_input(
        &[&r3_first],
        &format!("{r3_first}:1:1"),
        "the leaf belongs to 4 corpus scenarios",
        false,
    );
}

#[test]
fn targets_the_scenario_does_not_place_are_bad_input_naming_the_placed_ones() {
    // windows-aia-fetcher exists but is not placed in root-expiry-long-short: nothing would
    // judge, and "0 of 0 accept" with exit 0 said the chain was fine.
    let (_dir, file) = chain_file(&good_pem());
    assert_bad_input(
        &[&file, "--targets", "windows-aia-fetcher"],
        "--targets:1:1",
        "none of these targets is placed in scenario `root-expiry-long-short`",
        true,
    );
    assert_bad_input(
        &[&file, "--targets", "windows-aia-fetcher"],
        "--targets:1:1",
        "placed there: android-pre-7.1.1",
        true,
    );
}

#[test]
fn the_last_date_there_is_is_judged_without_a_panic() {
    let corpus = corpus();
    let (_dir, file) = scenario_chain(
        &corpus,
        "root-expiry-long-short",
        &["leaf", "r3", "isrg-x1-by-dst"],
    );
    let output = doctor(&file, &["--at", "9999-12-31"]);
    let text = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(codes(&text).contains(&"leaf-expired".to_string()), "{text}");
}

#[test]
fn text_between_two_certificates_is_located() {
    let corpus = corpus();
    let s = scenario(&corpus, "root-expiry-long-short");
    let leaf = common::pem_of(s, &["leaf"]);
    let (_dir, file) = chain_file(&format!(
        "{leaf}junk between\n{}",
        common::pem_of(s, &["r3"])
    ));
    let line = leaf.lines().count() + 1;
    assert_bad_input(
        &[&file],
        &format!("{file}:{line}:1"),
        "text between two certificates",
        true,
    );
    let (_dir, file) = chain_file(&format!("subject=CN = www.example.test\n{}", good_pem()));
    assert_bad_input(
        &[&file],
        &format!("{file}:1:1"),
        "text before the first certificate",
        true,
    );
}

#[test]
fn a_leaf_sent_after_its_issuer_is_a_wrong_order_not_an_unrelated_certificate() {
    let corpus = corpus();
    let (_dir, file) = scenario_chain(&corpus, "root-expiry-long-short", &["r3", "leaf"]);
    let output = doctor(
        &file,
        &["--scenario", "root-expiry-long-short", "--at", "2021-10-01"],
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let found = codes(&text);
    assert!(found.contains(&"wrong-order".to_string()), "{text}");
    assert!(
        !found.contains(&"unrelated-certificate".to_string()),
        "{text}"
    );
    assert!(
        text.contains("the leaf `www.example.test` is served at position 2, not first"),
        "{text}"
    );
    // The fix starts with the real leaf: the scenario's chains are offered, not "none".
    assert!(text.contains("The fix: serve `short-chain`"), "{text}");
}

#[test]
fn the_short_chain_after_the_root_expiry_is_already_the_best_and_no_expired_path_is_advised() {
    let corpus = corpus();
    let (_dir, file) = scenario_chain(&corpus, "root-expiry-long-short", &["leaf", "r3"]);
    let output = doctor(&file, &["--at", "2021-10-01"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let incomplete = text
        .lines()
        .find(|line| line.contains("[incomplete-chain]"))
        .unwrap_or_else(|| panic!("no incomplete-chain finding:\n{text}"));
    // DST Root CA X3 expired the day before: serving its cross-sign would not help.
    assert!(!incomplete.contains("isrg-x1-by-dst"), "{incomplete}");
    assert!(
        text.contains(
            "The fix: none to make: the chain served is already the best candidate, `short-chain`"
        ),
        "{text}"
    );
    // The trade-off is still shown, with a column per seat.
    assert_eq!(
        cell(&text, "long-chain", "android-pre-7.1.1 (old)"),
        Outcome::Accept
    );
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
    std::fs::write(&chain, common::pem_of(scenario, &["leaf"])).unwrap();
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
    assert!(text.contains("AIA caIssuers URL http://"), "{text}");
    // The scenario's intermediate to serve, by id.
    assert!(
        text.contains("serve the scenario's `le-x3-by-dst`"),
        "{text}"
    );
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
    std::fs::write(&chain, common::pem_of(scenario, &ids)).unwrap();
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

/// `document` is valid against `doctor/doctor.schema.json`.
fn assert_follows_schema(document: &serde_json::Value) {
    let schema_file =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../doctor/doctor.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_file).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn json_output_follows_its_schema_and_carries_the_same_verdicts() {
    let corpus = corpus();
    let scenario = scenario(&corpus, "same-key-intermediates");
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("x3-leaf-served-x1.pem");
    std::fs::write(
        &chain,
        common::pem_of(scenario, &["leaf-by-x3", "le-x1-by-dst"]),
    )
    .unwrap();
    let args = ["--scenario", "same-key-intermediates", "--at", "2016-04-06"];
    let output = doctor(&chain, &[&args[..], &["--json"]].concat());
    assert_eq!(output.status.code(), Some(1));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_follows_schema(&document);
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

/// The scenario is inferred from the leaf: the same output as with --scenario.
#[test]
fn the_scenario_is_the_one_whose_pki_holds_the_leaf() {
    let corpus = corpus();
    let scenario = scenario(&corpus, "same-key-intermediates");
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("x3-leaf-served-x1.pem");
    std::fs::write(
        &chain,
        common::pem_of(scenario, &["leaf-by-x3", "le-x1-by-dst"]),
    )
    .unwrap();
    let named = doctor(
        &chain,
        &["--scenario", "same-key-intermediates", "--at", "2016-04-06"],
    );
    let inferred = doctor(&chain, &["--at", "2016-04-06"]);
    assert_eq!(stdout(&inferred), stdout(&named));
    assert!(stdout(&inferred).contains("scenario `same-key-intermediates`"));
}

/// The real validators' verdicts and the findings that need no scenario, for a chain no corpus
/// scenario knows: real Let's Encrypt certificates (R3 and ISRG Root X1 cross-signed by DST
/// Root CA X3, ../shared/fixtures/letsencrypt) against Mozilla's roots and the system store.
#[test]
fn a_real_chain_no_scenario_knows_is_judged_by_real_validators_and_stores() {
    let fixtures =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/letsencrypt");
    let read = |name: &str| std::fs::read_to_string(fixtures.join(name)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("r3-long.pem");
    std::fs::write(&chain, read("r3.pem") + &read("isrg-root-x1-by-dst-x3.pem")).unwrap();
    let output = doctor(&chain, &["--at", "2024-09-15", "--json"]);
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_follows_schema(&document);
    assert_eq!(document["scenario"], serde_json::Value::Null);
    assert_eq!(document["fix"], serde_json::Value::Null);
    // The cross-sign is recognised by Mozilla's self-signed ISRG Root X1 (same key): it expires
    // on 2024-09-30, fifteen days after --at.
    assert_eq!(document["findings"][0]["code"], "cross-sign-expiring");
    assert!(document["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("expires on 2024-09-30"));
    let seats: Vec<(String, String, String)> = document["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let s = |key: &str| v[key].as_str().unwrap().to_string();
            (s("target"), s("store"), s("outcome"))
        })
        .collect();
    let stores: Vec<(&str, &str)> = seats
        .iter()
        .map(|(t, s, _)| (t.as_str(), s.as_str()))
        .collect();
    assert_eq!(
        stores,
        [
            ("rustls-webpki", "mozilla"),
            ("rustls-webpki", "system"),
            ("openssl", "mozilla"),
            ("openssl", "system")
        ]
    );
    // R3 is a CA: webpki refuses it as an end entity; OpenSSL builds R3 -> ISRG Root X1.
    assert_eq!(seats[0].2, "reject");
    assert_eq!(seats[2].2, "accept");
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&doctor(&chain, &["--at", "2024-09-15"]));
    assert!(
        text.contains("no corpus scenario knows this leaf, so there are no candidate chains"),
        "{text}"
    );
}

/// A synthetic chain no scenario holds (a corpus topology generated with another seed: other
/// keys, other bytes): the incomplete chain is found against the real stores, with its AIA URL.
#[test]
fn a_synthetic_chain_no_scenario_knows_gets_the_findings_that_need_none() {
    let dir = tempfile::tempdir().unwrap();
    let topology = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../corpus/scenarios/leaf-only-served/topology.toml");
    let pki = dir.path().join("pki");
    let generated = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["gen", "--seed", "not-a-corpus-seed", "--out"])
        .arg(&pki)
        .arg(&topology)
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let chain = dir.path().join("leaf-only.pem");
    std::fs::copy(pki.join("leaf.pem"), &chain).unwrap();
    let output = doctor(&chain, &["--at", "2016-07-01"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert_eq!(codes(&text), ["incomplete-chain"], "{text}");
    assert!(text.contains("rustls-webpki (store `mozilla`)"), "{text}");
    assert!(text.contains("AIA caIssuers URL http://"), "{text}");
    assert!(text.contains("The fix: none offered"), "{text}");
    // --targets means nothing without a scenario: located on its value.
    assert_bad_input(
        &[chain.to_str().unwrap(), "--targets", "android-pre-7.1.1"],
        "--targets:1:1",
        "no corpus scenario knows this leaf, so no target is placed",
        true,
    );
}

/// The trade-off over time, drawn with `--out`: the same bytes twice, `--at` marked, and the
/// switch where it really is: a current OpenSSL client holding only the old root (DST Root CA
/// X3) accepts the long chain until that root expires (2021-09-30 14:01:15) and rejects it from
/// then on. (In-process engines only, so the exact timeline costs well under a second.)
#[test]
fn the_tradeoff_picture_is_written_deterministically_with_the_real_switch() {
    let corpus = corpus();
    let scenario = scenario(&corpus, "root-expiry-long-short");
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("long.pem");
    std::fs::write(
        &chain,
        common::pem_of(scenario, &["leaf", "r3", "isrg-x1-by-dst"]),
    )
    .unwrap();
    let draw = |name: &str| -> (String, Vec<u8>) {
        let out = dir.path().join(name);
        let output = doctor(
            &chain,
            &[
                "--at",
                "2021-10-01",
                "--targets",
                "android-pre-7.1.1,current-openssl-client",
                "--out",
                out.to_str().unwrap(),
            ],
        );
        let text = stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{text}");
        let file = out.join("tradeoff.svg");
        assert!(
            text.contains(&format!("The trade-off over time: {}", file.display())),
            "{text}"
        );
        (text, std::fs::read(&file).unwrap())
    };
    let (_, first) = draw("one");
    let (_, second) = draw("two");
    assert!(first == second, "the picture differs between two runs");
    let svg = String::from_utf8(first).unwrap();
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "{svg}");
    assert!(svg.contains(">--at<"), "--at is not marked:\n{svg}");
    let row = "current-openssl-client · long-chain · old: ";
    let accept_until = svg
        .split("<title>")
        .find(|title| title.starts_with(row) && title.contains(" accept<"))
        .unwrap_or_else(|| panic!("no accept interval for {row}:\n{svg}"));
    assert!(
        accept_until.contains("→ 2021-09-30 14:01:1"),
        "{accept_until}"
    );
    let rejected_from = svg
        .split("<title>")
        .find(|title| title.starts_with(row) && title.contains("reject:expired"))
        .unwrap_or_else(|| panic!("no reject interval for {row}:\n{svg}"));
    assert!(
        rejected_from.starts_with(&format!("{row}2021-09-30 14:01:1")),
        "{rejected_from}"
    );
    // The JSON form names the file, and keeps --at's time of day.
    let out = dir.path().join("json");
    let output = doctor(
        &chain,
        &[
            "--at",
            "2021-10-01T12:30:00Z",
            "--targets",
            "android-pre-7.1.1,current-openssl-client",
            "--json",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_follows_schema(&document);
    assert_eq!(document["at"], "2021-10-01T12:30:00Z");
    assert_eq!(
        document["tradeoff_picture"],
        out.join("tradeoff.svg").display().to_string()
    );
    // Without --out, no picture: the report says nothing of one.
    let output = doctor(
        &chain,
        &["--at", "2021-10-01", "--targets", "android-pre-7.1.1"],
    );
    assert!(!stdout(&output).contains("trade-off over time"));
    // No trade-off (the same-key scenario has a chain every target accepts): nothing written.
    let same_key = scenario_chain(
        &corpus,
        "same-key-intermediates",
        &["leaf-by-x3", "le-x1-by-dst"],
    );
    let out = dir.path().join("none");
    let output = doctor(
        &same_key.1,
        &["--at", "2016-04-06", "--out", out.to_str().unwrap()],
    );
    assert!(stdout(&output).contains("no trade-off to draw, nothing written"));
    assert!(!out.exists());
}

/// A chain file of `ids` of the scenario `name`, in a directory kept with it.
fn scenario_chain(corpus: &Corpus, name: &str, ids: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chain.pem");
    std::fs::write(&file, common::pem_of(scenario(corpus, name), ids)).unwrap();
    (dir, file)
}

/// `--corpus DIR` is the corpus the doctor knows: the same-key chain belongs to a scenario of the
/// project's corpus, and to none of a corpus holding only the long/short scenario, where the
/// real validators judge it.
#[test]
fn the_doctor_knows_the_scenarios_of_the_corpus_it_is_given() {
    let corpus = corpus();
    let same_key = scenario(&corpus, "same-key-intermediates");
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("served.pem");
    std::fs::write(
        &chain,
        common::pem_of(same_key, &["leaf-by-x3", "le-x1-by-dst"]),
    )
    .unwrap();
    let known = stdout(&doctor(&chain, &["--at", "2016-04-06"]));
    assert!(
        known.contains("scenario `same-key-intermediates`"),
        "{known}"
    );
    let own = common::corpus_copy(
        dir.path(),
        &["root-expiry-long-short"],
        &["android-pre-7.1.1"],
    );
    let unknown = stdout(&doctor(
        &chain,
        &["--at", "2016-04-06", "--corpus", own.to_str().unwrap()],
    ));
    assert!(
        unknown.contains("no corpus scenario knows this leaf"),
        "{unknown}"
    );
    assert!(
        unknown.contains("rustls-webpki (store `mozilla`)"),
        "{unknown}"
    );
}
