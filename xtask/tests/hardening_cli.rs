//! Key hygiene and output confinement, from the outside: `gen` writes private keys only with
//! `--emit-keys`, at mode 0600, and never into a bundle directory; `bundle` output never holds a
//! key and replaces its whole directory (a previous bundle's, nothing else); a certificate id
//! cannot name a path; a symbolic link planted in or as an output directory is never written
//! through.

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anchorsmith_generator::fixtures::SMALL_PKI;

fn xtask(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("xtask runs")
}

fn gen(topology: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "gen".as_ref(),
        topology.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ];
    args.extend(extra.iter().map(|arg| std::ffi::OsStr::new(arg)));
    xtask(&args)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn holds_a_key(path: &Path) -> bool {
    let bytes = std::fs::read(path).unwrap();
    String::from_utf8_lossy(&bytes).contains("PRIVATE KEY")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn gen_writes_private_keys_only_with_emit_keys_each_at_0600() {
    let dir = tempfile::tempdir().unwrap();
    let topology = dir.path().join("topology.toml");
    std::fs::write(&topology, SMALL_PKI).unwrap();

    let plain = dir.path().join("plain");
    let output = gen(&topology, &plain, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let written = files(&plain);
    assert_eq!(written.len(), 7, "{written:?}");
    for file in &written {
        assert!(!holds_a_key(file), "{} holds a key", file.display());
    }

    let keyed = dir.path().join("keyed");
    let output = gen(&topology, &keyed, &["--emit-keys"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let with_keys: Vec<PathBuf> = files(&keyed)
        .into_iter()
        .filter(|f| holds_a_key(f))
        .collect();
    let mut names: Vec<String> = with_keys
        .iter()
        .map(|file| file.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["int.key.pem", "leaf.key.pem", "root.key.pem"]);
    for key in &with_keys {
        assert_eq!(mode(key), 0o600, "{}", key.display());
    }
    // The directory that holds keys is private too.
    assert_eq!(mode(&keyed), 0o700);
}

#[test]
fn a_certificate_id_cannot_name_a_path() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("work");
    std::fs::create_dir(&nested).unwrap();
    for bad in ["../escape", "/tmp/anchorsmith-escape", "sub/leaf"] {
        let text = SMALL_PKI.replacen("id = \"leaf\"", &format!("id = \"{bad}\""), 1);
        let topology = nested.join("topology.toml");
        std::fs::write(&topology, &text).unwrap();
        let out = nested.join("out");
        let output = gen(&topology, &out, &[]);
        let stderr = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{bad}: {stderr}");
        assert!(
            stderr.starts_with(&format!(
                "error[invalid-value]: field `cert[2].id`: id {bad:?} must match [A-Za-z0-9._-]+"
            )),
            "{bad}: {stderr}"
        );
        let line = text
            .lines()
            .position(|line| line.contains(&format!("\"{bad}\"")))
            .unwrap()
            + 1;
        assert!(
            stderr.contains(&format!("{}:{line}:", topology.display())),
            "{bad}: located at line {line}: {stderr}"
        );
        assert!(!out.exists(), "{bad}: nothing written");
        assert!(!dir.path().join("escape.pem").exists());
        assert!(!Path::new("/tmp/anchorsmith-escape.pem").exists());
    }
    // An id is only ever the stem of a file name (`<id>.pem`), never a path of its own: `..`
    // names the files `...pem` and `...der`, inside the output directory.
    let text = SMALL_PKI.replacen("id = \"leaf\"", "id = \"..\"", 1);
    let topology = nested.join("dots.toml");
    std::fs::write(&topology, &text).unwrap();
    let out = nested.join("dots");
    let output = gen(&topology, &out, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(out.join("...pem").is_file());
    let beside: Vec<_> = std::fs::read_dir(&nested)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(beside.len(), 3, "only topologies and out: {beside:?}");
}

#[test]
fn gen_force_over_a_symlinked_out_replaces_the_link_never_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let topology = dir.path().join("topology.toml");
    std::fs::write(&topology, SMALL_PKI).unwrap();
    let victim = dir.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    std::fs::write(victim.join("precious.txt"), "mine").unwrap();
    let out = dir.path().join("out");
    symlink(&victim, &out).unwrap();

    let refused = gen(&topology, &out, &[]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let forced = gen(&topology, &out, &["--force"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(!out.symlink_metadata().unwrap().file_type().is_symlink());
    assert!(out.join("leaf.pem").is_file());
    let left: Vec<_> = std::fs::read_dir(&victim)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(left, ["precious.txt"], "the link's target is untouched");
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/letsencrypt")
        .canonicalize()
        .unwrap()
}

/// `bundle` of every format for the endpoint R10.
fn bundle(candidates: &Path, out: &Path) -> Output {
    bundle_in(candidates, out, "pem,der,c-header,esp-idf,bearssl-ta,rust")
}

fn bundle_in(candidates: &Path, out: &Path, formats: &str) -> Output {
    let endpoint = format!("r10={}", fixtures().join("r10.pem").display());
    let args: Vec<&std::ffi::OsStr> = vec![
        "bundle".as_ref(),
        "--endpoint".as_ref(),
        endpoint.as_ref(),
        "--format".as_ref(),
        formats.as_ref(),
        "--candidates".as_ref(),
        candidates.as_os_str(),
        "--now".as_ref(),
        "2026-11-30".as_ref(),
        "--horizon".as_ref(),
        "2040-01-01".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ];
    xtask(&args)
}

fn candidates(dir: &Path) -> PathBuf {
    let candidates = dir.join("candidates");
    std::fs::create_dir(&candidates).unwrap();
    for file in ["isrg-root-x1.pem", "isrg-root-x2.pem"] {
        std::fs::copy(fixtures().join(file), candidates.join(file)).unwrap();
    }
    candidates
}

#[test]
fn bundle_output_never_holds_a_key_and_is_never_written_through_a_planted_link() {
    let dir = tempfile::tempdir().unwrap();
    let candidates = candidates(dir.path());

    let out = dir.path().join("out");
    let output = bundle(&candidates, &out);
    assert!(output.status.success(), "{}", stderr(&output));
    let written = files(&out);
    assert!(written.len() >= 8, "{written:?}");
    for file in &written {
        assert!(!holds_a_key(file), "{} holds a key", file.display());
        assert!(
            !file.to_string_lossy().contains(".key"),
            "{}",
            file.display()
        );
    }

    // The bundle replaces its whole directory: a link planted inside a previous bundle, where
    // a file goes or on the way to files, is removed with it, never written through.
    let victim_file = dir.path().join("victim.pem");
    std::fs::write(&victim_file, "mine").unwrap();
    std::fs::remove_file(out.join("bundle.pem")).unwrap();
    symlink(&victim_file, out.join("bundle.pem")).unwrap();
    let victim_dir = dir.path().join("victim-dir");
    std::fs::create_dir(&victim_dir).unwrap();
    std::fs::remove_dir_all(out.join("der")).unwrap();
    symlink(&victim_dir, out.join("der")).unwrap();
    let output = bundle(&candidates, &out);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&victim_file).unwrap(), "mine");
    assert_eq!(std::fs::read_dir(&victim_dir).unwrap().count(), 0);
    for name in ["bundle.pem", "der"] {
        assert!(!out
            .join(name)
            .symlink_metadata()
            .unwrap()
            .file_type()
            .is_symlink());
    }
    assert_eq!(files(&out).len(), written.len(), "the same files again");
    // No staging directory is left beside it.
    let beside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".anchorsmith"))
        .collect();
    assert_eq!(beside, Vec::<String>::new());

    // `--out` itself a link: refused, exit 2, its target untouched.
    let linked = dir.path().join("linked");
    symlink(&victim_dir, &linked).unwrap();
    let output = bundle(&candidates, &linked);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("is a symbolic link"));
    assert_eq!(std::fs::read_dir(&victim_dir).unwrap().count(), 0);
}

/// A bundle directory never holds a private key: `bundle --out` refuses a directory of other
/// files (a generated PKI with its keys) before building anything, and `gen --emit-keys`, even
/// with `--force`, refuses a directory holding a bundle. Both exit 2 and leave it as it was.
#[test]
fn keys_and_bundles_never_share_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let topology = dir.path().join("topology.toml");
    std::fs::write(&topology, SMALL_PKI).unwrap();
    let pki = dir.path().join("pki");
    assert!(gen(&topology, &pki, &["--emit-keys"]).status.success());
    let before = files(&pki);
    let output = bundle(&candidates(dir.path()), &pki);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(
        message.contains("holds private keys (int.key.pem, leaf.key.pem, root.key.pem)"),
        "{message}"
    );
    assert_eq!(files(&pki), before);
    assert!(!pki.join("bundle.pem").exists());

    let out = dir.path().join("bundle");
    let built = bundle(&dir.path().join("candidates"), &out);
    assert!(built.status.success(), "{}", stderr(&built));
    let bundle_files = files(&out);
    let output = gen(&topology, &out, &["--emit-keys", "--force"]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains("holds a trust bundle"), "{message}");
    assert_eq!(files(&out), bundle_files);
    assert!(files(&out).iter().all(|file| !holds_a_key(file)));
    // Nor inside one.
    let output = gen(&topology, &out.join("keys"), &["--emit-keys"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(files(&out), bundle_files);
}

/// What `bundle --out` refuses before building (exit 2, the directory as it was), since the
/// bundle replaces its whole directory: a file, files of the user's, a previous bundle with a
/// file of the user's beside it, and `.` (no directory of its own).
#[test]
fn bundle_out_is_new_empty_or_a_previous_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let candidates = candidates(dir.path());
    let refused = |out: &Path, says: &str| {
        let output = bundle(&candidates, out);
        let message = stderr(&output);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{}: {message}",
            out.display()
        );
        assert!(message.contains(says), "{}: {message}", out.display());
    };
    let file = dir.path().join("file");
    std::fs::write(&file, "mine").unwrap();
    refused(&file, "is not a directory");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");

    let notes = dir.path().join("notes");
    std::fs::create_dir(&notes).unwrap();
    std::fs::write(notes.join("todo.txt"), "mine").unwrap();
    refused(&notes, "holds files and no bundle (todo.txt)");

    let out = dir.path().join("out");
    assert!(bundle(&candidates, &out).status.success());
    std::fs::write(out.join("todo.txt"), "mine").unwrap();
    refused(&out, "holds a previous bundle and other files (todo.txt)");
    assert_eq!(
        std::fs::read_to_string(out.join("todo.txt")).unwrap(),
        "mine"
    );
    std::fs::remove_file(out.join("todo.txt")).unwrap();
    std::fs::write(out.join("der").join("notes.txt"), "mine").unwrap();
    refused(&out, "other files (der/notes.txt)");

    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(&notes)
        .args(["bundle", "--endpoint"])
        .arg(format!("r10={}", fixtures().join("r10.pem").display()))
        .arg("--candidates")
        .arg(&candidates)
        .args(["--horizon", "2040-01-01", "--out", "."])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("names no directory of its own"));
    assert_eq!(std::fs::read_dir(&notes).unwrap().count(), 1);
}

/// A second run with fewer formats leaves no file of the first: what a firmware build finds in
/// the directory is exactly one bundle and its manifest.
#[test]
fn a_rebuilt_bundle_leaves_nothing_of_the_previous_one() {
    let dir = tempfile::tempdir().unwrap();
    let candidates = candidates(dir.path());
    let out = dir.path().join("out");
    assert!(bundle(&candidates, &out).status.success());
    assert!(out.join("x509_crt_bundle").exists());
    let output = bundle_in(&candidates, &out, "pem");
    assert!(output.status.success(), "{}", stderr(&output));
    let mut names: Vec<String> = files(&out)
        .iter()
        .map(|file| file.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["bundle.pem", "manifest.json", "report.html", "report.md"]
    );
}
