//! `cargo xtask bench validate`: validations per second of every in-process validator on the
//! full limbo suite and on the corpus (its 87 cases repeated to 4,000+ validations so the timing
//! is not dominated by start-up), on one thread and
//! on rayon's pool, set against the bound given by the signature verifications alone.
//!
//! The bound is an approximation, documented here because it is one: every case needs one
//! signature verification per certificate it serves (the peer and each served certificate),
//! costed by the signature algorithm of that certificate (= the issuer's key type): RSA at the
//! `openssl speed rsa2048` verify rate, ECDSA at the `ecdsap256` rate, anything else (Ed25519,
//! DSA, unparsable) at the ecdsap256 rate. Larger RSA keys, unused extra certificates and
//! path-building retries make the real work differ either way. bound = cases / Σ costs, measured
//! in the same run; the parallel bound is that times the number of threads.

use std::time::{Duration, Instant};

use anchorsmith_validators::suite::{self, SuiteSpec};
use anchorsmith_validators::{in_process_validators, ValidationInput};
use rayon::prelude::*;

use super::openssl_speed::{self, SpeedFigures};

/// The inputs of the anchorsmith corpus, for a second row of figures.
///
/// The corpus cases (built from corpus/scenarios/, keys from the cache), repeated until there are
/// at least 4,000 of them.
fn corpus_inputs() -> anyhow::Result<Vec<ValidationInput>> {
    let corpus = anchorsmith_corpus::load_corpus(&crate::project_root().join("corpus"))?;
    let once: Vec<ValidationInput> = corpus
        .cases
        .iter()
        .map(|case| case.to_validation_input())
        .collect();
    let repeats = 4_000usize.div_ceil(once.len().max(1));
    Ok(std::iter::repeat_n(once, repeats).flatten().collect())
}

pub fn run() -> anyhow::Result<()> {
    let path = SuiteSpec::Full.resolve(&crate::project_root());
    let limbo_inputs = suite::load_suite(&path)?.inputs;
    let speed = openssl_speed::measure(&["rsa2048", "ecdsap256"], 3)?;
    let (rsa, ecdsa) = (speed["rsa2048"], speed["ecdsap256"]);
    println!(
        "openssl speed (this run): rsa2048 verify {:.0}/s, ecdsap256 verify {:.0}/s; {} threads",
        rsa.verify_per_sec,
        ecdsa.verify_per_sec,
        rayon::current_num_threads()
    );

    let corpus = corpus_inputs()?;
    let sets: Vec<(&str, &[ValidationInput])> = [
        ("limbo-full", limbo_inputs.as_slice()),
        ("corpus", corpus.as_slice()),
    ]
    .into_iter()
    .filter(|(_, inputs)| !inputs.is_empty())
    .collect();
    for (set_name, inputs) in sets {
        bench_set(set_name, inputs, rsa, ecdsa);
    }
    Ok(())
}

fn bench_set(set_name: &str, inputs: &[ValidationInput], rsa: SpeedFigures, ecdsa: SpeedFigures) {
    let census = SignatureCensus::of(inputs);
    let bound = census.bound_per_sec(rsa.verify_per_sec, ecdsa.verify_per_sec);
    let threads = rayon::current_num_threads() as f64;
    println!(
        "\n{set_name}: {} cases, signatures to verify: {} RSA, {} ECDSA, {} other (costed as ECDSA)",
        inputs.len(),
        census.rsa,
        census.ecdsa,
        census.other
    );
    println!("bound (signature verifications only): {bound:.0} validations/s on one thread");
    println!(
        "{:<24} {:>12} {:>10} {:>14} {:>12}",
        "validator", "1 thread/s", "of bound", "rayon/s", "of bound×n"
    );
    for validator in in_process_validators() {
        let single = rate(
            inputs.len(),
            time(|| {
                inputs
                    .iter()
                    .for_each(|input| drop(validator.validate(input)))
            }),
        );
        let parallel = rate(
            inputs.len(),
            time(|| {
                inputs
                    .par_iter()
                    .for_each(|input| drop(validator.validate(input)))
            }),
        );
        println!(
            "{:<24} {:>12.0} {:>9.2}x {:>14.0} {:>11.2}x",
            validator.name(),
            single,
            single / bound,
            parallel,
            parallel / (bound * threads)
        );
    }
    println!("aim: rustls-webpki at least 0.33x of the bound");
}

fn time(work: impl FnOnce()) -> Duration {
    let started = Instant::now();
    work();
    started.elapsed()
}

