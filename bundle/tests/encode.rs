//! Every output format parsed back by an independent reader: the ESP-IDF bundles by parsers
//! written here from ESP-IDF's format description (not the encoder's code), the C outputs by the
//! system C compiler (and BearSSL's own headers and library), the PEM by the `pem` crate.

use anchorsmith_bundle::encode::{self, EncodeError, Format};
use anchorsmith_bundle::Anchor;
use std::path::{Path, PathBuf};
use std::process::Command;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The real Let's Encrypt certificates shared by the workspace's tests.
fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/letsencrypt")
}

fn common_name(der: &[u8]) -> String {
    let (_, cert) = X509Certificate::from_der(der).expect("fixture certificate parses");
    let cn = cert.subject().iter_common_name().next();
    cn.and_then(|cn| cn.as_str().ok())
        .expect("fixture has a CN")
        .to_string()
}

fn fixture(file: &str) -> Anchor {
    let path = fixtures_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let der = pem::parse(text).expect("fixture is PEM").into_contents();
    Anchor {
        name: common_name(&der),
        der,
    }
}

/// A self-signed test CA made here, for the key types the fixtures lack.
fn test_ca(cn: &str, alg: &'static rcgen::SignatureAlgorithm) -> Anchor {
    let key = rcgen::KeyPair::generate_for(alg).expect("key generation");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).expect("self-signed CA");
    Anchor {
        name: cn.to_string(),
        der: cert.der().to_vec(),
    }
}

/// RSA 4096 and 2048, ECDSA P-384 (real Let's Encrypt roots and intermediates) and P-256 (made
/// here), in an order that is not the subject order, with two names that give the same C slug.
fn anchors() -> Vec<Anchor> {
    vec![
        fixture("r10.pem"),
        fixture("isrg-root-x2.pem"),
        test_ca("anchorsmith test CA P-256", &rcgen::PKCS_ECDSA_P256_SHA256),
        fixture("isrg-root-x1.pem"),
        test_ca("anchorsmith test-CA p 256", &rcgen::PKCS_ECDSA_P256_SHA256),
        fixture("e5.pem"),
    ]
}

/// [`anchors`] plus one whose name tries to end a C comment and start a directive, which the
/// source formats must keep inside their comments.
fn anchors_with_a_hostile_name() -> Vec<Anchor> {
    let mut anchors = anchors();
    let mut hostile = test_ca(
        "anchorsmith test CA hostile",
        &rcgen::PKCS_ECDSA_P256_SHA256,
    );
    hostile.name = "test */ #error injected\n#error injected\r\n// \u{7f}".to_string();
    anchors.push(hostile);
    anchors
}

/// (subject Name DER, SubjectPublicKeyInfo DER) as x509-parser reads them from the certificate.
fn subject_and_key(anchor: &Anchor) -> (Vec<u8>, Vec<u8>) {
    let (_, cert) = X509Certificate::from_der(&anchor.der).expect("anchor parses");
    (
        cert.subject().as_raw().to_vec(),
        cert.tbs_certificate.subject_pki.raw.to_vec(),
    )
}

/// An independent reader of the current ESP-IDF bundle: little-endian u32 offsets whose first
/// value is the table's size, then per root little-endian u16 name and key lengths and the data.
fn read_esp_idf(bytes: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let u16_at = |at: usize| u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap()) as usize;
    let table = u32_at(0);
    assert!(table > 0 && table % 4 == 0, "first offset {table}");
    let offsets: Vec<usize> = (0..table / 4).map(|i| u32_at(4 * i)).collect();
    let mut expected_start = table;
    let mut roots = Vec::new();
    for offset in offsets {
        assert_eq!(
            offset, expected_start,
            "each offset points right after the previous root"
        );
        let (name_len, key_len) = (u16_at(offset), u16_at(offset + 2));
        let name = &bytes[offset + 4..offset + 4 + name_len];
        let key = &bytes[offset + 4 + name_len..offset + 4 + name_len + key_len];
        roots.push((name.to_vec(), key.to_vec()));
        expected_start = offset + 4 + name_len + key_len;
    }
    assert_eq!(expected_start, bytes.len(), "no bytes after the last root");
    roots
}

