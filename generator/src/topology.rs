//! The topology language (see `generator/README.md`): parse a TOML file into a validated
//! [`Topology`], reporting every problem as `file:line:column: field `path`: message`.
//!
//! Two stages: serde with `deny_unknown_fields` and `toml::Spanned` catches syntax errors,
//! unknown fields and unknown enum values (`rsa-1024`, `sha512`, `bogus-usage`); our own checks
//! then resolve names (keys, issuers, instants) against the whole file, where cross-references
//! may point forwards.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use time::OffsetDateTime;
use toml::Spanned;

use crate::instant;
use crate::location::{field_at, line_column};
use crate::name::{Name, NameAttribute};

/// The seed used when a topology declares none.
pub const DEFAULT_SEED: &str = "anchorsmith";

/// A topology file that failed to load, always naming where and which field.
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
    /// The file was read but is malformed or impossible.
    #[error("{}:{line}:{column}: field `{field}`: {message}", file.display())]
    Invalid {
        file: PathBuf,
        line: usize,
        column: usize,
        field: String,
        message: String,
    },
}

/// Key algorithms; every certificate naming the same label shares one key pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
pub enum KeyAlgorithm {
    #[serde(rename = "rsa-2048")]
    Rsa2048,
    #[serde(rename = "rsa-4096")]
    Rsa4096,
    #[serde(rename = "ecdsa-p256")]
    EcdsaP256,
    #[serde(rename = "ecdsa-p384")]
    EcdsaP384,
    #[serde(rename = "ed25519")]
    Ed25519,
}

impl KeyAlgorithm {
    /// The name used in topology files.
    pub fn name(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa2048 => "rsa-2048",
            KeyAlgorithm::Rsa4096 => "rsa-4096",
            KeyAlgorithm::EcdsaP256 => "ecdsa-p256",
            KeyAlgorithm::EcdsaP384 => "ecdsa-p384",
            KeyAlgorithm::Ed25519 => "ed25519",
        }
    }

    pub fn is_rsa(self) -> bool {
        matches!(self, KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa4096)
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `signature_hash` as written in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
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
        instant::resolve(expr, &self.instants)
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
    parse_topology(&source, path)
}

/// Validate topology text; `origin` names the file in error messages.
pub fn parse_topology(source: &str, origin: &Path) -> Result<Topology, TopologyError> {
    let context = Context { source, origin };
    let raw: RawTopology = toml::from_str(source).map_err(|error| context.toml_error(&error))?;
    context.build(raw)
}

