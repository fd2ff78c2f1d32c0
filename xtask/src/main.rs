//! `cargo xtask <cmd>`: the anchorsmith command line.
//!
//! A thin dispatcher in the style of rust-analyzer's xtask: every flag of every command is
//! declared here, in one place; each command lives in its own module with a `//!` header and
//! calls into the library crates (`generator`, `validators`, `corpus`), where the logic is.
//!
//! Exit status: 0 success, 1 failure (including a stale `--check`), 2 bad input (malformed or
//! impossible topology, unknown names, unreadable files). Bad input that carries a
//! [`Diagnostic`] is printed as the diagnostic renders: file, line, column, field, and the source
//! line with a caret under the fault.

mod bench;
mod bundle;
mod corpus;
mod doctor;
mod doctor_batch;
mod fuzz;
mod gen;
mod limbo;
mod shared;
mod timeline;
mod validators;

use std::path::PathBuf;
use std::process::ExitCode;

use anchorsmith_corpus::CorpusError;
use anchorsmith_diagnostics::Diagnostic;
use anchorsmith_generator::TopologyError;
use anchorsmith_validators::suite::SuiteError;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "anchorsmith: a synthetic PKI generator, a validator conformance corpus, and trust bundles",
    long_about = "anchorsmith keeps TLS clients trusting their servers through certificate-authority \
changes.\n\nStart with `cargo xtask corpus`: it builds the corpus of real incidents \
(corpus/scenarios/), runs every case through every real validator, and writes a matrix, the \
differences and an HTML report to target/corpus/."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a deterministic PKI (PEM, DER, manifest.json) from a topology TOML file.
    ///
    /// The topology language is documented in generator/README.md. The same file and seed
    /// give the same bytes on every machine. Bad input exits 2 and writes nothing.
    #[command(
        after_help = "Example:\n  cargo xtask gen corpus/scenarios/root-expiry-long-short/topology.toml --out /tmp/pki"
    )]
    Gen(GenArgs),
    /// Build the corpus, run every case through every validator and every target, and report.
    ///
    /// Every case goes through every validator (the library matrix: where libraries differ from
    /// each other) and every target of corpus/targets/ that applies to it (a client population
    /// with its store, run by its real engine or by the client model with its quirks); the
    /// documented expectations are judged against the targets that claim their client. Writes
    /// results/<validator>.json (limbo results format), matrix.md, differences.md, report.html
    /// and timeline.md/timeline.svg (when each target's connection works) to --out, and prints
    /// a summary table (validators' outcomes, targets' scores); nothing else is written. The
    /// committed export (corpus/generated/) changes only with `--bless`; `--check` fails if it
    /// is stale.
    #[command(
        after_help = "Examples:\n  cargo xtask corpus\n  cargo xtask corpus --check\n  \
cargo xtask corpus --bless\n  \
cargo xtask corpus --validator-cmd go=/opt/limbo/harness/gocryptox509/harness"
    )]
    Corpus(CorpusArgs),
    /// Run an x509-limbo suite through every validator and count agreement per namespace.
    #[command(
        after_help = "Examples:\n  cargo xtask limbo --suite core\n  cargo xtask limbo --suite full\n  \
cargo xtask limbo --suite full --compare ../shared/limbo/results/rustls-webpki.json.gz"
    )]
    Limbo(LimboArgs),
    /// Benchmarks (always a release build; figures are ratios measured in the same run).
    Bench(BenchArgs),
    /// List every validator: available or not, its real version, and how to get it.
    ///
    /// The in-process validators (rustls-webpki, OpenSSL 3 profiles) are always there. The
    /// harnesses in validators/harnesses/ (NSS, GnuTLS, Go, Java, legacy OpenSSL through old
    /// Node.js builds, ...) are set up here on first use: Debian packages when running as root,
    /// PyPI and npm packages, then the build, all cached under target/harnesses/. `corpus` and
    /// `limbo` do the same set-up for the validators they run.
    #[command(
        after_help = "Examples:\n  cargo xtask validators\n  cargo xtask validators --no-setup"
    )]
    Validators(ValidatorsArgs),
    /// When does the connection work? Exact intervals of time per client, store and served chain.
    ///
    /// For each subject (a target of corpus/targets/ with one of the stores and caches it holds
    /// in the scenario, shown one of its served chains, validated by the target's engine) it
    /// collects every notBefore and notAfter of every certificate in play (served chain, store,
    /// cache, AIA repository), validates on each, a day either side and between them, and halves
    /// every range where two answers differ down to the exact second: exact, not sampled by
    /// days. Every change is proved by validating on the last second before it and the first
    /// second of it, and placed on the certificate boundary that explains it; a change on no
    /// boundary is reported as an engine quirk with its offset (NSS accepts a leaf a day early),
    /// and a proof that does not hold fails the command (exit 1, after the files are written).
    /// Before the latest notBefore of the chain a row is "not served": no server could send it.
    /// Writes timeline.md (the intervals with their dates and the proofs) and timeline.svg
    /// (green works, red fails, light grey not served, grey errored or skipped; incident dates
    /// marked) to --out.
    #[command(
        after_help = "Examples:\n  cargo xtask timeline --scenario root-expiry-long-short\n  \
cargo xtask timeline --scenario root-expiry-long-short --target android-pre-7.1.1 --target openssl-1.0.2-client --out /tmp/timeline\n\n\
Reading a row of timeline.md:\n  \
| openssl-1.0.2-client | long-chain | old-new | … → 2021-08-31 14:01:15 reject:not-yet-valid · 2021-08-31 14:01:15 → 2021-09-30 14:01:15 accept · … |\n  \
Intervals run from (inclusive) to (exclusive), UTC to the second: OpenSSL 1.0.2 follows the served \
long chain to DST Root CA X3 and stops working the second that root expires."
    )]
    Timeline(TimelineArgs),
    /// Build a device trust bundle: the fewest anchors that keep every endpoint working.
    ///
    /// Each endpoint's chain (as its server sends it, leaf first, or only the intermediates) is
    /// validated against each candidate anchor alone with the device's verifier (the client
    /// model) at every validity boundary from --now to the horizon (or to the chain's own
    /// expiry, whichever is first). The fewest anchors giving every endpoint
    /// --min-anchors-per-endpoint covering anchors are chosen (exactly for small instances,
    /// greedily otherwise; the method and a lower bound are reported). Writes bundle.pem,
    /// manifest.json, report.md and report.html to --out; with --diff OLD_MANIFEST also diff.md
    /// (anchors gained and lost per endpoint, coverage ending earlier or later). A leaf, a key or garbage offered as a candidate
    /// exits 2; an endpoint no candidate covers exits 1; both write nothing.
    #[command(
        after_help = "Example:\n  cargo xtask bundle --endpoint example.org=chain.pem \\\n    --endpoint api.example.org=../shared/fixtures/letsencrypt/r12.pem \\\n    --mozilla --candidates my-roots/ --device-verifier esp-idf --horizon 2040-01-01 --out /tmp/bundle"
    )]
    Bundle(BundleArgs),
    /// Diagnose a served chain offline: findings, one verdict per target, the chain to serve.
    ///
    /// Reads CHAIN.pem in the order the server sends it (leaf first), or captures the chain a
    /// server sends in a real TLS handshake (--connect HOST:PORT; the handshake is then aborted,
    /// nothing is trusted). The scenario is the corpus scenario whose PKI holds the leaf (or
    /// --scenario); its placed targets judge the chain, each with the trust stores (and caches)
    /// it holds there, run by its own engine (the client model with its quirks, or the real
    /// validator it names) at --at. When no scenario knows the leaf (a real server's chain),
    /// rustls-webpki and OpenSSL judge it against Mozilla's roots and the system store, and
    /// there is no fix. Findings have stable codes: incomplete-chain, wrong-name-same-key,
    /// wrong-order, duplicate-certificate, unrelated-certificate, root-included,
    /// cross-sign-expiring, leaf-expiring, leaf-expired. The fix is the scenario's candidate
    /// chain that most targets accept, as PEM, with the targets it wins and loses; when no
    /// candidate serves every target, a trade-off table (chains x targets), and with --out DIR
    /// the trade-off over time as DIR/tradeoff.svg.
    /// Exit status: 0 when some target accepts, every decided verdict (accept or reject)
    /// accepts and no engine failed (a skipped target decides nothing), 1 when some target
    /// rejects, an engine failed or nothing accepted, 2 on bad input (nothing printed on
    /// stdout, nothing written). --json prints one document
    /// (schema: doctor/doctor.schema.json).
    /// Many chains: --batch FILE.jsonl judges a JSON Lines file of chains with the client-model
    /// targets and writes one compact result per line (both formats: doctor/batch.schema.json)
    /// to stdout or to --results FILE.jsonl; exit 1 when some chain is not all good. CHAIN,
    /// --connect and --batch are the three inputs: give exactly one.
    #[command(
        after_help = "Examples:\n  cargo xtask doctor chain.pem --at 2021-10-01\n  cargo xtask doctor chain.pem --at 2021-10-01 --out doctor-out\n  \
cargo xtask doctor --connect 127.0.0.1:8443 --servername example.test\n  \
cargo xtask doctor --batch chains.jsonl --results results.jsonl"
    )]
    Doctor(DoctorArgs),
    /// Fuzz the parsers and the bundle encoders (fuzz/) with libFuzzer through cargo-fuzz.
    ///
    /// Seeds each target from the corpus and the limbo suite, runs each for `--seconds`, and
    /// prints per target the executions, exec/s, corpus size and crashes. A crashing input is
    /// written to fuzz/artifacts/<target>/; exit 1 if any target crashed or hung.
    #[command(after_help = "Example:\n  cargo xtask fuzz --seconds 600 --target chain")]
    Fuzz(FuzzArgs),
}

