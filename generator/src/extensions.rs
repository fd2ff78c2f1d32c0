//! X.509 extension encodings for one certificate, in a fixed order (the order Let's Encrypt
//! certificates use): keyUsage, extKeyUsage, basicConstraints, subjectKeyIdentifier,
//! authorityKeyIdentifier, authorityInfoAccess, subjectAltName, nameConstraints.

use std::net::IpAddr;

use crate::der;
use crate::topology::{CertSpec, IpSubnet, KeyIdentifier};

/// One extension: OID arcs, criticality and the DER of extnValue's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Extension {
    pub oid: &'static [u64],
    pub critical: bool,
    pub value: Vec<u8>,
}

const KEY_USAGE: &[u64] = &[2, 5, 29, 15];
const EXT_KEY_USAGE: &[u64] = &[2, 5, 29, 37];
const BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];
const SUBJECT_KEY_IDENTIFIER: &[u64] = &[2, 5, 29, 14];
const AUTHORITY_KEY_IDENTIFIER: &[u64] = &[2, 5, 29, 35];
const AUTHORITY_INFO_ACCESS: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];
const CA_ISSUERS: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 48, 2];
const SUBJECT_ALT_NAME: &[u64] = &[2, 5, 29, 17];
const NAME_CONSTRAINTS: &[u64] = &[2, 5, 29, 30];

/// GeneralName context tags (RFC 5280 4.2.1.6), IMPLICIT primitive.
const DNS_NAME: u8 = 0x82;
const URI: u8 = 0x86;
const IP_ADDRESS: u8 = 0x87;

/// The key identifiers resolved for one certificate: `None` means the extension is omitted.
pub(crate) struct KeyIdentifiers {
    pub subject: Option<Vec<u8>>,
    pub authority: Option<Vec<u8>>,
}

/// Resolve `subject_key_identifier` / `authority_key_identifier`. A derived AKI is the issuer's
/// SKI as that certificate declares it; when the issuer omits its SKI, the issuer key's
/// method-1 identifier (what its SKI would have been).
pub(crate) fn key_identifiers(
    cert: &CertSpec,
    subject_key_id: &[u8],
    issuer: &CertSpec,
    issuer_key_id: &[u8],
) -> KeyIdentifiers {
    let subject = match &cert.extensions.subject_key_identifier {
        KeyIdentifier::Derived => Some(subject_key_id.to_vec()),
        KeyIdentifier::Omit => None,
        KeyIdentifier::Explicit(bytes) => Some(bytes.clone()),
    };
    let issuer_ski = match &issuer.extensions.subject_key_identifier {
        KeyIdentifier::Explicit(bytes) => bytes.clone(),
        KeyIdentifier::Derived | KeyIdentifier::Omit => issuer_key_id.to_vec(),
    };
    let authority = match &cert.extensions.authority_key_identifier {
        KeyIdentifier::Derived => Some(issuer_ski),
        KeyIdentifier::Omit => None,
        KeyIdentifier::Explicit(bytes) => Some(bytes.clone()),
    };
    KeyIdentifiers { subject, authority }
}

