//! The malformed-input catalogue (`corpus/malformed/`, README there) fed to every command that
//! reads that kind of input, through the real binary. Bad input must give a located error
//! (`file:line:column`, the field when there is one, the source line and a caret when there is a
//! source line), exit status 2, nothing on stdout and no --out directory. Inputs that are large
//! but valid (10,000 certificates, 100 duplicate intermediates, the path-building maze) must be
//! handled as valid input. Every run's wall time and peak memory (the child's own rusage, from
//! wait4) are measured and bounded.
//!
//! The small files are committed and checked fresh here (they are rebuilt from the generator's
//! small PKI; `ANCHORSMITH_BLESS_MALFORMED=1` rewrites them). The large ones are built in a
//! temporary directory by the generators below, never committed.

use std::fs::File;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anchorsmith_generator::fixtures::SMALL_PKI;

mod common;

/// Generous: the slowest run (the doctor on the 1,024-certificate maze) takes ~11 s in a debug
/// build on an idle core; the bound catches a hang or a blow-up, not a slow machine.
const WALL_BOUND: Duration = Duration::from_secs(120);
/// Peak resident memory of one run. The 50 MB file is read whole (~200 MiB at most today).
const RSS_BOUND_KIB: u64 = 1024 * 1024;

fn catalogue() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus/malformed")
}

// ---------------------------------------------------------------------------------------------
// Running the binary, measured.

struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    wall: Duration,
    peak_rss_kib: u64,
}

/// Runs `cargo xtask ARGS` with stdout and stderr in files, reaping the child with wait4 so its
/// own peak RSS (ru_maxrss, KiB on Linux) is known, not the maximum over all children.
fn xtask(args: &[String], scratch: &Path) -> Run {
    let stdout_path = scratch.join("stdout");
    let stderr_path = scratch.join("stderr");
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).unwrap())
        .stderr(File::create(&stderr_path).unwrap())
        .spawn()
        .expect("xtask runs");
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    let mut status: libc::c_int = 0;
    // SAFETY: plain syscall on our own child; `usage` is a zeroed out-parameter.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(
        reaped,
        pid,
        "wait4 failed: {}",
        std::io::Error::last_os_error()
    );
    let wall = started.elapsed();
    Run {
        status: ExitStatus::from_raw(status),
        stdout: std::fs::read_to_string(&stdout_path).unwrap(),
        stderr: std::fs::read_to_string(&stderr_path).unwrap(),
        wall,
        peak_rss_kib: u64::try_from(usage.ru_maxrss).unwrap(),
    }
}

// ---------------------------------------------------------------------------------------------
// The inputs: the small ones (committed) and the generators of the large ones.

/// The small PKI every small file derives from (root → int → leaf), generated once.
struct SmallPki {
    dir: PathBuf,
}

impl SmallPki {
    fn generate(dir: &Path) -> SmallPki {
        let topology = dir.join("small-pki.toml");
        std::fs::write(&topology, SMALL_PKI).unwrap();
        let out = dir.join("small-pki");
        let run = xtask(
            &["gen".into(), path(&topology), "--out".into(), path(&out)],
            dir,
        );
        assert!(run.status.success(), "{}", run.stderr);
        SmallPki { dir: out }
    }
    fn der(&self, id: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(format!("{id}.der"))).unwrap()
    }
    fn pem(&self, id: &str) -> String {
        std::fs::read_to_string(self.dir.join(format!("{id}.pem"))).unwrap()
    }
}

fn certificate_pem(der: &[u8]) -> String {
    pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec()))
}

