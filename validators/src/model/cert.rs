//! What the client model reads from one certificate, as small pure functions over x509-parser's
//! parsed form. Signatures are checked by the library (`verify_signature`), never by hand.

use std::net::IpAddr;

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_CA_ISSUERS;
use x509_parser::time::ASN1Time;

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

/// `child` is signed by `parent`'s key (x509-parser checks it with ring).
pub fn signed_by(child: &X509Certificate<'_>, parent: &X509Certificate<'_>) -> Result<(), Problem> {
    child
        .verify_signature(Some(parent.public_key()))
        .map_err(|error| {
            Problem::new(
                RejectKind::BadSignature,
                format!(
                    "{} is not signed by {}: {error}",
                    label(child),
                    label(parent)
                ),
            )
        })
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

/// The certificate is a CA (basicConstraints cA true): a leaf that is one is refused by
/// path builders that separate end entities from authorities.
pub fn is_ca(cert: &X509Certificate<'_>) -> bool {
    matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca)
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
pub fn proves_name(cert: &X509Certificate<'_>, name: &PeerName) -> Result<(), Problem> {
    let names = alt_names(cert);
    let proved = match name {
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
    fn ip_addresses_compare_as_bytes() {
        assert!(ip_matches(&[127, 0, 0, 1], "127.0.0.1".parse().unwrap()));
        assert!(!ip_matches(&[127, 0, 0, 2], "127.0.0.1".parse().unwrap()));
    }
}
