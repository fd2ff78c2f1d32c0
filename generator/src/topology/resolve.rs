//! From the file's shape (`input`) to a validated [`Topology`]: resolve names (keys, instants,
//! issuers) against the whole file, apply defaults, and check what serde cannot (duplicate ids,
//! issuers that are not CAs, cycles, validity order, hash × issuer key). Each certificate's own
//! declarations are checked first ([`Declared`]); once every issuer is known, each [`CertSpec`]
//! is built whole.
//!
//! Every error is a [`Diagnostic`] at the span of the offending value, with its field path in
//! the same form as the deserializer's (`cert[1].issuer`).

mod extensions;

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::Path;

use anchorsmith_diagnostics::{Code, Diagnostic, SourceFile};
use time::OffsetDateTime;
use toml::Spanned;

use super::input::{CertInput, SubjectInput, TopologyFile};
use super::{
    CertSpec, Extensions, KeyAlgorithm, KeyIdentifier, SignatureAlgorithm, SignatureHash, Topology,
    DEFAULT_SEED,
};
use crate::instant::{self, InstantError};
use crate::name::Name;

/// Resolves `file`, parsed from `source` (the text of `origin`).
pub(super) fn resolve(
    file: TopologyFile,
    source: &str,
    origin: &Path,
) -> Result<Topology, Diagnostic> {
    Context { source, origin }.topology(file)
}

/// The text being resolved, so that any check can point into it.
struct Context<'a> {
    source: &'a str,
    origin: &'a Path,
}

/// One `[[cert]]` with its own declarations checked and resolved. What depends on the issuer
/// (its id, whether it is this certificate, the signature algorithm) is added by
/// [`Declared::into_spec`] once every issuer is known.
struct Declared {
    id: String,
    subject: Name,
    key_label: String,
    key_algorithm: KeyAlgorithm,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    serial: Vec<u8>,
    extensions: Extensions,
    /// Whether `extensions.authority_key_identifier` is written: the default depends on whether
    /// the certificate is self-signed, which is known only once issuers are resolved.
    authority_key_identifier_written: bool,
    /// The issuer as written: `self` or a certificate id.
    issuer: Spanned<String>,
    signature_hash: Option<Spanned<SignatureHash>>,
}

/// What a certificate learns from its resolved issuer.
struct Issuance {
    issuer_id: String,
    self_signed: bool,
    signature_algorithm: SignatureAlgorithm,
}

impl Declared {
    fn is_ca(&self) -> bool {
        self.extensions
            .basic_constraints
            .as_ref()
            .is_some_and(|bc| bc.ca)
    }

    fn into_spec(self, issuance: Issuance) -> CertSpec {
        let mut extensions = self.extensions;
        // Real self-signed roots carry no AKI (ISRG Root X1 and X2, DST Root CA X3: see
        // ../shared/fixtures/letsencrypt/MANIFEST.md); RFC 5280 4.2.1.1 allows leaving it out
        // there. Writing `authority_key_identifier` keeps one.
        if issuance.self_signed && !self.authority_key_identifier_written {
            extensions.authority_key_identifier = KeyIdentifier::Omit;
        }
        CertSpec {
            id: self.id,
            subject: self.subject,
            key_label: self.key_label,
            key_algorithm: self.key_algorithm,
            issuer_id: issuance.issuer_id,
            self_signed: issuance.self_signed,
            not_before: self.not_before,
            not_after: self.not_after,
            serial: self.serial,
            signature_algorithm: issuance.signature_algorithm,
            extensions,
        }
    }
}

