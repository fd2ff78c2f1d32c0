//! `cargo xtask bench doctor [--chains N]`: the chain doctor's batch engine on N synthetic
//! served chains (default 100,000) against the client-model targets, in chains per second,
//! beside the signature-verification rate measured in the same run (`openssl speed ecdsap256`
//! and the in-process verifier the models use), with the signature cache's work: checks asked
//! for, checks performed.
//!
//! The chains are deterministic and quick to make: per scenario one or two ECDSA P-256
//! intermediates issued by the scenario's own CA (its key, so the scenario's stores anchor them),
//! and N distinct leaves (the scenario's DNS name, serial = index) signed by them with RFC 6979
//! deterministic ECDSA; the leaves share one key. Each chain takes one of the seeds' shapes, in
//! turn: a correct chain, a leaf only (seed 000), the leaf with a same-key intermediate of the
//! wrong name (seed 001), the long chain through an expiring cross-sign and the short chain
//! (seed 003, at 2021-10-01). Chains are made and judged CHUNK at a time, so memory stays flat;
//! only judging (diagnosis and the result line, as `doctor --batch` writes it) is timed.
//!
//! Where the time goes is measured too, one thread on a sample: findings alone, the whole
//! diagnosis with the batch's signature cache and without any, the result line.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anchorsmith_corpus::{Corpus, Scenario, Target};
use anchorsmith_doctor::batch::{result_line, Batch, Request, Summary};
use anchorsmith_doctor::findings::Reference;
use anchorsmith_doctor::ServedChain;
use anchorsmith_validators::model::{signature_verifies, SignatureCache};
use p256::ecdsa::signature::Signer;
use rayon::prelude::*;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyUsagePurpose, SerialNumber,
};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::bench::openssl_speed;

/// Chains made and judged at a time.
const CHUNK: usize = 10_000;
/// The target on 2 cores.
const TARGET_PER_SEC: f64 = 5_000.0;
/// Chains in the single-thread phase breakdown.
const SAMPLE: usize = 2_000;

/// A P-256 key signing with RFC 6979 (deterministic nonces), so the same index always gives the
/// same certificate bytes (rcgen's own keys sign with random nonces).
struct DeterministicP256 {
    key: p256::ecdsa::SigningKey,
    public: Vec<u8>,
}

impl DeterministicP256 {
    fn from_label(label: &str) -> DeterministicP256 {
        use sha2::Digest;
        let secret = sha2::Sha256::digest(format!("anchorsmith bench doctor v1: {label}"));
        let key = p256::ecdsa::SigningKey::from_slice(&secret).expect("a valid P-256 scalar");
        let public = key
            .verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec();
        DeterministicP256 { key, public }
    }
}

impl rcgen::PublicKeyData for DeterministicP256 {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for DeterministicP256 {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let signature: p256::ecdsa::Signature = self.key.sign(message);
        Ok(signature.to_der().as_bytes().to_vec())
    }
}

/// One of the seeds' shapes of served chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::Display, strum::EnumIter)]
#[strum(serialize_all = "kebab-case")]
enum Shape {
    /// Leaf and its intermediate (same-key-intermediates, 2016-04-06).
    Correct,
    /// The leaf alone (leaf-only-served, 2016-07-01).
    LeafOnly,
    /// The leaf with the same-key intermediate of the wrong name (same-key-intermediates).
    WrongSameKey,
    /// Leaf, intermediate, the cross-sign that expired (root-expiry-long-short, 2021-10-01).
    Long,
    /// Leaf and intermediate (root-expiry-long-short, 2021-10-01).
    Short,
}

/// A scenario's synthetic issuers: the intermediates leaves hang from, and what is served above.
struct Family<'c> {
    scenario: &'c Scenario,
    at: OffsetDateTime,
    dns_name: String,
    /// The intermediate that issues the leaves (DER) and its signing key.
    issuer: Issuer<'static, DeterministicP256>,
    intermediate: Vec<u8>,
    /// Its same-key twin with another name (same-key-intermediates only).
    twin: Option<Vec<u8>>,
    /// The cross-sign served above the intermediate in the long chain (long-short only).
    cross: Option<Vec<u8>>,
}

fn date(text: &str) -> anyhow::Result<OffsetDateTime> {
    anchorsmith_bundle::build::parse_instant(text).map_err(anyhow::Error::msg)
}

