//! Shared checks for integration tests: read each generated certificate back with x509-parser
//! and compare it with its `CertSpec`, and verify each signature with OpenSSL (not our code).

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anchorsmith_generator::{
    CertSpec, ExtendedKeyUsage, GeneratedCert, KeyIdentifier, KeyUsage, NameAttribute, Pki,
    SignatureAlgorithm, Topology,
};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::*;

/// The `toml` block of `generator/README.md`: the worked example must stay valid.
pub fn readme_example() -> String {
    let readme = include_str!("../../README.md");
    let start = readme.find("```toml\n").expect("README has a toml block") + "```toml\n".len();
    let end = start + readme[start..].find("```").expect("toml block is closed");
    readme[start..end].to_string()
}

pub fn readme_origin() -> PathBuf {
    PathBuf::from("generator/README.md")
}

fn attribute_oid(attribute: NameAttribute) -> &'static str {
    match attribute {
        NameAttribute::Country => "2.5.4.6",
        NameAttribute::StateOrProvince => "2.5.4.8",
        NameAttribute::Locality => "2.5.4.7",
        NameAttribute::Organization => "2.5.4.10",
        NameAttribute::OrganizationalUnit => "2.5.4.11",
        NameAttribute::CommonName => "2.5.4.3",
    }
}

fn name_attributes(name: &X509Name<'_>) -> Vec<(String, String)> {
    name.iter_rdn()
        .map(|rdn| {
            let attributes: Vec<_> = rdn.iter().collect();
            assert_eq!(attributes.len(), 1, "one attribute per RDN");
            let attribute = attributes[0];
            (
                attribute.attr_type().to_id_string(),
                attribute.as_str().expect("string attribute").to_string(),
            )
        })
        .collect()
}

fn spec_attributes(spec: &CertSpec) -> Vec<(String, String)> {
    spec.subject
        .attributes
        .iter()
        .map(|(a, v)| (attribute_oid(*a).to_string(), v.clone()))
        .collect()
}

fn signature_oid(algorithm: SignatureAlgorithm) -> &'static str {
    match algorithm {
        SignatureAlgorithm::RsaSha1 => "1.2.840.113549.1.1.5",
        SignatureAlgorithm::RsaSha256 => "1.2.840.113549.1.1.11",
        SignatureAlgorithm::RsaSha384 => "1.2.840.113549.1.1.12",
        SignatureAlgorithm::EcdsaSha256 => "1.2.840.10045.4.3.2",
        SignatureAlgorithm::EcdsaSha384 => "1.2.840.10045.4.3.3",
        SignatureAlgorithm::Ed25519 => "1.3.101.112",
    }
}

fn key_usage_set(ku: &x509_parser::extensions::KeyUsage) -> Vec<KeyUsage> {
    let checks = [
        (ku.digital_signature(), KeyUsage::DigitalSignature),
        (ku.non_repudiation(), KeyUsage::ContentCommitment),
        (ku.key_encipherment(), KeyUsage::KeyEncipherment),
        (ku.data_encipherment(), KeyUsage::DataEncipherment),
        (ku.key_agreement(), KeyUsage::KeyAgreement),
        (ku.key_cert_sign(), KeyUsage::KeyCertSign),
        (ku.crl_sign(), KeyUsage::CrlSign),
        (ku.encipher_only(), KeyUsage::EncipherOnly),
        (ku.decipher_only(), KeyUsage::DecipherOnly),
    ];
    checks
        .into_iter()
        .filter(|(set, _)| *set)
        .map(|(_, usage)| usage)
        .collect()
}

fn eku_set(eku: &x509_parser::extensions::ExtendedKeyUsage<'_>) -> Vec<ExtendedKeyUsage> {
    assert!(eku.other.is_empty(), "unexpected EKU OIDs {:?}", eku.other);
    let checks = [
        (eku.server_auth, ExtendedKeyUsage::ServerAuth),
        (eku.client_auth, ExtendedKeyUsage::ClientAuth),
        (eku.code_signing, ExtendedKeyUsage::CodeSigning),
        (eku.email_protection, ExtendedKeyUsage::EmailProtection),
        (eku.time_stamping, ExtendedKeyUsage::TimeStamping),
        (eku.ocsp_signing, ExtendedKeyUsage::OcspSigning),
        (eku.any, ExtendedKeyUsage::Any),
    ];
    checks
        .into_iter()
        .filter(|(set, _)| *set)
        .map(|(_, usage)| usage)
        .collect()
}

