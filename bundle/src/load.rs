//! Loading the builder's inputs: endpoint chains and candidate anchors from PEM files, and the
//! Mozilla store embedded at build time. Every refusal is a located [`Diagnostic`] pointing at
//! the PEM block's `-----BEGIN` line, so a key or a leaf offered as an anchor is named where it is.

use std::ops::Range;
use std::path::{Path, PathBuf};

use anchorsmith_diagnostics::{Code, Diagnostic};
use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, X509Certificate};

/// One endpoint: a host and the chain its server sends, in the order sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub file: PathBuf,
    /// DER, as sent: the leaf first when there is one, then the intermediates.
    pub chain: Vec<Vec<u8>>,
    /// Whether the first certificate is an end entity. Without one, the lowest intermediate
    /// stands in for it (see [`crate::coverage`]).
    pub has_leaf: bool,
}

/// Where a candidate anchor came from, recorded in the manifest.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CandidateSource {
    /// The Mozilla store compiled in through the `webpki-root-certs` crate, at this version.
    Mozilla { crate_version: String },
    /// A directory of PEM files, with the SHA-256 of its files' names and contents.
    Directory { path: PathBuf, sha256: String },
    /// Mozilla's NSS `certdata.txt` (`--certdata`): the SHA-256 of the file, the certificates
    /// kept as candidates, and those skipped (not usable as anchors).
    Certdata {
        path: PathBuf,
        sha256: String,
        count: usize,
        skipped: usize,
    },
    /// The operating system's store (through `rustls-native-certs`, which honours
    /// `SSL_CERT_FILE` and `SSL_CERT_DIR`): the anchors kept, the SHA-256 over their sorted DERs,
    /// and what was skipped (unparsable entries and leaves: the store is not the user's input,
    /// so they are counted, not refused) or could not be read.
    System {
        count: usize,
        sha256: String,
        skipped: usize,
        unreadable: Vec<String>,
    },
}

/// One candidate anchor: a CA certificate, never a leaf or a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub der: Vec<u8>,
    /// `file:line` of its PEM block, or `mozilla`.
    pub origin: String,
}

/// One PEM block of a file: its label, the bytes of the whole block, and the decoded contents.
struct Block {
    label: String,
    span: Range<usize>,
    contents: Result<Vec<u8>, String>,
}

/// Every `-----BEGIN …-----` … `-----END …-----` block of `source`, with its byte span.
fn blocks(source: &str) -> Vec<Block> {
    let mut found = Vec::new();
    let mut rest = 0;
    while let Some(start) = source[rest..].find("-----BEGIN ").map(|at| rest + at) {
        let label_start = start + "-----BEGIN ".len();
        let label_end = source[label_start..]
            .find("-----")
            .map_or(source.len(), |at| label_start + at);
        let label = source[label_start..label_end].to_string();
        let end_marker = format!("-----END {label}-----");
        let end = source[label_end..]
            .find(&end_marker)
            .map_or(source.len(), |at| label_end + at + end_marker.len());
        let contents = pem::parse(&source[start..end])
            .map(|block| block.into_contents())
            .map_err(|error| error.to_string());
        found.push(Block {
            label,
            span: start..end,
            contents,
        });
        rest = end.max(start + 1);
    }
    found
}

pub fn read(file: &Path) -> Result<String, Diagnostic> {
    std::fs::read_to_string(file).map_err(|error| {
        Diagnostic::whole_file(Code::Syntax, file, format!("cannot read the file: {error}"))
    })
}

/// The span of a block's first line, where a diagnostic points.
fn first_line(source: &str, span: &Range<usize>) -> Range<usize> {
    let end = source[span.start..]
        .find('\n')
        .map_or(span.end, |at| span.start + at);
    span.start..end
}

/// A certificate's DER and the bytes of its PEM block in the file.
pub type Located = (Vec<u8>, Range<usize>);