impl Context<'_> {
    /// An error of kind `code` at `span`, about `field`.
    fn error(
        &self,
        code: Code,
        span: Range<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Diagnostic {
        let file = SourceFile {
            path: self.origin,
            text: self.source,
        };
        file.error(code, span, field, message)
    }

    fn topology(&self, file: TopologyFile) -> Result<Topology, Diagnostic> {
        let seed = match file.seed {
            Some(seed) if seed.get_ref().is_empty() => {
                return Err(self.error(
                    Code::InvalidValue,
                    seed.span(),
                    "seed",
                    "the seed must not be empty",
                ))
            }
            Some(seed) => seed.into_inner(),
            None => DEFAULT_SEED.to_string(),
        };
        let instants = self.instants(file.instants)?;
        let ids = self.ids(&file.cert)?;
        let declared: Vec<Declared> = file
            .cert
            .into_iter()
            .enumerate()
            .map(|(index, cert)| self.declared(index, cert, &instants, &file.keys))
            .collect::<Result<_, _>>()?;
        let certs = self.with_issuers(declared, &ids)?;
        Ok(Topology {
            origin: self.origin.to_path_buf(),
            seed,
            instants,
            keys: file.keys,
            certs,
        })
    }

    fn instants(
        &self,
        declared: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    ) -> Result<BTreeMap<String, OffsetDateTime>, Diagnostic> {
        let mut instants = BTreeMap::new();
        for (name, value) in declared {
            let field = format!("instants.{}", name.get_ref());
            if !is_identifier(name.get_ref()) {
                return Err(self.error(
                    Code::InvalidValue,
                    name.span(),
                    field,
                    "instant names use only A-Z a-z 0-9 . _ -",
                ));
            }
            let text = match value.get_ref() {
                toml::Value::Datetime(datetime) => datetime.to_string(),
                toml::Value::String(text) => text.clone(),
                _ => {
                    return Err(self.error(
                        Code::Shape,
                        value.span(),
                        field,
                        "an instant is a TOML offset datetime such as 2021-09-30T14:01:15Z",
                    ))
                }
            };
            let parsed = instant::parse_rfc3339_utc(&text).ok_or_else(|| {
                self.error(
                    Code::InvalidValue,
                    value.span(),
                    &field,
                    format!("{text:?} is not an RFC 3339 instant with a UTC offset (e.g. 2021-09-30T14:01:15Z)"),
                )
            })?;
            instants.insert(name.into_inner(), parsed);
        }
        Ok(instants)
    }

    /// Every certificate id → its index, once each ids are checked.
    fn ids(&self, certs: &[CertInput]) -> Result<HashMap<String, usize>, Diagnostic> {
        let mut ids = HashMap::new();
        for (index, cert) in certs.iter().enumerate() {
            let id = cert.id.get_ref();
            let invalid = |message: String| {
                self.error(
                    Code::InvalidValue,
                    cert.id.span(),
                    format!("cert[{index}].id"),
                    message,
                )
            };
            if !is_identifier(id) {
                return Err(invalid(format!("id {id:?} must match [A-Za-z0-9._-]+")));
            }
            if id == "self" {
                return Err(invalid(
                    "\"self\" is reserved for self-signed issuers".to_string(),
                ));
            }
            // `<id>.key.pem` is a certificate's private key file: an id `x.key` would make the
            // certificate file of one collide with the key file of another (`x`).
            if id.ends_with(".key") {
                return Err(invalid(format!(
                    "id {id:?} would collide with a key file (ids may not end in .key)"
                )));
            }
            if let Some(first) = ids.insert(id.clone(), index) {
                return Err(self.error(
                    Code::Duplicate,
                    cert.id.span(),
                    format!("cert[{index}].id"),
                    format!("duplicate id {id:?} (first declared by cert[{first}])"),
                ));
            }
        }
        Ok(ids)
    }

    /// `cert[index]`'s own declarations, checked.
    fn declared(
        &self,
        index: usize,
        cert: CertInput,
        instants: &BTreeMap<String, OffsetDateTime>,
        keys: &BTreeMap<String, KeyAlgorithm>,
    ) -> Result<Declared, Diagnostic> {
        let prefix = format!("cert[{index}]");
        let subject = self.subject(&cert.subject, &format!("{prefix}.subject"))?;
        let key_label = cert.key.get_ref().clone();
        let key_algorithm = *keys.get(&key_label).ok_or_else(|| {
            self.error(
                Code::UnknownName,
                cert.key.span(),
                format!("{prefix}.key"),
                format!(
                    "unknown key label {key_label:?} (known: {})",
                    join_or_none(keys.keys().map(String::as_str))
                ),
            )
        })?;
        let not_before =
            self.instant(&cert.not_before, &format!("{prefix}.not_before"), instants)?;
        let not_after = self.instant(&cert.not_after, &format!("{prefix}.not_after"), instants)?;
        if not_after < not_before {
            return Err(self.error(
                Code::InvalidValue,
                cert.not_after.span(),
                format!("{prefix}.not_after"),
                format!("not_after ({not_after}) is before not_before ({not_before})"),
            ));
        }
        let serial = self.serial(&cert.serial, &format!("{prefix}.serial"))?;
        let authority_key_identifier_written = cert.extensions.authority_key_identifier.is_some();
        let extensions = self.extensions(
            cert.extensions,
            &format!("{prefix}.extensions"),
            subject.attributes.is_empty(),
        )?;
        Ok(Declared {
            id: cert.id.into_inner(),
            subject,
            key_label,
            key_algorithm,
            not_before,
            not_after,
            serial,
            extensions,
            authority_key_identifier_written,
            issuer: cert.issuer,
            signature_hash: cert.signature_hash,
        })
    }

    fn subject(&self, subject: &Spanned<SubjectInput>, field: &str) -> Result<Name, Diagnostic> {
        match subject.get_ref() {
            SubjectInput::Dn(text) => Name::parse_rfc4514(text)
                .map_err(|message| self.error(Code::InvalidValue, subject.span(), field, message)),
            SubjectInput::Table(table) => {
                let attributes = table
                    .attributes()
                    .map(|(attribute, value)| {
                        attribute
                            .check_value(value.get_ref())
                            .map(|()| (attribute, value.get_ref().clone()))
                            .map_err(|message| {
                                self.error(
                                    Code::InvalidValue,
                                    value.span(),
                                    format!("{field}.{}", attribute.table_key()),
                                    message,
                                )
                            })
                    })
                    .collect::<Result<_, _>>()?;
                Ok(Name { attributes })
            }
        }
    }

    fn instant(
        &self,
        value: &Spanned<toml::Value>,
        field: &str,
        instants: &BTreeMap<String, OffsetDateTime>,
    ) -> Result<OffsetDateTime, Diagnostic> {
        let expression = match value.get_ref() {
            toml::Value::String(text) => text.clone(),
            toml::Value::Datetime(datetime) => datetime.to_string(),
            _ => {
                return Err(self.error(
                    Code::Shape,
                    value.span(),
                    field,
                    "an instant is a string: an RFC 3339 instant, a name from [instants], or \"name + 1d\"",
                ))
            }
        };
        instant::resolve(&expression, instants).map_err(|error| {
            let code = match error {
                InstantError::UnknownName(_) => Code::UnknownName,
                InstantError::Malformed(_) => Code::InvalidValue,
            };
            self.error(code, value.span(), field, error.to_string())
        })
    }

    fn serial(&self, value: &Spanned<String>, field: &str) -> Result<Vec<u8>, Diagnostic> {
        let invalid =
            |message: String| self.error(Code::InvalidValue, value.span(), field, message);
        let text = value.get_ref().trim_start_matches("0x");
        let padded = if text.len() % 2 == 1 {
            format!("0{text}")
        } else {
            text.to_string()
        };
        let bytes = hex::decode(&padded)
            .ok()
            .filter(|bytes| !bytes.is_empty())
            .ok_or_else(|| invalid(format!("serial {:?} is not a hex string", value.get_ref())))?;
        let first_significant = bytes
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(bytes.len() - 1);
        let serial = bytes[first_significant..].to_vec();
        if serial.len() > 20 {
            return Err(invalid(
                "RFC 5280 limits serial numbers to 20 octets".to_string(),
            ));
        }
        Ok(serial)
    }

    /// Resolves every issuer, refuses non-CA issuers and cycles, then builds each [`CertSpec`].
    fn with_issuers(
        &self,
        declared: Vec<Declared>,
        ids: &HashMap<String, usize>,
    ) -> Result<Vec<CertSpec>, Diagnostic> {
        let issuers: Vec<usize> = declared
            .iter()
            .enumerate()
            .map(|(index, cert)| self.issuer_index(index, cert, &declared, ids))
            .collect::<Result<_, _>>()?;
        // Only the first certificate on a cycle is walked again for the message: walking from
        // every certificate is quadratic in the depth, and a deep topology must not hang here.
        let first_cycle = first_on_cycle(&issuers)
            .and_then(|index| Some((index, issuance_cycle(index, &issuers)?)));
        if let Some((index, cycle)) = first_cycle {
            let names: Vec<&str> = cycle.iter().map(|&i| declared[i].id.as_str()).collect();
            return Err(self.error(
                Code::Cycle,
                declared[index].issuer.span(),
                format!("cert[{index}].issuer"),
                format!(
                    "issuance cycle with no self-signed root: {}",
                    names.join(" → ")
                ),
            ));
        }
        let issuances: Vec<Issuance> = issuers
            .iter()
            .enumerate()
            .map(|(index, &issuer)| {
                let signature_algorithm = self.signature_algorithm(
                    index,
                    declared[index].signature_hash.as_ref(),
                    declared[issuer].key_algorithm,
                )?;
                Ok(Issuance {
                    issuer_id: declared[issuer].id.clone(),
                    self_signed: issuer == index,
                    signature_algorithm,
                })
            })
            .collect::<Result<_, Diagnostic>>()?;
        Ok(declared
            .into_iter()
            .zip(issuances)
            .map(|(cert, issuance)| cert.into_spec(issuance))
            .collect())
    }

    /// The index of `cert`'s issuer (its own for `self`), which must be a CA.
    fn issuer_index(
        &self,
        index: usize,
        cert: &Declared,
        declared: &[Declared],
        ids: &HashMap<String, usize>,
    ) -> Result<usize, Diagnostic> {
        let field = format!("cert[{index}].issuer");
        let written = cert.issuer.get_ref();
        if written == "self" {
            return Ok(index);
        }
        let Some(&issuer) = ids.get(written) else {
            let known_cas = declared.iter().filter(|c| c.is_ca()).map(|c| c.id.as_str());
            return Err(self.error(
                Code::UnknownName,
                cert.issuer.span(),
                field,
                format!(
                    "unknown issuer {written:?} (known: {})",
                    join_or_none(known_cas)
                ),
            ));
        };
        if issuer != index && !declared[issuer].is_ca() {
            return Err(self.error(
                Code::InvalidValue,
                cert.issuer.span(),
                field,
                format!(
                    "issuer {written:?} is not a CA (its extensions.basic_constraints.ca must be true)"
                ),
            ));
        }
        Ok(issuer)
    }

    fn signature_algorithm(
        &self,
        index: usize,
        hash: Option<&Spanned<SignatureHash>>,
        issuer_key: KeyAlgorithm,
    ) -> Result<SignatureAlgorithm, Diagnostic> {
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
                (key, other) => format!("{other} is not supported with an issuer key of {key}"),
            };
            self.error(
                Code::InvalidValue,
                hash.span(),
                format!("cert[{index}].signature_hash"),
                message,
            )
        })
    }
}