fn sorted<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    let mut items = items.to_vec();
    items.sort();
    items
}

fn key_usage_order(usage: &KeyUsage) -> u8 {
    *usage as u8
}

/// Every field of `generated` as x509-parser reads it equals what `spec` declares.
pub fn assert_matches_spec(topology: &Topology, spec: &CertSpec, generated: &GeneratedCert) {
    let id = &spec.id;
    let (rest, cert) =
        X509Certificate::from_der(&generated.der).unwrap_or_else(|e| panic!("{id}: {e}"));
    assert!(rest.is_empty(), "{id}: trailing bytes");
    let issuer = topology.cert(&spec.issuer_id).expect("issuer");

    assert_eq!(cert.version(), X509Version::V3, "{id}: version");
    assert_eq!(
        name_attributes(cert.subject()),
        spec_attributes(spec),
        "{id}: subject"
    );
    assert_eq!(
        name_attributes(cert.issuer()),
        spec_attributes(issuer),
        "{id}: issuer"
    );
    assert_eq!(
        cert.tbs_certificate.serial.to_bytes_be(),
        spec.serial,
        "{id}: serial"
    );
    assert_eq!(
        cert.validity().not_before.to_datetime(),
        spec.not_before,
        "{id}: not_before"
    );
    assert_eq!(
        cert.validity().not_after.to_datetime(),
        spec.not_after,
        "{id}: not_after"
    );
    assert_eq!(
        cert.signature_algorithm.algorithm.to_id_string(),
        signature_oid(spec.signature_algorithm),
        "{id}: outer signature algorithm"
    );
    assert_eq!(
        cert.tbs_certificate.signature.algorithm.to_id_string(),
        signature_oid(spec.signature_algorithm),
        "{id}: TBS signature algorithm"
    );
    assert_eq!(
        generated.subject,
        spec.subject_dn(),
        "{id}: GeneratedCert.subject"
    );
    assert_eq!(generated.self_signed, spec.self_signed);

    let mut seen: HashMap<String, (bool, ParsedExtension<'_>)> = HashMap::new();
    for extension in cert.extensions() {
        let previous = seen.insert(
            extension.oid.to_id_string(),
            (extension.critical, extension.parsed_extension().clone()),
        );
        assert!(
            previous.is_none(),
            "{id}: duplicate extension {}",
            extension.oid
        );
        assert!(
            !matches!(
                extension.parsed_extension(),
                ParsedExtension::UnsupportedExtension { .. } | ParsedExtension::ParseError { .. }
            ),
            "{id}: extension {} did not parse: {:?}",
            extension.oid,
            extension.parsed_extension()
        );
    }
    let mut expected_count = 0;
    let extensions = &spec.extensions;

    match (&extensions.basic_constraints, seen.get("2.5.29.19")) {
        (None, None) => {}
        (Some(bc), Some((critical, ParsedExtension::BasicConstraints(parsed)))) => {
            expected_count += 1;
            assert_eq!(
                (parsed.ca, parsed.path_len_constraint, *critical),
                (bc.ca, bc.path_len, bc.critical),
                "{id}: basicConstraints"
            );
        }
        other => panic!("{id}: basicConstraints mismatch {other:?}"),
    }
    match (&extensions.key_usage, seen.get("2.5.29.15")) {
        (None, None) => {}
        (Some(ku), Some((critical, ParsedExtension::KeyUsage(parsed)))) => {
            expected_count += 1;
            let mut declared = ku.usages.clone();
            declared.sort_by_key(key_usage_order);
            assert_eq!(key_usage_set(parsed), declared, "{id}: keyUsage");
            assert_eq!(*critical, ku.critical, "{id}: keyUsage critical");
        }
        other => panic!("{id}: keyUsage mismatch {other:?}"),
    }
    match (&extensions.ext_key_usage, seen.get("2.5.29.37")) {
        (None, None) => {}
        (Some(eku), Some((critical, ParsedExtension::ExtendedKeyUsage(parsed)))) => {
            expected_count += 1;
            let declared: Vec<String> = sorted(
                &eku.usages
                    .iter()
                    .map(|u| format!("{u:?}"))
                    .collect::<Vec<_>>(),
            );
            let found: Vec<String> = sorted(
                &eku_set(parsed)
                    .iter()
                    .map(|u| format!("{u:?}"))
                    .collect::<Vec<_>>(),
            );
            assert_eq!(found, declared, "{id}: extKeyUsage");
            assert_eq!(*critical, eku.critical, "{id}: extKeyUsage critical");
        }
        other => panic!("{id}: extKeyUsage mismatch {other:?}"),
    }
    match (&extensions.subject_alt_name, seen.get("2.5.29.17")) {
        (None, None) => {}
        (Some(san), Some((critical, ParsedExtension::SubjectAlternativeName(parsed)))) => {
            expected_count += 1;
            let mut dns = Vec::new();
            let mut ips = Vec::new();
            for name in &parsed.general_names {
                match name {
                    GeneralName::DNSName(value) => dns.push(value.to_string()),
                    GeneralName::IPAddress(bytes) => ips.push(ip_from_bytes(bytes)),
                    other => panic!("{id}: unexpected SAN {other:?}"),
                }
            }
            assert_eq!(dns, san.dns, "{id}: SAN dns");
            assert_eq!(ips, san.ip, "{id}: SAN ip");
            assert_eq!(*critical, san.critical, "{id}: SAN critical");
        }
        other => panic!("{id}: subjectAltName mismatch {other:?}"),
    }
    let expected_ski = match &extensions.subject_key_identifier {
        KeyIdentifier::Omit => None,
        KeyIdentifier::Explicit(bytes) => Some(bytes.clone()),
        KeyIdentifier::Derived => {
            // RFC 5280 method 1: SHA-1 of the subjectPublicKey BIT STRING contents.
            use sha1::Digest;
            Some(sha1::Sha1::digest(cert.public_key().subject_public_key.data.as_ref()).to_vec())
        }
    };
    match (expected_ski, seen.get("2.5.29.14")) {
        (None, None) => {}
        (Some(expected), Some((critical, ParsedExtension::SubjectKeyIdentifier(parsed)))) => {
            expected_count += 1;
            assert_eq!(parsed.0, expected.as_slice(), "{id}: SKI");
            assert!(!critical, "{id}: SKI must not be critical");
            assert_eq!(
                generated.subject_key_identifier.as_deref(),
                Some(expected.as_slice())
            );
        }
        other => panic!("{id}: SKI mismatch {other:?}"),
    }
    match (&extensions.authority_key_identifier, seen.get("2.5.29.35")) {
        (KeyIdentifier::Omit, None) => {}
        (declared, Some((critical, ParsedExtension::AuthorityKeyIdentifier(parsed)))) => {
            expected_count += 1;
            assert!(!critical, "{id}: AKI must not be critical");
            let key_id = parsed.key_identifier.as_ref().expect("AKI keyIdentifier").0;
            if let KeyIdentifier::Explicit(bytes) = declared {
                assert_eq!(key_id, bytes.as_slice(), "{id}: explicit AKI");
            }
            assert!(
                parsed.authority_cert_issuer.is_none() && parsed.authority_cert_serial.is_none()
            );
            assert_eq!(generated.authority_key_identifier.as_deref(), Some(key_id));
        }
        other => panic!("{id}: AKI mismatch {other:?}"),
    }
    match (&extensions.aia_ca_issuers, seen.get("1.3.6.1.5.5.7.1.1")) {
        (None, None) => {}
        (Some(url), Some((critical, ParsedExtension::AuthorityInfoAccess(parsed)))) => {
            expected_count += 1;
            assert!(!critical);
            assert_eq!(parsed.accessdescs.len(), 1);
            assert_eq!(
                parsed.accessdescs[0].access_method.to_id_string(),
                "1.3.6.1.5.5.7.48.2"
            );
            assert_eq!(
                parsed.accessdescs[0].access_location,
                GeneralName::URI(url),
                "{id}: AIA"
            );
        }
        other => panic!("{id}: AIA mismatch {other:?}"),
    }
    match (&extensions.name_constraints, seen.get("2.5.29.30")) {
        (None, None) => {}
        (Some(nc), Some((critical, ParsedExtension::NameConstraints(parsed)))) => {
            expected_count += 1;
            assert_eq!(*critical, nc.critical);
            let render = |subtrees: &Option<Vec<x509_parser::extensions::GeneralSubtree<'_>>>| -> Vec<String> {
                subtrees
                    .iter()
                    .flatten()
                    .map(|subtree| match &subtree.base {
                        GeneralName::DNSName(name) => format!("dns:{name}"),
                        GeneralName::IPAddress(bytes) => format!("ip:{}", hex::encode(bytes)),
                        other => panic!("unexpected subtree {other:?}"),
                    })
                    .collect()
            };
            let expected =
                |dns: &[String], ip: &[anchorsmith_generator::IpSubnet]| -> Vec<String> {
                    let mut out: Vec<String> = dns.iter().map(|d| format!("dns:{d}")).collect();
                    out.extend(ip.iter().map(|subnet| {
                        let address = match subnet.address {
                            IpAddr::V4(v4) => v4.octets().to_vec(),
                            IpAddr::V6(v6) => v6.octets().to_vec(),
                        };
                        let bits = address.len() * 8;
                        let mask: Vec<u8> = (0..address.len())
                            .map(|i| {
                                let set = (subnet.prefix as usize).saturating_sub(i * 8).min(8);
                                (0xffu16 << (8 - set)) as u8
                            })
                            .collect();
                        assert!(bits >= subnet.prefix as usize);
                        format!("ip:{}{}", hex::encode(address), hex::encode(mask))
                    }));
                    out
                };
            assert_eq!(
                render(&parsed.permitted_subtrees),
                expected(&nc.permitted_dns, &nc.permitted_ip),
                "{id}: permitted"
            );
            assert_eq!(
                render(&parsed.excluded_subtrees),
                expected(&nc.excluded_dns, &nc.excluded_ip),
                "{id}: excluded"
            );
        }
        other => panic!("{id}: nameConstraints mismatch {other:?}"),
    }
    assert_eq!(
        seen.len(),
        expected_count,
        "{id}: unexpected extra extensions {:?}",
        seen.keys().collect::<Vec<_>>()
    );
}

