//! The topology language (see `generator/README.md`): the validated model ([`Topology`],
//! [`CertSpec`] and the enums it uses), and the two entry points [`load_topology`] and
//! [`parse_topology`].
//!
//! Loading has two stages, one module each: `input` is exactly the file's shape (serde with
//! `deny_unknown_fields`, each value a later check may refuse kept with its `toml::Spanned`
//! span), so syntax errors,
//! unknown fields and unknown enum values (`rsa-1024`, `sha512`, `bogus-usage`) are parse
//! errors; `resolve` then checks and resolves names (keys, issuers, instants) against the whole
//! file, where cross-references may point forwards, and builds each [`CertSpec`] whole. Every
//! error is an [`anchorsmith_diagnostics::Diagnostic`] at the span of the offending value.

mod input;
mod resolve;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anchorsmith_diagnostics::{parse_toml, Diagnostic};
use time::OffsetDateTime;

use crate::instant;
use crate::name::Name;

/// The seed used when a topology declares none.
pub const DEFAULT_SEED: &str = "anchorsmith";

/// A topology file that failed to load.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    /// The file could not be read at all.
    // The I/O error is part of the message and deliberately not a `source`, so an error chain
    // (`{:#}`) does not print it twice.
    #[error("{}: cannot read topology: {io_error}", file.display())]
    Read {
        file: PathBuf,
        io_error: std::io::Error,
    },
    /// The file was read but is malformed or impossible: file, line, column, field, code, and
    /// the source line with a caret when displayed.
    #[error(transparent)]
    Invalid(#[from] Diagnostic),
}

/// Key algorithms; every certificate naming the same label shares one key pair.
///
/// The names (`rsa-2048`, …) are strum's, and serde reads them through strum too (see
/// `input.rs`), so the file, messages, the manifest and key derivation spell them one way.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantNames,
)]
#[strum(serialize_all = "kebab-case")]
pub enum KeyAlgorithm {
    #[strum(serialize = "rsa-2048")]
    Rsa2048,
    #[strum(serialize = "rsa-4096")]
    Rsa4096,
    EcdsaP256,
    EcdsaP384,
    Ed25519,
}

impl KeyAlgorithm {
    pub fn is_rsa(self) -> bool {
        matches!(self, KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa4096)
    }
}

/// `signature_hash` as written in the file.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantNames,
)]
#[strum(serialize_all = "lowercase")]
pub enum SignatureHash {
    Sha1,
    Sha256,
    Sha384,
}

/// The resolved signature algorithm of a certificate (issuer key type × hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    RsaSha1,
    RsaSha256,
    RsaSha384,
    EcdsaSha256,
    EcdsaSha384,
    Ed25519,
}

/// KeyUsage bits, named as in the file; the discriminant is the bit number (RFC 5280 4.2.1.3).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantNames,
)]
#[strum(serialize_all = "kebab-case")]
pub enum KeyUsage {
    DigitalSignature = 0,
    ContentCommitment = 1,
    KeyEncipherment = 2,
    DataEncipherment = 3,
    KeyAgreement = 4,
    KeyCertSign = 5,
    CrlSign = 6,
    EncipherOnly = 7,
    DecipherOnly = 8,
}

/// Extended key usages, named as in the file.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantNames,
)]
#[strum(serialize_all = "kebab-case")]
pub enum ExtendedKeyUsage {
    ServerAuth,
    ClientAuth,
    CodeSigning,
    EmailProtection,
    TimeStamping,
    OcspSigning,
    Any,
}

impl ExtendedKeyUsage {
    /// The OID arcs of this purpose.
    pub fn oid(self) -> &'static [u64] {
        match self {
            ExtendedKeyUsage::ServerAuth => &[1, 3, 6, 1, 5, 5, 7, 3, 1],
            ExtendedKeyUsage::ClientAuth => &[1, 3, 6, 1, 5, 5, 7, 3, 2],
            ExtendedKeyUsage::CodeSigning => &[1, 3, 6, 1, 5, 5, 7, 3, 3],
            ExtendedKeyUsage::EmailProtection => &[1, 3, 6, 1, 5, 5, 7, 3, 4],
            ExtendedKeyUsage::TimeStamping => &[1, 3, 6, 1, 5, 5, 7, 3, 8],
            ExtendedKeyUsage::OcspSigning => &[1, 3, 6, 1, 5, 5, 7, 3, 9],
            ExtendedKeyUsage::Any => &[2, 5, 29, 37, 0],
        }
    }
}

