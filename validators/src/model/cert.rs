//! What the client model reads from one certificate, as small pure functions over x509-parser's
//! parsed form. Signatures are checked by the library (`verify_signature`), never by hand.

use std::net::IpAddr;

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS;
use x509_parser::time::ASN1Time;

use super::signatures::{signature_verifies, SignatureCache};
use crate::{PeerName, RejectKind, Usage};

/// Why one certificate, or one link of a path, fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub kind: RejectKind,
    pub detail: String,
}

impl Problem {
    pub fn new(kind: RejectKind, detail: impl Into<String>) -> Problem {
        Problem {
            kind,
            detail: detail.into(),
        }
    }
}

/// A label for messages: the subject CN, else a fingerprint.
pub fn label(cert: &X509Certificate<'_>) -> String {
    crate::subject_label(cert.as_raw())
}

/// `child`'s issuer name is `parent`'s subject (byte for byte, as the DER encodes them).
pub fn names_chain(child: &X509Certificate<'_>, parent: &X509Certificate<'_>) -> bool {
    child.issuer().as_raw() == parent.subject().as_raw()
}

/// The subject key identifier, if present.
pub fn subject_key_id<'a>(cert: &'a X509Certificate<'_>) -> Option<&'a [u8]> {
    cert.iter_extensions()
        .find_map(|extension| match extension.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0),
            _ => None,
        })
}

/// The authority key identifier's keyIdentifier, if present.
pub fn authority_key_id<'a>(cert: &'a X509Certificate<'_>) -> Option<&'a [u8]> {
    cert.iter_extensions()
        .find_map(|extension| match extension.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                aki.key_identifier.as_ref().map(|id| id.0)
            }
            _ => None,
        })
}

/// How `child`'s AKI relates to `parent`'s SKI: both present and equal, both present and
/// different, or not comparable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyIdMatch {
    Match,
    Unknown,
    Mismatch,
}

pub fn key_id_match(child: &X509Certificate<'_>, parent: &X509Certificate<'_>) -> KeyIdMatch {
    match (authority_key_id(child), subject_key_id(parent)) {
        (Some(aki), Some(ski)) if aki == ski => KeyIdMatch::Match,
        (Some(_), Some(_)) => KeyIdMatch::Mismatch,
        _ => KeyIdMatch::Unknown,
    }
}

/// Self-issued (subject == issuer) and signed by its own key.
pub fn is_self_signed(cert: &X509Certificate<'_>) -> bool {
    names_chain(cert, cert) && cert.verify_signature(None).is_ok()
}

/// The signature algorithms that hash with SHA-1 (RSA, ECDSA, DSA), by OID.
const SHA1_SIGNATURES: [&str; 4] = [
    "1.2.840.113549.1.1.5",
    "1.3.14.3.2.29",
    "1.2.840.10045.4.1",
    "1.2.840.10040.4.3",
];

pub fn signed_with_sha1(cert: &X509Certificate<'_>) -> bool {
    SHA1_SIGNATURES.contains(&cert.signature_algorithm.algorithm.to_id_string().as_str())
}

/// `child` is signed by `parent`'s key. Checked by x509-parser (ring); a SHA-1 signature is
/// refused unless `allow_sha1`, and then checked by OpenSSL, because ring verifies no ECDSA
/// with SHA-1.
pub fn signed_by(
    child: &X509Certificate<'_>,
    parent: &X509Certificate<'_>,
    allow_sha1: bool,
    cache: Option<&SignatureCache>,
) -> Result<(), Problem> {
    let refuse = |reason: String| {
        Problem::new(
            RejectKind::BadSignature,
            format!(
                "{} is not signed by {}: {reason}",
                label(child),
                label(parent)
            ),
        )
    };
    if signed_with_sha1(child) && !allow_sha1 {
        return Err(refuse("SHA-1 signatures are refused".into()));
    }
    match cache {
        Some(cache) => cache.verifies(child, parent),
        None => signature_verifies(child, parent),
    }
    .map_err(refuse)
}

pub fn within_validity(cert: &X509Certificate<'_>, at: ASN1Time) -> Result<(), Problem> {
    let validity = cert.validity();
    if at < validity.not_before {
        Err(Problem::new(
            RejectKind::NotYetValid,
            format!(
                "{} is not valid before {}",
                label(cert),
                validity.not_before
            ),
        ))
    } else if at > validity.not_after {
        Err(Problem::new(
            RejectKind::Expired,
            format!("{} expired at {}", label(cert), validity.not_after),
        ))
    } else {
        Ok(())
    }
}

/// basicConstraints: `Some(path length limit)` when the certificate is a CA.
pub fn ca_path_len(cert: &X509Certificate<'_>) -> Result<Option<u32>, Problem> {
    match cert.basic_constraints() {
        Ok(Some(bc)) if bc.value.ca => Ok(Some(bc.value.path_len_constraint.unwrap_or(u32::MAX))),
        Ok(_) => Err(Problem::new(
            RejectKind::ConstraintViolation,
            format!(
                "{} is not a CA (basicConstraints cA false or absent)",
                label(cert)
            ),
        )),
        Err(error) => Err(Problem::new(
            RejectKind::Other,
            format!("{}: bad basicConstraints: {error}", label(cert)),
        )),
    }
}

