//! `cargo xtask bundle` from the outside: a real run on the Let's Encrypt fixtures writes
//! bundle.pem, manifest.json and report.md; a leaf, a key or garbage offered as a candidate exits
//! 2 with a located diagnostic and writes nothing; an endpoint nothing covers exits 1.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/letsencrypt")
        .canonicalize()
        .unwrap()
}

fn bundle(args: &[&str], candidates: &Path, out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("bundle")
        .args(args)
        .arg("--candidates")
        .arg(candidates)
        .args(["--now", "2026-11-30", "--horizon", "2040-01-01"])
        .arg("--out")
        .arg(out)
        .output()
        .expect("xtask runs")
}

fn endpoint(host: &str, file: &str) -> String {
    format!("{host}={}", fixtures().join(file).display())
}

/// A directory with ISRG Root X1 and X2.
fn roots(dir: &Path) -> PathBuf {
    let candidates = dir.join("candidates");
    std::fs::create_dir(&candidates).unwrap();
    for file in ["isrg-root-x1.pem", "isrg-root-x2.pem"] {
        std::fs::copy(fixtures().join(file), candidates.join(file)).unwrap();
    }
    candidates
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_real_run_writes_the_bundle_the_manifest_and_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = bundle(
        &[
            "--endpoint",
            &endpoint("r10", "r10.pem"),
            "--endpoint",
            &endpoint("e5", "e5.pem"),
        ],
        &roots(dir.path()),
        &out,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let pem = std::fs::read_to_string(out.join("bundle.pem")).unwrap();
    assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 2);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["sources"][0]["kind"], "directory");
    assert_eq!(manifest["anchors"].as_array().unwrap().len(), 2);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("ISRG Root X1 expires on 2035-06-04"),
        "{report}"
    );
}

/// A bad candidate file exits 2, names the file and line, and creates no output directory.
fn refused(contents: &str, says: &str, line: usize) {
    let dir = tempfile::tempdir().unwrap();
    let candidates = roots(dir.path());
    std::fs::write(candidates.join("zz-bad.pem"), contents).unwrap();
    let out = dir.path().join("out");
    let output = bundle(
        &["--endpoint", &endpoint("r10", "r10.pem")],
        &candidates,
        &out,
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.contains(says), "{text}");
    assert!(text.contains(&format!("zz-bad.pem:{line}:1")), "{text}");
    assert!(!out.exists());
}

#[test]
fn a_leaf_a_key_or_garbage_as_candidate_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .args([
            "-subj",
            "/CN=leaf.example",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(dir.path().join("key.pem"))
        .arg("-out")
        .arg(dir.path().join("leaf.pem"))
        .output()
        .expect("openssl runs");
    assert!(status.status.success(), "{}", stderr(&status));
    let leaf = std::fs::read_to_string(dir.path().join("leaf.pem")).unwrap();
    let key = std::fs::read_to_string(dir.path().join("key.pem")).unwrap();
    refused(&format!("\n{leaf}"), "cannot be a trust anchor", 2);
    refused(&format!("# mine\n\n{key}"), "private key", 3);
    refused("not a certificate\n", "no PEM block", 1);
}

#[test]
fn an_endpoint_nothing_covers_exits_1_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let candidates = dir.path().join("only-x2");
    std::fs::create_dir(&candidates).unwrap();
    std::fs::copy(
        fixtures().join("isrg-root-x2.pem"),
        candidates.join("x2.pem"),
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = bundle(
        &["--endpoint", &endpoint("r10", "r10.pem")],
        &candidates,
        &out,
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("r10: no candidate anchor covers it"),
        "{}",
        stderr(&output)
    );
    assert!(!out.exists());
}

#[test]
fn help_shows_an_example() {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["bundle", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("Example:\n  cargo xtask bundle --endpoint"),
        "{text}"
    );
    assert!(text.contains("--device-verifier"), "{text}");
}

#[test]
fn an_endpoint_directory_names_each_host_by_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let endpoints = dir.path().join("endpoints");
    std::fs::create_dir(&endpoints).unwrap();
    std::fs::copy(
        fixtures().join("r10.pem"),
        endpoints.join("api.example.org.pem"),
    )
    .unwrap();
    std::fs::copy(
        fixtures().join("e5.pem"),
        endpoints.join("cdn.example.org.pem"),
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = bundle(
        &["--endpoint-dir", endpoints.to_str().unwrap()],
        &roots(dir.path()),
        &out,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("| api.example.org (intermediates only) |"),
        "{report}"
    );
    assert!(
        report.contains("| cdn.example.org (intermediates only) |"),
        "{report}"
    );
}

#[test]
fn the_mozilla_store_alone_covers_the_real_chains() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "bundle",
            "--mozilla",
            "--now",
            "2026-11-30",
            "--horizon",
            "2030-01-01",
        ])
        .args(["--endpoint", &endpoint("r10", "r10.pem")])
        .args(["--endpoint", &endpoint("e5", "e5.pem")])
        .args(["--device-verifier", "esp-idf", "--max-bytes", "1000"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["sources"][0]["kind"], "mozilla");
    assert_eq!(manifest["device_verifier"], "esp-idf");
    let names: Vec<&str> = manifest["anchors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|anchor| anchor["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ISRG Root X1", "ISRG Root X2"]);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("more than the 1000 the device allows"),
        "{report}"
    );
}