/// An independent reader of the legacy ESP-IDF bundle: a big-endian u16 count, then per root
/// big-endian u16 name and key lengths and the data.
fn read_esp_idf_legacy(bytes: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let u16_at = |at: usize| u16::from_be_bytes(bytes[at..at + 2].try_into().unwrap()) as usize;
    let count = u16_at(0);
    let mut at = 2;
    let mut roots = Vec::new();
    for _ in 0..count {
        let (name_len, key_len) = (u16_at(at), u16_at(at + 2));
        at += 4;
        roots.push((
            bytes[at..at + name_len].to_vec(),
            bytes[at + name_len..at + name_len + key_len].to_vec(),
        ));
        at += name_len + key_len;
    }
    assert_eq!(at, bytes.len(), "no bytes after the last root");
    roots
}

/// The roots must be exactly the anchors' subjects and keys, sorted by subject DER, and the
/// device's binary search (memcmp over the subject) must find each one.
fn check_roots(roots: &[(Vec<u8>, Vec<u8>)], anchors: &[Anchor]) {
    let mut expected: Vec<_> = anchors.iter().map(subject_and_key).collect();
    expected.sort();
    let mut found = roots.to_vec();
    found.sort();
    assert_eq!(
        found, expected,
        "the bundle holds exactly the anchors' subjects and keys"
    );
    for pair in roots.windows(2) {
        assert!(pair[0].0 <= pair[1].0, "roots sorted by subject DER");
    }
    for (subject, key) in &expected {
        let index = roots
            .binary_search_by(|(name, _)| name.cmp(subject))
            .expect("binary search by subject finds the root");
        // With two roots of one subject the search finds either (the device's limitation).
        let twins = expected
            .iter()
            .filter(|(other, _)| other == subject)
            .count();
        if twins == 1 {
            assert_eq!(&roots[index].1, key);
        }
    }
}

#[test]
fn esp_idf_parses_back_sorted_by_subject() {
    let anchors = anchors();
    let roots = read_esp_idf(&encode::esp_idf(&anchors).unwrap());
    assert_eq!(roots.len(), anchors.len());
    check_roots(&roots, &anchors);
}

#[test]
fn esp_idf_legacy_parses_back_sorted_by_subject() {
    let anchors = anchors();
    let roots = read_esp_idf_legacy(&encode::esp_idf_legacy(&anchors).unwrap());
    assert_eq!(roots.len(), anchors.len());
    check_roots(&roots, &anchors);
}

#[test]
fn esp_idf_refuses_an_empty_bundle() {
    assert_eq!(
        encode::esp_idf(&[]),
        Err(EncodeError::Empty {
            format: Format::EspIdf
        })
    );
}

#[test]
fn every_format_is_deterministic_and_esp_idf_ignores_input_order() {
    let anchors = anchors();
    let mut reversed = anchors.clone();
    reversed.reverse();
    for format in Format::ALL {
        let first = encode::encode(format, &anchors).unwrap();
        let second = encode::encode(format, &anchors).unwrap();
        assert_eq!(first, second, "{format} twice");
        assert!(first.byte_size() > 0, "{format} is not empty");
    }
    for format in [Format::EspIdf, Format::EspIdfLegacy, Format::Der] {
        assert_eq!(
            encode::encode(format, &anchors).unwrap(),
            encode::encode(format, &reversed).unwrap(),
            "{format} does not depend on the input order"
        );
    }
}

#[test]
fn pem_round_trips_with_a_comment_and_fingerprint_per_anchor() {
    let anchors = anchors();
    let text = encode::pem(&anchors);
    let parsed = pem::parse_many(&text).unwrap();
    let ders: Vec<&[u8]> = parsed.iter().map(|p| p.contents()).collect();
    let expected: Vec<&[u8]> = anchors.iter().map(|a| a.der.as_slice()).collect();
    assert_eq!(ders, expected);
    assert!(parsed.iter().all(|p| p.tag() == "CERTIFICATE"));
    for anchor in &anchors {
        let lines = format!(
            "# {}\n# SHA-256 Fingerprint: {}\n-----BEGIN CERTIFICATE-----\n",
            anchor.name,
            encode::fingerprint_colon_hex(anchor)
        );
        assert!(text.contains(&lines), "{lines}");
    }
    assert!(!text.contains('\r'), "LF line endings");
}