/// `subject_key_identifier` / `authority_key_identifier`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyIdentifier {
    /// SKI: SHA-1 of the subject public key (RFC 5280 method 1). AKI: the issuer's SKI.
    Derived,
    /// Leave the extension out.
    Omit,
    /// Exactly these bytes.
    Explicit(Vec<u8>),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BasicConstraints {
    pub ca: bool,
    pub path_len: Option<u32>,
    pub critical: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyUsageExtension {
    pub usages: Vec<KeyUsage>,
    pub critical: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExtKeyUsageExtension {
    pub usages: Vec<ExtendedKeyUsage>,
    pub critical: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SubjectAltName {
    pub dns: Vec<String>,
    pub ip: Vec<IpAddr>,
    pub critical: bool,
}

/// An IP subnet in CIDR form, as used by name constraints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpSubnet {
    pub address: IpAddr,
    pub prefix: u8,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NameConstraints {
    pub permitted_dns: Vec<String>,
    pub excluded_dns: Vec<String>,
    pub permitted_ip: Vec<IpSubnet>,
    pub excluded_ip: Vec<IpSubnet>,
    pub critical: bool,
}

/// The extensions of one certificate, with every default already applied.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Extensions {
    pub basic_constraints: Option<BasicConstraints>,
    pub key_usage: Option<KeyUsageExtension>,
    pub ext_key_usage: Option<ExtKeyUsageExtension>,
    pub subject_alt_name: Option<SubjectAltName>,
    pub subject_key_identifier: KeyIdentifier,
    /// Default: derived, except on a self-signed certificate, where it is omitted as on real
    /// roots unless the topology writes it.
    pub authority_key_identifier: KeyIdentifier,
    pub aia_ca_issuers: Option<String>,
    pub name_constraints: Option<NameConstraints>,
}

/// One validated `[[cert]]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CertSpec {
    pub id: String,
    pub subject: Name,
    pub key_label: String,
    pub key_algorithm: KeyAlgorithm,
    /// The id of the issuing certificate; this certificate's own id when self-signed.
    pub issuer_id: String,
    pub self_signed: bool,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// Big-endian serial number without leading zero bytes.
    pub serial: Vec<u8>,
    pub signature_algorithm: SignatureAlgorithm,
    pub extensions: Extensions,
}

impl CertSpec {
    /// The subject as an RFC 4514 string.
    pub fn subject_dn(&self) -> String {
        self.subject.to_rfc4514()
    }

    /// basicConstraints cA is present and true.
    pub fn is_ca(&self) -> bool {
        self.extensions
            .basic_constraints
            .as_ref()
            .is_some_and(|bc| bc.ca)
    }

    pub fn path_len(&self) -> Option<u32> {
        self.extensions
            .basic_constraints
            .as_ref()
            .and_then(|bc| bc.path_len)
    }

    pub fn san_dns(&self) -> &[String] {
        self.extensions
            .subject_alt_name
            .as_ref()
            .map_or(&[], |san| &san.dns)
    }

    pub fn san_ip(&self) -> &[IpAddr] {
        self.extensions
            .subject_alt_name
            .as_ref()
            .map_or(&[], |san| &san.ip)
    }

    /// The EKU purposes; `None` when the extension is absent (which means "any" to verifiers).
    pub fn ext_key_usages(&self) -> Option<&[ExtendedKeyUsage]> {
        self.extensions
            .ext_key_usage
            .as_ref()
            .map(|eku| eku.usages.as_slice())
    }

    /// The serial as lowercase hex.
    pub fn serial_hex(&self) -> String {
        hex::encode(&self.serial)
    }
}

/// A validated topology.
#[derive(Clone, Debug)]
pub struct Topology {
    origin: PathBuf,
    seed: String,
    instants: BTreeMap<String, OffsetDateTime>,
    keys: BTreeMap<String, KeyAlgorithm>,
    certs: Vec<CertSpec>,
}

impl Topology {
    /// The file this topology was read from (as given), used in messages.
    pub fn origin(&self) -> &Path {
        &self.origin
    }

    pub fn seed(&self) -> &str {
        &self.seed
    }

    pub fn instants(&self) -> &BTreeMap<String, OffsetDateTime> {
        &self.instants
    }

    /// Key label → algorithm.
    pub fn keys(&self) -> &BTreeMap<String, KeyAlgorithm> {
        &self.keys
    }

    /// Resolve `"dst-expiry + 1d"` or an RFC 3339 literal against this topology's instants.
    pub fn resolve_instant(&self, expr: &str) -> Result<OffsetDateTime, String> {
        instant::resolve(expr, &self.instants).map_err(|error| error.to_string())
    }

    /// Certificate ids in declaration order.
    pub fn cert_ids(&self) -> impl Iterator<Item = &str> {
        self.certs.iter().map(|cert| cert.id.as_str())
    }

    /// Certificates in declaration order.
    pub fn certs(&self) -> &[CertSpec] {
        &self.certs
    }

    pub fn cert(&self, id: &str) -> Option<&CertSpec> {
        self.certs.iter().find(|cert| cert.id == id)
    }
}

/// Read and validate a topology file.
pub fn load_topology(path: &Path) -> Result<Topology, TopologyError> {
    let source = std::fs::read_to_string(path).map_err(|io_error| TopologyError::Read {
        file: path.to_path_buf(),
        io_error,
    })?;
    Ok(parse_topology(&source, path)?)
}

/// Validate topology text; `origin` names the file in diagnostics.
pub fn parse_topology(source: &str, origin: &Path) -> Result<Topology, Diagnostic> {
    let file: input::TopologyFile = parse_toml(origin, source)?;
    resolve::resolve(file, source, origin)
}

#[cfg(test)]
mod tests;
