//! BearSSL trust anchors: C `br_x509_trust_anchor` structures laid out as `brssl ta` writes them
//! (checked against BearSSL's `bearssl_x509.h`, `bearssl_rsa.h`, `bearssl_ec.h` and published
//! `brssl ta` output): per anchor `TA<i>_DN` (the subject Name DER, which BearSSL compares with
//! the issuer DN of the certificate it checks), then `TA<i>_RSA_N` and `TA<i>_RSA_E` (unsigned
//! big-endian, leading zeros removed) or `TA<i>_EC_Q` (the uncompressed point), then the `TAs`
//! array with flag `BR_X509_TA_CA` and `TAs_NUM`.

use super::{describe, parse, text, EncodeError};
use crate::Anchor;
use std::fmt::Write;
use x509_parser::public_key::PublicKey;

/// An anchor's key in BearSSL's terms.
enum Key {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    Ec { curve: &'static str, q: Vec<u8> },
}

/// BearSSL's curve constant for a named-curve OID, for the curves BearSSL implements for X.509.
fn curve_constant(oid: &str) -> Option<&'static str> {
    match oid {
        "1.2.840.10045.3.1.7" => Some("BR_EC_secp256r1"),
        "1.3.132.0.34" => Some("BR_EC_secp384r1"),
        "1.3.132.0.35" => Some("BR_EC_secp521r1"),
        _ => None,
    }
}

/// An unsigned big-endian integer without its leading zero bytes (one byte kept for zero).
fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    &bytes[first..]
}

fn key(anchor: &Anchor) -> Result<Key, EncodeError> {
    let cert = parse(anchor)?;
    let spki = &cert.tbs_certificate.subject_pki;
    let unsupported = |key: String| EncodeError::UnsupportedKey {
        name: anchor.name.clone(),
        key,
    };
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => Ok(Key::Rsa {
            n: strip_zeros(rsa.modulus).to_vec(),
            e: strip_zeros(rsa.exponent).to_vec(),
        }),
        Ok(PublicKey::EC(point)) => {
            let oid = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string())
                .unwrap_or_else(|| "EC key without a named curve".to_string());
            let curve = curve_constant(&oid).ok_or_else(|| unsupported(format!("curve {oid}")))?;
            Ok(Key::Ec {
                curve,
                q: point.data().to_vec(),
            })
        }
        _ => Err(unsupported(format!(
            "key algorithm {}",
            spki.algorithm.algorithm.to_id_string()
        ))),
    }
}

fn array(out: &mut String, name: &str, bytes: &[u8]) {
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "static const unsigned char {name}[] = {{\n{}}};\n\n",
        text::byte_lines(bytes, "\t", 12)
    );
}

/// The anchors as BearSSL trust-anchor C source, in the given order.
pub fn bearssl_ta(anchors: &[Anchor]) -> Result<String, EncodeError> {
    let mut arrays = String::new();
    let mut structs = Vec::with_capacity(anchors.len());
    for (i, anchor) in anchors.iter().enumerate() {
        let described = describe(anchor)?;
        let cert = parse(anchor)?;
        let _ = write!(
            arrays,
            "/* TA{i}: {}\n * SHA-256: {}\n * Not after: {}\n */\n",
            text::comment_safe(&anchor.name),
            described.fingerprint,
            text::comment_safe(&described.not_after)
        );
        array(&mut arrays, &format!("TA{i}_DN"), cert.subject().as_raw());
        let key_struct = match key(anchor)? {
            Key::Rsa { n, e } => {
                array(&mut arrays, &format!("TA{i}_RSA_N"), &n);
                array(&mut arrays, &format!("TA{i}_RSA_E"), &e);
                format!(
                    "\t\t\tBR_KEYTYPE_RSA,\n\t\t\t{{ .rsa = {{\n\
                     \t\t\t\t(unsigned char *)TA{i}_RSA_N, sizeof TA{i}_RSA_N,\n\
                     \t\t\t\t(unsigned char *)TA{i}_RSA_E, sizeof TA{i}_RSA_E,\n\t\t\t}} }}\n"
                )
            }
            Key::Ec { curve, q } => {
                array(&mut arrays, &format!("TA{i}_EC_Q"), &q);
                format!(
                    "\t\t\tBR_KEYTYPE_EC,\n\t\t\t{{ .ec = {{\n\t\t\t\t{curve},\n\
                     \t\t\t\t(unsigned char *)TA{i}_EC_Q, sizeof TA{i}_EC_Q,\n\t\t\t}} }}\n"
                )
            }
        };
        structs.push(format!(
            "\t{{\n\t\t{{ (unsigned char *)TA{i}_DN, sizeof TA{i}_DN }},\n\t\tBR_X509_TA_CA,\n\t\t{{\n{key_struct}\t\t}}\n\t}}"
        ));
    }
    let mut out = format!(
        "/* BearSSL trust anchors written by anchorsmith: {} certificates. */\n\n#include <bearssl.h>\n\n{arrays}",
        anchors.len()
    );
    if !anchors.is_empty() {
        let _ = write!(
            out,
            "static const br_x509_trust_anchor TAs[{}] = {{\n{}\n}};\n\n",
            anchors.len(),
            structs.join(",\n")
        );
    }
    let _ = writeln!(out, "#define TAs_NUM   {}", anchors.len());
    Ok(out)
}