#[test]
fn der_files_are_named_by_fingerprint_and_name() {
    let anchors = anchors();
    let files = encode::der(&anchors);
    assert_eq!(files.len(), anchors.len());
    for anchor in &anchors {
        let prefix = hex::encode(&encode::fingerprint(anchor)[..8]);
        let (name, der) = files
            .iter()
            .find(|(name, _)| name.starts_with(&prefix))
            .expect("a file per anchor");
        assert!(name.ends_with(".der") && !name.contains('/'), "{name}");
        assert_eq!(der, &anchor.der);
    }
    assert!(files.contains_key(&format!(
        "{}-isrg-root-x1.der",
        hex::encode(&encode::fingerprint(&fixture("isrg-root-x1.pem"))[..8])
    )));
}

#[test]
fn a_non_certificate_is_refused_by_name() {
    let garbage = Anchor {
        name: "garbage".to_string(),
        der: b"not a certificate".to_vec(),
    };
    for format in [
        Format::CHeader,
        Format::EspIdf,
        Format::BearsslTa,
        Format::Rust,
    ] {
        match encode::encode(format, std::slice::from_ref(&garbage)) {
            Err(EncodeError::Unparsable { name, .. }) => assert_eq!(name, "garbage"),
            other => panic!("{format}: {other:?}"),
        }
    }
}