fn ip_from_bytes(bytes: &[u8]) -> IpAddr {
    match bytes.len() {
        4 => IpAddr::from(<[u8; 4]>::try_from(bytes).unwrap()),
        16 => IpAddr::from(<[u8; 16]>::try_from(bytes).unwrap()),
        n => panic!("IP address of {n} bytes"),
    }
}

/// OpenSSL (not our code) verifies the signature of `cert` under `issuer`'s public key.
pub fn assert_openssl_verifies(cert: &GeneratedCert, issuer: &GeneratedCert) {
    let subject = openssl::x509::X509::from_der(&cert.der)
        .unwrap_or_else(|e| panic!("{}: OpenSSL cannot parse: {e}", cert.id));
    let issuer_x509 = openssl::x509::X509::from_der(&issuer.der).expect("issuer parses");
    let issuer_key = issuer_x509.public_key().expect("issuer public key");
    assert!(
        subject.verify(&issuer_key).expect("OpenSSL verify runs"),
        "{}: signature does not verify under {}",
        cert.id,
        issuer.id
    );
    // And OpenSSL reads the PEM as the same certificate.
    let from_pem = openssl::x509::X509::from_pem(cert.pem.as_bytes()).expect("PEM parses");
    assert_eq!(from_pem.to_der().unwrap(), cert.der);
}

