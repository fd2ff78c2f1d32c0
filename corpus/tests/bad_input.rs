//! Bad scenario input: every error is a located diagnostic (file, line, column, field, a typed
//! code, and the source line with a caret under the fault). Each test loads a tiny corpus in a
//! temporary directory (P-256 keys, so generation is instant) with one line changed.

use std::path::Path;

use anchorsmith_corpus::serving::ServerSoftware;
use anchorsmith_corpus::spec::Strength;
use anchorsmith_corpus::{load_corpus_with, Corpus, CorpusError, LoadOptions, TargetEngine};
use anchorsmith_diagnostics::{Code, Diagnostic};

const SEED: &str = "The short chain works.\nThe long chain\n   fails after “expiry”.\n";

const CLIENTS: &str = r#"
[clients.path-builder]
description = "any path builder"
"#;

/// The shared small topology (root → int → leaf, instant `expiry`): one copy for every crate.
use anchorsmith_generator::fixtures::SMALL_PKI as TOPOLOGY;

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
strength = "stated"
"#;

/// The files of a tiny corpus; each test changes one.
struct Files<'a> {
    clients: &'a str,
    topology: &'a str,
    scenario: &'a str,
    /// `corpus/targets/tt.toml`, when there is one.
    target: Option<&'a str>,
}

const TINY: Files<'static> = Files {
    clients: CLIENTS,
    topology: TOPOLOGY,
    scenario: SCENARIO,
    target: None,
};

/// Writes `files` as a corpus in a temporary directory and loads it, allowing
/// `extra_validators` as target engines.
fn load_files(files: &Files<'_>, extra_validators: &[&str]) -> Result<Corpus, CorpusError> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |path: &Path, text: &str| {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(&root.join("seeds/000_test.txt"), SEED);
    write(&root.join("corpus/clients.toml"), files.clients);
    write(
        &root.join("corpus/scenarios/tiny/topology.toml"),
        files.topology,
    );
    write(
        &root.join("corpus/scenarios/tiny/scenario.toml"),
        files.scenario,
    );
    if let Some(target) = files.target {
        write(&root.join("corpus/targets/tt.toml"), target);
    }
    let options = LoadOptions {
        seeds_dir: root.join("seeds"),
        key_cache_dir: None,
        extra_validators: extra_validators
            .iter()
            .map(|name| name.to_string())
            .collect(),
    };
    load_corpus_with(&root.join("corpus"), &options)
}

/// The tiny corpus with `clients` as clients.toml and `scenario` as scenario.toml.
fn load(clients: &str, scenario: &str, extra_validators: &[&str]) -> Result<Corpus, CorpusError> {
    load_files(
        &Files {
            clients,
            scenario,
            ..TINY
        },
        extra_validators,
    )
}

/// The tiny corpus with `edit` applied to scenario.toml.
fn load_with(edit: impl Fn(&str) -> String) -> Result<Corpus, CorpusError> {
    load(CLIENTS, &edit(SCENARIO), &[])
}

/// Where a diagnostic must point, and what it must say.
struct Expected<'a> {
    file: &'a str,
    code: Code,
    line: usize,
    column: usize,
    field: &'a str,
    /// The source line the rendering must show (the edited text).
    source_line: &'a str,
}

/// Asserts that `error` is a diagnostic as `expected`, rendered with its source line and a
/// caret under the column, and returns it.
fn assert_diagnostic(error: CorpusError, expected: &Expected<'_>) -> Diagnostic {
    assert!(error.is_bad_input(), "{error}");
    let Some(diagnostic) = error.diagnostic().cloned() else {
        panic!("not a located diagnostic: {error}");
    };
    assert!(
        diagnostic.file.ends_with(expected.file),
        "{}",
        diagnostic.file.display()
    );
    assert_eq!(diagnostic.code, expected.code, "{diagnostic}");
    assert_eq!(
        (diagnostic.line, diagnostic.column),
        (expected.line, expected.column),
        "{diagnostic}"
    );
    assert_eq!(
        diagnostic.field.as_deref(),
        Some(expected.field),
        "{diagnostic}"
    );
    let rendered = diagnostic.to_string();
    assert!(
        rendered.contains(&format!("error[{}]", expected.code)),
        "{rendered}"
    );
    assert!(
        rendered.contains(&format!(
            "{}:{}:{}",
            expected.file, expected.line, expected.column
        )),
        "{rendered}"
    );
    assert!(
        rendered.contains(&format!("field `{}`", expected.field)),
        "{rendered}"
    );
    // The source line, numbered, then a caret line whose first `^` is under the column.
    let lines: Vec<&str> = rendered.lines().collect();
    let numbered = format!("{} | {}", expected.line, expected.source_line);
    let at = lines
        .iter()
        .position(|line| line.trim_start() == numbered)
        .unwrap_or_else(|| panic!("no line `{numbered}` in:\n{rendered}"));
    let source_start = lines[at].find(" | ").unwrap() + 3;
    let carets = lines[at + 1];
    let caret = carets
        .find('^')
        .unwrap_or_else(|| panic!("no caret under line {}:\n{rendered}", expected.line));
    let before_caret = carets[source_start..caret].chars().count();
    assert_eq!(
        before_caret + 1,
        expected.column,
        "caret not under column {}:\n{rendered}",
        expected.column
    );
    diagnostic
}

