//! `cargo xtask gen` from the outside: bad topologies exit 2 with `file:line:column: field`
//! and create no output directory; a good one writes the PKI, and an existing --out is refused
//! unless --force.

use std::path::Path;
use std::process::{Command, Output};

const GOOD: &str = r#"seed = "cli-test"

[keys]
root = "ecdsa-p256"
leaf = "ed25519"

[[cert]]
id = "root"
subject = { cn = "CLI Root (test)", o = "anchorsmith test PKI" }
key = "root"
issuer = "self"
not_before = "2024-01-01T00:00:00Z"
not_after = "2034-01-01T00:00:00Z"
serial = "01"
[cert.extensions]
basic_constraints = { ca = true }
key_usage = { usages = ["key-cert-sign", "crl-sign"] }

[[cert]]
id = "leaf"
subject = { cn = "leaf.example.test" }
key = "leaf"
issuer = "root"
not_before = "2024-01-01T00:00:00Z"
not_after = "2024-04-01T00:00:00Z"
serial = "02"
[cert.extensions]
subject_alt_name = { dns = ["leaf.example.test"] }
"#;

fn gen(topology: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("gen")
        .arg(topology)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("xtask runs")
}

#[test]
fn bad_topologies_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "issuer = \"root\"",
            "issuer = \"r9\"",
            "23:10: field `cert[1].issuer`: unknown issuer \"r9\" (known: root)",
        ),
        (
            "key = \"leaf\"",
            "key = \"leaf2\"",
            "22:7: field `cert[1].key`: unknown key label \"leaf2\"",
        ),
        (
            "serial = \"02\"",
            "serial = \"02\"\nsignature_hash = \"sha1\"",
            "27:18: field `cert[1].signature_hash`: sha1 needs an RSA issuer key",
        ),
        (
            "leaf = \"ed25519\"",
            "leaf = \"ed448\"",
            "5:8: field `keys.leaf`: unknown variant `ed448`",
        ),
        ("serial = \"02\"", "serial = \"02", "field `cert[1].serial`"),
        (
            "id = \"leaf\"",
            "id = \"root\"",
            "20:6: field `cert[1].id`: duplicate id \"root\"",
        ),
        (
            "basic_constraints = { ca = true }",
            "basic_constraints = { ca = false }",
            "23:10: field `cert[1].issuer`: issuer \"root\" is not a CA",
        ),
        (
            "not_after = \"2024-04-01T00:00:00Z\"",
            "not_after = \"2023-04-01T00:00:00Z\"",
            "25:13: field `cert[1].not_after`: not_after (2023-04-01",
        ),
        (
            // The root issued by the leaf, the leaf made a CA: a cycle with no self-signed root.
            "issuer = \"self\"",
            "issuer = \"leaf\"",
            "11:10: field `cert[0].issuer`: issuance cycle with no self-signed root",
        ),
    ];
    for (index, (from, to, expected)) in cases.iter().enumerate() {
        let topology = dir.path().join(format!("bad-{index}.toml"));
        let mut text = GOOD.replacen(from, to, 1);
        if to.contains("issuer = \"leaf\"") {
            text = text.replacen(
                "subject_alt_name = { dns = [\"leaf.example.test\"] }",
                "basic_constraints = { ca = true }",
                1,
            );
        }
        std::fs::write(&topology, text).unwrap();
        let out = dir.path().join(format!("out-{index}"));
        let output = gen(&topology, &out, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "case {index}: {stderr}");
        assert!(
            stderr.contains(&format!("{}:", topology.display())),
            "case {index} names the file: {stderr}"
        );
        assert!(
            stderr.contains(expected),
            "case {index}: expected {expected:?} in {stderr}"
        );
        assert!(!out.exists(), "case {index}: --out must not be created");
    }
    // Only the topology files are left: no temporary output directories either.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), cases.len(), "{leftovers:?}");
}

#[test]
fn good_topology_writes_once_and_force_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let topology = dir.path().join("good.toml");
    std::fs::write(&topology, GOOD).unwrap();
    let out = dir.path().join("pki");

    let output = gen(&topology, &out, &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("2 certificates written to"));
    for file in [
        "root.pem",
        "root.der",
        "leaf.pem",
        "leaf.der",
        "manifest.json",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
    assert!(!out.join("leaf.key.pem").exists(), "keys only on request");
    let first = std::fs::read(out.join("leaf.der")).unwrap();

    let refused = gen(&topology, &out, &["--emit-keys"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("already exists"));
    assert!(!out.join("leaf.key.pem").exists());

    let forced = gen(&topology, &out, &["--force", "--emit-keys"]);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(out.join("leaf.key.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(
        std::fs::read(out.join("leaf.der")).unwrap(),
        first,
        "same topology, same bytes"
    );

    // --seed changes the keys, hence the bytes.
    let reseeded = dir.path().join("pki-reseeded");
    assert!(gen(&topology, &reseeded, &["--seed", "other"])
        .status
        .success());
    assert_ne!(std::fs::read(reseeded.join("leaf.der")).unwrap(), first);
    let entries: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        entries.len(),
        3,
        "no staging directories left behind: {entries:?}"
    );
}