#[derive(clap::Args)]
pub struct FuzzArgs {
    /// Seconds to fuzz each target.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub seconds: u64,
    /// Only this target (repeatable); default: every target.
    #[arg(long = "target", value_name = "NAME", value_enum)]
    pub targets: Vec<fuzz::FuzzTarget>,
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).multiple(false)))]
pub struct DoctorArgs {
    #[command(flatten)]
    pub corpus: CorpusDirArg,
    /// The chain as the server sends it: PEM certificates, leaf first.
    #[arg(group = "input")]
    pub chain: Option<PathBuf>,
    /// Capture the chain from a real TLS handshake with HOST:PORT instead of reading a file.
    #[arg(long, value_name = "HOST:PORT", group = "input")]
    pub connect: Option<String>,
    /// With --connect, the server name sent (SNI); default the host. Without a scenario, also
    /// the name the verdicts expect (default the leaf's first DNS name).
    #[arg(long, conflicts_with = "batch")]
    pub servername: Option<String>,
    /// With --connect, seconds to wait for the connection and for each handshake read.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub connect_timeout: f64,
    /// The corpus scenario whose targets, trust stores and candidate chains judge it (default:
    /// the scenario whose PKI holds the leaf; with --batch: the scenario of lines that name
    /// none, else inferred per line).
    #[arg(long)]
    pub scenario: Option<String>,
    /// Write the trade-off picture (DIR/tradeoff.svg) when no single chain serves every target.
    /// Not with --batch (its result lines go to --results).
    #[arg(long, value_name = "DIR", conflicts_with = "batch")]
    pub out: Option<PathBuf>,
    /// Validation time: a date (2021-10-01) or an RFC 3339 instant; default now.
    #[arg(long)]
    pub at: Option<String>,
    /// Targets to judge, comma-separated (default: every target placed in the scenario).
    #[arg(long, value_delimiter = ',')]
    pub targets: Vec<String>,
    /// Print one JSON document (schema: doctor/doctor.schema.json) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Many chains: a JSON Lines file, one `{"id", "chain", "at"?, "scenario"?}` per line; one
    /// compact result per line, in input order (both formats: doctor/batch.schema.json). Judged
    /// by the client-model targets only, unless --real; a chain no scenario knows, by the real
    /// validators against the real stores, as a single chain.
    #[arg(
        long,
        value_name = "FILE.jsonl",
        group = "input",
        conflicts_with = "json"
    )]
    pub batch: Option<PathBuf>,
    /// Only with --batch: write the result lines to this file (atomically) instead of stdout
    /// (the single-chain doctor writes its trade-off picture to --out DIR instead).
    #[arg(long, value_name = "FILE.jsonl", conflicts_with_all = ["chain", "connect"])]
    pub results: Option<PathBuf>,
    /// Only with --batch: also judge with targets whose engine is a real validator (slow).
    #[arg(long, conflicts_with_all = ["chain", "connect"])]
    pub real: bool,
}

