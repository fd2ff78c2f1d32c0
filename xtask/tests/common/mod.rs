//! Helpers shared by the CLI tests (each test file includes this module and uses some of it).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A corpus directory of one's own in `into`: the project's `clients.toml`, copies of the named
/// scenarios and targets of `corpus/`, and no questions. What `--corpus DIR` reads.
pub fn corpus_copy(into: &Path, scenarios: &[&str], targets: &[&str]) -> PathBuf {
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let corpus = into.join("corpus");
    std::fs::create_dir_all(corpus.join("targets")).unwrap();
    for name in scenarios {
        let scenario = corpus.join("scenarios").join(name);
        std::fs::create_dir_all(&scenario).unwrap();
        for file in ["topology.toml", "scenario.toml"] {
            std::fs::copy(
                project.join("scenarios").join(name).join(file),
                scenario.join(file),
            )
            .unwrap();
        }
    }
    for name in targets {
        let file = format!("{name}.toml");
        std::fs::copy(
            project.join("targets").join(&file),
            corpus.join("targets").join(&file),
        )
        .unwrap();
    }
    std::fs::copy(project.join("clients.toml"), corpus.join("clients.toml")).unwrap();
    std::fs::write(corpus.join("questions.toml"), "").unwrap();
    corpus
}

/// `127.0.0.1:PORT` with a port the OS just gave out and took back: nothing listens there now.
pub fn free_loopback_address() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}

/// The PEM of the scenario's certificates `ids`, in order: a served chain.
pub fn pem_of(scenario: &anchorsmith_corpus::Scenario, ids: &[&str]) -> String {
    ids.iter().map(|id| scenario.pki.pem(id)).collect()
}