/// The committed small files, rebuilt: (file name, contents).
fn small_files(pki: &SmallPki) -> Vec<(&'static str, Vec<u8>)> {
    let int = pki.der("int");
    // The intermediate cut in half: the DER's outer length says more bytes follow.
    let truncated = certificate_pem(&int[..int.len() / 2]);
    // One `!` in the third line of base64 (line 3, column 11 of the file).
    let mut lines: Vec<String> = certificate_pem(&int).lines().map(String::from).collect();
    lines[2].replace_range(10..11, "!");
    let bad_base64 = lines.join("\n") + "\n";
    // The intermediate's DER followed by 8 bytes in the same block.
    let mut garbage = int.clone();
    garbage.extend_from_slice(b"\0garbage");
    let trailing = certificate_pem(&garbage);
    // A PRIVATE KEY block between leaf and intermediate. Its body is a 5-byte stub (an empty
    // SEQUENCE of version 0), not a real key: the commands must refuse it by its label.
    let key = pem::encode(&pem::Pem::new("PRIVATE KEY", vec![0x30, 3, 2, 1, 0]));
    let key_in_chain = pki.pem("leaf") + &key + &pki.pem("int");
    let cycle = format!(
        "# Malformed-input catalogue: an issuance cycle. The small test PKI (generator/tests/fixtures/\n\
         # small-pki.toml) with its root issued by its intermediate: root → int → root, and no\n\
         # self-signed root. Fed to `gen`: located error (code cycle, field cert[0].issuer), exit 2.\n{}",
        SMALL_PKI.replacen("issuer = \"self\"", "issuer = \"int\"", 1)
    );
    vec![
        ("truncated-der.pem", truncated.into_bytes()),
        ("bad-base64.pem", bad_base64.into_bytes()),
        ("trailing-garbage.pem", trailing.into_bytes()),
        ("private-key-in-chain.pem", key_in_chain.into_bytes()),
        ("empty.pem", Vec::new()),
        ("issuance-cycle.toml", cycle.into_bytes()),
    ]
}

/// 50 MB: one CERTIFICATE block of 50 MB of base64 (zero bytes): valid PEM, not a certificate,
/// and not TOML or JSON either.
fn write_big_file(file: &Path) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(File::create(file).unwrap());
    out.write_all(b"-----BEGIN CERTIFICATE-----\n").unwrap();
    let line = [b'A'; 64];
    for _ in 0..(50 * 1024 * 1024 / 65) {
        out.write_all(&line).unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.write_all(b"-----END CERTIFICATE-----\n").unwrap();
}

fn cert_table(id: &str, cn: &str, key: &str, issuer: &str, serial: usize, ca: bool) -> String {
    format!(
        "[[cert]]\nid = \"{id}\"\nsubject = {{ cn = \"{cn}\" }}\nkey = \"{key}\"\nissuer = \"{issuer}\"\n\
         not_before = \"2020-01-01T00:00:00Z\"\nnot_after = \"2030-01-01T00:00:00Z\"\n\
         serial = \"{serial:06x}\"\n[cert.extensions]\nbasic_constraints = {{ ca = {ca} }}\n"
    )
}

/// `count` certificates: one root and `count - 1` leaves under it (valid: `gen` must write it).
fn wide_topology(count: usize) -> String {
    let mut text = String::from(
        "seed = \"malformed-wide\"\n[keys]\nroot = \"ecdsa-p256\"\nleaf = \"ed25519\"\n",
    );
    text += &cert_table("c0", "Root", "root", "self", 1, true);
    for index in 1..count {
        text += &cert_table(
            &format!("c{index}"),
            &format!("c{index}"),
            "leaf",
            "c0",
            index + 1,
            false,
        );
    }
    text
}

/// `count` CA certificates in one line, each issued by the one before (valid: `gen` must write
/// it). Deep topologies once took cubic time in the issuance-cycle check.
fn deep_topology(count: usize) -> String {
    let mut text = String::from("seed = \"malformed-deep\"\n[keys]\nca = \"ecdsa-p256\"\n");
    text += &cert_table("c0", "c0", "ca", "self", 1, true);
    for index in 1..count {
        let issuer = format!("c{}", index - 1);
        text += &cert_table(
            &format!("c{index}"),
            &format!("c{index}"),
            "ca",
            &issuer,
            index + 1,
            true,
        );
    }
    text
}

/// The deep topology's size (5 to 15 s in a debug build here, mostly creating its files).
const DEEP_COUNT: usize = 10_000;

/// The maze's CAs: 32, so 1,024 certificates with the leaf (the doctor takes ~12 s on them in a
/// debug build, most of this test's time).
const MAZE_CAS: usize = 32;

/// `n` self-signed CAs, each cross-signed by every other (n² CA certificates in all), and a leaf
/// under I0: the path-building maze. n = 32 gives 1,024 certificates with the leaf.
fn maze_topology(n: usize) -> String {
    let mut text = String::from("seed = \"malformed-maze\"\n[keys]\nleaf = \"ed25519\"\n");
    for a in 0..n {
        text += &format!("k{a} = \"ecdsa-p256\"\n");
    }
    let mut serial = 1;
    for a in 0..n {
        text += &cert_table(
            &format!("i{a}"),
            &format!("I{a}"),
            &format!("k{a}"),
            "self",
            serial,
            true,
        );
        serial += 1;
    }
    for a in 0..n {
        for b in (0..n).filter(|&b| b != a) {
            let (id, cn, key) = (format!("i{a}-by-{b}"), format!("I{a}"), format!("k{a}"));
            text += &cert_table(&id, &cn, &key, &format!("i{b}"), serial, true);
            serial += 1;
        }
    }
    text += &cert_table("leaf", "www.example.test", "leaf", "i0", serial, false);
    text + "subject_alt_name = { dns = [\"www.example.test\"] }\n"
}