fn rate(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

/// How many signatures of each family the cases need verified.
#[derive(Debug, Default, PartialEq, Eq)]
struct SignatureCensus {
    cases: usize,
    rsa: usize,
    ecdsa: usize,
    other: usize,
}

impl SignatureCensus {
    fn of(inputs: &[ValidationInput]) -> SignatureCensus {
        let mut census = SignatureCensus {
            cases: inputs.len(),
            ..SignatureCensus::default()
        };
        for input in inputs {
            for certificate in std::iter::once(&input.peer).chain(&input.served_chain) {
                match signature_family(certificate) {
                    SignatureFamily::Rsa => census.rsa += 1,
                    SignatureFamily::Ecdsa => census.ecdsa += 1,
                    SignatureFamily::Other => census.other += 1,
                }
            }
        }
        census
    }

    /// cases / Σ (1 / verify rate of each signature).
    fn bound_per_sec(&self, rsa_verify_per_sec: f64, ecdsa_verify_per_sec: f64) -> f64 {
        let seconds = self.rsa as f64 / rsa_verify_per_sec
            + (self.ecdsa + self.other) as f64 / ecdsa_verify_per_sec;
        self.cases as f64 / seconds.max(1e-12)
    }
}

#[derive(Debug, PartialEq, Eq)]
enum SignatureFamily {
    Rsa,
    Ecdsa,
    Other,
}

/// OID content bytes of 1.2.840.113549.1.1 (PKCS #1: RSA signatures, PSS included).
const PKCS1_ARC: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
/// OID content bytes of 1.2.840.10045.4 (ECDSA signatures).
const ECDSA_ARC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04];

/// The family of a certificate's outer `signatureAlgorithm`, read straight from the DER
/// (Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm SEQUENCE { OID, … }, … }).
fn signature_family(certificate: &[u8]) -> SignatureFamily {
    let oid = der_element(certificate)
        .filter(|(tag, _, _)| *tag == 0x30)
        .and_then(|(_, certificate_body, _)| der_element(certificate_body))
        .and_then(|(_, _tbs, after_tbs)| der_element(after_tbs))
        .and_then(|(_, algorithm, _)| der_element(algorithm))
        .filter(|(tag, _, _)| *tag == 0x06)
        .map(|(_, oid, _)| oid);
    match oid {
        Some(oid) if oid.starts_with(PKCS1_ARC) => SignatureFamily::Rsa,
        Some(oid) if oid.starts_with(ECDSA_ARC) => SignatureFamily::Ecdsa,
        _ => SignatureFamily::Other,
    }
}

/// One DER TLV: (tag, content, rest). Definite lengths only, as DER requires.
fn der_element(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let count = (first & 0x7f) as usize;
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |length, byte| (length << 8) | *byte as usize);
        (length, &rest[count..])
    };
    (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A skeletal certificate: SEQUENCE { SEQUENCE {} (tbs), SEQUENCE { OID }, BIT STRING }.
    fn skeleton(oid: &[u8]) -> Vec<u8> {
        let mut algorithm = vec![0x06, oid.len() as u8];
        algorithm.extend_from_slice(oid);
        let mut body = vec![0x30, 0x00, 0x30, algorithm.len() as u8];
        body.extend_from_slice(&algorithm);
        body.extend_from_slice(&[0x03, 0x01, 0x00]);
        let mut certificate = vec![0x30, body.len() as u8];
        certificate.extend_from_slice(&body);
        certificate
    }

    #[test]
    fn recognises_signature_families() {
        // sha256WithRSAEncryption, ecdsa-with-SHA256, Ed25519.
        assert_eq!(
            signature_family(&skeleton(&[
                0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b
            ])),
            SignatureFamily::Rsa
        );
        assert_eq!(
            signature_family(&skeleton(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02])),
            SignatureFamily::Ecdsa
        );
        assert_eq!(
            signature_family(&skeleton(&[0x2b, 0x65, 0x70])),
            SignatureFamily::Other
        );
        assert_eq!(signature_family(b"garbage"), SignatureFamily::Other);
    }

    #[test]
    fn bound_adds_the_costs() {
        let census = SignatureCensus {
            cases: 10,
            rsa: 20,
            ecdsa: 10,
            other: 0,
        };
        // 20/1000 + 10/100 = 0.12 s for 10 cases.
        assert!((census.bound_per_sec(1000.0, 100.0) - 10.0 / 0.12).abs() < 1e-6);
    }
}
