//! `cargo xtask doctor --batch` from the outside, on chains written from the corpus scenarios'
//! own certificates: one result per input line, in order, keyed by id, each line the same as
//! `doctor --json` says for that chain alone (with the same client-model targets), both line
//! formats checked against doctor/batch.schema.json; each kind of bad input is located, exits 2
//! and writes no output file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anchorsmith_corpus::{Corpus, Scenario, TargetEngine};
use base64::Engine as _;

fn corpus() -> Corpus {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    anchorsmith_corpus::load_corpus(&dir.canonicalize().unwrap()).unwrap_or_else(|e| panic!("{e}"))
}

fn scenario<'a>(corpus: &'a Corpus, name: &str) -> &'a Scenario {
    corpus.scenarios.iter().find(|s| s.name == name).unwrap()
}

fn pem(scenario: &Scenario, id: &str) -> String {
    scenario.pki.pem(id).to_string()
}

/// The fields a result line shares with the `--json` document (`report::Judgement`).
const JUDGEMENT_FIELDS: [&str; 6] = [
    "scenario",
    "at",
    "tally",
    "findings",
    "verdicts",
    "not_judged",
];

/// `doctor --batch FILE --results OUT`.
fn batch(file: &Path, out: &Path) -> Output {
    xtask(&[
        "--batch",
        file.to_str().unwrap(),
        "--results",
        out.to_str().unwrap(),
    ])
}

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("doctor")
        .args(args)
        .output()
        .expect("xtask runs")
}

/// The targets a batch judges by default: those whose engine is the client model.
fn model_targets(corpus: &Corpus) -> Vec<String> {
    corpus
        .targets
        .iter()
        .filter(|t| matches!(t.engine, TargetEngine::Model { .. }))
        .map(|t| t.name.clone())
        .collect()
}

fn validator(schema_dir: &Path, part: &str) -> jsonschema::Validator {
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(schema_dir.join(name)).unwrap()).unwrap()
    };
    let mut batch = read("batch.schema.json");
    // Validate against one part: the schema with its top-level `oneOf` narrowed to it.
    batch["oneOf"] = serde_json::json!([{ "$ref": format!("#/$defs/{part}") }]);
    jsonschema::options()
        .with_resource(
            "https://anchorsmith.invalid/doctor/doctor.schema.json",
            jsonschema::Resource::from_contents(read("doctor.schema.json")).unwrap(),
        )
        .build(&batch)
        .unwrap()
}