/// The certificates of one PEM file, each checked to be a well-formed certificate.
pub fn certificates(file: &Path, source: &str) -> Result<Vec<Located>, Diagnostic> {
    let found = blocks(source);
    if found.is_empty() {
        return Err(Diagnostic::whole_file(
            Code::Syntax,
            file,
            "no PEM block: expected `-----BEGIN CERTIFICATE-----`",
        ));
    }
    found
        .into_iter()
        .map(|block| {
            let at = first_line(source, &block.span);
            if block.label.contains("PRIVATE KEY") {
                return Err(Diagnostic::at(
                    Code::Encoding,
                    file,
                    source,
                    at,
                    format!("a private key ({}) is not a certificate", block.label),
                )
                .help("remove the key: a key must never reach a trust bundle"));
            }
            if block.label != "CERTIFICATE" {
                return Err(Diagnostic::at(
                    Code::Encoding,
                    file,
                    source,
                    at,
                    format!("a `{}` block is not a certificate", block.label),
                ));
            }
            let der = block.contents.map_err(|error| {
                Diagnostic::at(
                    Code::Encoding,
                    file,
                    source,
                    at.clone(),
                    format!("not valid PEM: {error}"),
                )
            })?;
            match X509Certificate::from_der(&der) {
                Err(error) => {
                    return Err(Diagnostic::at(
                        Code::Encoding,
                        file,
                        source,
                        at,
                        format!("not an X.509 certificate: {error}"),
                    ));
                }
                // Bytes after the certificate would be carried into bundle.pem unseen, and
                // other parsers (the device's) may reject the block: refuse them here.
                Ok((rest, _)) if !rest.is_empty() => {
                    return Err(Diagnostic::at(
                        Code::Encoding,
                        file,
                        source,
                        at,
                        format!("{} byte(s) after the end of the certificate", rest.len()),
                    )
                    .help("the block was damaged or concatenated: copy the certificate again"));
                }
                Ok(_) => {}
            }
            Ok((der, block.span))
        })
        .collect()
}

/// Whether `der` is a CA certificate (basicConstraints cA).
pub fn is_ca(der: &[u8]) -> bool {
    X509Certificate::from_der(der)
        .ok()
        .and_then(|(_, cert)| {
            cert.basic_constraints()
                .ok()
                .flatten()
                .map(|bc| bc.value.ca)
        })
        .unwrap_or(false)
}

/// Whether `der` can be a trust anchor: a CA certificate, or a self-signed version-1
/// certificate (old roots predate basicConstraints, and verifiers accept them as anchors).
pub fn can_anchor(der: &[u8]) -> bool {
    is_ca(der)
        || X509Certificate::from_der(der).is_ok_and(|(_, cert)| {
            cert.version() == x509_parser::x509::X509Version::V1
                && cert.subject().as_raw() == cert.issuer().as_raw()
        })
}

/// Parses `host=path.pem`.
pub fn parse_endpoint_spec(spec: &str) -> Result<(String, PathBuf), String> {
    match spec.split_once('=') {
        Some((host, path)) if !host.is_empty() && !path.is_empty() => {
            Ok((host.to_string(), PathBuf::from(path)))
        }
        _ => Err(format!("`{spec}` is not HOST=PATH.pem")),
    }
}

/// An endpoint's chain as its server sends it. Only certificates; a CA first means no leaf.
pub fn load_endpoint(host: &str, file: &Path) -> Result<Endpoint, Diagnostic> {
    let source = read(file)?;
    let certs = certificates(file, &source)?;
    for (der, span) in certs.iter().skip(1) {
        if !is_ca(der) {
            return Err(Diagnostic::at(
                Code::InvalidValue,
                file,
                &source,
                first_line(&source, span),
                "a leaf after the first certificate: a server sends its leaf first",
            ));
        }
    }
    let has_leaf = !is_ca(&certs[0].0);
    Ok(Endpoint {
        host: host.to_string(),
        file: file.to_path_buf(),
        chain: certs.into_iter().map(|(der, _)| der).collect(),
        has_leaf,
    })
}

