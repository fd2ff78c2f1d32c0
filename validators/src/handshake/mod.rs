//! Real TLS handshakes on 127.0.0.1: each case's chain served by a rustls server ([`server`])
//! exactly as given, and real clients connecting to it, each a report column `handshake:<client>`:
//!
//! | column | client | time |
//! |---|---|---|
//! | `handshake:openssl` | `openssl s_client -verify_return_error` ([`openssl`]) | its `-attime` |
//! | `handshake:curl` | `curl` ([`curl`]) | libfaketime |
//! | `handshake:gnutls` | `gnutls-cli` ([`gnutls`]) | libfaketime |
//! | `handshake:rustls` | a rustls client in this process ([`rustls_client`]) | its `TimeProvider` |
//! | `handshake:java` | a JSSE `SSLSocket` ([`java`], one JVM per validation time) | libfaketime |
//! | `handshake:chromium` | headless Chromium, its verdict read from its net log ([`chromium`]) | libfaketime |
//!
//! Every client trusts exactly the case's anchors (a CA file in a private temporary directory,
//! removed afterwards), checks the case's server name, and runs at the case's validation time.
//! What a client cannot be told is skipped with the reason ([`skip`], one place for all). A
//! client's native error becomes a [`RejectKind`](crate::RejectKind) through its own table in
//! `validators/harnesses/handshake/harness.toml`; the verdict's detail keeps the native text. A
//! client that crashes, runs past its timeout (its process group is killed) or prints what we
//! cannot read gives [`Verdict::Error`] for that case only.
//!
//! The packages and the Java build are set up by the harness machinery
//! ([`crate::harnesses::setup`]) from that `harness.toml`, whose columns are provided here, in
//! process ([`columns`]).
//!
//! Each client names, as data, the verification-API column of the same library
//! ([`Client::api_column`]): where the two disagree on a case, the report shows it. Chromium has
//! none (no column here runs its verifier through an API).

pub mod chromium;
pub mod columns;
pub mod curl;
pub mod gnutls;
pub mod java;
pub mod openssl;
pub mod process;
pub mod rustls_client;
pub mod server;
pub mod skip;

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::harnesses::kinds::{map_kind, KindRule};
use crate::harnesses::manifest::ScenarioLimit;
use crate::{ValidationInput, Validator, Verdict};

pub use columns::{handshake_columns, handshake_columns_ready_or_skip, HandshakeColumn};
use skip::{Host, NameSupport};

/// The handshake clients, in report column order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::EnumIter)]
pub enum Client {
    Openssl,
    Curl,
    Gnutls,
    Rustls,
    Java,
    Chromium,
}

/// A handshake column and the verification-API column of the same library it should agree with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiPair {
    pub handshake: String,
    pub api: String,
}

impl Client {
    /// Every client, in column order.
    pub fn all() -> Vec<Client> {
        use strum::IntoEnumIterator;
        Client::iter().collect()
    }

    /// The report column: `handshake:<client>`.
    pub fn column(self) -> &'static str {
        match self {
            Client::Openssl => "handshake:openssl",
            Client::Curl => "handshake:curl",
            Client::Gnutls => "handshake:gnutls",
            Client::Rustls => "handshake:rustls",
            Client::Java => "handshake:java",
            Client::Chromium => "handshake:chromium",
        }
    }

    /// The client of a column name, if it is a handshake column.
    pub fn of_column(name: &str) -> Option<Client> {
        Client::all()
            .into_iter()
            .find(|client| client.column() == name)
    }

    /// The names the client can check besides a DNS name.
    fn names(self) -> NameSupport {
        match self {
            Client::Openssl => NameSupport {
                ip_address: true,
                no_name: true,
            },
            Client::Rustls => NameSupport {
                ip_address: true,
                no_name: false,
            },
            // Chromium: an IP peer name would be the address it connects to, not 127.0.0.1.
            Client::Curl | Client::Gnutls | Client::Java | Client::Chromium => NameSupport {
                ip_address: false,
                no_name: false,
            },
        }
    }

    /// The verification-API column of the same library, given the client's `version` line, or
    /// `None` when no column runs that library. curl pairs with `openssl-partial-chain` only
    /// when it is built on OpenSSL 3 (the library of the in-process columns): it sets
    /// `X509_V_FLAG_PARTIAL_CHAIN` (curl 7.68 and later; measured here: a CA file holding only
    /// the leaf is accepted, which `openssl s_client` refuses), as that profile does. Chromium
    /// has none: its verifier (Chrome's own path builder over the NSS database) is not among the
    /// verification-API columns.
    pub fn api_column(self, version: &str) -> Option<&'static str> {
        match self {
            Client::Openssl => Some("openssl"),
            Client::Curl if version.contains("OpenSSL/3") => Some("openssl-partial-chain"),
            Client::Curl => None,
            Client::Gnutls => Some("gnutls"),
            Client::Rustls => Some("rustls-webpki"),
            Client::Java => Some("java-jsse-trustmanager"),
            Client::Chromium => None,
        }
    }
}