fn schema_errors(validator: &jsonschema::Validator, value: &serde_json::Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn each_line_gets_the_result_doctor_json_gives_for_its_chain_alone() {
    let corpus = corpus();
    let same_key = scenario(&corpus, "same-key-intermediates");
    let long_short = scenario(&corpus, "root-expiry-long-short");
    let leaf_only = scenario(&corpus, "leaf-only-served");
    let der_b64 =
        base64::engine::general_purpose::STANDARD.encode(&leaf_only.pki.certs["leaf"].der);
    // (id, chain, at, scenario named on the line, the scenario it must be judged in)
    let lines = [
        (
            "wrong-twin",
            vec![pem(same_key, "leaf-by-x3"), pem(same_key, "le-x1-by-dst")],
            "2016-04-06",
            true,
            same_key,
        ),
        (
            "long",
            vec![
                pem(long_short, "leaf"),
                pem(long_short, "r3"),
                pem(long_short, "isrg-x1-by-dst"),
            ],
            "2021-10-01",
            true,
            long_short,
        ),
        // base64 DER, and no scenario: inferred from the leaf's issuer.
        (
            "leaf-alone",
            vec![der_b64],
            "2016-07-01T12:00:00Z",
            false,
            leaf_only,
        ),
        (
            "good",
            vec![pem(same_key, "leaf-by-x3"), pem(same_key, "le-x3-by-dst")],
            "2016-04-06",
            false,
            same_key,
        ),
    ];
    let input: String = lines
        .iter()
        .map(|(id, chain, at, named, scenario)| {
            let mut line = serde_json::json!({"id": id, "chain": chain, "at": at});
            if *named {
                line["scenario"] = serde_json::json!(scenario.name);
            }
            format!("{line}\n")
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chains.jsonl");
    std::fs::write(&file, &input).unwrap();
    let out = dir.path().join("results.jsonl");
    let output = batch(&file, &out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Some target rejects the wrong twin and the long chain: exit 1, after writing every line.
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(output.stdout.is_empty());
    assert!(stderr.contains("doctor --batch: 4 chain(s)"), "{stderr}");
    assert!(stderr.contains("wrong-name-same-key 1"), "{stderr}");
    assert!(stderr.contains("left out"), "{stderr}");
    let schemas = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../doctor");
    let (inputs, outputs) = (validator(&schemas, "input"), validator(&schemas, "output"));
    for line in input.lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(schema_errors(&inputs, &value), Vec::<String>::new());
    }
    let results: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let ids: Vec<&str> = results.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["wrong-twin", "long", "leaf-alone", "good"]);
    let targets = model_targets(&corpus).join(",");
    for ((id, chain, at, _, scenario), result) in lines.iter().zip(&results) {
        assert_eq!(
            schema_errors(&outputs, result),
            Vec::<String>::new(),
            "{id}"
        );
        let chain_file = dir.path().join(format!("{id}.pem"));
        let ders = chain
            .iter()
            .map(|element| match pem::parse(element) {
                Ok(block) => block.into_contents(),
                Err(_) => base64::engine::general_purpose::STANDARD
                    .decode(element)
                    .unwrap(),
            })
            .map(|der| pem::encode(&pem::Pem::new("CERTIFICATE", der)))
            .collect::<String>();
        std::fs::write(&chain_file, ders).unwrap();
        let alone = xtask(&[
            chain_file.to_str().unwrap(),
            "--scenario",
            &scenario.name,
            "--at",
            at,
            "--targets",
            &targets,
            "--json",
        ]);
        let document: serde_json::Value = serde_json::from_slice(&alone.stdout)
            .unwrap_or_else(|e| panic!("{id}: {e}: {}", String::from_utf8_lossy(&alone.stderr)));
        for field in JUDGEMENT_FIELDS {
            assert_eq!(result[field], document[field], "{id}: {field}");
        }
        assert_eq!(result["fix"], document["fix"]["chain"], "{id}: fix");
    }
    let first = &results[0];
    assert_eq!(first["findings"][0]["code"], "wrong-name-same-key");
    assert_eq!(first["fix"], "x3-leaf-correct");
    assert_eq!(results[2]["scenario"], "leaf-only-served");
    assert!(results[3]["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["outcome"] == "accept"));
}

#[test]
fn bad_input_anywhere_is_located_exits_2_and_writes_nothing() {
    let corpus = corpus();
    let s = scenario(&corpus, "root-expiry-long-short");
    let good = serde_json::json!({"id": "ok", "chain": [pem(s, "leaf"), pem(s, "r3")], "scenario": s.name, "at": "2021-10-01"}).to_string();
    let with = |patch: serde_json::Value| {
        let mut line: serde_json::Value = serde_json::from_str(&good).unwrap();
        for (key, value) in patch.as_object().unwrap() {
            line[key] = value.clone();
        }
        line["id"] = serde_json::json!("bad");
        line.to_string()
    };
    let broken_pem = pem(s, "leaf").replacen("MII", "M!I", 1);
    let key = s.pki.certs["leaf"].private_key_pkcs8_pem.clone();
    // (name, second line, field named, words the message must contain)
    let cases: Vec<(&str, String, Option<&str>, &str)> = vec![
        (
            "bad-json",
            r#"{"id": "bad", "chain": ["#.to_string(),
            None,
            "EOF",
        ),
        (
            "unknown-field",
            with(serde_json::json!({"served": 1})),
            None,
            "unknown field `served`",
        ),
        (
            "bad-pem",
            with(serde_json::json!({"chain": [broken_pem]})),
            Some("chain[0]"),
            "not valid PEM",
        ),
        (
            "private-key",
            with(serde_json::json!({"chain": [key]})),
            Some("chain[0]"),
            "private key",
        ),
        (
            "bad-der",
            with(serde_json::json!({"chain": ["AAAA"]})),
            Some("chain[0]"),
            "not an X.509 certificate",
        ),
        (
            "not-base64",
            with(serde_json::json!({"chain": ["%%%"]})),
            Some("chain[0]"),
            "neither a PEM block nor base64 DER",
        ),
        (
            "empty-chain",
            with(serde_json::json!({"chain": []})),
            Some("chain"),
            "an empty chain",
        ),
        (
            "unknown-scenario",
            with(serde_json::json!({"scenario": "no-such-scenario"})),
            Some("scenario"),
            "no such scenario",
        ),
        (
            "bad-date",
            with(serde_json::json!({"at": "2021-13-45"})),
            Some("at"),
            "neither a date",
        ),
        (
            "duplicate-id",
            good.clone(),
            Some("id"),
            "already used on line 1",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results.jsonl");
    for (name, second, field, message) in cases {
        let file = dir.path().join(format!("{name}.jsonl"));
        std::fs::write(&file, format!("{good}\n{second}\n")).unwrap();
        let output = batch(&file, &out);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(!out.exists(), "{name}: an output file was written");
        assert!(output.stdout.is_empty(), "{name}");
        assert!(stderr.contains(message), "{name}: {stderr}");
        // Located: file, line 2 and a column, the source line shown with a caret.
        assert!(
            stderr.contains(&format!("{}:2:", file.display())),
            "{name}: {stderr}"
        );
        assert!(stderr.contains("^"), "{name}: {stderr}");
        if let Some(field) = field {
            assert!(
                stderr.contains(&format!("field `{field}`")),
                "{name}: {stderr}"
            );
        }
        assert!(stderr.contains("1 bad line(s)"), "{name}: {stderr}");
    }
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "\n").unwrap();
    let output = xtask(&[
        "--batch",
        empty.to_str().unwrap(),
        "--results",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no chain"));
    assert!(!out.exists());
}

#[test]
fn a_line_at_the_last_date_there_is_is_judged_without_a_panic() {
    let corpus = corpus();
    let s = scenario(&corpus, "root-expiry-long-short");
    let line = serde_json::json!({"id": "end-of-time", "chain": [pem(s, "leaf"), pem(s, "r3"), pem(s, "isrg-x1-by-dst")], "scenario": s.name, "at": "9999-12-31"});
    let dir = tempfile::tempdir().unwrap();
    let (file, out) = (dir.path().join("in.jsonl"), dir.path().join("out.jsonl"));
    std::fs::write(&file, format!("{line}\n")).unwrap();
    let output = batch(&file, &out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let result: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&out).unwrap().trim()).unwrap();
    assert_eq!(result["id"], "end-of-time", "{result}");
    assert!(result.to_string().contains("leaf-expired"), "{result}");
}

#[test]
fn real_validators_judge_only_with_real() {
    let corpus = corpus();
    let s = scenario(&corpus, "root-expiry-long-short");
    let line = serde_json::json!({"id": "long", "chain": [pem(s, "leaf"), pem(s, "r3"), pem(s, "isrg-x1-by-dst")], "at": "2021-10-01"});
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one.jsonl");
    std::fs::write(&file, format!("{line}\n")).unwrap();
    let targets = "android-pre-7.1.1,current-openssl-client";
    let judged = |extra: &[&str]| -> Vec<String> {
        let output = xtask(
            &[
                &["--batch", file.to_str().unwrap(), "--targets", targets],
                extra,
            ]
            .concat(),
        );
        let result: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
        result["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["target"].as_str().unwrap().to_string())
            .collect()
    };
    let models_only = judged(&[]);
    assert!(
        models_only.iter().all(|t| t == "android-pre-7.1.1"),
        "{models_only:?}"
    );
    let with_real = judged(&["--real"]);
    assert!(
        with_real.iter().any(|t| t == "current-openssl-client"),
        "{with_real:?}"
    );
}

/// CHAIN, --connect and --batch are the three inputs, exactly one given; --out DIR (the
/// trade-off picture) is the single-chain doctor's, --results FILE (the result lines) the
/// batch's: each refused with the other mode by the argument parser (exit 2, nothing read).
#[test]
fn one_input_and_each_output_flag_with_its_own_mode() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chains.jsonl");
    std::fs::write(&file, "{}\n").unwrap();
    let file = file.to_str().unwrap();
    let refused: [(&[&str], &str); 6] = [
        (&[], "required"),
        (&["chain.pem", "--batch", file], "cannot be used with"),
        (
            &["chain.pem", "--connect", "127.0.0.1:1"],
            "cannot be used with",
        ),
        (
            &["--connect", "127.0.0.1:1", "--batch", file],
            "cannot be used with",
        ),
        (
            &["--batch", file, "--out", "pictures"],
            "cannot be used with",
        ),
        (
            &["chain.pem", "--results", "out.jsonl"],
            "cannot be used with",
        ),
    ];
    for (args, says) in refused {
        let output = xtask(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}

/// A chain no scenario knows (real Let's Encrypt certificates, ../shared/fixtures/letsencrypt)
/// is judged as the single-chain doctor judges it: by the real validators against Mozilla's
/// roots and the system store, with the same words; with --targets (which only a scenario
/// places) it is a located bad line, as the single-chain doctor refuses --targets for it.
#[test]
fn a_chain_no_scenario_knows_is_judged_by_the_real_validators() {
    let fixtures =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/letsencrypt");
    let read = |name: &str| std::fs::read_to_string(fixtures.join(name)).unwrap();
    let chain = [read("r3.pem"), read("isrg-root-x1-by-dst-x3.pem")];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("real.jsonl");
    let line = serde_json::json!({"id": "r3-long", "chain": chain, "at": "2024-09-15"});
    std::fs::write(&file, format!("{line}\n")).unwrap();
    let output = xtask(&["--batch", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // webpki refuses R3 as an end entity (it is a CA): not all good.
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("1 known to no scenario (judged by the real validators"),
        "{stderr}"
    );
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let schemas = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../doctor");
    assert_eq!(
        schema_errors(&validator(&schemas, "output"), &result),
        Vec::<String>::new()
    );
    assert_eq!(result["scenario"], serde_json::Value::Null);
    assert_eq!(result["fix"], serde_json::Value::Null);
    let chain_file = dir.path().join("r3-long.pem");
    std::fs::write(&chain_file, chain.concat()).unwrap();
    let alone = xtask(&[chain_file.to_str().unwrap(), "--at", "2024-09-15", "--json"]);
    let document: serde_json::Value = serde_json::from_slice(&alone.stdout).unwrap();
    for field in JUDGEMENT_FIELDS {
        assert_eq!(result[field], document[field], "{field}");
    }
    let seats: Vec<(&str, &str)> = result["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["target"].as_str().unwrap(), v["store"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seats,
        [
            ("rustls-webpki", "mozilla"),
            ("rustls-webpki", "system"),
            ("openssl", "mozilla"),
            ("openssl", "system")
        ]
    );

    let refused = xtask(&[
        "--batch",
        file.to_str().unwrap(),
        "--targets",
        "android-pre-7.1.1",
    ]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(refused.stdout.is_empty());
    assert!(
        stderr.contains("no scenario given, and no scenario's certificates are in this chain"),
        "{stderr}"
    );
    assert!(stderr.contains("real.jsonl:1:"), "{stderr}");
}
