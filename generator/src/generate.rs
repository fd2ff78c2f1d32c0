//! Topology → certificates. rcgen builds each TBSCertificate (names, validity, SPKI) and calls
//! our deterministic signer; every extension is ours (see `extensions.rs`). Signature
//! algorithms rcgen cannot name (sha1WithRSAEncryption, ECDSA with the other curve's hash) are
//! produced by replacing the TBS AlgorithmIdentifier and signing again.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::der;
use crate::extensions;
use crate::keys::{self, KeyError, KeyMaterial};
use crate::name::{Name, NameAttribute};
use crate::topology::{CertSpec, KeyAlgorithm, SignatureAlgorithm, Topology};

/// How to generate.
#[derive(Clone, Debug, Default)]
pub struct GenerateOptions {
    /// Use this seed instead of the topology's.
    pub seed_override: Option<String>,
    /// Where RSA keys are cached; `None` derives every key afresh.
    pub key_cache_dir: Option<PathBuf>,
}

/// A failure while generating (the topology itself was already validated).
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("certificate {id:?}: {message}")]
    Certificate { id: String, message: String },
}

/// One generated certificate with everything a manifest or a test needs.
#[derive(Clone)]
pub struct GeneratedCert {
    pub id: String,
    pub der: Vec<u8>,
    pub pem: String,
    /// RFC 4514.
    pub subject: String,
    /// The issuer's subject, RFC 4514.
    pub issuer: String,
    pub issuer_id: String,
    pub key_label: String,
    pub key_algorithm: KeyAlgorithm,
    pub is_ca: bool,
    pub self_signed: bool,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// Lowercase hex, as in the topology after removing leading zeros.
    pub serial_hex: String,
    pub subject_key_identifier: Option<Vec<u8>>,
    pub authority_key_identifier: Option<Vec<u8>>,
    /// SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex.
    pub spki_sha256: String,
    /// SHA-256 of the certificate DER, lowercase hex.
    pub sha256_fingerprint: String,
    /// The subject key, PKCS#8 PEM. Written to disk only on request.
    pub private_key_pkcs8_pem: String,
}

impl std::fmt::Debug for GeneratedCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Leave the private key out of debug output.
        f.debug_struct("GeneratedCert")
            .field("id", &self.id)
            .field("subject", &self.subject)
            .field("issuer_id", &self.issuer_id)
            .field("serial_hex", &self.serial_hex)
            .field("sha256_fingerprint", &self.sha256_fingerprint)
            .finish_non_exhaustive()
    }
}

/// A generated PKI, certificates in declaration order.
#[derive(Clone, Debug)]
pub struct Pki {
    pub certs: Vec<GeneratedCert>,
}

impl Pki {
    pub fn get(&self, id: &str) -> Option<&GeneratedCert> {
        self.certs.iter().find(|cert| cert.id == id)
    }

    /// `manifest.json`: pretty-printed, keys in a fixed order, trailing newline.
    pub fn manifest_json(&self) -> String {
        let manifest = Manifest {
            certificates: self.certs.iter().map(ManifestEntry::from).collect(),
        };
        let mut json = serde_json::to_string_pretty(&manifest).expect("manifest serialises");
        json.push('\n');
        json
    }
}

#[derive(Serialize)]
struct Manifest<'a> {
    certificates: Vec<ManifestEntry<'a>>,
}

#[derive(Serialize)]
struct ManifestEntry<'a> {
    id: &'a str,
    subject: &'a str,
    issuer: &'a str,
    issuer_id: &'a str,
    serial: &'a str,
    not_before: String,
    not_after: String,
    key_label: &'a str,
    key_algorithm: &'static str,
    is_ca: bool,
    self_signed: bool,
    spki_sha256: &'a str,
    ski: Option<String>,
    aki: Option<String>,
    sha256_fingerprint: &'a str,
}

