//! Synthetic served chains for measuring the doctor (`cargo xtask bench doctor`), deterministic
//! and quick to make: per scenario one or two ECDSA P-256 intermediates issued by the scenario's
//! own CA (its key, so the scenario's stores anchor them), and distinct leaves (the scenario's DNS
//! name, serial = index) signed by them with RFC 6979 deterministic ECDSA; the leaves share one
//! key. Each chain takes one of the seeds' shapes, in turn: a correct chain, a leaf only (seed
//! 000), the leaf with a same-key intermediate of the wrong name (seed 001), the long chain
//! through an expiring cross-sign and the short chain (seed 003, at 2021-10-01).

use anchorsmith_corpus::{Corpus, Scenario};
use p256::ecdsa::signature::Signer;
use rayon::prelude::*;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyUsagePurpose, SerialNumber,
};
use time::macros::datetime;
use time::OffsetDateTime;

use crate::batch::Request;
use crate::ServedChain;

/// Why the synthetic world could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SyntheticError {
    #[error("the corpus has no scenario {0}")]
    NoScenario(String),
    #[error("making a synthetic certificate: {0}")]
    Certificate(#[from] rcgen::Error),
}

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
pub enum Shape {
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

/// An ECDSA intermediate named `cn`, with `key`, issued by the scenario's certificate `by`.
fn intermediate(
    scenario: &Scenario,
    by: &str,
    cn: &str,
    key: &DeterministicP256,
    at: OffsetDateTime,
    serial: u64,
) -> Result<Vec<u8>, SyntheticError> {
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
    at: OffsetDateTime,
    twin: bool,
    cross: Option<&str>,
) -> Result<Family<'c>, SyntheticError> {
    let scenario = corpus
        .scenarios
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| SyntheticError::NoScenario(name.to_string()))?;
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
        dns_name: crate::dns_name(&corpus.cases, scenario),
        issuer,
        intermediate: der,
        twin,
        cross: cross.map(|id| scenario.pki.certs[id].der.clone()),
    })
}

/// The synthetic world: one family per scenario shape, and the leaves' shared key.
pub struct Synthetic<'c> {
    long_short: Family<'c>,
    same_key: Family<'c>,
    leaf_only: Family<'c>,
    leaf_key: DeterministicP256,
}

impl<'c> Synthetic<'c> {
    pub fn new(corpus: &'c Corpus) -> Result<Synthetic<'c>, SyntheticError> {
        Ok(Synthetic {
            long_short: family(
                corpus,
                "root-expiry-long-short",
                "isrg-x1",
                datetime!(2021-10-01 00:00 UTC),
                false,
                Some("isrg-x1-by-dst"),
            )?,
            same_key: family(
                corpus,
                "same-key-intermediates",
                "dst-root",
                datetime!(2016-04-06 00:00 UTC),
                true,
                None,
            )?,
            leaf_only: family(
                corpus,
                "leaf-only-served",
                "dst-root",
                datetime!(2016-07-01 00:00 UTC),
                false,
                None,
            )?,
            leaf_key: DeterministicP256::from_label("leaf"),
        })
    }

    /// The shape of chain `index`: the shapes in turn.
    pub fn shape(index: usize) -> Shape {
        use strum::IntoEnumIterator;
        let shapes: Vec<Shape> = Shape::iter().collect();
        shapes[index % shapes.len()]
    }

    /// Chain `index`: a distinct leaf in the index's shape, as a batch request.
    pub fn request(&self, index: usize) -> Result<Request, SyntheticError> {
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
            scenario: Some(family.scenario.name.clone()),
            at: family.at,
            chain: ServedChain::new(chain).expect("a leaf at least"),
        })
    }

    /// Chains `range`, made in parallel.
    pub fn requests(&self, range: std::ops::Range<usize>) -> Result<Vec<Request>, SyntheticError> {
        range.into_par_iter().map(|i| self.request(i)).collect()
    }
}