// ---------------------------------------------------------------------------------------------
// Raw serde shapes: exactly the file's syntax, with spans.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopology {
    seed: Option<Spanned<String>>,
    #[serde(default)]
    instants: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    keys: BTreeMap<String, Spanned<KeyAlgorithm>>,
    #[serde(default)]
    cert: Vec<RawCert>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCert {
    id: Spanned<String>,
    subject: Spanned<toml::Value>,
    key: Spanned<String>,
    issuer: Spanned<String>,
    not_before: Spanned<toml::Value>,
    not_after: Spanned<toml::Value>,
    serial: Spanned<String>,
    signature_hash: Option<Spanned<SignatureHash>>,
    #[serde(default)]
    extensions: RawExtensions,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawExtensions {
    basic_constraints: Option<RawBasicConstraints>,
    key_usage: Option<RawKeyUsage>,
    ext_key_usage: Option<RawExtKeyUsage>,
    subject_alt_name: Option<RawSubjectAltName>,
    subject_key_identifier: Option<Spanned<String>>,
    authority_key_identifier: Option<Spanned<String>>,
    aia_ca_issuers: Option<Spanned<String>>,
    name_constraints: Option<RawNameConstraints>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBasicConstraints {
    ca: bool,
    path_len: Option<Spanned<u32>>,
    critical: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeyUsage {
    usages: Vec<KeyUsage>,
    critical: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExtKeyUsage {
    usages: Vec<ExtendedKeyUsage>,
    critical: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubjectAltName {
    #[serde(default)]
    dns: Vec<Spanned<String>>,
    #[serde(default)]
    ip: Vec<Spanned<String>>,
    critical: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNameConstraints {
    #[serde(default)]
    permitted_dns: Vec<Spanned<String>>,
    #[serde(default)]
    excluded_dns: Vec<Spanned<String>>,
    #[serde(default)]
    permitted_ip: Vec<Spanned<String>>,
    #[serde(default)]
    excluded_ip: Vec<Spanned<String>>,
    critical: Option<bool>,
}

// ---------------------------------------------------------------------------------------------
// Validation.

struct Context<'a> {
    source: &'a str,
    origin: &'a Path,
}

/// What a cert looks like after the first pass, before issuers are resolved.
struct PartialCert {
    spec: CertSpec,
    issuer_span: Range<usize>,
    issuer_written: String,
    hash: Option<Spanned<SignatureHash>>,
}

impl Context<'_> {
    fn error(
        &self,
        span: Range<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> TopologyError {
        let (line, column) = line_column(self.source, span.start);
        TopologyError::Invalid {
            file: self.origin.to_path_buf(),
            line,
            column,
            field: field.into(),
            message: message.into(),
        }
    }

    fn toml_error(&self, error: &toml::de::Error) -> TopologyError {
        let span = error.span().unwrap_or(0..0);
        let message = error.message().trim().to_string();
        let mut field = field_at(self.source, span.start);
        // serde reports a missing field at the table that lacks it: name the field itself.
        if let Some(missing) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            field = if field.is_empty() {
                missing.to_string()
            } else {
                format!("{field}.{missing}")
            };
        }
        if field.is_empty() {
            field = "(document)".to_string();
        }
        self.error(span, field, message)
    }

    fn build(&self, raw: RawTopology) -> Result<Topology, TopologyError> {
        let seed = match raw.seed {
            Some(seed) if seed.get_ref().is_empty() => {
                return Err(self.error(seed.span(), "seed", "the seed must not be empty"))
            }
            Some(seed) => seed.into_inner(),
            None => DEFAULT_SEED.to_string(),
        };
        let instants = self.instants(raw.instants)?;
        let keys: BTreeMap<String, KeyAlgorithm> = raw
            .keys
            .into_iter()
            .map(|(label, algorithm)| (label, algorithm.into_inner()))
            .collect();
        let ids = self.collect_ids(&raw.cert)?;
        let partial: Vec<PartialCert> = raw
            .cert
            .into_iter()
            .enumerate()
            .map(|(index, cert)| self.first_pass(index, cert, &instants, &keys))
            .collect::<Result<_, _>>()?;
        let certs = self.resolve_issuers(partial, &ids)?;
        Ok(Topology {
            origin: self.origin.to_path_buf(),
            seed,
            instants,
            keys,
            certs,
        })
    }

    fn instants(
        &self,
        raw: BTreeMap<String, Spanned<toml::Value>>,
    ) -> Result<BTreeMap<String, OffsetDateTime>, TopologyError> {
        let mut instants = BTreeMap::new();
        for (name, value) in raw {
            let field = format!("instants.{name}");
            if !is_identifier(&name) {
                return Err(self.error(
                    value.span(),
                    field,
                    "instant names use only A-Z a-z 0-9 . _ -",
                ));
            }
            let text = match value.get_ref() {
                toml::Value::Datetime(datetime) => datetime.to_string(),
                toml::Value::String(text) => text.clone(),
                _ => {
                    return Err(self.error(
                        value.span(),
                        field,
                        "an instant is a TOML offset datetime such as 2021-09-30T14:01:15Z",
                    ))
                }
            };
            let parsed = instant::parse_rfc3339_utc(&text).ok_or_else(|| {
                self.error(
                    value.span(),
                    &field,
                    format!("{text:?} is not an RFC 3339 instant with a UTC offset (e.g. 2021-09-30T14:01:15Z)"),
                )
            })?;
            instants.insert(name, parsed);
        }
        Ok(instants)
    }

    fn collect_ids(&self, certs: &[RawCert]) -> Result<HashMap<String, usize>, TopologyError> {
        let mut ids = HashMap::new();
        for (index, cert) in certs.iter().enumerate() {
            let id = cert.id.get_ref();
            let field = format!("cert[{index}].id");
            if !is_identifier(id) {
                return Err(self.error(
                    cert.id.span(),
                    field,
                    format!("id {id:?} must match [A-Za-z0-9._-]+"),
                ));
            }
            if id == "self" {
                return Err(self.error(
                    cert.id.span(),
                    field,
                    "\"self\" is reserved for self-signed issuers",
                ));
            }
            // `<id>.key.pem` is a certificate's private key file: an id `x.key` would make the
            // certificate file of one collide with the key file of another (`x`).
            if id.ends_with(".key") {
                return Err(self.error(
                    cert.id.span(),
                    field,
                    format!("id {id:?} would collide with a key file (ids may not end in .key)"),
                ));
            }
            if let Some(first) = ids.insert(id.clone(), index) {
                return Err(self.error(
                    cert.id.span(),
                    field,
                    format!("duplicate id {id:?} (first declared by cert[{first}])"),
                ));
            }
        }
        Ok(ids)
    }

    fn first_pass(
        &self,
        index: usize,
        raw: RawCert,
        instants: &BTreeMap<String, OffsetDateTime>,
        keys: &BTreeMap<String, KeyAlgorithm>,
    ) -> Result<PartialCert, TopologyError> {
        let prefix = format!("cert[{index}]");
        let subject = self.subject(&raw.subject, &format!("{prefix}.subject"))?;
        let key_label = raw.key.get_ref().clone();
        let key_algorithm = *keys.get(&key_label).ok_or_else(|| {
            self.error(
                raw.key.span(),
                format!("{prefix}.key"),
                format!(
                    "unknown key label {key_label:?} (known: {})",
                    join_or_none(keys.keys().map(String::as_str))
                ),
            )
        })?;
        let not_before =
            self.instant(&raw.not_before, &format!("{prefix}.not_before"), instants)?;
        let not_after = self.instant(&raw.not_after, &format!("{prefix}.not_after"), instants)?;
        if not_after < not_before {
            return Err(self.error(
                raw.not_after.span(),
                format!("{prefix}.not_after"),
                format!("not_after ({not_after}) is before not_before ({not_before})"),
            ));
        }
        let serial = self.serial(&raw.serial, &format!("{prefix}.serial"))?;
        let subject_is_empty = subject.attributes.is_empty();
        let extensions = self.extensions(
            raw.extensions,
            &format!("{prefix}.extensions"),
            subject_is_empty,
        )?;
        let spec = CertSpec {
            id: raw.id.into_inner(),
            subject,
            key_label,
            key_algorithm,
            issuer_id: String::new(),
            self_signed: false,
            not_before,
            not_after,
            serial,
            signature_algorithm: SignatureAlgorithm::RsaSha256,
            extensions,
        };
        Ok(PartialCert {
            spec,
            issuer_span: raw.issuer.span(),
            issuer_written: raw.issuer.into_inner(),
            hash: raw.signature_hash,
        })
    }

    fn subject(&self, value: &Spanned<toml::Value>, field: &str) -> Result<Name, TopologyError> {
        let name = match value.get_ref() {
            toml::Value::String(text) => Name::parse_rfc4514(text),
            toml::Value::Table(table) => {
                let mut attributes = Vec::new();
                for key in table.keys() {
                    if NameAttribute::from_table_key(key).is_none() {
                        return Err(self.error(
                            value.span(),
                            format!("{field}.{key}"),
                            format!(
                                "unknown subject attribute {key:?} (known: cn, o, ou, c, l, st)"
                            ),
                        ));
                    }
                }
                for attribute in NameAttribute::TABLE_ORDER {
                    match table.get(attribute.table_key()) {
                        None => {}
                        Some(toml::Value::String(text)) => {
                            attributes.push((attribute, text.clone()))
                        }
                        Some(_) => {
                            return Err(self.error(
                                value.span(),
                                format!("{field}.{}", attribute.table_key()),
                                "a subject attribute is a string",
                            ))
                        }
                    }
                }
                let name = Name { attributes };
                name.check().map(|()| name)
            }
            _ => Err(
                "subject is a table { cn = .., o = .. } or a DN string \"CN=..,O=..\"".to_string(),
            ),
        };
        name.map_err(|message| self.error(value.span(), field, message))
    }

    fn instant(
        &self,
        value: &Spanned<toml::Value>,
        field: &str,
        instants: &BTreeMap<String, OffsetDateTime>,
    ) -> Result<OffsetDateTime, TopologyError> {
        let expression = match value.get_ref() {
            toml::Value::String(text) => text.clone(),
            toml::Value::Datetime(datetime) => datetime.to_string(),
            _ => {
                return Err(self.error(
                    value.span(),
                    field,
                    "an instant is a string: an RFC 3339 instant, a name from [instants], or \"name + 1d\"",
                ))
            }
        };
        instant::resolve(&expression, instants)
            .map_err(|message| self.error(value.span(), field, message))
    }

    fn serial(&self, value: &Spanned<String>, field: &str) -> Result<Vec<u8>, TopologyError> {
        let text = value.get_ref().trim_start_matches("0x");
        let padded = if text.len() % 2 == 1 {
            format!("0{text}")
        } else {
            text.to_string()
        };
        let bytes = hex::decode(&padded)
            .ok()
            .filter(|bytes| !bytes.is_empty())
            .ok_or_else(|| {
                self.error(
                    value.span(),
                    field,
                    format!("serial {:?} is not a hex string", value.get_ref()),
                )
            })?;
        let first_significant = bytes
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(bytes.len() - 1);
        let serial = bytes[first_significant..].to_vec();
        if serial.len() > 20 {
            return Err(self.error(
                value.span(),
                field,
                "RFC 5280 limits serial numbers to 20 octets",
            ));
        }
        Ok(serial)
    }

    fn extensions(
        &self,
        raw: RawExtensions,
        field: &str,
        subject_is_empty: bool,
    ) -> Result<Extensions, TopologyError> {
        let basic_constraints = match raw.basic_constraints {
            None => None,
            Some(bc) => {
                if let (false, Some(path_len)) = (bc.ca, &bc.path_len) {
                    return Err(self.error(
                        path_len.span(),
                        format!("{field}.basic_constraints.path_len"),
                        "path_len is only allowed when ca = true",
                    ));
                }
                Some(BasicConstraints {
                    ca: bc.ca,
                    path_len: bc.path_len.map(Spanned::into_inner),
                    // RFC 5280 4.2.1.9: CAs MUST mark it critical.
                    critical: bc.critical.unwrap_or(bc.ca),
                })
            }
        };
        let is_ca = basic_constraints.as_ref().is_some_and(|bc| bc.ca);
        let key_usage = raw.key_usage.map(|ku| KeyUsageExtension {
            usages: dedup(ku.usages),
            // RFC 5280 4.2.1.3: CAs SHOULD mark it critical.
            critical: ku.critical.unwrap_or(is_ca),
        });
        let ext_key_usage = raw.ext_key_usage.map(|eku| ExtKeyUsageExtension {
            usages: dedup(eku.usages),
            critical: eku.critical.unwrap_or(false),
        });
        let subject_alt_name = match raw.subject_alt_name {
            None => None,
            Some(san) => Some(SubjectAltName {
                dns: self.dns_names(&san.dns, &format!("{field}.subject_alt_name.dns"))?,
                ip: san
                    .ip
                    .iter()
                    .map(|ip| {
                        ip.get_ref().parse::<IpAddr>().map_err(|_| {
                            self.error(
                                ip.span(),
                                format!("{field}.subject_alt_name.ip"),
                                format!("{:?} is not an IP address", ip.get_ref()),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
                // RFC 5280 4.2.1.6: critical when the subject is empty.
                critical: san.critical.unwrap_or(subject_is_empty),
            }),
        };
        let name_constraints = match raw.name_constraints {
            None => None,
            Some(nc) => Some(NameConstraints {
                permitted_dns: self.dns_names(
                    &nc.permitted_dns,
                    &format!("{field}.name_constraints.permitted_dns"),
                )?,
                excluded_dns: self.dns_names(
                    &nc.excluded_dns,
                    &format!("{field}.name_constraints.excluded_dns"),
                )?,
                permitted_ip: self.subnets(
                    &nc.permitted_ip,
                    &format!("{field}.name_constraints.permitted_ip"),
                )?,
                excluded_ip: self.subnets(
                    &nc.excluded_ip,
                    &format!("{field}.name_constraints.excluded_ip"),
                )?,
                // RFC 5280 4.2.1.10: conforming CAs MUST mark it critical.
                critical: nc.critical.unwrap_or(true),
            }),
        };
        let aia_ca_issuers = match raw.aia_ca_issuers {
            None => None,
            Some(url) => {
                let text = url.get_ref();
                if !text.is_ascii() || !text.contains("://") {
                    return Err(self.error(
                        url.span(),
                        format!("{field}.aia_ca_issuers"),
                        format!("{text:?} is not an ASCII URL"),
                    ));
                }
                Some(text.clone())
            }
        };
        Ok(Extensions {
            basic_constraints,
            key_usage,
            ext_key_usage,
            subject_alt_name,
            subject_key_identifier: self.key_identifier(
                raw.subject_key_identifier.as_ref(),
                &format!("{field}.subject_key_identifier"),
            )?,
            authority_key_identifier: self.key_identifier(
                raw.authority_key_identifier.as_ref(),
                &format!("{field}.authority_key_identifier"),
            )?,
            aia_ca_issuers,
            name_constraints,
        })
    }

    fn dns_names(
        &self,
        names: &[Spanned<String>],
        field: &str,
    ) -> Result<Vec<String>, TopologyError> {
        names
            .iter()
            .map(|name| {
                let text = name.get_ref();
                if text.is_empty() || !text.is_ascii() || text.contains(char::is_whitespace) {
                    return Err(self.error(
                        name.span(),
                        field,
                        format!("{text:?} is not an ASCII DNS name"),
                    ));
                }
                Ok(text.clone())
            })
            .collect()
    }

    fn subnets(
        &self,
        subnets: &[Spanned<String>],
        field: &str,
    ) -> Result<Vec<IpSubnet>, TopologyError> {
        subnets
            .iter()
            .map(|subnet| {
                parse_subnet(subnet.get_ref()).ok_or_else(|| {
                    self.error(
                        subnet.span(),
                        field,
                        format!(
                            "{:?} is not a CIDR subnet such as 10.0.0.0/8 or fd00::/8",
                            subnet.get_ref()
                        ),
                    )
                })
            })
            .collect()
    }

    fn key_identifier(
        &self,
        value: Option<&Spanned<String>>,
        field: &str,
    ) -> Result<KeyIdentifier, TopologyError> {
        let Some(value) = value else {
            return Ok(KeyIdentifier::Derived);
        };
        match value.get_ref().as_str() {
            "derived" => Ok(KeyIdentifier::Derived),
            "omit" => Ok(KeyIdentifier::Omit),
            text => hex::decode(text.replace(':', ""))
                .ok()
                .filter(|bytes| !bytes.is_empty())
                .map(KeyIdentifier::Explicit)
                .ok_or_else(|| {
                    self.error(
                        value.span(),
                        field,
                        format!("{text:?} is not \"derived\", \"omit\" or hex bytes"),
                    )
                }),
        }
    }

    /// Resolve issuer references, then check CA-ness, cycles and signature algorithms.
    fn resolve_issuers(
        &self,
        mut partial: Vec<PartialCert>,
        ids: &HashMap<String, usize>,
    ) -> Result<Vec<CertSpec>, TopologyError> {
        let mut issuer_index = Vec::with_capacity(partial.len());
        for (index, cert) in partial.iter().enumerate() {
            let field = format!("cert[{index}].issuer");
            let issuer = if cert.issuer_written == "self" {
                index
            } else {
                *ids.get(&cert.issuer_written).ok_or_else(|| {
                    let known_cas = partial
                        .iter()
                        .filter(|c| c.spec.is_ca())
                        .map(|c| c.spec.id.as_str());
                    self.error(
                        cert.issuer_span.clone(),
                        &field,
                        format!(
                            "unknown issuer {:?} (known: {})",
                            cert.issuer_written,
                            join_or_none(known_cas)
                        ),
                    )
                })?
            };
            if issuer != index && !partial[issuer].spec.is_ca() {
                return Err(self.error(
                    cert.issuer_span.clone(),
                    &field,
                    format!(
                        "issuer {:?} is not a CA (its extensions.basic_constraints.ca must be true)",
                        cert.issuer_written
                    ),
                ));
            }
            issuer_index.push(issuer);
        }
        for index in 0..partial.len() {
            if let Some(cycle) = issuance_cycle(index, &issuer_index) {
                let names: Vec<&str> = cycle.iter().map(|&i| partial[i].spec.id.as_str()).collect();
                return Err(self.error(
                    partial[index].issuer_span.clone(),
                    format!("cert[{index}].issuer"),
                    format!(
                        "issuance cycle with no self-signed root: {}",
                        names.join(" → ")
                    ),
                ));
            }
        }
        for index in 0..partial.len() {
            let issuer_algorithm = partial[issuer_index[index]].spec.key_algorithm;
            let algorithm =
                self.signature_algorithm(index, partial[index].hash.as_ref(), issuer_algorithm)?;
            let issuer_id = partial[issuer_index[index]].spec.id.clone();
            let cert = &mut partial[index].spec;
            cert.signature_algorithm = algorithm;
            cert.self_signed = issuer_index[index] == index;
            cert.issuer_id = issuer_id;
        }
        Ok(partial.into_iter().map(|cert| cert.spec).collect())
    }

    fn signature_algorithm(
        &self,
        index: usize,
        hash: Option<&Spanned<SignatureHash>>,
        issuer_key: KeyAlgorithm,
    ) -> Result<SignatureAlgorithm, TopologyError> {
        let requested = hash.map(|hash| *hash.get_ref());
        let algorithm = match (issuer_key, requested) {
            (key, None | Some(SignatureHash::Sha256)) if key.is_rsa() => {
                Some(SignatureAlgorithm::RsaSha256)
            }
            (key, Some(SignatureHash::Sha384)) if key.is_rsa() => {
                Some(SignatureAlgorithm::RsaSha384)
            }
            (key, Some(SignatureHash::Sha1)) if key.is_rsa() => Some(SignatureAlgorithm::RsaSha1),
            (KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384, Some(SignatureHash::Sha256)) => {
                Some(SignatureAlgorithm::EcdsaSha256)
            }
            (KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384, Some(SignatureHash::Sha384)) => {
                Some(SignatureAlgorithm::EcdsaSha384)
            }
            (KeyAlgorithm::EcdsaP256, None) => Some(SignatureAlgorithm::EcdsaSha256),
            (KeyAlgorithm::EcdsaP384, None) => Some(SignatureAlgorithm::EcdsaSha384),
            (KeyAlgorithm::Ed25519, None) => Some(SignatureAlgorithm::Ed25519),
            _ => None,
        };
        algorithm.ok_or_else(|| {
            let hash = hash.expect("only an explicit hash can be refused");
            let message = match (issuer_key, hash.get_ref()) {
                (KeyAlgorithm::Ed25519, _) => {
                    "the issuer key is ed25519, which has no separate hash: remove signature_hash"
                        .to_string()
                }
                (key, SignatureHash::Sha1) => {
                    format!("sha1 needs an RSA issuer key, but the issuer key is {key}")
                }
                (key, other) => format!("{other:?} is not supported with an issuer key of {key}"),
            };
            self.error(
                hash.span(),
                format!("cert[{index}].signature_hash"),
                message,
            )
        })
    }
}

/// The cycle reached from `start` by following issuers, if it never reaches a self-signed cert.
/// Returned as the ids in issuing order, ending where it started, e.g. `[a, b, a]`.
fn issuance_cycle(start: usize, issuer_index: &[usize]) -> Option<Vec<usize>> {
    let mut path = vec![start];
    let mut current = start;
    loop {
        let next = issuer_index[current];
        if next == current {
            return None;
        }
        if let Some(position) = path.iter().position(|&seen| seen == next) {
            // Report the cycle only from one of its members, so the message starts in it.
            if position != 0 {
                return None;
            }
            let mut cycle = path[position..].to_vec();
            cycle.push(next);
            return Some(cycle);
        }
        path.push(next);
        current = next;
    }
}

fn parse_subnet(text: &str) -> Option<IpSubnet> {
    let (address, prefix) = text.split_once('/')?;
    let address: IpAddr = address.parse().ok()?;
    let prefix: u8 = prefix.parse().ok()?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    (prefix <= max).then_some(IpSubnet { address, prefix })
}

fn is_identifier(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

fn dedup<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut unique = Vec::with_capacity(items.len());
    for item in items {
        if !unique.contains(&item) {
            unique.push(item);
        }
    }
    unique
}

fn join_or_none<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests;