/// An ECDSA intermediate named `cn`, with `key`, issued by the scenario's certificate `by`.
fn intermediate(
    scenario: &Scenario,
    by: &str,
    cn: &str,
    key: &DeterministicP256,
    at: OffsetDateTime,
    serial: u64,
) -> anyhow::Result<Vec<u8>> {
    let ca = &scenario.pki.certs[by];
    let ca_key = rcgen::KeyPair::from_pem(&ca.private_key_pkcs8_pem)?;
    let ca_issuer = Issuer::from_ca_cert_der(&ca.der.clone().into(), ca_key)?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(DnType::OrganizationName, "anchorsmith test PKI");
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
    ];
    params.serial_number = Some(SerialNumber::from(serial));
    params.not_before = at - time::Duration::days(365);
    params.not_after = at + time::Duration::days(365);
    params.use_authority_key_identifier_extension = true;
    Ok(params.signed_by(key, &ca_issuer)?.der().to_vec())
}

fn family<'c>(
    corpus: &'c Corpus,
    name: &str,
    by: &str,
    at: &str,
    twin: bool,
    cross: Option<&str>,
) -> anyhow::Result<Family<'c>> {
    let scenario = corpus
        .scenarios
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| anyhow::anyhow!("the corpus has no scenario {name}"))?;
    let at = date(at)?;
    let key = DeterministicP256::from_label(&format!("{name}/intermediate"));
    let cn = format!("Bench Doctor {name} CA (test)");
    let der = intermediate(scenario, by, &cn, &key, at, 0xd0c1)?;
    let twin = if twin {
        let cn = format!("Bench Doctor {name} twin CA (test)");
        Some(intermediate(scenario, by, &cn, &key, at, 0xd0c2)?)
    } else {
        None
    };
    let issuer = Issuer::from_ca_cert_der(&der.clone().into(), key)?;
    Ok(Family {
        scenario,
        at,
        dns_name: anchorsmith_doctor::dns_name(&corpus.cases, scenario),
        issuer,
        intermediate: der,
        twin,
        cross: cross.map(|id| scenario.pki.certs[id].der.clone()),
    })
}

/// The synthetic world: one family per scenario shape, and the leaves' shared key.
struct Synthetic<'c> {
    long_short: Family<'c>,
    same_key: Family<'c>,
    leaf_only: Family<'c>,
    leaf_key: DeterministicP256,
}