impl<'a> From<&'a GeneratedCert> for ManifestEntry<'a> {
    fn from(cert: &'a GeneratedCert) -> Self {
        ManifestEntry {
            id: &cert.id,
            subject: &cert.subject,
            issuer: &cert.issuer,
            issuer_id: &cert.issuer_id,
            serial: &cert.serial_hex,
            not_before: rfc3339(cert.not_before),
            not_after: rfc3339(cert.not_after),
            key_label: &cert.key_label,
            key_algorithm: cert.key_algorithm.into(),
            is_ca: cert.is_ca,
            self_signed: cert.self_signed,
            spki_sha256: &cert.spki_sha256,
            ski: cert.subject_key_identifier.as_ref().map(hex::encode),
            aki: cert.authority_key_identifier.as_ref().map(hex::encode),
            sha256_fingerprint: &cert.sha256_fingerprint,
        }
    }
}

fn rfc3339(instant: OffsetDateTime) -> String {
    instant
        .format(&Rfc3339)
        .expect("UTC instants within certificate range format as RFC 3339")
}

/// Generate every certificate of `topology`. Same topology + seed → same bytes.
pub fn generate(topology: &Topology, options: &GenerateOptions) -> Result<Pki, GenerateError> {
    let seed = options.seed_override.as_deref().unwrap_or(topology.seed());
    let keys = derive_keys(topology, seed, options)?;
    // Certificates are independent once keys exist: sign in parallel; `collect` keeps
    // declaration order, so the output does not depend on scheduling.
    let certs = topology
        .certs()
        .par_iter()
        .map(|cert| {
            let issuer = topology.cert(&cert.issuer_id).expect("validated issuer");
            generate_one(cert, issuer, &keys)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Pki { certs })
}

/// Keys for every label that a certificate uses, derived in parallel (RSA keygen is slow and
/// each key is independent; the result does not depend on scheduling).
fn derive_keys(
    topology: &Topology,
    seed: &str,
    options: &GenerateOptions,
) -> Result<BTreeMap<String, KeyMaterial>, GenerateError> {
    let mut used: Vec<(&str, KeyAlgorithm)> = topology
        .certs()
        .iter()
        .map(|cert| (cert.key_label.as_str(), cert.key_algorithm))
        .collect();
    used.sort_unstable();
    used.dedup();
    // Slowest first, so the two cores do not end with one RSA-4096 keygen running alone.
    used.sort_by_key(|(label, algorithm)| {
        (
            std::cmp::Reverse(*algorithm == KeyAlgorithm::Rsa4096),
            *label,
        )
    });
    let cache_dir = options.key_cache_dir.as_deref();
    let derived: Vec<(String, KeyMaterial)> = used
        .par_iter()
        .map(|(label, algorithm)| {
            keys::load_or_derive(seed, label, *algorithm, cache_dir)
                .map(|key| (label.to_string(), key))
        })
        .collect::<Result<_, _>>()?;
    Ok(derived.into_iter().collect())
}

/// rcgen's view of a key: public key bytes and the signature algorithm it will write into the
/// TBS; `sign` calls our deterministic signer.
struct RcgenKey<'a> {
    key: &'a KeyMaterial,
    algorithm: SignatureAlgorithm,
}

impl rcgen::PublicKeyData for RcgenKey<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.key.public_key
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        rcgen_algorithm(self.key.algorithm, self.algorithm).0
    }
}

impl rcgen::SigningKey for RcgenKey<'_> {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let (_, natural) = rcgen_algorithm(self.key.algorithm, self.algorithm);
        self.key
            .sign(natural, message)
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

/// The rcgen algorithm to build with, and the algorithm it means. When `wanted` is something
/// rcgen cannot name, the key's natural algorithm is used and the caller re-signs.
fn rcgen_algorithm(
    key: KeyAlgorithm,
    wanted: SignatureAlgorithm,
) -> (&'static rcgen::SignatureAlgorithm, SignatureAlgorithm) {
    match (key, wanted) {
        (KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa4096, SignatureAlgorithm::RsaSha384) => {
            (&rcgen::PKCS_RSA_SHA384, SignatureAlgorithm::RsaSha384)
        }
        (KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa4096, _) => {
            (&rcgen::PKCS_RSA_SHA256, SignatureAlgorithm::RsaSha256)
        }
        (KeyAlgorithm::EcdsaP256, _) => (
            &rcgen::PKCS_ECDSA_P256_SHA256,
            SignatureAlgorithm::EcdsaSha256,
        ),
        (KeyAlgorithm::EcdsaP384, _) => (
            &rcgen::PKCS_ECDSA_P384_SHA384,
            SignatureAlgorithm::EcdsaSha384,
        ),
        (KeyAlgorithm::Ed25519, _) => (&rcgen::PKCS_ED25519, SignatureAlgorithm::Ed25519),
    }
}