/// The pairs (handshake column, verification-API column of the same library) among
/// `validators`, read off their names and versions: both columns must be in the run.
pub fn api_pairs(validators: &[std::sync::Arc<dyn Validator>]) -> Vec<ApiPair> {
    let has = |name: &str| validators.iter().any(|validator| validator.name() == name);
    validators
        .iter()
        .filter_map(|validator| {
            let client = Client::of_column(validator.name())?;
            let api = client.api_column(&validator.version())?;
            has(api).then(|| ApiPair {
                handshake: validator.name().to_string(),
                api: api.to_string(),
            })
        })
        .collect()
}

/// What a client said about the chain it was served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Accepted,
    /// Rejected, with the client's own words (mapped to a kind by its table).
    Rejected {
        native: String,
    },
}

/// One client's column: a [`Validator`] that runs a real handshake per case.
#[derive(Clone, Debug)]
pub struct HandshakeValidator {
    pub client: Client,
    /// The client's native errors onto reject kinds (its rows in `harness.toml`).
    pub reject_kinds: Vec<KindRule>,
    /// How long one client process (or the JVM of one validation time) may run.
    pub timeout: Duration,
    /// The corpus scenarios it runs (`only_scenarios` of its `harness.toml` column); `None`: all.
    pub only_scenarios: Option<ScenarioLimit>,
    /// The real program's version line.
    pub version: String,
    /// `$OUT` of the handshake harness (the compiled Java client lives there).
    pub out_dir: PathBuf,
}

/// Handshakes in flight at once for one column: the processes mostly wait on each other
/// (server thread, client process), so more than the two cores pays.
const CONCURRENCY: usize = 4;

/// Chromium busies a core while it starts (several processes per run): one per core.
const CHROMIUM_CONCURRENCY: usize = 2;

impl HandshakeValidator {
    /// The verification-API column this one should agree with (see [`Client::api_column`]).
    pub fn api_pair(&self) -> Option<ApiPair> {
        self.client.api_column(&self.version).map(|api| ApiPair {
            handshake: self.client.column().to_string(),
            api: api.to_string(),
        })
    }

    /// The same column with another timeout per client process.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The verdict of a handshake with the server already listening on 127.0.0.1:`port`
    /// (instead of one serving `input`'s chain): for tests of faults, with a server that
    /// misbehaves. The skip rules still apply.
    pub fn validate_against(&self, input: &ValidationInput, port: u16) -> Verdict {
        match skip::host_or_skip(input, self.client.names()) {
            Err(reason) => Verdict::Skip { reason },
            Ok(host) => self.verdict(self.handshake(input, &host, port)),
        }
    }

    /// One case: start the server for its chain, then the client.
    fn validate_one(&self, input: &ValidationInput) -> Verdict {
        let host = match skip::host_or_skip(input, self.client.names()) {
            Ok(host) => host,
            Err(reason) => return Verdict::Skip { reason },
        };
        if let Some(limit) = &self.only_scenarios {
            if let Some(reason) = skip::outside_scenarios(input, limit) {
                return Verdict::Skip { reason };
            }
        }
        let server = match server::Server::start(input) {
            Ok(server) => server,
            Err(cannot) => {
                return Verdict::Skip {
                    reason: cannot.to_string(),
                }
            }
        };
        self.verdict(self.handshake(input, &host, server.port()))
    }

    fn handshake(&self, input: &ValidationInput, host: &Host, port: u16) -> Result<Answer, String> {
        let trust = TrustFiles::write(&input.trust_anchors)?;
        let case = ClientCase {
            host,
            port,
            trust: &trust,
            time: input.validation_time,
            timeout: self.timeout,
        };
        match self.client {
            Client::Openssl => openssl::handshake(&case),
            Client::Curl => curl::handshake(&case),
            Client::Gnutls => gnutls::handshake(&case),
            Client::Rustls => rustls_client::handshake(&case, &input.trust_anchors),
            Client::Java => java::handshake_one(self, &case),
            Client::Chromium => chromium::handshake(&case),
        }
    }