#[derive(clap::Args)]
pub struct GenArgs {
    /// The topology TOML file.
    pub topology: PathBuf,
    /// Output directory; created whole (via a temporary directory and a rename) or not at all.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write each certificate's private key as <id>.key.pem (PKCS#8, mode 0600).
    #[arg(long)]
    pub emit_keys: bool,
    /// Override the topology's seed (keys derive from the seed and the key label).
    #[arg(long)]
    pub seed: Option<String>,
    /// Replace an existing --out directory.
    #[arg(long)]
    pub force: bool,
}

#[derive(clap::Args)]
pub struct CorpusArgs {
    #[command(flatten)]
    pub corpus: CorpusDirArg,
    /// Regenerate corpus/generated/ in memory and fail (exit 1) if the committed files differ,
    /// and check corpus/questions.toml; runs no validator. `cargo test` checks the same.
    #[arg(long)]
    pub check: bool,
    /// Rewrite the committed export (corpus/generated/) from the scenarios, without running
    /// validators; the only way that directory changes. Review and commit the result.
    #[arg(long, conflicts_with = "check")]
    pub bless: bool,
    /// Report directory (a relative path is taken from the project root); the only place a plain
    /// run writes.
    #[arg(long, default_value = "target/corpus")]
    pub out: PathBuf,
    /// Add an external validator speaking the x509-limbo harness protocol: NAME=COMMAND. The
    /// command reads limbo testcase JSON on stdin and writes limbo results JSON on stdout. It
    /// runs in an empty temporary directory with a minimal environment (PATH, HOME, locale, TZ):
    /// name its programs and files by absolute path.
    #[arg(long = "validator-cmd", value_name = "NAME=COMMAND")]
    pub validator_cmd: Vec<String>,
    /// Only run cases whose id contains this text.
    #[arg(long)]
    pub filter: Option<String>,
    /// Per-case timeout in seconds; a validator that takes longer is recorded as an error.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
}