/// An issuer's keyUsage, when present, must allow keyCertSign.
pub fn may_sign_certificates(cert: &X509Certificate<'_>) -> Result<(), Problem> {
    match cert.key_usage() {
        Ok(Some(usage)) if !usage.value.key_cert_sign() => Err(Problem::new(
            RejectKind::Usage,
            format!("{}: keyUsage lacks keyCertSign", label(cert)),
        )),
        Ok(_) => Ok(()),
        Err(error) => Err(Problem::new(
            RejectKind::Other,
            format!("{}: bad keyUsage: {error}", label(cert)),
        )),
    }
}

/// extendedKeyUsage, when present, must contain the purpose `usage` implies and every extra
/// name limbo asks for.
pub fn allows_usage(
    cert: &X509Certificate<'_>,
    usage: Usage,
    required: &[String],
) -> Result<(), Problem> {
    let eku = match cert.extended_key_usage() {
        Ok(Some(eku)) => eku.value,
        Ok(None) => return Ok(()),
        Err(error) => {
            return Err(Problem::new(
                RejectKind::Other,
                format!("{}: bad extendedKeyUsage: {error}", label(cert)),
            ))
        }
    };
    let has = |name: &str| match name {
        "serverAuth" => eku.server_auth,
        "clientAuth" => eku.client_auth,
        "codeSigning" => eku.code_signing,
        "emailProtection" => eku.email_protection,
        "timeStamping" => eku.time_stamping,
        "OCSPSigning" => eku.ocsp_signing,
        "anyExtendedKeyUsage" => eku.any,
        _ => false,
    };
    let implied = match usage {
        Usage::ServerAuth => "serverAuth",
        Usage::ClientAuth => "clientAuth",
    };
    match std::iter::once(implied)
        .chain(required.iter().map(String::as_str))
        .find(|name| !has(name))
    {
        Some(missing) => Err(Problem::new(
            RejectKind::Usage,
            format!("{}: extendedKeyUsage lacks {missing}", label(cert)),
        )),
        None => Ok(()),
    }
}

/// The subjectAltName entries, or an empty list.
fn alt_names<'a>(cert: &'a X509Certificate<'_>) -> Vec<&'a GeneralName<'a>> {
    match cert.subject_alternative_name() {
        Ok(Some(san)) => san.value.general_names.iter().collect(),
        _ => Vec::new(),
    }
}

/// The peer proves `name`: a DNS name against the dNSName entries (left-most label wildcard
/// allowed), an IP address against the iPAddress entries, an e-mail against rfc822Name.
///
/// `common_name_fallback`: with no dNSName at all, a DNS name may match a subject CN.
/// `empty_subject_refused`: a peer with an empty subject proves no name.
pub fn proves_name(
    cert: &X509Certificate<'_>,
    name: &PeerName,
    common_name_fallback: bool,
    empty_subject_refused: bool,
) -> Result<(), Problem> {
    let names = alt_names(cert);
    let has_dns = names
        .iter()
        .any(|entry| matches!(entry, GeneralName::DNSName(_)));
    let empty_subject = cert.subject().iter_attributes().next().is_none();
    let proved = match name {
        _ if empty_subject_refused && empty_subject => false,
        PeerName::Dns(dns) if common_name_fallback && !has_dns => cert
            .subject()
            .iter_common_name()
            .filter_map(|cn| cn.as_str().ok())
            .any(|cn| dns_matches(cn, dns)),
        PeerName::Dns(dns) => names.iter().any(|entry| match entry {
            GeneralName::DNSName(pattern) => dns_matches(pattern, dns),
            _ => false,
        }),
        PeerName::Ip(address) => names.iter().any(|entry| match entry {
            GeneralName::IPAddress(bytes) => ip_matches(bytes, *address),
            _ => false,
        }),
        PeerName::Rfc822(email) => names.iter().any(|entry| match entry {
            GeneralName::RFC822Name(value) => value.eq_ignore_ascii_case(email),
            _ => false,
        }),
    };
    if proved {
        Ok(())
    } else {
        Err(Problem::new(
            RejectKind::NameMismatch,
            format!("{} is not valid for {name:?}", label(cert)),
        ))
    }
}