fn path(file: &Path) -> String {
    file.display().to_string()
}

// ---------------------------------------------------------------------------------------------
// The catalogue × commands.

/// How a command reads the input.
#[derive(Clone, Copy, Debug)]
enum Feed {
    /// `gen FILE --out OUT`
    GenTopology,
    /// `limbo --suite FILE`
    LimboSuite,
    /// `limbo --suite core --compare FILE`
    LimboCompare,
    /// `doctor FILE --out OUT`
    DoctorChain,
    /// `bundle --endpoint HOST=FILE` (the small PKI's root as the candidate)
    BundleEndpoint,
    /// `bundle --candidates DIR` holding FILE (the small PKI's leaf as the endpoint)
    BundleCandidate,
    /// `corpus --corpus DIR`, DIR holding one scenario whose `topology.toml` is FILE
    CorpusTopology,
    /// `corpus --corpus DIR`, DIR holding one scenario whose `scenario.toml` is FILE
    CorpusScenario,
    /// `timeline --corpus DIR`, FILE as the scenario's `topology.toml`
    TimelineTopology,
    /// `timeline --corpus DIR`, FILE as the scenario's `scenario.toml`
    TimelineScenario,
}

/// A corpus directory in `scratch` ([`common::corpus_copy`]: no targets, no questions) with one
/// scenario, a copy of `leaf-only-served` whose `replaced` file is `file`.
fn corpus_with(scratch: &Path, replaced: &str, file: &Path) -> PathBuf {
    let corpus = common::corpus_copy(scratch, &["leaf-only-served"], &[]);
    let target = corpus.join("scenarios/leaf-only-served").join(replaced);
    std::fs::remove_file(&target).unwrap();
    // A link, not a copy: the 50 MB file is fed four times.
    std::fs::hard_link(file, &target)
        .or_else(|_| std::fs::copy(file, &target).map(drop))
        .unwrap();
    corpus
}

/// What must happen.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Exit 2, `file:line:column` (and the field, when given) in the message, a caret when
    /// `caret`, nothing on stdout, no --out.
    BadInput {
        at: &'static str,
        field: Option<&'static str>,
        caret: bool,
    },
    /// Valid input: this exit status and this text on stdout or stderr.
    Valid { status: i32, says: &'static str },
}

struct Case {
    file: PathBuf,
    feed: Feed,
    expect: Expect,
}

struct Fixtures {
    root_dir: PathBuf,
    leaf_chain: PathBuf,
    maze_roots: PathBuf,
}