#[derive(Clone, Debug, ValueEnum)]
pub enum BenchTarget {
    /// Certificates per second for 1,000 certificates with cached keys, beside `openssl speed rsa2048`.
    Gen,
    /// Validations per second per in-process validator, on the corpus and the full limbo suite.
    Validate,
    /// Wall time of a warm corpus run (keys cached, harnesses built), per validator and for all
    /// of them together.
    Corpus,
    /// Our rustls-webpki adapter beside x509-limbo's own rustls-webpki harness (built here from
    /// shared/limbo/harness/), both as whole processes on the full suite: wall and CPU time.
    Limbo,
    /// Coverage and selection of the trust-bundle builder for 1,000 synthetic endpoints against
    /// the Mozilla store plus test roots, beside `openssl speed ecdsap256` (target: under 1 s).
    Bundle,
    /// The chain doctor's batch engine: chains per second on --chains synthetic served chains
    /// against the client-model targets, signature checks asked vs performed (the shared cache),
    /// beside `openssl speed ecdsap256` (target: 5,000 chains/s on 2 cores).
    Doctor,
}

#[derive(clap::Args)]
pub struct LimboArgs {
    /// `core` (208 cases), `full` (9,780 cases, gzipped) or the path of a limbo JSON file (.json or .json.gz).
    #[arg(long, default_value = "core")]
    pub suite: String,
    /// Output directory for results/<validator>.json and differences.md (a relative path is
    /// taken from the project root).
    #[arg(long, default_value = "target/limbo")]
    pub out: PathBuf,
    /// Compare our results with other harnesses' limbo results files (.json or .json.gz).
    #[arg(long, num_args = 1..)]
    pub compare: Vec<PathBuf>,
    /// Add an external validator: NAME=COMMAND (limbo JSON on stdin, results JSON on stdout),
    /// run in an empty temporary directory with a minimal environment: use absolute paths.
    #[arg(long = "validator-cmd", value_name = "NAME=COMMAND")]
    pub validator_cmd: Vec<String>,
    /// Only run these validators (by name); default: all available.
    #[arg(long = "validator", value_name = "NAME")]
    pub validators: Vec<String>,
    /// Per-case timeout in seconds; a validator that takes longer is recorded as an error.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
}