#[test]
fn bearssl_refuses_a_key_it_cannot_hold() {
    let ed25519 = test_ca("anchorsmith test CA Ed25519", &rcgen::PKCS_ED25519);
    match encode::bearssl_ta(&[ed25519]) {
        Err(EncodeError::UnsupportedKey { name, .. }) => {
            assert_eq!(name, "anchorsmith test CA Ed25519")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn cli_names_round_trip() {
    for format in Format::ALL {
        assert_eq!(Format::from_cli_name(format.cli_name()), Some(format));
    }
    assert_eq!(Format::from_cli_name("zip"), None);
}

/// Whether the C compiler is here; `false` (with a message) when it is missing. Under `CI=true`
/// a missing compiler fails the test instead, so CI cannot silently skip the check.
fn have_c_compiler() -> bool {
    let found = Command::new("cc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "cc is missing under CI=true"
        );
        eprintln!("skipped: no `cc` on this machine");
    }
    found
}

/// Writes `files` (one of them `main.c`) to `dir`, compiles `main.c` with warnings as errors,
/// runs it with `args`, and returns its stdout and exit status.
fn compile_and_run(
    dir: &Path,
    files: &[(&str, &str)],
    libs: &[&str],
    args: &[&Path],
) -> (String, i32) {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let exe = dir.join("main");
    let out = Command::new("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&exe)
        .arg(dir.join("main.c"))
        .args(libs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cc failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).args(args).output().unwrap();
    (
        String::from_utf8(run.stdout).unwrap(),
        run.status.code().unwrap_or(-1),
    )
}

#[test]
fn c_header_compiles_and_holds_the_der_bytes() {
    if !have_c_compiler() {
        return;
    }
    let anchors = anchors_with_a_hostile_name();
    let header = encode::c_header(&anchors).unwrap();
    let main = r#"#include <stdio.h>
#include "trust_anchors.h"
#include "trust_anchors.h" /* twice: the include guard must hold */
int main(void) {
    for (size_t i = 0; i < ANCHORSMITH_ANCHOR_COUNT; i++) {
        size_t n = anchorsmith_anchor_lengths[i];
        printf("%zu %02x %02x ", n, anchorsmith_anchors[i][0], anchorsmith_anchors[i][n - 1]);
        for (size_t j = 0; j < n; j++) printf("%02x", anchorsmith_anchors[i][j]);
        printf("\n");
    }
    return 0;
}
"#;
    let dir = tempfile::tempdir().unwrap();
    let (stdout, status) = compile_and_run(
        dir.path(),
        &[("trust_anchors.h", &header), ("main.c", main)],
        &[],
        &[],
    );
    assert_eq!(status, 0);
    let expected: String = anchors
        .iter()
        .map(|a| {
            format!(
                "{} {:02x} {:02x} {}\n",
                a.der.len(),
                a.der[0],
                a.der[a.der.len() - 1],
                hex::encode(&a.der)
            )
        })
        .collect();
    assert_eq!(stdout, expected);
}

/// Whether BearSSL's headers are installed; `false` (with a message) when they are not. Under
/// `CI=true` (whose `.ci/run` installs libbearssl-dev) a missing header fails the test instead.
fn have_bearssl() -> bool {
    let found = Path::new("/usr/include/bearssl.h").exists() && have_c_compiler();
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "BearSSL headers (libbearssl-dev) are missing under CI=true"
        );
        eprintln!("skipped: BearSSL headers (libbearssl-dev) are not installed");
    }
    found
}

/// BearSSL's X.509 "minimal" engine, loaded with the trust anchors of `anchors` as written by
/// `bearssl_ta`, checks the chain made of `certificate` alone at a time inside its validity, and
/// returns BearSSL's error code (0: trusted).
fn bearssl_verdict(anchors: &[Anchor], certificate: &Anchor) -> u32 {
    let main = r#"#include <stdio.h>
#include <stdlib.h>
#include "bearssl_ta.h"
int main(int argc, char **argv) {
    static unsigned char der[65536];
    br_x509_minimal_context xc;
    FILE *f;
    size_t n;
    if (argc != 4 || (f = fopen(argv[1], "rb")) == NULL) return 2;
    n = fread(der, 1, sizeof der, f);
    fclose(f);
    br_x509_minimal_init_full(&xc, TAs, TAs_NUM);
    br_x509_minimal_set_time(&xc, (uint32_t)strtoul(argv[2], NULL, 10),
        (uint32_t)strtoul(argv[3], NULL, 10));
    xc.vtable->start_chain(&xc.vtable, NULL);
    xc.vtable->start_cert(&xc.vtable, (uint32_t)n);
    xc.vtable->append(&xc.vtable, der, n);
    xc.vtable->end_cert(&xc.vtable);
    printf("%u\n", xc.vtable->end_chain(&xc.vtable));
    return 0;
}
"#;
    let (_, cert) = X509Certificate::from_der(&certificate.der).unwrap();
    // A day after notBefore, in BearSSL's clock: days since 1 January of year 0, and seconds.
    let at = cert.validity().not_before.timestamp() + 86_400;
    const DAYS_FROM_YEAR_0_TO_1970: i64 = 719_528;
    let days = (at.div_euclid(86_400) + DAYS_FROM_YEAR_0_TO_1970).to_string();
    let seconds = at.rem_euclid(86_400).to_string();
    let dir = tempfile::tempdir().unwrap();
    let der_path = dir.path().join("chain.der");
    std::fs::write(&der_path, &certificate.der).unwrap();
    let source = encode::bearssl_ta(anchors).unwrap();
    let (stdout, status) = compile_and_run(
        dir.path(),
        &[("bearssl_ta.h", &source), ("main.c", main)],
        &["-lbearssl"],
        &[&der_path, Path::new(&days), Path::new(&seconds)],
    );
    assert_eq!(status, 0, "harness ran");
    stdout.trim().parse().expect("BearSSL's error code")
}

/// BearSSL's `BR_ERR_X509_NOT_TRUSTED` (bearssl_x509.h).
const BR_ERR_X509_NOT_TRUSTED: u32 = 62;

#[test]
fn bearssl_anchors_compile_and_validate_real_chains_in_bearssl() {
    if !have_bearssl() {
        return;
    }
    let x1 = fixture("isrg-root-x1.pem");
    let x2 = fixture("isrg-root-x2.pem");
    let p256 = test_ca("anchorsmith test CA P-256", &rcgen::PKCS_ECDSA_P256_SHA256);
    let mut hostile = p256.clone();
    hostile.name = "test */ #error injected\n#error injected".to_string();
    let bundle = [hostile, x1.clone(), x2.clone()];
    // R10 is signed by ISRG Root X1 (RSA), E5 by ISRG Root X2 (ECDSA P-384).
    assert_eq!(
        bearssl_verdict(&bundle, &fixture("r10.pem")),
        0,
        "R10 under X1"
    );
    assert_eq!(
        bearssl_verdict(&bundle, &fixture("e5.pem")),
        0,
        "E5 under X2"
    );
    // Without its issuer, the same chain is refused: the anchors above are what made it pass.
    assert_eq!(
        bearssl_verdict(&[p256, x2], &fixture("r10.pem")),
        BR_ERR_X509_NOT_TRUSTED,
        "R10 without X1"
    );
    assert_eq!(
        bearssl_verdict(&[x1], &fixture("e5.pem")),
        BR_ERR_X509_NOT_TRUSTED,
        "E5 without X2"
    );
}

#[test]
fn bearssl_p256_anchor_validates_a_leaf_it_signed() {
    if !have_bearssl() {
        return;
    }
    let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "anchorsmith test root P-256");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let leaf_params = rcgen::CertificateParams::new(vec!["test.example".to_string()]).unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
    let root = Anchor {
        name: "anchorsmith test root P-256".to_string(),
        der: ca.der().to_vec(),
    };
    let leaf = Anchor {
        name: "test.example".to_string(),
        der: leaf.der().to_vec(),
    };
    let other = test_ca("anchorsmith test CA other", &rcgen::PKCS_ECDSA_P256_SHA256);
    assert_eq!(bearssl_verdict(&[other.clone(), root], &leaf), 0);
    assert_eq!(bearssl_verdict(&[other], &leaf), BR_ERR_X509_NOT_TRUSTED);
}

