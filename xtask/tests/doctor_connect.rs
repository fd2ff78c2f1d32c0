//! `cargo xtask doctor --connect` against a real TLS server on 127.0.0.1: `openssl s_server`
//! serving a corpus scenario's chain with its leaf's key. The chain captured from the handshake
//! must be diagnosed exactly as the same chain read from a file.
//!
//! Needs the `openssl` program (Debian's `openssl`, installed by `.ci/run`).

use std::io::{BufRead, BufReader};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use anchorsmith_corpus::Scenario;

mod common;

fn corpus() -> anchorsmith_corpus::Corpus {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    anchorsmith_corpus::load_corpus(&dir.canonicalize().unwrap()).unwrap_or_else(|e| panic!("{e}"))
}

/// A running `openssl s_server`, killed when dropped.
struct Server {
    child: Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `openssl s_server` on 127.0.0.1 serving `ids` (leaf first) of `scenario` with the leaf's key,
/// on a free port (another port when one is taken between choosing it and binding it).
fn serve(scenario: &Scenario, ids: &[&str], dir: &Path) -> Server {
    let write = |name: &str, text: &str| {
        let file = dir.join(name);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&file)
            .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
            .unwrap();
        file
    };
    let leaf = write("leaf.pem", &common::pem_of(scenario, &ids[..1]));
    let key = write(
        "leaf.key",
        &scenario.pki.certs[ids[0]].private_key_pkcs8_pem,
    );
    let rest = write("rest.pem", &common::pem_of(scenario, &ids[1..]));
    for _attempt in 0..5 {
        let address = common::free_loopback_address();
        let mut child = Command::new("openssl")
            .args(["s_server", "-accept", &address, "-cert"])
            .arg(&leaf)
            .arg("-key")
            .arg(&key)
            .arg("-cert_chain")
            .arg(&rest)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("`openssl s_server` cannot start ({error}): install Debian's `openssl`")
            });
        // s_server says ACCEPT once it listens; its output is drained for as long as it runs
        // (a closed pipe would kill it with SIGPIPE on its next log line).
        let stdout = child.stdout.take().unwrap();
        let (tell, ready) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("ACCEPT") {
                    let _ = tell.send(());
                }
            }
        });
        // Bounded: an s_server that neither listens nor exits must not hang the test run.
        if ready.recv_timeout(Duration::from_secs(30)).is_ok() {
            return Server { child, address };
        }
        // The port was taken in between (s_server exited), or it never said ACCEPT. Try another.
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("openssl s_server found no free port in 5 attempts");
}

fn doctor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("doctor")
        .args(args)
        .output()
        .expect("xtask runs")
}

#[test]
fn the_chain_of_a_real_handshake_is_diagnosed_like_the_same_chain_from_a_file() {
    let corpus = corpus();
    let scenario = corpus
        .scenarios
        .iter()
        .find(|s| s.name == "root-expiry-long-short")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The long chain, in the wrong order with a duplicate: what s_server sends is what the
    // doctor must see, byte for byte and in order.
    let ids = ["leaf", "isrg-x1-by-dst", "r3", "r3"];
    let server = serve(scenario, &ids, dir.path());
    let file = dir.path().join("served.pem");
    std::fs::write(&file, common::pem_of(scenario, &ids)).unwrap();
    let file = file.display().to_string();
    // In-process engines only: the test is about the chain, and stays fast.
    let targets = "android-pre-7.1.1,current-openssl-client";
    let common = ["--at", "2021-10-01", "--targets", targets, "--json"];
    let from_file = doctor(&[&[file.as_str()][..], &common].concat());
    let connect = [
        "--connect",
        &server.address,
        "--servername",
        "example.test",
        "--connect-timeout",
        "10",
    ];
    let from_server = doctor(&[&connect[..], &common].concat());
    let stderr = String::from_utf8_lossy(&from_server.stderr);
    assert_eq!(
        from_server.status.code(),
        from_file.status.code(),
        "{stderr}"
    );
    let json = |output: &Output| -> serde_json::Value {
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|error| panic!("{error}: {}", String::from_utf8_lossy(&output.stderr)))
    };
    let (captured, read) = (json(&from_server), json(&from_file));
    assert_eq!(captured, read);
    assert_eq!(captured["scenario"], "root-expiry-long-short");
    let codes: Vec<&str> = captured["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"duplicate-certificate"), "{codes:?}");
    assert!(codes.contains(&"wrong-order"), "{codes:?}");
    // The text report too, but for the line naming the source.
    let text = |output: Output| -> String {
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let text_args = ["--at", "2021-10-01", "--targets", targets];
    let from_file = doctor(&[&[file.as_str()][..], &text_args].concat());
    let from_server = doctor(&[&connect[..], &text_args].concat());
    assert_eq!(text(from_server), text(from_file));
}