/// The candidates of one PEM file: each block must be a CA certificate. A self-signed
/// version-1 certificate is refused here too: it may be an old root, but just as well a
/// self-signed server certificate (`openssl x509 -req -signkey` makes one), and nothing in it
/// tells them apart. The system store and certdata.txt, curated stores, accept old roots
/// ([`can_anchor`]).
pub fn load_candidate_file(file: &Path) -> Result<Vec<Candidate>, Diagnostic> {
    let source = read(file)?;
    certificates(file, &source)?
        .into_iter()
        .map(|(der, span)| {
            let at = first_line(&source, &span);
            if !is_ca(&der) {
                let help = if can_anchor(&der) {
                    "a version-1 certificate has no basicConstraints to say it is a CA: if it is \
                     an old root, take it from a curated store (--system-store, --certdata)"
                } else {
                    "offer the CA that issued it instead"
                };
                return Err(Diagnostic::at(
                    Code::InvalidValue,
                    file,
                    &source,
                    at,
                    "a leaf (not a CA certificate) cannot be a trust anchor",
                )
                .help(help));
            }
            let (line, _) = anchorsmith_diagnostics::line_column(&source, span.start);
            Ok(Candidate {
                der,
                origin: format!("{}:{line}", file.display()),
            })
        })
        .collect()
}

/// The `*.pem`/`*.crt` files of `dir`, sorted by name.
fn pem_files(dir: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    let entries = std::fs::read_dir(dir).map_err(|error| {
        Diagnostic::whole_file(
            Code::Syntax,
            dir,
            format!("cannot read the directory: {error}"),
        )
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.is_file()
                && matches!(
                    path.extension().and_then(|ext| ext.to_str()),
                    Some("pem" | "crt")
                )
        })
        .collect();
    files.sort();
    Ok(files)
}

/// One endpoint per `*.pem`/`*.crt` file of `dir`, named by the file's stem
/// (`api.example.org.pem` is the host `api.example.org`).
pub fn load_endpoint_dir(dir: &Path) -> Result<Vec<Endpoint>, Diagnostic> {
    pem_files(dir)?
        .iter()
        .map(|file| {
            let host = file
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default();
            load_endpoint(&host, file)
        })
        .collect()
}

/// Every `*.pem`/`*.crt` file of `dir` (sorted by name), and the directory's hash.
pub fn load_candidate_dir(dir: &Path) -> Result<(Vec<Candidate>, CandidateSource), Diagnostic> {
    let files = pem_files(dir)?;
    let mut hasher = Sha256::new();
    let mut candidates = Vec::new();
    for file in &files {
        hasher.update(file.file_name().unwrap_or_default().as_encoded_bytes());
        hasher.update(std::fs::read(file).unwrap_or_default());
        candidates.extend(load_candidate_file(file)?);
    }
    Ok((
        candidates,
        CandidateSource::Directory {
            path: dir.to_path_buf(),
            sha256: hex::encode(hasher.finalize()),
        },
    ))
}

/// The version of `webpki-root-certs` compiled in; a test checks it against Cargo.lock, so a
/// dependency update that forgets it fails.
pub const MOZILLA_CRATE: &str = "webpki-root-certs 1.0.11";

/// The Mozilla root store compiled in through `webpki-root-certs`.
pub fn mozilla_candidates() -> (Vec<Candidate>, CandidateSource) {
    let candidates = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|der| Candidate {
            der: der.as_ref().to_vec(),
            origin: "mozilla".into(),
        })
        .collect();
    (
        candidates,
        CandidateSource::Mozilla {
            crate_version: MOZILLA_CRATE.into(),
        },
    )
}

/// The operating system's store as candidates; see [`CandidateSource::System`].
pub fn system_candidates() -> (Vec<Candidate>, CandidateSource) {
    let found = rustls_native_certs::load_native_certs();
    let total = found.certs.len();
    let mut ders: Vec<Vec<u8>> = found
        .certs
        .into_iter()
        .map(|der| der.as_ref().to_vec())
        .filter(|der| can_anchor(der))
        .collect();
    // Unparsable entries and leaves; duplicates are not skipped entries, only merged.
    let skipped = total - ders.len();
    ders.sort();
    ders.dedup();
    let mut hasher = Sha256::new();
    for der in &ders {
        hasher.update(der);
    }
    let source = CandidateSource::System {
        count: ders.len(),
        sha256: hex::encode(hasher.finalize()),
        skipped,
        unreadable: found.errors.iter().map(ToString::to_string).collect(),
    };
    let candidates = ders
        .into_iter()
        .map(|der| Candidate {
            der,
            origin: "system".into(),
        })
        .collect();
    (candidates, source)
}

/// Candidates without duplicates (the same DER from two sources is kept once, first origin).
pub fn dedup(candidates: Vec<Candidate>) -> Vec<Candidate> {
    let mut seen = std::collections::BTreeSet::new();
    candidates
        .into_iter()
        .filter(|candidate| seen.insert(candidate.der.clone()))
        .collect()
}

