//! Every bundle encoder (`bundle/src/encode/`): what it writes, read back, gives its input. The
//! input is a list of anchors (`anchorsmith_fuzz::anchors`); an encoder may refuse them (an
//! `EncodeError`), but what it writes must read back:
//! - pem: the PEM blocks (by the `pem` crate and by the bundle's own reader) are the DERs in order;
//! - der: the files are the distinct DERs, each named after its fingerprint;
//! - c-header, rust: the byte arrays are the DERs in order, the C lengths match;
//! - bearssl-ta: the DN arrays are the subjects in order, and there is one key per anchor;
//! - esp-idf, esp-idf-legacy: read as the device reads them, the roots are the anchors' (subject,
//!   key) pairs sorted by subject, and every byte belongs to one root.
#![no_main]

use anchorsmith_bundle::encode;
use anchorsmith_bundle::Anchor;
use anchorsmith_fuzz::{anchors, byte_arrays, read_esp_idf, read_esp_idf_legacy, EspRoot};
use libfuzzer_sys::fuzz_target;
use x509_parser::prelude::{FromDer, X509Certificate};

fuzz_target!(|data: &[u8]| {
    let anchors = anchors(data);
    let ders: Vec<Vec<u8>> = anchors.iter().map(|a| a.der.clone()).collect();
    check_pem(&anchors, &ders);
    check_der(&anchors, &ders);
    if let Ok(text) = encode::c_header(&anchors) {
        let arrays = byte_arrays(&text, "static const unsigned char anchorsmith_");
        for ((line, bytes), der) in arrays.iter().zip(&ders) {
            assert!(line.contains(&format!("[{}]", der.len())), "{line}");
            assert_eq!(bytes, der);
        }
        assert_eq!(arrays.len(), ders.len());
    }
    if let Ok(text) = encode::rust(&anchors) {
        let arrays: Vec<Vec<u8>> = byte_arrays(&text, "pub const ANCHOR_")
            .into_iter()
            .map(|(_, bytes)| bytes)
            .collect();
        assert_eq!(arrays, ders);
    }
    if let Ok(text) = encode::bearssl_ta(&anchors) {
        let arrays = byte_arrays(&text, "static const unsigned char TA");
        let subjects: Vec<Vec<u8>> = arrays
            .iter()
            .filter(|(line, _)| line.contains("_DN[]"))
            .map(|(_, bytes)| bytes.clone())
            .collect();
        let expected: Vec<Vec<u8>> = anchors.iter().map(|a| subject_and_key(a).0).collect();
        assert_eq!(subjects, expected);
        let keys = arrays
            .iter()
            .filter(|(line, _)| line.contains("_RSA_N[]") || line.contains("_EC_Q[]"))
            .count();
        assert_eq!(keys, anchors.len());
    }
    if let Ok(bytes) = encode::esp_idf(&anchors) {
        assert_eq!(
            read_esp_idf(&bytes).expect("the bundle reads"),
            sorted_roots(&anchors)
        );
    }
    if let Ok(bytes) = encode::esp_idf_legacy(&anchors) {
        assert_eq!(
            read_esp_idf_legacy(&bytes).expect("the legacy bundle reads"),
            sorted_roots(&anchors)
        );
    }
});

fn check_pem(anchors: &[Anchor], ders: &[Vec<u8>]) {
    let text = encode::pem(anchors);
    let blocks: Vec<Vec<u8>> = pem::parse_many(&text)
        .expect("the PEM bundle parses")
        .into_iter()
        .map(|block| block.into_contents())
        .collect();
    assert_eq!(blocks, ders);
    // The bundle's own reader refuses a DER that is not a certificate; when all are, it reads
    // them back too.
    if let Ok(read) = anchorsmith_bundle::load::certificates(std::path::Path::new("b.pem"), &text) {
        let read: Vec<Vec<u8>> = read.into_iter().map(|(der, _)| der).collect();
        assert_eq!(read, ders);
    }
}

fn check_der(anchors: &[Anchor], ders: &[Vec<u8>]) {
    let files = encode::der(anchors);
    for (name, der) in &files {
        let fingerprint = encode::fingerprint(&Anchor {
            name: String::new(),
            der: der.clone(),
        });
        assert!(
            name.starts_with(&format!("{}-", hex(&fingerprint[..8]))),
            "{name}"
        );
        assert!(name.ends_with(".der"), "{name}");
    }
    let mut written: Vec<&Vec<u8>> = files.values().collect();
    written.sort();
    written.dedup();
    let mut given: Vec<&Vec<u8>> = ders.iter().collect();
    given.sort();
    given.dedup();
    assert_eq!(written, given);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The anchor's subject Name DER and SubjectPublicKeyInfo DER (it encoded, so it parses).
fn subject_and_key(anchor: &Anchor) -> EspRoot {
    let (_, cert) = X509Certificate::from_der(&anchor.der).expect("an encoded anchor parses");
    (
        cert.tbs_certificate.subject.as_raw().to_vec(),
        cert.tbs_certificate.subject_pki.raw.to_vec(),
    )
}

fn sorted_roots(anchors: &[Anchor]) -> Vec<EspRoot> {
    let mut roots: Vec<EspRoot> = anchors.iter().map(subject_and_key).collect();
    roots.sort();
    roots
}