/// The cycle reached from `start` by following issuers, if it never reaches a self-signed cert.
/// Returned as the ids in issuing order, ending where it started, e.g. `[a, b, a]`.
/// The lowest index of a certificate on an issuance cycle, in one pass (each certificate is
/// walked once: a walk stops at a self-signed root or at a certificate already walked).
fn first_on_cycle(issuer_index: &[usize]) -> Option<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum Walk {
        New,
        OnPath,
        Done,
    }
    let mut state = vec![Walk::New; issuer_index.len()];
    let mut first: Option<usize> = None;
    for start in 0..issuer_index.len() {
        let mut path = Vec::new();
        let mut current = start;
        while state[current] == Walk::New {
            state[current] = Walk::OnPath;
            path.push(current);
            let next = issuer_index[current];
            if next == current {
                break;
            }
            current = next;
        }
        if state[current] == Walk::OnPath && issuer_index[current] != current {
            if let Some(position) = path.iter().position(|&seen| seen == current) {
                let lowest = path[position..].iter().copied().min();
                first = match (first, lowest) {
                    (Some(known), Some(this)) => Some(known.min(this)),
                    (known, this) => known.or(this),
                };
            }
        }
        for &walked in &path {
            state[walked] = Walk::Done;
        }
    }
    first
}

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

fn is_identifier(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
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
mod cycle_tests {
    use super::{first_on_cycle, issuance_cycle};

    #[test]
    fn first_on_cycle_is_the_lowest_member_of_any_cycle() {
        // 0 is a root; 1 → 0; 2 → 3 → 4 → 2 is a cycle; 5 hangs below it.
        let issuers = [0, 0, 3, 4, 2, 4];
        assert_eq!(first_on_cycle(&issuers), Some(2));
        assert_eq!(issuance_cycle(2, &issuers), Some(vec![2, 3, 4, 2]));
        // A certificate issuing itself under another id's name is no cycle; a chain is none.
        assert_eq!(first_on_cycle(&[0, 0, 1, 2]), None);
        // The cycle is found whichever member the walk enters it by.
        assert_eq!(first_on_cycle(&[1, 2, 1]), Some(1));
    }

    #[test]
    fn a_deep_chain_is_checked_in_linear_time() {
        // 200,000 certificates in one line: one walk, not one per certificate.
        let issuers: Vec<usize> = (0..200_000)
            .map(|index: usize| index.saturating_sub(1))
            .collect();
        assert_eq!(first_on_cycle(&issuers), None);
    }
}