#[test]
fn rust_source_compiles_and_holds_the_der_bytes() {
    let anchors = anchors_with_a_hostile_name();
    let source = encode::rust(&anchors).unwrap();
    let main = r#"#[path = "trust_anchors.rs"]
mod trust_anchors;
fn main() {
    for der in trust_anchors::ANCHORS {
        let hex: String = der.iter().map(|b| format!("{b:02x}")).collect();
        println!("{hex}");
    }
}
"#;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("trust_anchors.rs"), source).unwrap();
    std::fs::write(dir.path().join("main.rs"), main).unwrap();
    let exe = dir.path().join("main");
    // The compiler that builds this test (cargo sets RUSTC for build scripts only).
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let out = Command::new(rustc)
        .args(["--edition", "2021", "-D", "warnings", "-o"])
        .arg(&exe)
        .arg(dir.path().join("main.rs"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rustc failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).output().unwrap();
    let expected: String = anchors
        .iter()
        .map(|a| format!("{}\n", hex::encode(&a.der)))
        .collect();
    assert_eq!(String::from_utf8(run.stdout).unwrap(), expected);
}

#[test]
fn esp_idf_keeps_two_roots_with_one_subject_in_a_fixed_order() {
    // Same subject, different keys: the device can match only one (a lint elsewhere), but the
    // bundle must still hold both, in an order that does not depend on the input order.
    let first = test_ca("anchorsmith test CA twin", &rcgen::PKCS_ECDSA_P256_SHA256);
    let second = test_ca("anchorsmith test CA twin", &rcgen::PKCS_ECDSA_P256_SHA256);
    assert_eq!(subject_and_key(&first).0, subject_and_key(&second).0);
    let forward = encode::esp_idf(&[first.clone(), second.clone()]).unwrap();
    let backward = encode::esp_idf(&[second.clone(), first.clone()]).unwrap();
    assert_eq!(forward, backward);
    let roots = read_esp_idf(&forward);
    check_roots(&roots, &[first, second]);
    assert!(roots[0].1 < roots[1].1, "ties ordered by key DER");
}