/// The peer's names (dNSName and iPAddress entries) fall inside `issuer`'s name constraints.
/// More than `budget` (name, constraint) pairs, counting every subjectAltName entry and
/// subject attribute against every subtree, is refused as a denial of service.
pub fn within_name_constraints(
    issuer: &X509Certificate<'_>,
    peer: &X509Certificate<'_>,
    budget: u32,
) -> Result<(), Problem> {
    let constraints = match issuer.name_constraints() {
        Ok(Some(constraints)) => constraints.value,
        Ok(None) => return Ok(()),
        Err(error) => {
            return Err(Problem::new(
                RejectKind::Other,
                format!("{}: bad nameConstraints: {error}", label(issuer)),
            ))
        }
    };
    let permitted: Vec<&GeneralName> = constraints
        .permitted_subtrees
        .iter()
        .flatten()
        .map(|subtree| &subtree.base)
        .collect();
    let excluded: Vec<&GeneralName> = constraints
        .excluded_subtrees
        .iter()
        .flatten()
        .map(|subtree| &subtree.base)
        .collect();
    let names = alt_names(peer);
    let name_count = names.len() + peer.subject().iter_attributes().count();
    let cost = (name_count as u64) * ((permitted.len() + excluded.len()) as u64);
    if cost > u64::from(budget) {
        return Err(Problem::new(
            RejectKind::Other,
            format!(
                "{}: name-constraint budget exhausted ({cost} comparisons)",
                label(issuer)
            ),
        ));
    }
    for name in names {
        let same_kind: Vec<&&GeneralName> = permitted
            .iter()
            .filter(|base| std::mem::discriminant(**base) == std::mem::discriminant(name))
            .collect();
        let inside = |base: &GeneralName| subtree_contains(base, name);
        if excluded.iter().any(|base| inside(base))
            || (!same_kind.is_empty() && !same_kind.iter().any(|base| inside(base)))
        {
            return Err(Problem::new(
                RejectKind::ConstraintViolation,
                format!(
                    "{}: {name:?} is outside the name constraints of {}",
                    label(peer),
                    label(issuer)
                ),
            ));
        }
    }
    Ok(())
}

/// RFC 5280 4.2.1.10 for DNS names and IP ranges; other kinds are not constrained here.
fn subtree_contains(base: &GeneralName<'_>, name: &GeneralName<'_>) -> bool {
    match (base, name) {
        (GeneralName::DNSName(base), GeneralName::DNSName(name)) => {
            let base = base.trim_start_matches('.').to_ascii_lowercase();
            let name = name.to_ascii_lowercase();
            base.is_empty() || name == base || name.ends_with(&format!(".{base}"))
        }
        (GeneralName::IPAddress(range), GeneralName::IPAddress(address))
            if range.len() == 2 * address.len() =>
        {
            let (network, mask) = range.split_at(address.len());
            address
                .iter()
                .zip(network.iter().zip(mask))
                .all(|(a, (n, m))| a & m == n & m)
        }
        _ => false,
    }
}

/// RFC 6125 matching: case-insensitive, a `*` only as the whole left-most label, matching
/// exactly one label.
pub fn dns_matches(pattern: &str, name: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(rest) if !rest.contains('*') && rest.contains('.') => name
            .split_once('.')
            .is_some_and(|(first, tail)| !first.is_empty() && tail == rest),
        _ => !pattern.contains('*') && pattern == name,
    }
}

fn ip_matches(bytes: &[u8], address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => bytes == v4.octets(),
        IpAddr::V6(v6) => bytes == v6.octets(),
    }
}

/// The caIssuers URLs of the AIA extension, in order.
pub fn ca_issuers_urls<'a>(cert: &'a X509Certificate<'_>) -> Vec<&'a str> {
    cert.iter_extensions()
        .filter_map(|extension| match extension.parsed_extension() {
            ParsedExtension::AuthorityInfoAccess(aia) => Some(aia),
            _ => None,
        })
        .flat_map(|aia| aia.accessdescs.iter())
        .filter(|description| description.access_method == OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS)
        .filter_map(|description| match description.access_location {
            GeneralName::URI(url) => Some(url),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_exactly_one_left_most_label() {
        assert!(dns_matches("*.example.com", "www.example.com"));
        assert!(dns_matches("WWW.Example.com", "www.example.COM."));
        assert!(!dns_matches("*.example.com", "example.com"));
        assert!(!dns_matches("*.example.com", "a.b.example.com"));
        assert!(!dns_matches("*.com", "example.com"));
        assert!(!dns_matches("w*.example.com", "www.example.com"));
        assert!(!dns_matches("www.example.com", "example.com"));
    }

    #[test]
    fn dns_subtrees_contain_the_name_and_its_subdomains() {
        let base = GeneralName::DNSName("example.com");
        assert!(subtree_contains(
            &base,
            &GeneralName::DNSName("example.com")
        ));
        assert!(subtree_contains(
            &base,
            &GeneralName::DNSName("a.Example.com")
        ));
        assert!(!subtree_contains(
            &base,
            &GeneralName::DNSName("badexample.com")
        ));
        let range = GeneralName::IPAddress(&[10, 0, 0, 0, 255, 0, 0, 0]);
        assert!(subtree_contains(
            &range,
            &GeneralName::IPAddress(&[10, 1, 2, 3])
        ));
        assert!(!subtree_contains(
            &range,
            &GeneralName::IPAddress(&[11, 1, 2, 3])
        ));
    }

    #[test]
    fn ip_addresses_compare_as_bytes() {
        assert!(ip_matches(&[127, 0, 0, 1], "127.0.0.1".parse().unwrap()));
        assert!(!ip_matches(&[127, 0, 0, 2], "127.0.0.1".parse().unwrap()));
    }
}