/// A `--trust-metadata` file, as written (kebab-case, unknown fields refused).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct MetadataFile {
    /// Provenance, recorded in the manifest.
    source: String,
    #[serde(default, rename = "anchor")]
    anchors: Vec<MetadataEntry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct MetadataEntry {
    sha256: toml::Spanned<Fingerprint>,
    #[serde(default)]
    trust: crate::policy::Trust,
    distrust_after: Option<Instant>,
    note: Option<String>,
}

/// A SHA-256 fingerprint: 64 hex digits, colons between bytes allowed, any case.
#[derive(serde::Deserialize)]
#[serde(try_from = "String")]
struct Fingerprint {
    hex: String,
}

impl TryFrom<String> for Fingerprint {
    type Error = String;

    fn try_from(text: String) -> Result<Fingerprint, String> {
        let hex: String = text.chars().filter(|&c| c != ':').collect();
        if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            Ok(Fingerprint {
                hex: hex.to_ascii_lowercase(),
            })
        } else {
            Err(format!(
                "`{text}` is not a SHA-256 fingerprint (64 hex digits of the certificate DER)"
            ))
        }
    }
}

/// A date (midnight UTC) or an RFC 3339 instant, as a string.
#[derive(serde::Deserialize)]
#[serde(try_from = "String")]
struct Instant {
    at: time::OffsetDateTime,
}

impl TryFrom<String> for Instant {
    type Error = String;

    fn try_from(text: String) -> Result<Instant, String> {
        crate::build::parse_instant(&text).map(|at| Instant { at })
    }
}

/// The SHA-256 of `bytes`, lowercase hex.
/// The SHA-256 of `bytes` in lowercase hex: a certificate's fingerprint, a file's hash.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Parses a `--trust-metadata` file (see bundle/README.md). Errors are located: a bad
/// fingerprint, date or trust value at its field, a fingerprint given twice at its second use.
pub fn parse_trust_metadata(
    file: &Path,
    source: &str,
) -> Result<crate::policy::TrustMetadata, Diagnostic> {
    let parsed: MetadataFile = anchorsmith_diagnostics::parse_toml(file, source)?;
    let mut seen = std::collections::BTreeSet::new();
    let mut anchors = Vec::new();
    for (index, entry) in parsed.anchors.into_iter().enumerate() {
        let span = entry.sha256.span();
        let sha256 = entry.sha256.into_inner().hex;
        if !seen.insert(sha256.clone()) {
            return Err(Diagnostic::at(
                Code::Duplicate,
                file,
                source,
                span,
                format!("the certificate {sha256} has a second entry"),
            )
            .field(format!("anchor[{index}].sha256"))
            .help("give each certificate one [[anchor]] entry"));
        }
        anchors.push(crate::policy::AnchorTrust {
            sha256,
            trust: entry.trust,
            distrust_after: entry.distrust_after.map(|instant| instant.at),
            note: entry.note,
        });
    }
    Ok(crate::policy::TrustMetadata {
        file: file.to_path_buf(),
        file_sha256: sha256_hex(source.as_bytes()),
        source: parsed.source,
        anchors,
    })
}

/// Reads and parses a `--trust-metadata` file.
pub fn load_trust_metadata(file: &Path) -> Result<crate::policy::TrustMetadata, Diagnostic> {
    parse_trust_metadata(file, &read(file)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_found_with_their_spans_and_labels() {
        let text = "junk\n-----BEGIN X-----\nAAAA\n-----END X-----\n-----BEGIN PRIVATE KEY-----\n";
        let found = blocks(text);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].label, "X");
        assert_eq!(
            &text[found[0].span.clone()],
            "-----BEGIN X-----\nAAAA\n-----END X-----"
        );
        assert_eq!(found[0].contents.as_deref(), Ok(&[0u8, 0, 0][..]));
        // An unterminated block runs to the end of the file and does not decode.
        assert_eq!(found[1].label, "PRIVATE KEY");
        assert!(found[1].contents.is_err());
        assert_eq!(
            first_line(text, &found[1].span),
            found[1].span.start..text.len() - 1
        );
    }
}