/// The corpus a command reads: declared once, for `corpus`, `timeline` and `doctor`.
#[derive(clap::Args)]
pub struct CorpusDirArg {
    /// The corpus directory: clients.toml, targets/, scenarios/<name>/{topology,scenario}.toml
    /// and questions.toml; default: the project's corpus/. To run scenarios of your own, copy
    /// corpus/ and edit the copy; their quotes are checked against the project's seeds
    /// (../shared/seeds).
    #[arg(long = "corpus", value_name = "DIR")]
    pub corpus: Option<PathBuf>,
}

impl CorpusDirArg {
    /// The directory given (an input: a relative path is taken from where the command runs),
    /// else the project's `corpus/`.
    pub fn dir(&self) -> PathBuf {
        self.corpus
            .clone()
            .unwrap_or_else(|| project_root().join("corpus"))
    }
}

#[derive(clap::Args)]
pub struct TimelineArgs {
    #[command(flatten)]
    pub corpus: CorpusDirArg,
    /// Only this scenario (repeatable); default: every scenario.
    #[arg(long = "scenario", value_name = "SCENARIO")]
    pub scenarios: Vec<String>,
    /// Only this target (repeatable): a file stem of corpus/targets/, e.g. android-pre-7.1.1;
    /// default: every target placed in the chosen scenarios.
    #[arg(long = "target", value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Output directory for timeline.md and timeline.svg (a relative path is taken from the
    /// project root).
    #[arg(long, default_value = "target/timeline")]
    pub out: PathBuf,
    /// Per-validation timeout in seconds; a validator that takes longer is recorded as an error.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
}