/// The diagnostic of a load with `from` replaced by `to` in scenario.toml.
fn expect_error(from: &str, to: &str, expected: Expected<'_>) -> Diagnostic {
    assert!(SCENARIO.contains(from), "test edit does not apply: {from}");
    let error = load_with(|text| text.replacen(from, to, 1)).expect_err("must fail");
    assert_diagnostic(error, &expected)
}

/// An [`Expected`] in scenario.toml.
fn at<'a>(
    code: Code,
    line: usize,
    column: usize,
    field: &'a str,
    source_line: &'a str,
) -> Expected<'a> {
    Expected {
        file: "scenario.toml",
        code,
        line,
        column,
        field,
        source_line,
    }
}

#[test]
fn the_tiny_corpus_loads() {
    let corpus = load_with(|text| text.to_string()).unwrap();
    assert_eq!(corpus.cases.len(), 8);
    let case = corpus.case("tiny::full::store-root::at-after").unwrap();
    assert_eq!(case.expectations.len(), 1);
    assert_eq!(
        case.expectations[0].case_ids,
        [
            "tiny::full::store-root::at-after",
            "tiny::full::store-root::at-after::cache-int"
        ]
    );
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
    let line = r#"chains = ["full", "leaf-onyl"]"#;
    let diagnostic = expect_error(
        r#"chains = ["full", "leaf-only"]"#,
        line,
        at(Code::UnknownName, 20, 19, "cases[0].chains[1]", line),
    );
    assert_eq!(diagnostic.message, "unknown chain \"leaf-onyl\"");
    assert_eq!(diagnostic.help.as_deref(), Some("known: full, leaf-only"));
}

#[test]
fn unknown_certificate_id_in_a_chain() {
    let line = r#"full = ["leaf", "intermediate"]"#;
    let diagnostic = expect_error(
        r#"full = ["leaf", "int"]"#,
        line,
        at(Code::UnknownName, 9, 17, "chains.full[1]", line),
    );
    assert_eq!(
        diagnostic.message,
        "unknown certificate id \"intermediate\""
    );
    assert_eq!(diagnostic.help.as_deref(), Some("known: root, int, leaf"));
}

#[test]
fn unknown_certificate_id_in_a_cache() {
    let line = r#"caches = [[], ["nope"]]"#;
    expect_error(
        r#"caches = [[], ["int"]]"#,
        line,
        at(Code::UnknownName, 23, 16, "cases[0].caches[1][0]", line),
    );
}

#[test]
fn a_name_that_cannot_be_a_case_id_component_is_located_at_its_key() {
    let line = r#"9leaf = ["leaf"]"#;
    let diagnostic = expect_error(
        r#"leaf-only = ["leaf"]"#,
        line,
        at(Code::InvalidValue, 10, 1, "chains.9leaf", line),
    );
    assert!(
        diagnostic.message.contains("case-id components"),
        "{diagnostic}"
    );
}

#[test]
fn unknown_time_expression() {
    let line = r#"at-after = "expiri + 1d""#;
    expect_error(
        r#"at-after = "expiry + 1d""#,
        line,
        at(Code::InvalidValue, 17, 12, "times.at-after", line),
    );
}

#[test]
fn aia_without_a_repository() {
    let line = "aia = [false, true]";
    expect_error(
        "usage = \"server-auth\"",
        &format!("usage = \"server-auth\"\n{line}"),
        at(Code::InvalidValue, 26, 7, "cases[0].aia", line),
    );
}

