//! `cargo xtask gen` from the outside: bad topologies exit 2 with a rendered diagnostic (code,
//! field, `file:line:column`, the source line and a caret under the fault) and create no output
//! directory; a good one writes the PKI, and an existing --out is refused unless --force.

use std::path::Path;
use std::process::{Command, Output};

use anchorsmith_generator::fixtures::SMALL_PKI as GOOD;

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

/// One broken topology: `from` replaced by `to` in the good one, and what the error must say.
struct BadCase {
    from: &'static str,
    to: &'static str,
    /// The rendered title: `error[code]: field `x`: message` (a prefix of it).
    title: &'static str,
    /// Where the caret must point: the first occurrence of this text in the broken file.
    at: &'static str,
}

const BAD_CASES: &[BadCase] = &[
    BadCase {
        from: "issuer = \"int\"",
        to: "issuer = \"r9\"",
        title: "error[unknown-name]: field `cert[2].issuer`: unknown issuer \"r9\" (known: root, int)",
        at: "\"r9\"",
    },
    BadCase {
        from: "key = \"leaf\"",
        to: "key = \"leaf2\"",
        title: "error[unknown-name]: field `cert[2].key`: unknown key label \"leaf2\"",
        at: "\"leaf2\"",
    },
    BadCase {
        from: "serial = \"02\"",
        to: "serial = \"02\"\nsignature_hash = \"sha1\"",
        title: "error[invalid-value]: field `cert[1].signature_hash`: sha1 needs an RSA issuer key",
        at: "\"sha1\"",
    },
    BadCase {
        from: "leaf = \"ed25519\"",
        to: "leaf = \"ed448\"",
        title: "error[shape]: field `keys.leaf`: unknown variant `ed448`",
        at: "\"ed448\"",
    },
    BadCase {
        from: "serial = \"0a\"",
        to: "serial = \"0a",
        title: "error[syntax]: ",
        at: "\n[cert.extensions]\nbasic_constraints = { ca = false }",
    },
    BadCase {
        from: "id = \"leaf\"",
        to: "id = \"root\"",
        title: "error[duplicate]: field `cert[2].id`: duplicate id \"root\"",
        at: "\"root\"\nsubject = { cn = \"www",
    },
    BadCase {
        from: "basic_constraints = { ca = true, path_len = 0 }",
        to: "basic_constraints = { ca = false }",
        title: "error[invalid-value]: field `cert[2].issuer`: issuer \"int\" is not a CA",
        at: "\"int\"\nnot_before = \"expiry",
    },
    BadCase {
        from: "not_after = \"expiry + 60d\"",
        to: "not_after = \"expiry - 31d\"",
        title: "error[invalid-value]: field `cert[2].not_after`: not_after (2021-08-30",
        at: "\"expiry - 31d\"",
    },
    BadCase {
        // The root issued by the intermediate: a cycle with no self-signed root.
        from: "issuer = \"self\"",
        to: "issuer = \"int\"",
        title: "error[cycle]: field `cert[0].issuer`: issuance cycle with no self-signed root: root → int → root",
        at: "\"int\"\nnot_before = \"2020-01",
    },
];

/// 1-based line and column (in characters) of the first `needle` in `text`.
fn position(text: &str, needle: &str) -> (usize, usize) {
    let offset = text.find(needle).expect("needle in the broken topology");
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// `stderr` shows `file:line:column`, the source line, and a caret starting under the column.
fn assert_points_at(stderr: &str, file: &Path, text: &str, (line, column): (usize, usize)) {
    assert!(
        stderr.contains(&format!("--> {}:{line}:{column}\n", file.display())),
        "expected {line}:{column} in\n{stderr}"
    );
    let source_line = text.lines().nth(line - 1).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    let shown = lines
        .iter()
        .position(|rendered| rendered.ends_with(&format!("{line} | {source_line}")))
        .unwrap_or_else(|| panic!("source line {source_line:?} not shown in\n{stderr}"));
    let marker = lines[shown + 1];
    let text_start = marker.find('|').unwrap() + 2;
    let caret = marker
        .find('^')
        .unwrap_or_else(|| panic!("no caret in\n{stderr}"));
    assert_eq!(
        marker[text_start..caret].chars().count() + 1,
        column,
        "caret under column {column} in\n{stderr}"
    );
}

#[test]
fn bad_topologies_exit_2_with_a_located_diagnostic_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (index, case) in BAD_CASES.iter().enumerate() {
        assert_eq!(
            GOOD.matches(case.from).count(),
            1,
            "{:?} is unique",
            case.from
        );
        let topology = dir.path().join(format!("bad-{index}.toml"));
        let text = GOOD.replacen(case.from, case.to, 1);
        std::fs::write(&topology, &text).unwrap();
        let out = dir.path().join(format!("out-{index}"));
        let output = gen(&topology, &out, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "case {index}: {stderr}");
        assert!(
            stderr.starts_with(case.title),
            "case {index}: expected {:?} first in\n{stderr}",
            case.title
        );
        assert_points_at(&stderr, &topology, &text, position(&text, case.at));
        assert!(!out.exists(), "case {index}: --out must not be created");
    }
    // Only the topology files are left: no temporary output directories either.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), BAD_CASES.len(), "{leftovers:?}");
}

#[test]
fn an_unreadable_topology_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let output = gen(&missing, &dir.path().join("out"), &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}: cannot read topology", missing.display())),
        "{stderr}"
    );
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
    assert!(String::from_utf8_lossy(&output.stdout).contains("3 certificates written to"));
    for file in [
        "root.pem",
        "root.der",
        "int.pem",
        "int.der",
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