/// Every extension of `cert`, encoded.
pub(crate) fn encode_all(cert: &CertSpec, key_ids: &KeyIdentifiers) -> Vec<Extension> {
    let extensions = &cert.extensions;
    let mut out = Vec::new();
    if let Some(ku) = &extensions.key_usage {
        let bits: Vec<u8> = ku.usages.iter().map(|usage| *usage as u8).collect();
        out.push(Extension {
            oid: KEY_USAGE,
            critical: ku.critical,
            value: der::named_bit_string(&bits),
        });
    }
    if let Some(eku) = &extensions.ext_key_usage {
        let purposes: Vec<Vec<u8>> = eku
            .usages
            .iter()
            .map(|usage| der::oid(usage.oid()))
            .collect();
        out.push(Extension {
            oid: EXT_KEY_USAGE,
            critical: eku.critical,
            value: der::sequence(&purposes),
        });
    }
    if let Some(bc) = &extensions.basic_constraints {
        // cA DEFAULT FALSE: DER omits a default value.
        let mut fields = Vec::new();
        if bc.ca {
            fields.push(der::boolean(true));
        }
        if let Some(path_len) = bc.path_len {
            fields.push(der::unsigned_integer(path_len.into()));
        }
        out.push(Extension {
            oid: BASIC_CONSTRAINTS,
            critical: bc.critical,
            value: der::sequence(&fields),
        });
    }
    if let Some(ski) = &key_ids.subject {
        out.push(Extension {
            oid: SUBJECT_KEY_IDENTIFIER,
            critical: false,
            value: der::octet_string(ski),
        });
    }
    if let Some(aki) = &key_ids.authority {
        // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING, ... }
        let value = der::sequence(&[der::tlv(0x80, aki)]);
        out.push(Extension {
            oid: AUTHORITY_KEY_IDENTIFIER,
            critical: false,
            value,
        });
    }
    if let Some(url) = &extensions.aia_ca_issuers {
        let access_description =
            der::sequence(&[der::oid(CA_ISSUERS), der::tlv(URI, url.as_bytes())]);
        out.push(Extension {
            oid: AUTHORITY_INFO_ACCESS,
            critical: false,
            value: der::sequence(&[access_description]),
        });
    }
    if let Some(san) = &extensions.subject_alt_name {
        let mut names: Vec<Vec<u8>> = san
            .dns
            .iter()
            .map(|dns| der::tlv(DNS_NAME, dns.as_bytes()))
            .collect();
        names.extend(
            san.ip
                .iter()
                .map(|ip| der::tlv(IP_ADDRESS, &ip_octets(*ip))),
        );
        out.push(Extension {
            oid: SUBJECT_ALT_NAME,
            critical: san.critical,
            value: der::sequence(&names),
        });
    }
    if let Some(nc) = &extensions.name_constraints {
        let mut fields = Vec::new();
        let permitted = general_subtrees(&nc.permitted_dns, &nc.permitted_ip);
        if !permitted.is_empty() {
            fields.push(der::tlv(0xa0, &permitted.concat()));
        }
        let excluded = general_subtrees(&nc.excluded_dns, &nc.excluded_ip);
        if !excluded.is_empty() {
            fields.push(der::tlv(0xa1, &excluded.concat()));
        }
        out.push(Extension {
            oid: NAME_CONSTRAINTS,
            critical: nc.critical,
            value: der::sequence(&fields),
        });
    }
    out
}

/// GeneralSubtree ::= SEQUENCE { base GeneralName } (minimum 0 and no maximum, as RFC 5280 requires).
fn general_subtrees(dns: &[String], ip: &[IpSubnet]) -> Vec<Vec<u8>> {
    let mut subtrees: Vec<Vec<u8>> = dns
        .iter()
        .map(|name| der::sequence(&[der::tlv(DNS_NAME, name.as_bytes())]))
        .collect();
    subtrees.extend(ip.iter().map(|subnet| {
        let mut address_and_mask = ip_octets(subnet.address);
        address_and_mask.extend(prefix_mask(subnet.prefix, address_and_mask.len()));
        der::sequence(&[der::tlv(IP_ADDRESS, &address_and_mask)])
    }));
    subtrees
}

fn ip_octets(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

fn prefix_mask(prefix: u8, length: usize) -> Vec<u8> {
    (0..length)
        .map(|index| {
            let bits_in_byte = (prefix as usize).saturating_sub(index * 8).min(8);
            (0xff00u16 >> bits_in_byte) as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_cover_the_prefix() {
        assert_eq!(prefix_mask(8, 4), vec![0xff, 0, 0, 0]);
        assert_eq!(prefix_mask(20, 4), vec![0xff, 0xff, 0xf0, 0]);
        assert_eq!(prefix_mask(32, 4), vec![0xff; 4]);
        assert_eq!(prefix_mask(0, 4), vec![0; 4]);
    }
}