#[test]
fn unknown_client() {
    let line = r#"client = "android""#;
    expect_error(
        r#"client = "path-builder""#,
        line,
        at(Code::UnknownName, 30, 10, "expectations[0].client", line),
    );
}

#[test]
fn unknown_seed_file() {
    let line = r#"seed_file = "999.txt""#;
    let diagnostic = expect_error(
        r#"seed_file = "000_test.txt""#,
        line,
        at(Code::UnknownName, 2, 13, "scenario.seed_file", line),
    );
    assert_eq!(diagnostic.help.as_deref(), Some("known: 000_test.txt"));
}

/// A seed file is looked up by name among the files of the seeds directory, never opened as a
/// path: one that climbs out of it or is absolute is an unknown name, located.
#[test]
fn a_seed_file_path_cannot_leave_the_seeds_directory() {
    for escape in ["../000_test.txt", "/etc/passwd", "sub/../000_test.txt"] {
        let line = format!(r#"seed_file = "{escape}""#);
        expect_error(
            r#"seed_file = "000_test.txt""#,
            &line,
            at(Code::UnknownName, 2, 13, "scenario.seed_file", &line),
        );
    }
}

#[test]
fn quote_not_in_the_seed() {
    // Straight quotes instead of the seed's curly ones: not verbatim.
    let line = r#"quote = "The long chain fails after \"expiry\".""#;
    let diagnostic = expect_error(
        "quote = \"The long chain fails after “expiry”.\"",
        line,
        at(Code::Quote, 32, 9, "expectations[0].quote", line),
    );
    assert!(diagnostic.message.contains("000_test.txt"), "{diagnostic}");
}

#[test]
fn unknown_strength() {
    let line = r#"strength = "certain""#;
    let diagnostic = expect_error(
        r#"strength = "stated""#,
        line,
        at(Code::Shape, 33, 12, "expectations[0].strength", line),
    );
    assert!(diagnostic.message.contains("certain"), "{diagnostic}");
}

#[test]
fn a_reject_kind_needs_outcome_reject() {
    let line = r#"reject_kind = "expired""#;
    let diagnostic = expect_error(
        r#"outcome = "reject""#,
        &format!("outcome = \"accept\"\n{line}"),
        at(
            Code::InvalidValue,
            32,
            15,
            "expectations[0].reject_kind",
            line,
        ),
    );
    assert!(diagnostic.message.contains("accept"), "{diagnostic}");
    // With outcome = "reject" the same line loads, and the expectation carries the kind.
    let corpus = load_with(|text| {
        text.replacen(
            r#"outcome = "reject""#,
            &format!("outcome = \"reject\"\n{line}"),
            1,
        )
    })
    .unwrap();
    let case = corpus.case("tiny::full::store-root::at-after").unwrap();
    assert_eq!(
        case.expectations[0].reject_kind,
        Some(anchorsmith_validators::RejectKind::Expired)
    );
}

#[test]
fn unknown_reject_kind() {
    let line = r#"reject_kind = "untrusted""#;
    expect_error(
        r#"outcome = "reject""#,
        &format!("outcome = \"reject\"\n{line}"),
        at(Code::Shape, 32, 15, "expectations[0].reject_kind", line),
    );
}

#[test]
fn a_derived_prediction_is_kept_as_such() {
    let corpus = load_with(|text| {
        text.replacen(
            r#"strength = "stated""#,
            "strength = \"hedged\"\nderived = true",
            1,
        )
    })
    .unwrap();
    let case = corpus.case("tiny::full::store-root::at-after").unwrap();
    assert!(case.expectations[0].derived);
    assert_eq!(
        case.expectations[0].strength,
        anchorsmith_corpus::Strength::Hedged
    );
}

#[test]
fn expectation_selecting_no_case() {
    let diagnostic = expect_error(
        r#"time = "at-after""#,
        "time = \"at-after\"\naia = true",
        at(
            Code::InvalidValue,
            27,
            1,
            "expectations[0]",
            "[[expectations]]",
        ),
    );
    assert!(
        diagnostic.message.contains("selects no case"),
        "{diagnostic}"
    );
}

#[test]
fn duplicate_case_ids() {
    let duplicate = "usage = \"server-auth\"\n\n[[cases]]\nchains = [\"full\"]\nstores = [\"root\"]\ntimes = [\"at-before\"]\ndns_name = \"x.test\"\nusage = \"server-auth\"";
    let diagnostic = expect_error(
        "usage = \"server-auth\"",
        duplicate,
        at(Code::Duplicate, 27, 1, "cases[1]", "[[cases]]"),
    );
    assert_eq!(
        diagnostic.message,
        "duplicate case id tiny::full::store-root::at-before (first produced at line 19)"
    );
}

#[test]
fn malformed_toml_and_unknown_fields_are_located_by_the_parser() {
    let line = r#"outcome = "maybe""#;
    expect_error(
        r#"outcome = "reject""#,
        line,
        at(Code::Shape, 31, 11, "expectations[0].outcome", line),
    );
    let line = r#"dns-name = "www.example.test""#;
    let diagnostic = expect_error(
        r#"dns_name = "www.example.test""#,
        line,
        at(Code::Shape, 24, 1, "cases[0].dns-name", line),
    );
    assert!(diagnostic.message.contains("dns-name"), "{diagnostic}");
    let error = load_with(|text| text.replacen("[stores]", "[stores", 1)).unwrap_err();
    let diagnostic = error.diagnostic().expect("located");
    assert_eq!((diagnostic.code, diagnostic.line), (Code::Syntax, 12));
    assert!(
        diagnostic.to_string().contains("12 | [stores"),
        "{diagnostic}"
    );
}

// ---- served chains ([served.<chain>] and [acme_chains]) ----

/// The tiny scenario with `leaf-only` taken out of [chains] and `served` appended at the end.
fn with_served(served: &str) -> String {
    let scenario = SCENARIO.replacen("leaf-only = [\"leaf\"]\n", "", 1);
    assert_ne!(scenario, SCENARIO);
    format!("{scenario}\n{served}")
}

/// An Apache that serves `leaf-only` as its software does.
const APACHE: &str = r#"[served.leaf-only]
software = "apache-cert-only"
leaf = "leaf"
strength = "stated"
quote = "The short chain works."
"#;

/// The diagnostic of the tiny scenario with `served` (see [`with_served`]), located on the
/// first line that is `source_line`.
fn expect_served_error(
    served: &str,
    code: Code,
    source_line: &str,
    column: usize,
    field: &str,
) -> Diagnostic {
    let scenario = with_served(served);
    let line = scenario
        .lines()
        .position(|line| line == source_line)
        .unwrap_or_else(|| panic!("no line {source_line:?}"))
        + 1;
    let error = load(CLIENTS, &scenario, &[]).expect_err("must fail");
    assert_diagnostic(error, &at(code, line, column, field, source_line))
}

#[test]
fn served_chains_join_the_chains_under_their_names() {
    let certbot = r#"[acme_chains.int]
default = ["int"]

[served.full]
software = "certbot-fullchain"
leaf = "leaf"
strength = "stated"
quote = "The short chain works."
"#;
    let scenario = with_served(&format!("{APACHE}\n{certbot}")).replacen(
        "full = [\"leaf\", \"int\"]\n",
        "",
        1,
    );
    let corpus = load(CLIENTS, &scenario, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(corpus.cases.len(), 8);
    let served = |id: &str| &corpus.case(id).unwrap().served_chain;
    assert_eq!(served("tiny::leaf-only::store-root::at-before"), &["leaf"]);
    assert_eq!(
        served("tiny::full::store-root::at-before"),
        &["leaf", "int"]
    );
    let tiny = &corpus.scenarios[0];
    assert_eq!(
        tiny.served["leaf-only"].server.software(),
        ServerSoftware::ApacheCertOnly
    );
    assert_eq!(tiny.served["full"].strength, Strength::Stated);
    assert!(!tiny.served.contains_key("nothing"));
}

#[test]
fn a_served_chain_named_like_a_listed_chain_is_a_duplicate() {
    let diagnostic = expect_served_error(
        &APACHE.replace("[served.leaf-only]", "[served.full]"),
        Code::Duplicate,
        "[served.full]",
        9,
        "served.full",
    );
    assert!(diagnostic.message.contains("line 9"), "{diagnostic}");
}

#[test]
fn served_names_become_case_id_components() {
    expect_served_error(
        &APACHE.replace("[served.leaf-only]", "[served.9leaf]"),
        Code::InvalidValue,
        "[served.9leaf]",
        9,
        "served.9leaf",
    );
}

#[test]
fn unknown_software_is_located_by_the_parser() {
    let line = r#"software = "nginx""#;
    let diagnostic = expect_served_error(
        &APACHE.replace(r#"software = "apache-cert-only""#, line),
        Code::Shape,
        line,
        12,
        // The parser's field path cannot name a map key kept with its span (as for [chains]).
        "served.?.software",
    );
    assert!(diagnostic.message.contains("iis"), "{diagnostic}");
}

#[test]
fn unknown_certificate_ids_in_served_tables() {
    let line = r#"leaf = "lef""#;
    let diagnostic = expect_served_error(
        &APACHE.replace(r#"leaf = "leaf""#, line),
        Code::UnknownName,
        line,
        8,
        "served.leaf-only.leaf",
    );
    assert_eq!(diagnostic.help.as_deref(), Some("known: root, int, leaf"));
    let iis = APACHE.replace(
        r#"software = "apache-cert-only""#,
        "software = \"iis\"\nintermediate_store = [\"int\", \"nit\"]",
    );
    expect_served_error(
        &iis,
        Code::UnknownName,
        r#"intermediate_store = ["int", "nit"]"#,
        30,
        "served.leaf-only.intermediate_store[1]",
    );
    let line = r#"default = ["in"]"#;
    expect_served_error(
        &format!("[acme_chains.int]\n{line}\n\n{APACHE}"),
        Code::UnknownName,
        line,
        12,
        "acme_chains.int.default[0]",
    );
    // The table is named after the certificate that issues the leaves it offers chains for.
    expect_served_error(
        &format!("[acme_chains.itn]\ndefault = [\"int\"]\n\n{APACHE}"),
        Code::UnknownName,
        "[acme_chains.itn]",
        14,
        "acme_chains.itn",
    );
}

#[test]
fn each_software_reads_its_own_fields() {
    // IIS needs its store; the error points at the table's name.
    expect_served_error(
        &APACHE.replace("apache-cert-only", "iis"),
        Code::InvalidValue,
        "[served.leaf-only]",
        9,
        "served.leaf-only.intermediate_store",
    );
    // Apache configured with cert.pem reads no intermediate store.
    let line = r#"intermediate_store = ["int"]"#;
    let diagnostic = expect_served_error(
        &format!("{APACHE}{line}\n"),
        Code::InvalidValue,
        line,
        22,
        "served.leaf-only.intermediate_store",
    );
    assert!(diagnostic.message.contains("only \"iis\""), "{diagnostic}");
    // Only certbot has a preferred chain.
    let line = r#"preferred_chain = "alternate""#;
    expect_served_error(
        &format!("{APACHE}{line}\n"),
        Code::InvalidValue,
        line,
        19,
        "served.leaf-only.preferred_chain",
    );
}

#[test]
fn certbot_needs_the_chains_the_ca_offers() {
    let certbot = APACHE.replace("apache-cert-only", "certbot-fullchain");
    // Chains offered for another issuer do not apply: the error points at the leaf.
    let diagnostic = expect_served_error(
        &format!("[acme_chains.root]\ndefault = []\n\n{certbot}"),
        Code::InvalidValue,
        r#"leaf = "leaf""#,
        8,
        "served.leaf-only.leaf",
    );
    assert!(
        diagnostic.message.contains("[acme_chains.int]"),
        "{diagnostic}"
    );
    assert_eq!(
        diagnostic.help.as_deref(),
        Some("[acme_chains] declares: root")
    );
    let line = r#"preferred_chain = "alternate""#;
    expect_served_error(
        &format!("[acme_chains.int]\ndefault = [\"int\"]\n\n{certbot}{line}\n"),
        Code::InvalidValue,
        line,
        19,
        "served.leaf-only.preferred_chain",
    );
}

#[test]
fn a_served_chain_rests_on_a_verbatim_seed_sentence() {
    let line = r#"quote = "The short chain always works.""#;
    expect_served_error(
        &APACHE.replace(r#"quote = "The short chain works.""#, line),
        Code::Quote,
        line,
        9,
        "served.leaf-only.quote",
    );
    let line = r#"strength = "certain""#;
    expect_served_error(
        &APACHE.replace(r#"strength = "stated""#, line),
        Code::Shape,
        line,
        12,
        "served.?.strength",
    );
}

#[test]
fn a_target_engine_may_be_an_external_harness_named_on_the_command_line() {
    let target = TARGET.replace(r#""openssl""#, r#""go""#);
    let error = load_target(&target, &[]).expect_err("go is not known without --validator-cmd");
    let expected = Expected {
        file: "tt.toml",
        code: Code::UnknownName,
        line: 6,
        column: 13,
        field: "engine.validator",
        source_line: r#"validator = "go""#,
    };
    let diagnostic = assert_diagnostic(error, &expected);
    assert!(
        diagnostic
            .help
            .as_deref()
            .is_some_and(|help| help.contains("openssl-strict")),
        "{diagnostic}"
    );
    let corpus = load_target(&target, &["go"]).expect("an external harness is an engine");
    assert_eq!(
        corpus.targets[0].engine,
        TargetEngine::Validator { name: "go".into() }
    );
}

#[test]
fn topology_errors_are_located_diagnostics() {
    let topology = TOPOLOGY.replacen("issuer = \"int\"", "issuer = \"r9\"", 1);
    let error = load_files(
        &Files {
            topology: &topology,
            ..TINY
        },
        &[],
    )
    .unwrap_err();
    assert!(error.is_bad_input());
    let diagnostic = error.diagnostic().expect("a located diagnostic");
    assert_eq!(diagnostic.code, Code::UnknownName);
    assert_eq!(diagnostic.field.as_deref(), Some("cert[2].issuer"));
}

// ---- targets (corpus/targets/*.toml) ----

const TARGET: &str = r#"population = "Any path builder with the root."
seed_file = "000_test.txt"
behaviours = ["path-builder"]

[engine]
validator = "openssl"

[scenarios.tiny]
stores = ["root"]
"#;

/// The tiny corpus plus `corpus/targets/tt.toml` = `target`, allowing `extra_validators` as
/// engines.
fn load_target(target: &str, extra_validators: &[&str]) -> Result<Corpus, CorpusError> {
    load_files(
        &Files {
            target: Some(target),
            ..TINY
        },
        extra_validators,
    )
}

/// The located diagnostic that loading the target file `target` must give.
fn target_diagnostic(target: &str) -> anchorsmith_diagnostics::Diagnostic {
    load_target(target, &[])
        .expect_err("must fail")
        .diagnostic()
        .cloned()
        .expect("a located diagnostic")
}

/// The diagnostic of a target file with `from` replaced by `to`, in `tt.toml`.
fn expect_target_error(from: &str, to: &str, code: Code, line: usize, column: usize, field: &str) {
    assert!(TARGET.contains(from), "test edit does not apply: {from}");
    let edited = TARGET.replacen(from, to, 1);
    let source_line = edited.lines().nth(line - 1).unwrap().to_string();
    let error = load_target(&edited, &[]).expect_err("must fail");
    assert_diagnostic(
        error,
        &Expected {
            file: "tt.toml",
            code,
            line,
            column,
            field,
            source_line: &source_line,
        },
    );
}

#[test]
fn a_valid_target_applies_to_its_store() {
    let corpus = load_target(TARGET, &[]).unwrap();
    let target = &corpus.targets[0];
    assert_eq!(target.name, "tt");
    let applies: Vec<&str> = corpus
        .cases
        .iter()
        .filter(|case| target.applies_to(case))
        .map(|case| case.id.as_str())
        .collect();
    // Only the empty cache: the `int` cache is not the target's.
    assert_eq!(
        applies,
        [
            "tiny::full::store-root::at-before",
            "tiny::full::store-root::at-after",
            "tiny::leaf-only::store-root::at-before",
            "tiny::leaf-only::store-root::at-after",
        ]
    );
}

#[test]
fn target_names_are_checked_where_they_are_written() {
    expect_target_error(
        "\"openssl\"",
        "\"openssl-9\"",
        Code::UnknownName,
        6,
        13,
        "engine.validator",
    );
    expect_target_error(
        "[\"path-builder\"]",
        "[\"path-bilder\"]",
        Code::UnknownName,
        3,
        15,
        "behaviours[0]",
    );
    expect_target_error(
        "[\"root\"]",
        "[\"roots\"]",
        Code::UnknownName,
        9,
        11,
        "scenarios.tiny.stores[0]",
    );
    expect_target_error(
        "[scenarios.tiny]",
        "[scenarios.tinny]",
        Code::UnknownName,
        8,
        12,
        "scenarios.tinny",
    );
    expect_target_error(
        "\"000_test.txt\"",
        "\"001_test.txt\"",
        Code::UnknownName,
        2,
        13,
        "seed_file",
    );
}

#[test]
fn only_an_engine_that_keeps_a_cache_may_hold_one() {
    // A real validator would see the cache as extra served certificates: not a cache.
    expect_target_error(
        "stores = [\"root\"]",
        "stores = [\"root\"]\ncaches = [[\"int\"]]",
        Code::InvalidValue,
        10,
        10,
        "scenarios.tiny.caches",
    );
    // The client model with its cache knob may.
    let with_cache = TARGET
        .replacen(
            "[engine]\nvalidator = \"openssl\"",
            "[engine.model]\nintermediate-cache = true",
            1,
        )
        .replacen(
            "stores = [\"root\"]",
            "stores = [\"root\"]\ncaches = [[\"int\"]]",
            1,
        );
    let corpus = load_target(&with_cache, &[]).expect("a model with a cache holds one");
    let applies = corpus
        .cases
        .iter()
        .filter(|case| corpus.targets[0].applies_to(case))
        .count();
    assert_eq!(applies, 4, "the cases with the `int` cache");
}

#[test]
fn a_misspelt_model_knob_is_a_shape_error_at_its_line() {
    let edited = TARGET.replacen(
        "[engine]\nvalidator = \"openssl\"",
        "[engine.model]\nanchor-expiri = \"ignored\"",
        1,
    );
    let diagnostic = target_diagnostic(&edited);
    assert_eq!(diagnostic.code, Code::Shape, "{diagnostic}");
    assert_eq!(diagnostic.line, 6, "{diagnostic}");
    assert!(diagnostic.message.contains("anchor-expiri"), "{diagnostic}");
}

// ---- a target's minimal trust bundle (`bundle = { … }` in `[scenarios.<name>]`) ----

/// The bundle line added to `TARGET`'s `[scenarios.tiny]` (line 10).
const BUNDLE: &str = r#"bundle = { endpoints = ["full"], device-verifier = "full-path-building", min-anchors-per-endpoint = 1, horizon = "at-before" }"#;

/// `TARGET` with `BUNDLE` after its stores, and `from` replaced by `to` in the bundle line.
fn bundle_target(from: &str, to: &str) -> String {
    assert!(BUNDLE.contains(from), "test edit does not apply: {from}");
    TARGET.replacen(
        "stores = [\"root\"]\n",
        &format!("stores = [\"root\"]\n{}\n", BUNDLE.replacen(from, to, 1)),
        1,
    )
}

/// The diagnostic of the bundle line with `from` replaced by `to`: at line 10, at the column
/// where `at` starts in the edited line.
fn expect_bundle_error(from: &str, to: &str, at: &str, code: Code, field: &str) -> Diagnostic {
    let target = bundle_target(from, to);
    let line = BUNDLE.replacen(from, to, 1);
    let column = line.find(at).expect("the edited line holds `at`") + 1;
    let error = load_target(&target, &[]).expect_err("must fail");
    assert_diagnostic(
        error,
        &Expected {
            file: "tt.toml",
            code,
            line: 10,
            column,
            field,
            source_line: &line,
        },
    )
}

#[test]
fn a_target_bundle_is_built_from_its_stores_and_replaces_the_store() {
    let corpus = load_target(&bundle_target("", ""), &[]).expect("a valid bundle loads");
    let target = &corpus.targets[0];
    let bundle = target.scenarios["tiny"]
        .bundle
        .as_ref()
        .expect("the holding keeps its bundle");
    assert_eq!(bundle.candidates, ["root"]);
    let anchors: Vec<&str> = bundle.anchors.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(anchors, ["root"]);
    assert_eq!(bundle.endpoints, ["full"]);
    let cases: Vec<&anchorsmith_corpus::Case> = corpus.cases.iter().collect();
    let inputs = target.bundle_inputs(&cases);
    let applies: Vec<&str> = cases
        .iter()
        .filter(|case| target.applies_to(case))
        .map(|case| case.id.as_str())
        .collect();
    let ids: Vec<&str> = inputs.iter().map(|input| input.id.as_str()).collect();
    assert_eq!(
        ids, applies,
        "one bundle input per case the target applies to"
    );
    let root = corpus.scenarios[0].pki.der("root").to_vec();
    assert!(inputs
        .iter()
        .all(|input| input.trust_anchors == [root.clone()]));
}

#[test]
fn bundle_names_are_checked_where_they_are_written() {
    let unknown_chain = expect_bundle_error(
        r#"["full"]"#,
        r#"["fulll"]"#,
        r#""fulll""#,
        Code::UnknownName,
        "scenarios.tiny.bundle.endpoints[0]",
    );
    assert!(
        unknown_chain
            .help
            .as_deref()
            .is_some_and(|help| help.contains("leaf-only")),
        "{unknown_chain}"
    );
    let unknown_time = expect_bundle_error(
        r#""at-before""#,
        r#""at-befor""#,
        r#""at-befor""#,
        Code::UnknownName,
        "scenarios.tiny.bundle.horizon",
    );
    assert!(
        unknown_time
            .help
            .as_deref()
            .is_some_and(|help| help.contains("at-after") && help.contains("2040-01-01")),
        "{unknown_time}"
    );
    let unknown_verifier = expect_bundle_error(
        r#""full-path-building""#,
        r#""full-path-bilding""#,
        r#""full-path-bilding""#,
        Code::UnknownName,
        "scenarios.tiny.bundle.device-verifier",
    );
    assert!(
        unknown_verifier
            .help
            .as_deref()
            .is_some_and(|help| help.contains("esp-idf")),
        "{unknown_verifier}"
    );
    expect_bundle_error(
        "min-anchors-per-endpoint = 1",
        "min-anchors-per-endpoint = 0",
        "0",
        Code::InvalidValue,
        "scenarios.tiny.bundle.min-anchors-per-endpoint",
    );
}

#[test]
fn a_bundle_needs_an_endpoint_and_a_horizon_after_the_build() {
    expect_bundle_error(
        r#"["full"]"#,
        "[]",
        "{",
        Code::InvalidValue,
        "scenarios.tiny.bundle.endpoints",
    );
    let early = expect_bundle_error(
        r#""at-before""#,
        r#""2020-01-01""#,
        r#""2020-01-01""#,
        Code::InvalidValue,
        "scenarios.tiny.bundle.horizon",
    );
    assert!(early.message.contains("2021-09-29"), "{early}");
}

#[test]
fn a_misspelt_bundle_field_is_a_shape_error_at_its_line() {
    let target = bundle_target("horizon", "horizn");
    let diagnostic = target_diagnostic(&target);
    assert_eq!(diagnostic.code, Code::Shape, "{diagnostic}");
    assert_eq!(diagnostic.line, 10, "{diagnostic}");
    assert!(diagnostic.message.contains("horizn"), "{diagnostic}");
}

#[test]
fn a_bundle_the_builder_cannot_build_names_the_target_and_the_scenario() {
    // The root expires the day before `at-after`: no candidate keeps `full` working until then.
    let diagnostic = expect_bundle_error(
        r#""at-before""#,
        r#""at-after""#,
        "{",
        Code::InvalidValue,
        "scenarios.tiny.bundle",
    );
    assert!(
        diagnostic.message.contains("target tt, scenario tiny")
            && diagnostic
                .message
                .contains("full: no candidate anchor covers it"),
        "{diagnostic}"
    );
}

#[test]
fn a_bundle_is_built_for_the_targets_own_verifier() {
    // A partial-chain device proved with a full path builder would prove nothing about it.
    let target = bundle_target("", "").replacen(
        "[engine]\nvalidator = \"openssl\"",
        "[engine.model]\npartial-chain = true",
        1,
    );
    let diagnostic = target_diagnostic(&target);
    assert_eq!(diagnostic.code, Code::InvalidValue, "{diagnostic}");
    assert_eq!(
        diagnostic.field.as_deref(),
        Some("scenarios.tiny.bundle.device-verifier"),
        "{diagnostic}"
    );
    assert!(
        diagnostic
            .help
            .as_deref()
            .is_some_and(|help| help.contains("partial-chain")),
        "{diagnostic}"
    );
    let matching = target.replacen("full-path-building", "partial-chain", 1);
    load_target(&matching, &[]).expect("the engine's own verifier builds");
    // A real engine stands for its own library's verifier too: openssl is a full path builder.
    let esp = bundle_target("", "").replacen("full-path-building", "esp-idf", 1);
    let diagnostic = target_diagnostic(&esp);
    assert_eq!(
        diagnostic.field.as_deref(),
        Some("scenarios.tiny.bundle.device-verifier"),
        "{diagnostic}"
    );
    assert!(
        diagnostic
            .help
            .as_deref()
            .is_some_and(|help| help.contains("full-path-building")),
        "{diagnostic}"
    );
    // bearssl and mbedtls are proved through their harnesses, which a corpus load never sets up.
    let harness = bundle_target("", "").replacen("full-path-building", "mbedtls", 1);
    let diagnostic = target_diagnostic(&harness);
    assert!(
        diagnostic.message.contains("mbedtls harness"),
        "{diagnostic}"
    );
}