    /// The verdict of an answer: a rejection's kind from the client's table, its native text kept.
    fn verdict(&self, answer: Result<Answer, String>) -> Verdict {
        match answer {
            Ok(Answer::Accepted) => Verdict::Accept {
                chain_built: Vec::new(),
            },
            Ok(Answer::Rejected { native }) => Verdict::Reject {
                kind: map_kind(&self.reject_kinds, &native),
                detail: native,
            },
            Err(detail) => Verdict::Error { detail },
        }
    }
}

impl Validator for HandshakeValidator {
    fn name(&self) -> &str {
        self.client.column()
    }

    fn version(&self) -> String {
        self.version.clone()
    }

    fn profile(&self) -> String {
        "real TLS handshake on 127.0.0.1 against a rustls server serving the chain as given".into()
    }

    fn validate(&self, input: &ValidationInput) -> Verdict {
        self.validate_batch(std::slice::from_ref(input))
            .pop()
            .expect("one verdict per case")
    }

    fn validate_batch(&self, inputs: &[ValidationInput]) -> Vec<Verdict> {
        if self.client == Client::Java {
            return java::validate_batch(self, inputs);
        }
        let workers = match self.client {
            Client::Chromium => CHROMIUM_CONCURRENCY,
            _ => CONCURRENCY,
        };
        in_parallel(inputs, workers, |input| self.validate_one(input))
    }

    fn preferred_batch_size(&self) -> Option<usize> {
        // One batch for a corpus run: Java starts one JVM per validation time of a batch.
        Some(500)
    }
}

/// `work` on every input, `workers` at a time, verdicts in input order.
fn in_parallel(
    inputs: &[ValidationInput],
    workers: usize,
    work: impl Fn(&ValidationInput) -> Verdict + Sync,
) -> Vec<Verdict> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<Verdict>>> =
        inputs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers.min(inputs.len()) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(input) = inputs.get(index) else {
                    break;
                };
                let verdict = work(input);
                *slots[index].lock().unwrap_or_else(|e| e.into_inner()) = Some(verdict);
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| Verdict::Error {
                    detail: "no verdict: the worker stopped".into(),
                })
        })
        .collect()
}

/// What one client needs to run one case.
pub struct ClientCase<'a> {
    pub host: &'a Host,
    pub port: u16,
    pub trust: &'a TrustFiles,
    /// `None`: now.
    pub time: Option<SystemTime>,
    pub timeout: Duration,
}

impl ClientCase<'_> {
    /// The host name as the client's command line takes it.
    pub fn host_text(&self) -> String {
        self.host.text()
    }
}

/// The case's anchors as a PEM CA file, and an empty directory for clients that also want a CA
/// path, in a private temporary directory removed when this is dropped.
pub struct TrustFiles {
    dir: tempfile::TempDir,
}

impl TrustFiles {
    pub fn write(anchors: &[crate::CertDer]) -> Result<TrustFiles, String> {
        let dir = tempfile::Builder::new()
            .prefix("anchorsmith-handshake-")
            .tempdir()
            .map_err(|error| format!("cannot make a temporary directory: {error}"))?;
        let pem: String = anchors
            .iter()
            .map(|der| pem::encode(&pem::Pem::new("CERTIFICATE", der.clone())))
            .collect();
        std::fs::write(dir.path().join("ca.pem"), pem)
            .map_err(|error| format!("cannot write the CA file: {error}"))?;
        std::fs::create_dir(dir.path().join("empty"))
            .map_err(|error| format!("cannot make the empty CA path: {error}"))?;
        Ok(TrustFiles { dir })
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// An empty directory (so a client's default CA path adds nothing).
    pub fn empty_dir(&self) -> PathBuf {
        self.dir.path().join("empty")
    }
}

/// The last few lines of `text`, joined, for an error's detail.
pub(crate) fn tail(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    lines[lines.len().saturating_sub(3)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_has_its_column_and_back() {
        for client in Client::all() {
            assert_eq!(Client::of_column(client.column()), Some(client));
        }
        assert_eq!(Client::of_column("openssl"), None);
        assert_eq!(Client::Curl.column(), "handshake:curl");
        assert_eq!(Client::Chromium.column(), "handshake:chromium");
        assert_eq!(Client::Chromium.api_column("Chromium 148.0.7778.167"), None);
    }

    #[test]
    fn curl_pairs_with_openssl_only_when_built_on_it() {
        let openssl = "curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 OpenSSL/3.0.22 zlib/1.2.13";
        let gnutls = "curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 GnuTLS/3.7.9 zlib/1.2.13";
        assert_eq!(
            Client::Curl.api_column(openssl),
            Some("openssl-partial-chain")
        );
        assert_eq!(Client::Curl.api_column(gnutls), None);
        assert_eq!(
            Client::Gnutls.api_column("gnutls-cli 3.7.9"),
            Some("gnutls")
        );
    }
}
