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

fn read(file: &Path) -> Result<String, Diagnostic> {
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
type Located = (Vec<u8>, Range<usize>);

/// The certificates of one PEM file, each checked to be a well-formed certificate.
fn certificates(file: &Path, source: &str) -> Result<Vec<Located>, Diagnostic> {
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
            if let Err(error) = X509Certificate::from_der(&der) {
                return Err(Diagnostic::at(
                    Code::Encoding,
                    file,
                    source,
                    at,
                    format!("not an X.509 certificate: {error}"),
                ));
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

/// The candidates of one PEM file: each block must be a CA certificate.
pub fn load_candidate_file(file: &Path) -> Result<Vec<Candidate>, Diagnostic> {
    let source = read(file)?;
    certificates(file, &source)?
        .into_iter()
        .map(|(der, span)| {
            let at = first_line(&source, &span);
            if !is_ca(&der) {
                return Err(Diagnostic::at(
                    Code::InvalidValue,
                    file,
                    &source,
                    at,
                    "a leaf (not a CA certificate) cannot be a trust anchor",
                )
                .help("offer the CA that issued it instead"));
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

/// Candidates without duplicates (the same DER from two sources is kept once, first origin).
pub fn dedup(candidates: Vec<Candidate>) -> Vec<Candidate> {
    let mut seen = std::collections::BTreeSet::new();
    candidates
        .into_iter()
        .filter(|candidate| seen.insert(candidate.der.clone()))
        .collect()
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