impl<'c> Synthetic<'c> {
    fn new(corpus: &'c Corpus) -> anyhow::Result<Synthetic<'c>> {
        Ok(Synthetic {
            long_short: family(
                corpus,
                "root-expiry-long-short",
                "isrg-x1",
                "2021-10-01",
                false,
                Some("isrg-x1-by-dst"),
            )?,
            same_key: family(
                corpus,
                "same-key-intermediates",
                "dst-root",
                "2016-04-06",
                true,
                None,
            )?,
            leaf_only: family(
                corpus,
                "leaf-only-served",
                "dst-root",
                "2016-07-01",
                false,
                None,
            )?,
            leaf_key: DeterministicP256::from_label("leaf"),
        })
    }

    fn shape(index: usize) -> Shape {
        use strum::IntoEnumIterator;
        let shapes: Vec<Shape> = Shape::iter().collect();
        shapes[index % shapes.len()]
    }

    /// Chain `index`: a distinct leaf in the index's shape, as a batch request.
    fn request(&self, index: usize) -> anyhow::Result<Request> {
        let shape = Self::shape(index);
        let family = match shape {
            Shape::Correct | Shape::WrongSameKey => &self.same_key,
            Shape::LeafOnly => &self.leaf_only,
            Shape::Long | Shape::Short => &self.long_short,
        };
        let mut params = CertificateParams::new(vec![family.dns_name.clone()])?;
        params
            .distinguished_name
            .push(DnType::CommonName, family.dns_name.clone());
        params.serial_number = Some(SerialNumber::from(index as u64 + 1));
        params.not_before = family.at - time::Duration::days(30);
        params.not_after = family.at + time::Duration::days(60);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let leaf = params
            .signed_by(&self.leaf_key, &family.issuer)?
            .der()
            .to_vec();
        let chain = match shape {
            Shape::Correct | Shape::Short => vec![leaf, family.intermediate.clone()],
            Shape::LeafOnly => vec![leaf],
            Shape::WrongSameKey => vec![leaf, family.twin.clone().expect("a twin")],
            Shape::Long => vec![
                leaf,
                family.intermediate.clone(),
                family.cross.clone().expect("a cross-sign"),
            ],
        };
        Ok(Request {
            id: format!("{shape}-{index}"),
            line: index + 1,
            scenario: family.scenario.name.clone(),
            at: family.at,
            chain: ServedChain::new(chain)?,
        })
    }

    fn requests(&self, range: std::ops::Range<usize>) -> anyhow::Result<Vec<Request>> {
        range.into_par_iter().map(|i| self.request(i)).collect()
    }
}

/// Where one thread's time goes on `requests`: findings, the whole diagnosis through the batch
/// (its cache), the whole diagnosis without any cache (every model verifying each signature it
/// is asked about, as a single `doctor` run does), the result line.
fn phases(batch: &Batch, corpus: &Corpus, requests: &[Request]) -> Vec<(&'static str, Duration)> {
    let mut findings = Duration::ZERO;
    let mut diagnosis = Duration::ZERO;
    let mut uncached = Duration::ZERO;
    let mut line = Duration::ZERO;
    // Each model target's plain engine, as `doctor CHAIN.pem` sets it up, seated per scenario;
    // the findings' references built once, as the batch does.
    let plain: Vec<anchorsmith_doctor::Engine> = corpus
        .targets
        .iter()
        .filter_map(|target| target.model_validator().map(|engine| (target, engine)))
        .collect();
    let plain_targets: Vec<&Target> = plain.iter().map(|(target, _)| *target).collect();
    let panels =
        anchorsmith_doctor::batch::panels(&corpus.scenarios, &corpus.cases, &plain, &plain_targets);
    let references: Vec<Reference> = corpus
        .scenarios
        .iter()
        .zip(&panels)
        .map(|(scenario, panel)| Reference::of(Some(scenario), panel))
        .collect();
    for request in requests {
        let index = corpus
            .scenarios
            .iter()
            .position(|s| s.name == request.scenario)
            .expect("a corpus scenario");
        let (scenario, reference) = (&corpus.scenarios[index], &references[index]);
        let started = Instant::now();
        let _ = anchorsmith_doctor::findings::findings(reference, &request.chain, request.at);
        findings += started.elapsed();
        let started = Instant::now();
        let judged = batch.judge(request);
        diagnosis += started.elapsed();
        let started = Instant::now();
        let _ = anchorsmith_doctor::diagnose_with(
            reference,
            Some(scenario),
            &panels[index],
            &request.chain,
            request.at,
        );
        uncached += started.elapsed();
        let started = Instant::now();
        let _ = serde_json::to_string(&result_line(&request.id, &judged));
        line += started.elapsed();
    }
    vec![
        (
            "findings alone (no cache: each signature verified)",
            findings,
        ),
        (
            "whole diagnosis through the batch's signature cache",
            diagnosis,
        ),
        ("whole diagnosis without a signature cache", uncached),
        ("result line (JSON)", line),
    ]
}

pub fn run(chains: usize) -> anyhow::Result<()> {
    let corpus = crate::corpus::load(&crate::project_root().join("corpus"), Vec::new())?;
    let synthetic = Synthetic::new(&corpus)?;
    let targets: Vec<_> = corpus.targets.iter().collect();
    let signatures = Arc::new(SignatureCache::new());
    let (judging, engines) = crate::doctor_batch::batch_engines(&targets, false, &signatures)?;
    crate::doctor_batch::warn_left_out(&targets, &judging);
    let now = OffsetDateTime::now_utc();
    let panels =
        anchorsmith_doctor::batch::panels(&corpus.scenarios, &corpus.cases, &engines, &judging);
    let batch = Batch::new(
        &corpus.scenarios,
        &panels,
        None,
        Arc::clone(&signatures),
        now,
    );

    let mut making = Duration::ZERO;
    let mut judging_time = Duration::ZERO;
    let mut summary = Summary::default();
    let mut output_bytes = 0usize;
    let mut verdicts = 0usize;
    let mut start = 0;
    eprintln!("bench doctor: {chains} synthetic chains, {CHUNK} at a time...");
    while start < chains {
        let end = (start + CHUNK).min(chains);
        let started = Instant::now();
        let requests = synthetic.requests(start..end)?;
        making += started.elapsed();
        let started = Instant::now();
        let lines: Vec<(String, anchorsmith_doctor::Diagnosis)> = requests
            .par_iter()
            .map(|request| {
                let diagnosis = batch.judge(request);
                (
                    serde_json::to_string(&result_line(&request.id, &diagnosis))
                        .expect("JSON values serialize"),
                    diagnosis,
                )
            })
            .collect();
        judging_time += started.elapsed();
        for (line, diagnosis) in &lines {
            output_bytes += line.len() + 1;
            verdicts += diagnosis.verdicts.len();
            summary.add(diagnosis);
        }
        start = end;
    }
    let counts = signatures.counts();
    let per_sec = chains as f64 / judging_time.as_secs_f64().max(1e-9);

    // The in-process verify rate (x509-parser/ring, what the models use) on the leaves' own
    // signatures, one thread, no cache.
    let sample = synthetic.requests(0..SAMPLE.min(chains.max(1)))?;
    let pairs: Vec<(&[u8], &Vec<u8>)> = sample
        .iter()
        .filter(|r| {
            !r.chain.rest().is_empty() && Synthetic::shape(r.line - 1) != Shape::WrongSameKey
        })
        .map(|r| (r.chain.leaf(), &r.chain.rest()[0]))
        .collect();
    let started = Instant::now();
    for (leaf, issuer) in &pairs {
        let leaf = X509Certificate::from_der(leaf).expect("parses").1;
        let issuer = X509Certificate::from_der(issuer).expect("parses").1;
        signature_verifies(&leaf, &issuer).map_err(anyhow::Error::msg)?;
    }
    let in_process = pairs.len() as f64 / started.elapsed().as_secs_f64().max(1e-9);

    // Where one thread's time goes, on a sample judged with a fresh cache (so its leaves'
    // signatures are verified, as in the timed run).
    let fresh = Arc::new(SignatureCache::new());
    let (sample_judging, sample_engines) =
        crate::doctor_batch::batch_engines(&targets, false, &fresh)?;
    let sample_panels = anchorsmith_doctor::batch::panels(
        &corpus.scenarios,
        &corpus.cases,
        &sample_engines,
        &sample_judging,
    );
    let sample_batch = Batch::new(&corpus.scenarios, &sample_panels, None, fresh, now);
    let phase_times = phases(&sample_batch, &corpus, &sample);

    println!("measuring `openssl speed -seconds 3 ecdsap256` for reference...");
    let openssl = openssl_speed::measure(&["ecdsap256"], 3)?;
    let openssl_verify = openssl["ecdsap256"].verify_per_sec;

    let threads = rayon::current_num_threads();
    println!();
    println!(
        "bench doctor: {chains} synthetic served chains (shapes in turn: correct, leaf only, wrong same-key intermediate, long, short), {} client-model targets, {threads} threads",
        judging.len()
    );
    let rows: Vec<(String, String)> = vec![
        ("chains judged".into(), chains.to_string()),
        ("verdicts (target x store)".into(), verdicts.to_string()),
        (
            "chains per second (diagnosis + result line)".into(),
            format!("{per_sec:.0}"),
        ),
        (
            format!("target {TARGET_PER_SEC:.0} chains/s on 2 cores"),
            if per_sec >= TARGET_PER_SEC {
                "met".into()
            } else {
                "not met".into()
            },
        ),
        (
            "judging, wall".into(),
            format!("{:.2} s", judging_time.as_secs_f64()),
        ),
        (
            "making the chains, wall (not in the rate)".into(),
            format!("{:.2} s", making.as_secs_f64()),
        ),
        (
            "signature checks asked for".into(),
            counts.requested.to_string(),
        ),
        (
            "signature checks performed".into(),
            counts.performed.to_string(),
        ),
        (
            "cache hit rate".into(),
            format!("{:.2}%", counts.hit_rate() * 100.0),
        ),
        (
            "signatures performed per chain".into(),
            format!("{:.2}", counts.performed as f64 / chains.max(1) as f64),
        ),
        (
            "openssl speed ecdsap256 verify/s (1 thread)".into(),
            format!("{openssl_verify:.0}"),
        ),
        (
            "in-process ECDSA-P256 verify/s (x509-parser, 1 thread)".into(),
            format!("{in_process:.0}"),
        ),
        (
            "chains/s / openssl verify/s".into(),
            format!("{:.3}", per_sec / openssl_verify),
        ),
        (
            "chains/s / in-process verify/s".into(),
            format!("{:.3}", per_sec / in_process),
        ),
        (
            "chains not all good (a target rejects or failed)".into(),
            summary.rejected.to_string(),
        ),
        ("result lines, bytes".into(), output_bytes.to_string()),
    ];
    print_table(&rows);
    let findings: Vec<String> = summary
        .with_finding
        .iter()
        .map(|(code, count)| format!("{code} {count}"))
        .collect();
    println!("\nchains with findings, by code: {}", findings.join(", "));
    println!(
        "\nwhere one thread's time goes ({} chains, µs per chain):",
        sample.len()
    );
    let per_chain = |d: Duration| d.as_secs_f64() * 1e6 / sample.len().max(1) as f64;
    for (phase, time) in &phase_times {
        println!("  {phase:60} {:>8.1}", per_chain(*time));
    }
    println!(
        "  {:60} {:>8.1}",
        "one ECDSA-P256 verify in-process",
        1e6 / in_process
    );
    Ok(())
}

fn print_table(rows: &[(String, String)]) {
    let width = rows.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    println!("| {:width$} | {:>14} |", "measure", "value");
    println!("|{}|{}|", "-".repeat(width + 2), "-".repeat(16));
    for (name, value) in rows {
        println!("| {name:width$} | {value:>14} |");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchorsmith_doctor::FindingCode;

    #[test]
    fn synthetic_chains_are_deterministic_and_show_each_seeds_shape() {
        let corpus = crate::corpus::load(&crate::project_root().join("corpus"), Vec::new())
            .unwrap_or_else(|e| panic!("{e:#}"));
        let synthetic = Synthetic::new(&corpus).unwrap();
        let again = Synthetic::new(&corpus).unwrap();
        assert_eq!(
            synthetic.request(7).unwrap().chain,
            again.request(7).unwrap().chain
        );
        let targets: Vec<_> = corpus.targets.iter().collect();
        let signatures = Arc::new(SignatureCache::new());
        let (judging, engines) =
            crate::doctor_batch::batch_engines(&targets, false, &signatures).unwrap();
        let panels =
            anchorsmith_doctor::batch::panels(&corpus.scenarios, &corpus.cases, &engines, &judging);
        let batch = Batch::new(
            &corpus.scenarios,
            &panels,
            None,
            Arc::clone(&signatures),
            OffsetDateTime::now_utc(),
        );
        let requests = synthetic.requests(0..10).unwrap();
        for (index, request) in requests.iter().enumerate() {
            let diagnosis = batch.judge(request);
            let codes: Vec<FindingCode> = diagnosis.findings.iter().map(|f| f.code).collect();
            let shape = Synthetic::shape(index);
            let expected: &[FindingCode] = match shape {
                Shape::Correct => &[],
                // The short chain's top issuer (ISRG Root X1) is in some stores only (not in
                // `old`): incomplete for those.
                Shape::Short => &[FindingCode::IncompleteChain],
                // At 2021-10-01 the cross-sign's old root (DST Root CA X3) has expired.
                Shape::Long => &[FindingCode::CrossSignExpiring],
                Shape::LeafOnly => &[FindingCode::IncompleteChain],
                Shape::WrongSameKey => &[FindingCode::WrongNameSameKey],
            };
            assert_eq!(codes, expected, "{shape}");
            assert!(
                !diagnosis.verdicts.is_empty(),
                "{shape}: no model target judged"
            );
            if shape == Shape::Correct {
                assert_eq!(
                    diagnosis.tally().reject,
                    0,
                    "{shape}: {:?}",
                    diagnosis.verdicts
                );
            }
        }
        // Once the intermediates are verified, each new chain costs its leaf's signature alone,
        // verified once whatever asks for it (a leaf alone has no issuer to verify with).
        let before = signatures.counts();
        for request in synthetic.requests(10..20).unwrap() {
            batch.judge(&request);
        }
        let after = signatures.counts();
        assert_eq!(
            after.performed - before.performed,
            8,
            "{before:?} {after:?}"
        );
        assert!(
            after.requested - before.requested > 3 * 8,
            "{before:?} {after:?}"
        );
    }
}