fn args(case: &Case, fixtures: &Fixtures, out: &Path, candidates: &Path) -> Vec<String> {
    let file = path(&case.file);
    let out = path(out);
    let words: Vec<&str> = match case.feed {
        Feed::GenTopology => vec!["gen", &file, "--out", &out],
        Feed::LimboSuite => vec![
            "limbo",
            "--suite",
            &file,
            "--validator",
            "rustls-webpki",
            "--out",
            &out,
        ],
        Feed::LimboCompare => vec![
            "limbo",
            "--suite",
            "core",
            "--validator",
            "rustls-webpki",
            "--compare",
            &file,
            "--out",
            &out,
        ],
        Feed::DoctorChain => vec!["doctor", &file, "--at", "2021-09-01", "--out", &out],
        Feed::CorpusTopology
        | Feed::CorpusScenario
        | Feed::TimelineTopology
        | Feed::TimelineScenario => {
            let (command, replaced) = match case.feed {
                Feed::CorpusTopology => ("corpus", "topology.toml"),
                Feed::CorpusScenario => ("corpus", "scenario.toml"),
                Feed::TimelineTopology => ("timeline", "topology.toml"),
                _ => ("timeline", "scenario.toml"),
            };
            let corpus = path(&corpus_with(candidates, replaced, &case.file));
            return [command, "--corpus", &corpus, "--out", &out]
                .into_iter()
                .map(String::from)
                .collect();
        }
        Feed::BundleEndpoint | Feed::BundleCandidate => vec![],
    };
    if !words.is_empty() {
        return words.into_iter().map(String::from).collect();
    }
    let (endpoint, candidate_dir) = match case.feed {
        Feed::BundleEndpoint => {
            let roots = if case.file.to_string_lossy().contains("maze") {
                &fixtures.maze_roots
            } else {
                &fixtures.root_dir
            };
            (file.clone(), roots.clone())
        }
        _ => {
            std::fs::create_dir_all(candidates).unwrap();
            let name = case.file.file_name().unwrap();
            std::fs::copy(&case.file, candidates.join(name)).unwrap();
            (path(&fixtures.leaf_chain), candidates.to_path_buf())
        }
    };
    [
        "bundle",
        "--endpoint",
        &format!("www.example.test={endpoint}"),
        "--candidates",
        &path(&candidate_dir),
        "--now",
        "2021-09-01",
        "--horizon",
        "2021-09-20",
        "--out",
        &out,
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

fn check(case: &Case, run: &Run, out: &Path) -> Result<(), String> {
    let code = run.status.code();
    match case.expect {
        Expect::BadInput { at, field, caret } => {
            if code != Some(2) {
                return Err(format!("exit {code:?}, expected 2"));
            }
            if !run.stderr.starts_with("error[") {
                return Err("no `error[code]` diagnostic".into());
            }
            if !run.stderr.contains(&format!("--> {at}")) && !run.stderr.contains(&format!("/{at}"))
            {
                return Err(format!("not located at {at}"));
            }
            if let Some(field) = field {
                if !run.stderr.contains(&format!("field `{field}`")) {
                    return Err(format!("field `{field}` not named"));
                }
            }
            if caret && !run.stderr.contains('^') {
                return Err("no caret under the source line".into());
            }
            if !run.stdout.is_empty() {
                return Err("wrote to stdout".into());
            }
            if out.exists() {
                return Err(format!("{} was written", out.display()));
            }
        }
        Expect::Valid { status, says } => {
            if code != Some(status) {
                return Err(format!("exit {code:?}, expected {status}"));
            }
            if !run.stdout.contains(says) && !run.stderr.contains(says) {
                return Err(format!("does not say {says:?}"));
            }
        }
    }
    if run.wall > WALL_BOUND {
        return Err(format!("took {:?} (bound {WALL_BOUND:?})", run.wall));
    }
    if run.peak_rss_kib > RSS_BOUND_KIB {
        return Err(format!(
            "peak RSS {} KiB (bound {RSS_BOUND_KIB} KiB)",
            run.peak_rss_kib
        ));
    }
    Ok(())
}

fn bad(at: &'static str, field: Option<&'static str>, caret: bool) -> Expect {
    Expect::BadInput { at, field, caret }
}

#[test]
fn committed_small_files_are_fresh() {
    let temp = tempfile::tempdir().unwrap();
    let pki = SmallPki::generate(temp.path());
    let bless = std::env::var("ANCHORSMITH_BLESS_MALFORMED").is_ok_and(|value| value == "1");
    for (name, contents) in small_files(&pki) {
        let file = catalogue().join(name);
        if bless {
            std::fs::write(&file, &contents).unwrap();
            continue;
        }
        let committed = std::fs::read(&file).unwrap_or_default();
        assert!(
            committed == contents,
            "corpus/malformed/{name} is stale: run ANCHORSMITH_BLESS_MALFORMED=1 cargo test -p xtask --test malformed"
        );
    }
}

#[test]
fn every_command_refuses_each_malformed_input_within_bounds() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let pki = SmallPki::generate(dir);
    let small = |name: &str| catalogue().join(name);

    // The generated inputs (see corpus/malformed/README.md).
    let big = dir.join("big-50mb.pem");
    write_big_file(&big);
    let wide = dir.join("topology-10000.toml");
    std::fs::write(&wide, wide_topology(10_000)).unwrap();
    let deep = dir.join("topology-deep.toml");
    std::fs::write(&deep, deep_topology(DEEP_COUNT)).unwrap();
    let duplicates = dir.join("duplicate-intermediates.pem");
    std::fs::write(&duplicates, pki.pem("leaf") + &pki.pem("int").repeat(100)).unwrap();
    let maze_toml = dir.join("maze.toml");
    std::fs::write(&maze_toml, maze_topology(MAZE_CAS)).unwrap();
    let maze_pki = dir.join("maze-pki");
    let run = xtask(
        &[
            "gen".into(),
            path(&maze_toml),
            "--out".into(),
            path(&maze_pki),
        ],
        dir,
    );
    assert!(run.status.success(), "{}", run.stderr);
    // Leaf first, then every CA certificate but the root I0 (sorted by id: deterministic).
    let mut maze_ids: Vec<String> = std::fs::read_dir(&maze_pki)
        .unwrap()
        .filter_map(|entry| entry.unwrap().file_name().into_string().ok())
        .filter_map(|name| name.strip_suffix(".pem").map(String::from))
        .filter(|id| id != "leaf" && id != "i0")
        .collect();
    maze_ids.sort();
    let maze_chain = dir.join("maze-chain.pem");
    let mut chain = std::fs::read_to_string(maze_pki.join("leaf.pem")).unwrap();
    for id in &maze_ids {
        chain += &std::fs::read_to_string(maze_pki.join(format!("{id}.pem"))).unwrap();
    }
    assert_eq!(maze_ids.len() + 1, MAZE_CAS * MAZE_CAS);
    std::fs::write(&maze_chain, chain).unwrap();

    let fixtures = Fixtures {
        root_dir: dir.join("roots"),
        leaf_chain: dir.join("leaf-chain.pem"),
        maze_roots: dir.join("maze-roots"),
    };
    std::fs::create_dir(&fixtures.root_dir).unwrap();
    std::fs::write(fixtures.root_dir.join("root.pem"), pki.pem("root")).unwrap();
    std::fs::write(&fixtures.leaf_chain, pki.pem("leaf") + &pki.pem("int")).unwrap();
    std::fs::create_dir(&fixtures.maze_roots).unwrap();
    for id in ["i0", "i5"] {
        std::fs::copy(
            maze_pki.join(format!("{id}.pem")),
            fixtures.maze_roots.join(format!("{id}.pem")),
        )
        .unwrap();
    }

    use Feed::*;
    let case = |file: PathBuf, feed: Feed, expect: Expect| Case { file, feed, expect };
    let cases = vec![
        case(
            small("truncated-der.pem"),
            DoctorChain,
            bad("truncated-der.pem:1:1", None, true),
        ),
        case(
            small("truncated-der.pem"),
            BundleEndpoint,
            bad("truncated-der.pem:1:1", None, true),
        ),
        case(
            small("truncated-der.pem"),
            BundleCandidate,
            bad("truncated-der.pem:1:1", None, true),
        ),
        case(
            small("bad-base64.pem"),
            DoctorChain,
            bad("bad-base64.pem:3:11", None, true),
        ),
        case(
            small("bad-base64.pem"),
            BundleEndpoint,
            bad("bad-base64.pem:1:1", None, true),
        ),
        case(
            small("bad-base64.pem"),
            BundleCandidate,
            bad("bad-base64.pem:1:1", None, true),
        ),
        case(
            small("trailing-garbage.pem"),
            DoctorChain,
            bad("trailing-garbage.pem:1:1", None, true),
        ),
        case(
            small("trailing-garbage.pem"),
            BundleEndpoint,
            bad("trailing-garbage.pem:1:1", None, true),
        ),
        case(
            small("trailing-garbage.pem"),
            BundleCandidate,
            bad("trailing-garbage.pem:1:1", None, true),
        ),
        case(
            small("private-key-in-chain.pem"),
            DoctorChain,
            bad("private-key-in-chain.pem:13:1", None, true),
        ),
        case(
            small("private-key-in-chain.pem"),
            BundleEndpoint,
            bad("private-key-in-chain.pem:13:1", None, true),
        ),
        case(
            small("private-key-in-chain.pem"),
            BundleCandidate,
            bad("private-key-in-chain.pem:13:1", None, true),
        ),
        // An empty file has no source line to show: the location is the file's 1:1.
        case(
            small("empty.pem"),
            GenTopology,
            bad("empty.pem:1:1", Some("cert"), false),
        ),
        case(
            small("empty.pem"),
            LimboSuite,
            bad("empty.pem:1:1", None, false),
        ),
        case(
            small("empty.pem"),
            LimboCompare,
            bad("empty.pem:1:1", None, false),
        ),
        case(
            small("empty.pem"),
            DoctorChain,
            bad("empty.pem:1:1", None, false),
        ),
        case(
            small("empty.pem"),
            BundleEndpoint,
            bad("empty.pem:1:1", None, false),
        ),
        case(
            small("empty.pem"),
            BundleCandidate,
            bad("empty.pem:1:1", None, false),
        ),
        case(
            big.clone(),
            GenTopology,
            bad("big-50mb.pem:1:12", None, true),
        ),
        case(big.clone(), LimboSuite, bad("big-50mb.pem:1:2", None, true)),
        case(
            big.clone(),
            LimboCompare,
            bad("big-50mb.pem:1:2", None, true),
        ),
        case(
            big.clone(),
            DoctorChain,
            bad("big-50mb.pem:1:1", None, true),
        ),
        case(
            big.clone(),
            BundleEndpoint,
            bad("big-50mb.pem:1:1", None, true),
        ),
        case(
            big.clone(),
            BundleCandidate,
            bad("big-50mb.pem:1:1", None, true),
        ),
        case(
            small("issuance-cycle.toml"),
            GenTopology,
            bad("issuance-cycle.toml:23:10", Some("cert[0].issuer"), true),
        ),
        // A scenario's files, read by `corpus` and `timeline` (`--corpus DIR`), located in
        // the copy the command read.
        case(
            small("issuance-cycle.toml"),
            CorpusTopology,
            bad("topology.toml:23:10", Some("cert[0].issuer"), true),
        ),
        case(
            small("issuance-cycle.toml"),
            TimelineTopology,
            bad("topology.toml:23:10", Some("cert[0].issuer"), true),
        ),
        // An empty topology is valid in the language (a file of shared keys); the scenario
        // then names certificates it does not declare.
        case(
            small("empty.pem"),
            CorpusTopology,
            bad(
                "scenario.toml:19:14",
                Some("acme_chains.le-x3-by-dst"),
                true,
            ),
        ),
        case(
            small("empty.pem"),
            TimelineScenario,
            bad("scenario.toml:1:1", None, false),
        ),
        case(
            big.clone(),
            CorpusScenario,
            bad("scenario.toml:1:12", None, true),
        ),
        case(
            big.clone(),
            TimelineTopology,
            bad("topology.toml:1:12", None, true),
        ),
        case(
            small("limbo-wrong-version.json"),
            LimboSuite,
            bad("limbo-wrong-version.json:1:13", Some("version"), true),
        ),
        case(
            small("limbo-wrong-version.json"),
            LimboCompare,
            bad("limbo-wrong-version.json:1:13", Some("version"), true),
        ),
        case(
            small("harness-wrong-ids.json"),
            LimboCompare,
            bad("harness-wrong-ids.json:5:12", Some("results[0].id"), true),
        ),
        // Large but valid.
        case(
            wide.clone(),
            GenTopology,
            Expect::Valid {
                status: 0,
                says: "10000 certificates written",
            },
        ),
        case(
            deep.clone(),
            GenTopology,
            Expect::Valid {
                status: 0,
                says: "10000 certificates written",
            },
        ),
        case(
            duplicates.clone(),
            DoctorChain,
            Expect::Valid {
                status: 1,
                says: "duplicate-certificate",
            },
        ),
        case(
            duplicates.clone(),
            BundleEndpoint,
            Expect::Valid {
                status: 0,
                says: "bundle",
            },
        ),
        case(
            maze_chain.clone(),
            DoctorChain,
            Expect::Valid {
                status: 1,
                says: "root-included",
            },
        ),
        case(
            maze_chain.clone(),
            BundleEndpoint,
            Expect::Valid {
                status: 0,
                says: "anchor(s)",
            },
        ),
    ];

    let mut failures = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let out = dir.join(format!("out-{index}"));
        let candidates = dir.join(format!("candidates-{index}"));
        let words = args(case, &fixtures, &out, &candidates);
        let run = xtask(&words, dir);
        let verdict = check(case, &run, &out);
        println!(
            "{:<28} {:<16} exit {:<4} {:>7.2} s {:>8} KiB  {}",
            case.file.file_name().unwrap().to_string_lossy(),
            format!("{:?}", case.feed),
            run.status
                .code()
                .map_or("sig".into(), |code| code.to_string()),
            run.wall.as_secs_f64(),
            run.peak_rss_kib,
            verdict.as_ref().err().map_or("ok", String::as_str),
        );
        if let Err(why) = verdict {
            failures.push(format!(
                "{} via {:?}: {why}\n{}",
                case.file.display(),
                case.feed,
                run.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