/// Every certificate matches its spec, verifies under its issuer, and its AKI equals the
/// issuer's SKI wherever both are present and derived.
pub fn assert_pki_matches(topology: &Topology, pki: &Pki) {
    assert_eq!(
        pki.certs.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        topology.cert_ids().collect::<Vec<_>>()
    );
    for spec in topology.certs() {
        let generated = pki.get(&spec.id).expect("generated");
        let issuer = pki.get(&spec.issuer_id).expect("issuer generated");
        assert_matches_spec(topology, spec, generated);
        assert_openssl_verifies(generated, issuer);
        let issuer_spec = topology.cert(&spec.issuer_id).unwrap();
        let both_derived = spec.extensions.authority_key_identifier == KeyIdentifier::Derived
            && issuer_spec.extensions.subject_key_identifier != KeyIdentifier::Omit;
        if both_derived {
            assert_eq!(
                generated.authority_key_identifier, issuer.subject_key_identifier,
                "{}: AKI != issuer SKI",
                spec.id
            );
        }
    }
}

/// SHA-256 over every file of a directory (names and bytes, sorted by name).
pub fn directory_digest(dir: &Path) -> String {
    use sha2::Digest;
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let mut hasher = sha2::Sha256::new();
    for path in entries {
        hasher.update(path.file_name().unwrap().to_string_lossy().as_bytes());
        hasher.update([0]);
        let bytes = std::fs::read(&path).unwrap();
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    }
    hex::encode(hasher.finalize())
}
