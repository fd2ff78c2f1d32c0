//! The README's worked example: it parses, every certificate reads back as declared and
//! verifies under OpenSSL, and two independent generations (fresh key caches) give identical
//! bytes on disk.

mod common;

use anchorsmith_generator::{
    generate, parse_topology, write_output, GenerateOptions, KeyAlgorithm, SignatureAlgorithm,
};

#[test]
fn readme_example_generates_identical_verified_bytes_twice() {
    let topology = parse_topology(&common::readme_example(), &common::readme_origin())
        .expect("README example is valid");
    assert_eq!(topology.seed(), "anchorsmith-corpus-v1");
    assert_eq!(
        topology.cert_ids().collect::<Vec<_>>(),
        ["dst-root", "isrg-x1", "isrg-x1-by-dst", "r3", "leaf"]
    );
    assert_eq!(topology.keys()["isrg-x1"], KeyAlgorithm::Rsa4096);
    assert_eq!(
        topology.cert("dst-root").unwrap().signature_algorithm,
        SignatureAlgorithm::RsaSha1
    );

    let scratch = tempfile::tempdir().unwrap();
    let mut digests = Vec::new();
    for run in ["first", "second"] {
        let options = GenerateOptions {
            seed_override: None,
            key_cache_dir: Some(scratch.path().join(format!("keys-{run}"))),
        };
        let pki = generate(&topology, &options).unwrap();
        common::assert_pki_matches(&topology, &pki);
        let out = scratch.path().join(format!("out-{run}"));
        write_output(&pki, &out, true, false).unwrap();
        digests.push(common::directory_digest(&out));
    }
    assert_eq!(digests[0], digests[1], "two independent generations differ");

    // Warm cache gives the same bytes too; a different seed gives different keys.
    let warm = GenerateOptions {
        seed_override: None,
        key_cache_dir: Some(scratch.path().join("keys-first")),
    };
    let out = scratch.path().join("out-warm");
    write_output(&generate(&topology, &warm).unwrap(), &out, true, false).unwrap();
    assert_eq!(common::directory_digest(&out), digests[0]);

    // The cross-sign shares subject and key with its twin, and has its own serial.
    let pki = generate(&topology, &warm).unwrap();
    let (x1, cross) = (
        pki.get("isrg-x1").unwrap(),
        pki.get("isrg-x1-by-dst").unwrap(),
    );
    assert_eq!(x1.subject, cross.subject);
    assert_eq!(x1.spki_sha256, cross.spki_sha256);
    assert_eq!(x1.subject_key_identifier, cross.subject_key_identifier);
    assert_ne!(x1.serial_hex, cross.serial_hex);
    assert_eq!(
        cross.authority_key_identifier,
        pki.get("dst-root").unwrap().subject_key_identifier
    );
}