#[derive(clap::Args)]
pub struct BundleArgs {
    /// An endpoint: its host name and a PEM file with the chain its server sends, leaf first
    /// (or only the intermediates when no leaf is at hand). Repeatable.
    #[arg(
        long = "endpoint",
        value_name = "HOST=PATH.pem",
        required_unless_present = "endpoint_dirs"
    )]
    pub endpoints: Vec<String>,
    /// A directory of endpoint chains, one *.pem or *.crt file per host, named HOST.pem.
    /// Repeatable.
    #[arg(long = "endpoint-dir", value_name = "DIR")]
    pub endpoint_dirs: Vec<PathBuf>,
    /// A directory of candidate anchors (*.pem, *.crt): CA certificates only. Repeatable.
    #[arg(long = "candidates", value_name = "DIR")]
    pub candidates: Vec<PathBuf>,
    /// Add the Mozilla root store compiled in (webpki-root-certs) to the candidates.
    #[arg(long)]
    pub mozilla: bool,
    /// Add the operating system's trust store to the candidates (honours SSL_CERT_FILE and
    /// SSL_CERT_DIR). Its unparsable entries and leaves are skipped and counted in the manifest.
    #[arg(long)]
    pub system_store: bool,
    /// Mozilla's NSS certdata.txt: its certificates become candidates, with their trust for
    /// TLS servers and their distrust-after dates. Repeatable.
    #[arg(long = "certdata", value_name = "FILE")]
    pub certdata: Vec<PathBuf>,
    /// A TOML file of trust metadata for the candidates: `source = "..."` and `[[anchor]]`
    /// entries with `sha256`, `trust` (trusted, distrusted), `distrust-after` (a date or an
    /// RFC 3339 instant) and `note`. Repeatable.
    #[arg(long = "trust-metadata", value_name = "FILE.toml")]
    pub trust_metadata: Vec<PathBuf>,
    /// The key types the device can check signatures with, comma-separated: rsa, ecdsa-p256,
    /// ecdsa-p384, ecdsa-p521, ed25519, ed448. Default: all.
    #[arg(long = "key-types", value_name = "LIST", value_delimiter = ',', value_parser = parse_key_type)]
    pub key_types: Vec<anchorsmith_bundle::policy::KeyType>,
    /// The shortest RSA key (modulus bits) the device accepts.
    #[arg(long, value_name = "BITS")]
    pub min_rsa_bits: Option<usize>,
    /// A directory of known cross-signs (*.pem, *.crt: CA certificates only) that servers may
    /// not send. full-path-building and partial-chain may build a path through them, if the
    /// firmware ships them; the report says where it must. Chain-as-sent verifiers cannot use
    /// them. Repeatable.
    #[arg(long = "cross-signs", value_name = "DIR")]
    pub cross_signs: Vec<PathBuf>,
    /// The device's verifier: full-path-building, partial-chain, esp-idf (only the issuer of
    /// the topmost certificate sent is looked up), esp-idf-cross-signed (ESP-IDF with
    /// CONFIG_MBEDTLS_CERTIFICATE_BUNDLE_CROSS_SIGNED_VERIFY: the issuer of every certificate
    /// sent), bearssl or mbedtls (the chain as sent; an endpoint with a leaf is proved with the real library).
    #[arg(long, default_value = "full-path-building", value_parser = parse_verifier)]
    pub device_verifier: anchorsmith_bundle::coverage::DeviceVerifier,
    /// The first moment checked: a date (2026-01-01) or an RFC 3339 instant; default: now.
    #[arg(long)]
    pub now: Option<String>,
    /// The device must keep working until then: a date or an RFC 3339 instant.
    #[arg(long)]
    pub horizon: String,
    /// Covering anchors wanted per endpoint, so each has a backup path.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    pub min_anchors_per_endpoint: u64,
    /// The most bytes the bundle (PEM) may take; above it, a lint.
    #[arg(long)]
    pub max_bytes: Option<usize>,
    /// Output formats, comma-separated or repeated: pem, der, c-header, esp-idf, esp-idf-legacy,
    /// bearssl-ta, rust. manifest.json and report.md are always written.
    #[arg(long = "format", value_delimiter = ',', default_value = "pem", value_parser = parse_format)]
    pub formats: Vec<anchorsmith_bundle::encode::Format>,
    /// A previous manifest.json: write diff.md (and print it), per endpoint the anchors gained
    /// or lost and whether coverage ends earlier or later.
    #[arg(long, value_name = "OLD_MANIFEST")]
    pub diff: Option<PathBuf>,
    /// Output directory for bundle.pem, manifest.json, report.md and report.html: replaced as a
    /// whole (no file of an earlier run stays), so it must be new, empty or a previous bundle.
    #[arg(long)]
    pub out: PathBuf,
}