/// A candidate directory with `files` from the fixtures (paths relative to them).
fn candidate_dir(dir: &Path, name: &str, files: &[&str]) -> PathBuf {
    let candidates = dir.join(name);
    std::fs::create_dir(&candidates).unwrap();
    for file in files {
        let base = Path::new(file).file_name().unwrap();
        std::fs::copy(fixtures().join(file), candidates.join(base)).unwrap();
    }
    candidates
}

/// Endpoint yr1 sends YR1 and Root YR cross-signed by ISRG Root X1: X1 covers it, and Root YR
/// too once it is a candidate.
fn diff_run(dir: &Path, candidates: &Path, out: &str, old: Option<&Path>) -> Output {
    let chain = dir.join("yr1-chain.pem");
    if !chain.exists() {
        let text = ["extra/yr1.pem", "extra/root-yr-by-x1.pem"]
            .map(|file| std::fs::read_to_string(fixtures().join(file)).unwrap())
            .concat();
        std::fs::write(&chain, text).unwrap();
    }
    let mut args = vec![
        "--endpoint".to_string(),
        format!("yr1={}", chain.display()),
        "--endpoint".to_string(),
        endpoint("r10", "r10.pem"),
    ];
    if let Some(old) = old {
        args.extend(["--diff".to_string(), old.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    bundle(&args, candidates, &dir.join(out))
}

#[test]
fn diff_against_an_old_manifest_names_the_anchors_gained_and_lost() {
    let dir = tempfile::tempdir().unwrap();
    let without = candidate_dir(
        dir.path(),
        "without",
        &["isrg-root-x1.pem", "isrg-root-x2.pem"],
    );
    let with = candidate_dir(
        dir.path(),
        "with",
        &["isrg-root-x1.pem", "isrg-root-x2.pem", "extra/root-yr.pem"],
    );
    let first = diff_run(dir.path(), &without, "old", None);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(!dir.path().join("old/diff.md").exists());

    let old = dir.path().join("old/manifest.json");
    let second = diff_run(dir.path(), &with, "new", Some(&old));
    assert!(second.status.success(), "{}", stderr(&second));
    let diff = std::fs::read_to_string(dir.path().join("new/diff.md")).unwrap();
    let yr1 = diff.split("## ").find(|s| s.starts_with("yr1")).unwrap();
    assert!(
        yr1.contains("- gains: Root YR (valid until 2045-09-02)"),
        "{diff}"
    );
    assert!(!yr1.contains("- loses:"), "{diff}");
    assert!(
        yr1.contains("- coverage ends as before: 2028-09-02"),
        "{diff}"
    );
    let r10 = diff.split("## ").find(|s| s.starts_with("r10")).unwrap();
    assert!(!r10.contains("gains") && !r10.contains("loses"), "{diff}");
    // Printed as well.
    assert!(String::from_utf8_lossy(&second.stdout).contains(&diff));

    // Back to the old candidates: Root YR is lost.
    let new = dir.path().join("new/manifest.json");
    let third = diff_run(dir.path(), &without, "back", Some(&new));
    assert!(third.status.success(), "{}", stderr(&third));
    let diff = std::fs::read_to_string(dir.path().join("back/diff.md")).unwrap();
    let yr1 = diff.split("## ").find(|s| s.starts_with("yr1")).unwrap();
    assert!(
        yr1.contains("- loses: Root YR (valid until 2045-09-02)"),
        "{diff}"
    );
    assert!(!yr1.contains("- gains:"), "{diff}");
}

#[test]
fn a_malformed_or_missing_old_manifest_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let candidates = candidate_dir(dir.path(), "c", &["isrg-root-x1.pem"]);
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\n  \"endpoints\": [\n    {\"host\": 3}\n  ]\n}\n").unwrap();
    let output = diff_run(dir.path(), &candidates, "out", Some(&bad));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("bad.json:3:"),
        "{}",
        stderr(&output)
    );
    assert!(!dir.path().join("out").exists());

    let missing = dir.path().join("missing.json");
    let output = diff_run(dir.path(), &candidates, "out", Some(&missing));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("missing.json"),
        "{}",
        stderr(&output)
    );
    assert!(!dir.path().join("out").exists());
}