/// The DER AlgorithmIdentifier of a signature algorithm.
fn algorithm_identifier(algorithm: SignatureAlgorithm) -> Vec<u8> {
    let rsa = |last: u64| {
        der::sequence(&[
            der::oid(&[1, 2, 840, 113549, 1, 1, last]),
            der::tlv(der::tag::NULL, &[]),
        ])
    };
    match algorithm {
        SignatureAlgorithm::RsaSha1 => rsa(5),
        SignatureAlgorithm::RsaSha256 => rsa(11),
        SignatureAlgorithm::RsaSha384 => rsa(12),
        // RFC 5758: ECDSA AlgorithmIdentifiers have absent parameters.
        SignatureAlgorithm::EcdsaSha256 => der::sequence(&[der::oid(&[1, 2, 840, 10045, 4, 3, 2])]),
        SignatureAlgorithm::EcdsaSha384 => der::sequence(&[der::oid(&[1, 2, 840, 10045, 4, 3, 3])]),
        SignatureAlgorithm::Ed25519 => der::sequence(&[der::oid(&[1, 3, 101, 112])]),
    }
}

fn rcgen_name(name: &Name) -> Result<rcgen::DistinguishedName, String> {
    let mut dn = rcgen::DistinguishedName::new();
    for (attribute, value) in &name.attributes {
        let (kind, value): (rcgen::DnType, rcgen::DnValue) = match attribute {
            // X.520 requires PrintableString for countryName.
            NameAttribute::Country => (
                rcgen::DnType::CountryName,
                rcgen::DnValue::PrintableString(
                    value
                        .as_str()
                        .try_into()
                        .map_err(|_| format!("country {value:?}"))?,
                ),
            ),
            NameAttribute::StateOrProvince => {
                (rcgen::DnType::StateOrProvinceName, value.as_str().into())
            }
            NameAttribute::Locality => (rcgen::DnType::LocalityName, value.as_str().into()),
            NameAttribute::Organization => (rcgen::DnType::OrganizationName, value.as_str().into()),
            NameAttribute::OrganizationalUnit => {
                (rcgen::DnType::OrganizationalUnitName, value.as_str().into())
            }
            NameAttribute::CommonName => (rcgen::DnType::CommonName, value.as_str().into()),
        };
        dn.push(kind, value);
    }
    Ok(dn)
}

