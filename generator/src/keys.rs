//! Deterministic key pairs: each key derives from (seed, key label, algorithm) through a
//! ChaCha20 stream, and RSA keys (seconds to generate) are cached on disk as PKCS#8 PEM.
//!
//! Derivation: `SHA-256(lp("anchorsmith-key-v1") || lp(seed) || lp(label) || lp(algorithm))`
//! seeds a `ChaCha20Rng`, where `lp(x)` is the 8-byte big-endian length of `x` followed by `x`
//! (length prefixes keep ("ab","c") and ("a","bc") apart).

use std::path::{Path, PathBuf};

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use sha2::{Digest, Sha256, Sha384};

use crate::topology::{KeyAlgorithm, SignatureAlgorithm};

/// A failure to derive, cache or use a key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key cache {}: {source}", path.display())]
    Cache {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("key {label:?} ({algorithm}): {message}")]
    Key {
        label: String,
        algorithm: KeyAlgorithm,
        message: String,
    },
}

enum Secret {
    Rsa(Box<rsa::RsaPrivateKey>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

/// ring's RSA signer (via rcgen), ~2.4x faster than the `rsa` crate's. PKCS#1 v1.5 is
/// deterministic, so both give the same bytes (tested); the `rsa` crate stays for SHA-1, which
/// ring cannot sign.
struct RingRsa {
    sha256: rcgen::KeyPair,
    sha384: rcgen::KeyPair,
}

/// One key pair with the encodings the generator needs.
pub struct KeyMaterial {
    pub algorithm: KeyAlgorithm,
    secret: Secret,
    ring_rsa: Option<RingRsa>,
    /// The subjectPublicKey BIT STRING content: PKCS#1 RSAPublicKey, SEC1 point, or 32 bytes.
    pub public_key: Vec<u8>,
    pkcs8_der: Vec<u8>,
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print private key material.
        f.debug_struct("KeyMaterial")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl KeyMaterial {
    /// Derive the key for (seed, label, algorithm). Pure and deterministic.
    pub fn derive(
        seed: &str,
        label: &str,
        algorithm: KeyAlgorithm,
    ) -> Result<KeyMaterial, KeyError> {
        let mut rng = ChaCha20Rng::from_seed(derivation_seed(seed, label, algorithm));
        let key_error = |message: String| KeyError::Key {
            label: label.to_string(),
            algorithm,
            message,
        };
        let secret = match algorithm {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa4096 => {
                let bits = if algorithm == KeyAlgorithm::Rsa2048 {
                    2048
                } else {
                    4096
                };
                Secret::Rsa(Box::new(
                    rsa::RsaPrivateKey::new(&mut rng, bits)
                        .map_err(|e| key_error(e.to_string()))?,
                ))
            }
            KeyAlgorithm::EcdsaP256 => Secret::P256(p256::ecdsa::SigningKey::random(&mut rng)),
            KeyAlgorithm::EcdsaP384 => Secret::P384(p384::ecdsa::SigningKey::random(&mut rng)),
            KeyAlgorithm::Ed25519 => {
                let mut bytes = [0u8; 32];
                rng.fill_bytes(&mut bytes);
                Secret::Ed25519(ed25519_dalek::SigningKey::from_bytes(&bytes))
            }
        };
        Self::from_secret(algorithm, secret).map_err(key_error)
    }

    /// Load a PKCS#8 DER private key of the given algorithm.
    pub fn from_pkcs8_der(algorithm: KeyAlgorithm, der: &[u8]) -> Result<KeyMaterial, String> {
        let secret = match algorithm {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa4096 => {
                let key = rsa::RsaPrivateKey::from_pkcs8_der(der).map_err(|e| e.to_string())?;
                let expected_bits = if algorithm == KeyAlgorithm::Rsa2048 {
                    2048
                } else {
                    4096
                };
                if rsa::traits::PublicKeyParts::size(&key) * 8 != expected_bits {
                    return Err(format!("cached RSA key is not {expected_bits} bits"));
                }
                Secret::Rsa(Box::new(key))
            }
            KeyAlgorithm::EcdsaP256 => Secret::P256(
                p256::ecdsa::SigningKey::from_pkcs8_der(der).map_err(|e| e.to_string())?,
            ),
            KeyAlgorithm::EcdsaP384 => Secret::P384(
                p384::ecdsa::SigningKey::from_pkcs8_der(der).map_err(|e| e.to_string())?,
            ),
            KeyAlgorithm::Ed25519 => Secret::Ed25519(
                ed25519_dalek::SigningKey::from_pkcs8_der(der).map_err(|e| e.to_string())?,
            ),
        };
        Self::from_secret(algorithm, secret)
    }

    fn from_secret(algorithm: KeyAlgorithm, secret: Secret) -> Result<KeyMaterial, String> {
        let (public_key, pkcs8_der) = match &secret {
            Secret::Rsa(key) => (
                key.to_public_key()
                    .to_pkcs1_der()
                    .map_err(|e| e.to_string())?
                    .as_bytes()
                    .to_vec(),
                pkcs8_der(key.as_ref())?,
            ),
            Secret::P256(key) => (
                key.verifying_key()
                    .to_encoded_point(false)
                    .as_bytes()
                    .to_vec(),
                pkcs8_der(key)?,
            ),
            Secret::P384(key) => (
                key.verifying_key()
                    .to_encoded_point(false)
                    .as_bytes()
                    .to_vec(),
                pkcs8_der(key)?,
            ),
            Secret::Ed25519(key) => (key.verifying_key().to_bytes().to_vec(), pkcs8_der(key)?),
        };
        let ring_rsa = match secret {
            Secret::Rsa(_) => Some(ring_rsa(&pkcs8_der)?),
            _ => None,
        };
        Ok(KeyMaterial {
            algorithm,
            secret,
            ring_rsa,
            public_key,
            pkcs8_der,
        })
    }

    /// The private key as PKCS#8 PEM.
    pub fn pkcs8_pem(&self) -> String {
        pem_encode("PRIVATE KEY", &self.pkcs8_der)
    }

    /// RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits.
    pub fn key_identifier(&self) -> Vec<u8> {
        sha1::Sha1::digest(&self.public_key).to_vec()
    }

    /// Sign `message` (hashing it as `algorithm` says). Every scheme here is deterministic:
    /// PKCS#1 v1.5, ECDSA with RFC 6979 nonces, Ed25519.
    pub fn sign(&self, algorithm: SignatureAlgorithm, message: &[u8]) -> Result<Vec<u8>, String> {
        if let Some(ring) = &self.ring_rsa {
            let signer = match algorithm {
                SignatureAlgorithm::RsaSha256 => Some(&ring.sha256),
                SignatureAlgorithm::RsaSha384 => Some(&ring.sha384),
                _ => None,
            };
            if let Some(signer) = signer {
                return rcgen::SigningKey::sign(signer, message).map_err(|e| e.to_string());
            }
        }
        self.sign_with_rust_crypto(algorithm, message)
    }

    /// The pure-Rust signers (the only ones for RSA SHA-1, ECDSA and Ed25519).
    fn sign_with_rust_crypto(
        &self,
        algorithm: SignatureAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, String> {
        use ed25519_dalek::Signer as _;
        use p256::ecdsa::signature::hazmat::PrehashSigner;
        use rsa::Pkcs1v15Sign;
        match (&self.secret, algorithm) {
            (Secret::Rsa(key), SignatureAlgorithm::RsaSha1) => key
                .sign(
                    Pkcs1v15Sign::new::<sha1::Sha1>(),
                    &sha1::Sha1::digest(message),
                )
                .map_err(|e| e.to_string()),
            (Secret::Rsa(key), SignatureAlgorithm::RsaSha256) => key
                .sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message))
                .map_err(|e| e.to_string()),
            (Secret::Rsa(key), SignatureAlgorithm::RsaSha384) => key
                .sign(Pkcs1v15Sign::new::<Sha384>(), &Sha384::digest(message))
                .map_err(|e| e.to_string()),
            (
                Secret::P256(key),
                SignatureAlgorithm::EcdsaSha256 | SignatureAlgorithm::EcdsaSha384,
            ) => {
                let digest = ecdsa_digest(algorithm, message);
                let signature: p256::ecdsa::Signature =
                    key.sign_prehash(&digest).map_err(|e| e.to_string())?;
                Ok(signature.to_der().as_bytes().to_vec())
            }
            (
                Secret::P384(key),
                SignatureAlgorithm::EcdsaSha256 | SignatureAlgorithm::EcdsaSha384,
            ) => {
                let digest = ecdsa_digest(algorithm, message);
                let signature: p384::ecdsa::Signature =
                    key.sign_prehash(&digest).map_err(|e| e.to_string())?;
                Ok(signature.to_der().as_bytes().to_vec())
            }
            (Secret::Ed25519(key), SignatureAlgorithm::Ed25519) => {
                Ok(key.sign(message).to_bytes().to_vec())
            }
            (_, algorithm) => Err(format!(
                "a {} key cannot sign {algorithm:?}",
                self.algorithm
            )),
        }
    }
}

fn ring_rsa(pkcs8_der: &[u8]) -> Result<RingRsa, String> {
    let load = |algorithm| {
        let der = rustls_pki_types::PrivatePkcs8KeyDer::from(pkcs8_der.to_vec());
        rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, algorithm).map_err(|e| e.to_string())
    };
    Ok(RingRsa {
        sha256: load(&rcgen::PKCS_RSA_SHA256)?,
        sha384: load(&rcgen::PKCS_RSA_SHA384)?,
    })
}

fn ecdsa_digest(algorithm: SignatureAlgorithm, message: &[u8]) -> Vec<u8> {
    if algorithm == SignatureAlgorithm::EcdsaSha384 {
        Sha384::digest(message).to_vec()
    } else {
        Sha256::digest(message).to_vec()
    }
}

pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    // LF line endings on every platform: output bytes must not depend on the machine.
    pem::encode_config(
        &pem::Pem::new(label, der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

fn length_prefixed(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_be_bytes());
    hasher.update(bytes);
}

fn derivation_seed(seed: &str, label: &str, algorithm: KeyAlgorithm) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in ["anchorsmith-key-v1", seed, label, algorithm.into()] {
        length_prefixed(&mut hasher, part.as_bytes());
    }
    hasher.finalize().into()
}

/// The cache file for one key: named by a hash so labels need no escaping.
fn cache_path(cache_dir: &Path, seed: &str, label: &str, algorithm: KeyAlgorithm) -> PathBuf {
    let mut hasher = Sha256::new();
    for part in ["anchorsmith-key-cache-v1", seed, label, algorithm.into()] {
        length_prefixed(&mut hasher, part.as_bytes());
    }
    let digest = hex::encode(&hasher.finalize()[..16]);
    cache_dir.join(format!("{digest}-{algorithm}.key.pem"))
}

/// Derive a key, going through the on-disk cache for RSA (EC and Ed25519 keys derive in
/// microseconds: caching them would cost more than deriving them).
pub fn load_or_derive(
    seed: &str,
    label: &str,
    algorithm: KeyAlgorithm,
    cache_dir: Option<&Path>,
) -> Result<KeyMaterial, KeyError> {
    let Some(cache_dir) = cache_dir.filter(|_| algorithm.is_rsa()) else {
        return KeyMaterial::derive(seed, label, algorithm);
    };
    let path = cache_path(cache_dir, seed, label, algorithm);
    if let Some(cached) = read_cached(&path, algorithm) {
        return Ok(cached);
    }
    let key = KeyMaterial::derive(seed, label, algorithm)?;
    write_cached(&path, &key.pkcs8_pem()).map_err(|source| KeyError::Cache { path, source })?;
    Ok(key)
}

/// Every key type here encodes itself through the same `pkcs8` trait.
fn pkcs8_der(key: &impl EncodePrivateKey) -> Result<Vec<u8>, String> {
    Ok(key
        .to_pkcs8_der()
        .map_err(|e| e.to_string())?
        .as_bytes()
        .to_vec())
}

/// A cached key, or `None` when missing or unreadable (then it is derived again and replaced).
fn read_cached(path: &Path, algorithm: KeyAlgorithm) -> Option<KeyMaterial> {
    let text = std::fs::read_to_string(path).ok()?;
    let block = pem::parse(text).ok()?;
    if block.tag() != "PRIVATE KEY" {
        return None;
    }
    KeyMaterial::from_pkcs8_der(algorithm, block.contents()).ok()
}

/// Mode 0600: other users never see a key, and the atomic write means a concurrent reader never
/// sees half of one.
fn write_cached(path: &Path, pem_text: &str) -> std::io::Result<()> {
    crate::atomic::write_file_atomically(path, pem_text.as_bytes(), 0o600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_is_deterministic_and_label_sensitive() {
        let a = KeyMaterial::derive("s", "leaf", KeyAlgorithm::EcdsaP256).unwrap();
        let b = KeyMaterial::derive("s", "leaf", KeyAlgorithm::EcdsaP256).unwrap();
        let c = KeyMaterial::derive("s", "leaf2", KeyAlgorithm::EcdsaP256).unwrap();
        let d = KeyMaterial::derive("t", "leaf", KeyAlgorithm::EcdsaP256).unwrap();
        assert_eq!(a.public_key, b.public_key);
        assert_ne!(a.public_key, c.public_key);
        assert_ne!(a.public_key, d.public_key);
        assert_eq!(a.public_key.len(), 65);
    }

    #[test]
    fn signatures_are_deterministic() {
        for algorithm in [
            KeyAlgorithm::EcdsaP256,
            KeyAlgorithm::EcdsaP384,
            KeyAlgorithm::Ed25519,
        ] {
            let key = KeyMaterial::derive("s", "k", algorithm).unwrap();
            let signature_algorithm = match algorithm {
                KeyAlgorithm::EcdsaP384 => SignatureAlgorithm::EcdsaSha384,
                KeyAlgorithm::Ed25519 => SignatureAlgorithm::Ed25519,
                _ => SignatureAlgorithm::EcdsaSha256,
            };
            let first = key.sign(signature_algorithm, b"tbs").unwrap();
            assert_eq!(first, key.sign(signature_algorithm, b"tbs").unwrap());
            assert!(key.sign(SignatureAlgorithm::RsaSha256, b"tbs").is_err());
        }
    }

    #[test]
    fn ring_and_rsa_crate_give_identical_rsa_signatures() {
        let dir = tempfile::tempdir().unwrap();
        let key =
            load_or_derive("cache-test", "r", KeyAlgorithm::Rsa2048, Some(dir.path())).unwrap();
        for algorithm in [SignatureAlgorithm::RsaSha256, SignatureAlgorithm::RsaSha384] {
            let fast = key.sign(algorithm, b"tbs").unwrap();
            assert_eq!(
                fast,
                key.sign_with_rust_crypto(algorithm, b"tbs").unwrap(),
                "{algorithm:?}"
            );
            assert_eq!(fast.len(), 256);
        }
        assert_ne!(
            key.sign(SignatureAlgorithm::RsaSha1, b"tbs").unwrap(),
            key.sign(SignatureAlgorithm::RsaSha256, b"tbs").unwrap()
        );
    }

    #[test]
    fn rsa_cache_round_trips_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let derived =
            load_or_derive("cache-test", "r", KeyAlgorithm::Rsa2048, Some(dir.path())).unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(
            files.len(),
            1,
            "exactly one cache file, no temporary left behind"
        );
        assert_eq!(
            std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let cached =
            load_or_derive("cache-test", "r", KeyAlgorithm::Rsa2048, Some(dir.path())).unwrap();
        assert_eq!(derived.public_key, cached.public_key);
        // A corrupt cache file is replaced, not trusted.
        std::fs::write(&files[0], "garbage").unwrap();
        let repaired =
            load_or_derive("cache-test", "r", KeyAlgorithm::Rsa2048, Some(dir.path())).unwrap();
        assert_eq!(derived.public_key, repaired.public_key);
        let pkcs8 = KeyMaterial::from_pkcs8_der(KeyAlgorithm::Rsa2048, &derived.pkcs8_der).unwrap();
        assert_eq!(pkcs8.public_key, derived.public_key);
        assert!(KeyMaterial::from_pkcs8_der(KeyAlgorithm::Rsa4096, &derived.pkcs8_der).is_err());
    }
}
