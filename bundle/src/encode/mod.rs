//! The bundle's output formats: pure functions from the chosen anchors to bytes.
//!
//! Every function here is deterministic: the same anchors give the same bytes. Formats that a
//! device searches (ESP-IDF) are sorted as the device needs; the others keep the caller's order,
//! so the caller decides what a reader sees first.

mod bearssl;
mod c_header;
mod der;
mod esp_idf;
mod pem;
mod rust;
mod text;

pub use bearssl::bearssl_ta;
pub use c_header::c_header;
pub use der::der;
pub use esp_idf::{esp_idf, esp_idf_legacy};
pub use pem::pem;
pub use rust::rust;

use crate::Anchor;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Why an anchor cannot be written in a format.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncodeError {
    #[error("anchor {name:?} is not a parsable X.509 certificate: {reason}")]
    Unparsable { name: String, reason: String },
    #[error(
        "anchor {name:?}: its {field} is {len} bytes, more than the {format} format can hold ({max})"
    )]
    TooLarge {
        name: String,
        format: Format,
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("anchor {name:?}: BearSSL trust anchors hold RSA keys and EC keys on P-256, P-384 or P-521, not {key}")]
    UnsupportedKey { name: String, key: String },
    #[error("the {format} format cannot hold an empty bundle (the device refuses it)")]
    Empty { format: Format },
}

/// An output format of `cargo xtask bundle --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Pem,
    Der,
    CHeader,
    EspIdf,
    EspIdfLegacy,
    BearsslTa,
    Rust,
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::Pem,
        Format::Der,
        Format::CHeader,
        Format::EspIdf,
        Format::EspIdfLegacy,
        Format::BearsslTa,
        Format::Rust,
    ];

    /// The name on the command line (`--format c-header`).
    pub fn cli_name(self) -> &'static str {
        match self {
            Format::Pem => "pem",
            Format::Der => "der",
            Format::CHeader => "c-header",
            Format::EspIdf => "esp-idf",
            Format::EspIdfLegacy => "esp-idf-legacy",
            Format::BearsslTa => "bearssl-ta",
            Format::Rust => "rust",
        }
    }

    /// The file (or, for [`Format::Der`], directory) name the output is written under.
    pub fn output_name(self) -> &'static str {
        match self {
            Format::Pem => "bundle.pem",
            Format::Der => "der",
            Format::CHeader => "trust_anchors.h",
            Format::EspIdf => "x509_crt_bundle",
            Format::EspIdfLegacy => "x509_crt_bundle.legacy",
            Format::BearsslTa => "bearssl_ta.h",
            Format::Rust => "trust_anchors.rs",
        }
    }

    /// Parses a command-line name; `None` for an unknown one.
    pub fn from_cli_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.cli_name() == name)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.cli_name())
    }
}

/// What one format produces: one file, or a directory of files keyed by file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    File(Vec<u8>),
    Directory(BTreeMap<String, Vec<u8>>),
}

impl Output {
    /// The byte size of the output (for a directory, the sum of its files).
    pub fn byte_size(&self) -> usize {
        match self {
            Output::File(bytes) => bytes.len(),
            Output::Directory(files) => files.values().map(Vec::len).sum(),
        }
    }
}

/// Encodes `anchors` in `format`.
pub fn encode(format: Format, anchors: &[Anchor]) -> Result<Output, EncodeError> {
    Ok(match format {
        Format::Pem => Output::File(pem(anchors).into_bytes()),
        Format::Der => Output::Directory(der(anchors)),
        Format::CHeader => Output::File(c_header(anchors)?.into_bytes()),
        Format::EspIdf => Output::File(esp_idf(anchors)?),
        Format::EspIdfLegacy => Output::File(esp_idf_legacy(anchors)?),
        Format::BearsslTa => Output::File(bearssl_ta(anchors)?.into_bytes()),
        Format::Rust => Output::File(rust(anchors)?.into_bytes()),
    })
}

/// The SHA-256 fingerprint of the anchor's certificate DER.
pub fn fingerprint(anchor: &Anchor) -> [u8; 32] {
    Sha256::digest(&anchor.der).into()
}

/// The fingerprint as colon-separated upper-case hex, as certificate viewers show it.
pub fn fingerprint_colon_hex(anchor: &Anchor) -> String {
    fingerprint(anchor)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parses the anchor's certificate, naming the anchor on failure.
fn parse(anchor: &Anchor) -> Result<X509Certificate<'_>, EncodeError> {
    let unparsable = |reason: String| EncodeError::Unparsable {
        name: anchor.name.clone(),
        reason,
    };
    let (rest, cert) =
        X509Certificate::from_der(&anchor.der).map_err(|e| unparsable(e.to_string()))?;
    if !rest.is_empty() {
        return Err(unparsable(format!(
            "{} bytes after the certificate",
            rest.len()
        )));
    }
    Ok(cert)
}

/// The facts a comment shows about an anchor: subject, fingerprint, notAfter.
struct Described {
    subject: String,
    fingerprint: String,
    not_after: String,
}

fn describe(anchor: &Anchor) -> Result<Described, EncodeError> {
    let cert = parse(anchor)?;
    Ok(Described {
        subject: cert.subject().to_string(),
        fingerprint: fingerprint_colon_hex(anchor),
        not_after: cert.validity().not_after.to_string(),
    })
}
