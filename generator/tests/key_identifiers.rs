//! Explicit and omitted key identifiers, and a derived AKI under an issuer whose SKI is explicit
//! or omitted, read back with x509-parser and verified with OpenSSL.

mod common;

use std::path::Path;

use anchorsmith_generator::{generate, parse_topology, GenerateOptions};

const TOPOLOGY: &str = r#"
[keys]
root = "ecdsa-p384"
ca = "ecdsa-p256"
leaf = "ed25519"

[[cert]]
id = "root"
subject = "CN=Explicit SKI Root (test)"
key = "root"
issuer = "self"
not_before = "2024-01-01T00:00:00Z"
not_after = "2044-01-01T00:00:00Z"
serial = "0100"
signature_hash = "sha256"
[cert.extensions]
basic_constraints = { ca = true }
subject_key_identifier = "0a:0b:0c:0d"
authority_key_identifier = "omit"

[[cert]]
id = "ca"
subject = "CN=No SKI CA (test)"
key = "ca"
issuer = "root"
not_before = "2024-01-01T00:00:00Z"
not_after = "2034-01-01T00:00:00Z"
serial = "0200"
signature_hash = "sha384"
[cert.extensions]
basic_constraints = { ca = true, path_len = 0, critical = false }
subject_key_identifier = "omit"
name_constraints = { permitted_dns = ["example.test"], permitted_ip = ["192.0.2.0/24"], excluded_dns = ["bad.example.test"], critical = false }

[[cert]]
id = "leaf"
subject = { }
key = "leaf"
issuer = "ca"
not_before = "2024-01-01T00:00:00Z"
not_after = "2024-04-01T00:00:00Z"
serial = "0300"
[cert.extensions]
subject_alt_name = { dns = ["www.example.test"] }
authority_key_identifier = "ffee"
"#;

#[test]
fn key_identifiers_follow_the_topology() {
    let topology = parse_topology(TOPOLOGY, Path::new("key_identifiers.toml")).unwrap();
    let pki = generate(&topology, &GenerateOptions::default()).unwrap();
    common::assert_pki_matches(&topology, &pki);

    let (root, ca, leaf) = (
        pki.get("root").unwrap(),
        pki.get("ca").unwrap(),
        pki.get("leaf").unwrap(),
    );
    assert_eq!(
        root.subject_key_identifier.as_deref(),
        Some(&[0x0a, 0x0b, 0x0c, 0x0d][..])
    );
    assert_eq!(root.authority_key_identifier, None);
    // The CA's derived AKI is the root's explicit SKI.
    assert_eq!(ca.authority_key_identifier, root.subject_key_identifier);
    assert_eq!(ca.subject_key_identifier, None);
    assert_eq!(
        leaf.authority_key_identifier.as_deref(),
        Some(&[0xff, 0xee][..])
    );
    // An empty subject makes the SAN critical by default (RFC 5280 4.2.1.6).
    assert!(
        topology
            .cert("leaf")
            .unwrap()
            .extensions
            .subject_alt_name
            .as_ref()
            .unwrap()
            .critical
    );
    assert_eq!(leaf.subject, "");
}