/// The SHA-256 fingerprint of a fixture certificate as OpenSSL prints it (`AB:CD:…`, a form
/// trust metadata accepts).
fn fixture_sha256(file: &str) -> String {
    let output = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(fixtures().join(file))
        .output()
        .expect("openssl runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim()
        .split_once('=')
        .expect("Fingerprint=…")
        .1
        .to_string()
}

#[test]
fn trust_metadata_is_applied_and_recorded_and_a_bad_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let candidates = roots(dir.path());
    let metadata = dir.path().join("trust.toml");
    std::fs::write(
        &metadata,
        format!(
            "source = \"test export\"\n\n[[anchor]]\nsha256 = \"{}\"\ndistrust-after = \"2030-01-01\"\n",
            fixture_sha256("isrg-root-x1.pem")
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = bundle(
        &[
            "--endpoint",
            &endpoint("r10", "r10.pem"),
            "--trust-metadata",
            metadata.to_str().unwrap(),
            "--min-anchors-per-endpoint",
            "1",
        ],
        &candidates,
        &out,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["trust_metadata"][0]["source"], "test export");
    assert_eq!(manifest["trust_metadata"][0]["entries"], 1);
    // The metadata reached the anchor it names: ISRG Root X1, r10's root.
    assert_eq!(manifest["anchors"][0]["name"], "ISRG Root X1");
    assert_eq!(manifest["anchors"][0]["key"]["key_type"], "rsa");
    assert_eq!(
        manifest["anchors"][0]["distrust_after"],
        "2030-01-01T00:00:00Z"
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("Trust metadata"), "{report}");
    assert!(
        report.contains("ISRG Root X1 is distrusted for TLS certificates issued after 2030-01-01"),
        "{report}"
    );
    assert!(out.join("report.html").exists());

    // A bad date: located, exit 2, nothing written.
    std::fs::write(
        &metadata,
        format!(
            "source = \"test export\"\n\n[[anchor]]\nsha256 = \"{}\"\ndistrust-after = \"soon\"\n",
            "0".repeat(64)
        ),
    )
    .unwrap();
    let out = dir.path().join("out-bad");
    let output = bundle(
        &[
            "--endpoint",
            &endpoint("r10", "r10.pem"),
            "--trust-metadata",
            metadata.to_str().unwrap(),
        ],
        &candidates,
        &out,
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.contains("trust.toml:5:18"), "{text}");
    assert!(text.contains("anchor[0].distrust-after"), "{text}");
    assert!(!out.exists());
}

#[test]
fn an_unknown_key_type_exits_2_and_a_p384_chain_is_uncovered_without_p384() {
    let dir = tempfile::tempdir().unwrap();
    let candidates = roots(dir.path());
    let out = dir.path().join("out");
    let output = bundle(
        &[
            "--endpoint",
            &endpoint("r10", "r10.pem"),
            "--key-types",
            "rsa,dsa",
        ],
        &candidates,
        &out,
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("unknown key type `dsa`"));
    assert!(!out.exists());
    let output = bundle(
        &[
            "--endpoint",
            &endpoint("e5", "e5.pem"),
            "--key-types",
            "rsa,ecdsa-p256",
        ],
        &candidates,
        &out,
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.contains("e5") && text.contains("ecdsa-p384"), "{text}");
    assert!(!out.exists());
}

#[test]
fn the_system_store_comes_from_ssl_cert_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.pem");
    std::fs::copy(fixtures().join("isrg-root-x1.pem"), &store).unwrap();
    let out = dir.path().join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("bundle")
        .args(["--endpoint", &endpoint("r10", "r10.pem"), "--system-store"])
        .args(["--now", "2026-11-30", "--horizon", "2040-01-01"])
        .arg("--out")
        .arg(&out)
        .env("SSL_CERT_FILE", &store)
        .env_remove("SSL_CERT_DIR")
        .output()
        .expect("xtask runs");
    assert!(output.status.success(), "{}", stderr(&output));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["sources"][0]["kind"], "system");
    assert_eq!(manifest["sources"][0]["count"], 1);
    assert_eq!(manifest["anchors"][0]["origin"], "system");
}

#[test]
fn a_bad_certdata_file_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let candidates = roots(dir.path());
    let certdata = dir.path().join("certdata.txt");
    std::fs::write(
        &certdata,
        "BEGINDATA\nCKA_CLASS CK_OBJECT_CLASS CKO_CERTIFICATE\nCKA_VALUE MULTILINE_OCTAL\n\\060\\9\nEND\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = bundle(
        &[
            "--endpoint",
            &endpoint("r10", "r10.pem"),
            "--certdata",
            certdata.to_str().unwrap(),
        ],
        &candidates,
        &out,
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("certdata.txt:4:"),
        "{}",
        stderr(&output)
    );
    assert!(!out.exists());
}