fn parse_format(text: &str) -> Result<anchorsmith_bundle::encode::Format, String> {
    use anchorsmith_bundle::encode::Format;
    Format::from_cli_name(text).ok_or_else(|| {
        let names: Vec<&str> = Format::ALL.iter().map(|format| format.cli_name()).collect();
        format!("unknown format `{text}`; one of: {}", names.join(", "))
    })
}

fn parse_key_type(text: &str) -> Result<anchorsmith_bundle::policy::KeyType, String> {
    use strum::VariantNames;
    text.parse().map_err(|_| {
        format!(
            "unknown key type `{text}`; one of: {}",
            anchorsmith_bundle::policy::KeyType::VARIANTS.join(", ")
        )
    })
}

fn parse_verifier(text: &str) -> Result<anchorsmith_bundle::coverage::DeviceVerifier, String> {
    use strum::VariantNames;
    text.parse().map_err(|_| {
        format!(
            "unknown device verifier `{text}`; one of: {}",
            anchorsmith_bundle::coverage::DeviceVerifier::VARIANTS.join(", ")
        )
    })
}

#[derive(clap::Args)]
pub struct ValidatorsArgs {
    /// Only report what is already set up; install and build nothing.
    #[arg(long)]
    pub no_setup: bool,
}

#[derive(clap::Args)]
pub struct BenchArgs {
    /// What to measure.
    #[arg(value_enum)]
    pub target: BenchTarget,
    /// `limbo`: how many paired runs (theirs and ours) the medians are taken over.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub runs: u64,
    /// `limbo`: run both programs at real-time priority (`chrt --fifo`, needs root), so that other
    /// load on a shared machine does not skew wall times. Other processes wait meanwhile.
    #[arg(long)]
    pub realtime: bool,
    /// `doctor`: how many synthetic served chains to judge.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub chains: u64,
}

/// An error caused by the user's input (exit status 2), as opposed to a failure of ours (1).
#[derive(Debug)]
pub struct BadInput(pub anyhow::Error);

impl BadInput {
    /// The located diagnostic this input error carries, whichever library error holds it.
    fn diagnostic(&self) -> Option<&Diagnostic> {
        self.0.chain().find_map(|cause| {
            if let Some(diagnostic) = cause.downcast_ref::<Diagnostic>() {
                return Some(diagnostic);
            }
            if let Some(TopologyError::Invalid(diagnostic)) = cause.downcast_ref() {
                return Some(diagnostic);
            }
            if let Some(SuiteError::Invalid(diagnostic)) = cause.downcast_ref() {
                return Some(diagnostic);
            }
            cause
                .downcast_ref::<CorpusError>()
                .and_then(CorpusError::diagnostic)
        })
    }
}

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for BadInput {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Gen(args) => gen::run(args),
        Command::Corpus(args) => corpus::run(args),
        Command::Limbo(args) => limbo::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Validators(args) => validators::run(args),
        Command::Timeline(args) => timeline::run(args),
        Command::Bundle(args) => bundle::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Fuzz(args) => fuzz::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // A located diagnostic renders its own `error[code]:` title, file:line:column, the
            // source line and a caret under the fault.
            match error
                .downcast_ref::<BadInput>()
                .and_then(BadInput::diagnostic)
            {
                Some(diagnostic) => eprintln!("{diagnostic}"),
                None => eprintln!("error: {error:#}"),
            }
            if error.downcast_ref::<BadInput>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// A relative report path is taken from the project root, like `target/`, so the reports land
/// where README.md says whichever directory `cargo xtask` was started from.
pub fn resolve_from_root(path: &std::path::Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        project_root().join(path)
    }
}

/// The workspace root, so commands work from any directory (`cargo xtask` runs from anywhere).
pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}