fn generate_one(
    cert: &CertSpec,
    issuer: &CertSpec,
    keys: &BTreeMap<String, KeyMaterial>,
) -> Result<GeneratedCert, GenerateError> {
    let failure = |message: String| GenerateError::Certificate {
        id: cert.id.clone(),
        message,
    };
    let subject_key = &keys[&cert.key_label];
    let issuer_key = &keys[&issuer.key_label];
    let key_ids = extensions::key_identifiers(
        cert,
        &subject_key.key_identifier(),
        issuer,
        &issuer_key.key_identifier(),
    );

    let mut params = rcgen::CertificateParams::default();
    params.not_before = cert.not_before;
    params.not_after = cert.not_after;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&cert.serial));
    params.distinguished_name = rcgen_name(&cert.subject).map_err(failure)?;
    params.custom_extensions = extensions::encode_all(cert, &key_ids)
        .into_iter()
        .map(|extension| {
            let mut custom =
                rcgen::CustomExtension::from_oid_content(extension.oid, extension.value);
            custom.set_criticality(extension.critical);
            custom
        })
        .collect();

    let mut issuer_params = rcgen::CertificateParams::default();
    issuer_params.distinguished_name = rcgen_name(&issuer.subject).map_err(failure)?;
    let signer = RcgenKey {
        key: issuer_key,
        algorithm: cert.signature_algorithm,
    };
    let rcgen_issuer = rcgen::Issuer::new(issuer_params, signer);
    // The subject's SPKI depends only on its key type, so any algorithm of that key will do.
    let subject_public = RcgenKey {
        key: subject_key,
        algorithm: natural_algorithm(subject_key.algorithm),
    };
    let built = params
        .signed_by(&subject_public, &rcgen_issuer)
        .map_err(|e| failure(e.to_string()))?;
    let mut der_bytes = built.der().to_vec();
    if rcgen_algorithm(issuer_key.algorithm, cert.signature_algorithm).1 != cert.signature_algorithm
    {
        der_bytes = resign(&der_bytes, issuer_key, cert.signature_algorithm).map_err(failure)?;
    }

    let spki = rcgen::PublicKeyData::subject_public_key_info(&subject_public);
    Ok(GeneratedCert {
        id: cert.id.clone(),
        pem: keys::pem_encode("CERTIFICATE", &der_bytes),
        subject: cert.subject_dn(),
        issuer: issuer.subject_dn(),
        issuer_id: cert.issuer_id.clone(),
        key_label: cert.key_label.clone(),
        key_algorithm: cert.key_algorithm,
        is_ca: cert.is_ca(),
        self_signed: cert.self_signed,
        not_before: cert.not_before,
        not_after: cert.not_after,
        serial_hex: cert.serial_hex(),
        subject_key_identifier: key_ids.subject,
        authority_key_identifier: key_ids.authority,
        spki_sha256: hex::encode(Sha256::digest(&spki)),
        sha256_fingerprint: hex::encode(Sha256::digest(&der_bytes)),
        private_key_pkcs8_pem: subject_key.pkcs8_pem(),
        der: der_bytes,
    })
}

fn natural_algorithm(key: KeyAlgorithm) -> SignatureAlgorithm {
    match key {
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa4096 => SignatureAlgorithm::RsaSha256,
        KeyAlgorithm::EcdsaP256 => SignatureAlgorithm::EcdsaSha256,
        KeyAlgorithm::EcdsaP384 => SignatureAlgorithm::EcdsaSha384,
        KeyAlgorithm::Ed25519 => SignatureAlgorithm::Ed25519,
    }
}

/// Rebuild a certificate under `algorithm`: swap the TBS AlgorithmIdentifier, sign the new TBS,
/// and assemble `Certificate ::= SEQUENCE { tbs, signatureAlgorithm, signatureValue }`.
fn resign(
    certificate: &[u8],
    issuer_key: &KeyMaterial,
    algorithm: SignatureAlgorithm,
) -> Result<Vec<u8>, String> {
    let algorithm_id = algorithm_identifier(algorithm);
    let tbs = der::certificate_tbs(certificate)?;
    let tbs = der::replace_tbs_signature_algorithm(&tbs, &algorithm_id)?;
    let signature = issuer_key.sign(algorithm, &tbs)?;
    Ok(der::sequence(&[
        tbs,
        algorithm_id,
        der::bit_string_bytes(&signature),
    ]))
}

/// `<workspace>/target/anchorsmith-keys`, or `$CARGO_TARGET_DIR/anchorsmith-keys`.
pub fn default_key_cache_dir() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the generator crate lives in the workspace")
        .to_path_buf();
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if PathBuf::from(&dir).is_absolute() => PathBuf::from(dir),
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    };
    target.join("anchorsmith-keys")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_identifiers_match_known_encodings() {
        assert_eq!(
            hex::encode(algorithm_identifier(SignatureAlgorithm::RsaSha1)),
            "300d06092a864886f70d0101050500"
        );
        assert_eq!(
            hex::encode(algorithm_identifier(SignatureAlgorithm::EcdsaSha256)),
            "300a06082a8648ce3d040302"
        );
        assert_eq!(
            hex::encode(algorithm_identifier(SignatureAlgorithm::Ed25519)),
            "300506032b6570"
        );
    }
}
