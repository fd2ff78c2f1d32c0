//! A signature cache shared by many validations: each (certificate, issuer key) signature is
//! verified once, whichever client model, store or cache setting asks again. The chain doctor's
//! batch mode judges one chain with a dozen client models, each with and without its cache, and
//! a fleet's chains share their intermediates: without the cache the same signatures are
//! verified dozens of times per chain, and signature checks dominate the time.
//!
//! The cache is optional: a [`ClientModel`](super::ClientModel) without one verifies every
//! signature it is asked about, as before. A cached answer is the same answer: the key holds
//! everything the verification reads (the certificate's whole DER, so its TBS, algorithm and
//! signature, and the issuer's subjectPublicKeyInfo), and the value is the verification's own
//! result. The SHA-1 refusal of a client that refuses SHA-1 is a policy, decided before the
//! cache is asked.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use x509_parser::certificate::X509Certificate;

/// Shards of the map, so threads verifying different chains rarely wait on one lock.
const SHARDS: usize = 16;

/// SHA-256 of the certificate's DER and the issuer's subjectPublicKeyInfo.
type Key = [u8; 32];

/// Verified signatures, keyed by certificate and issuer key; thread-safe.
pub struct SignatureCache {
    shards: Vec<Mutex<HashMap<Key, Result<(), String>>>>,
    requested: AtomicU64,
    performed: AtomicU64,
}

/// How many signature checks were asked for, and how many were really computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SignatureCounts {
    pub requested: u64,
    pub performed: u64,
}

impl SignatureCounts {
    /// The share of requests answered from the cache (0 when nothing was asked).
    pub fn hit_rate(&self) -> f64 {
        if self.requested == 0 {
            0.0
        } else {
            1.0 - self.performed as f64 / self.requested as f64
        }
    }
}

impl Default for SignatureCache {
    fn default() -> Self {
        SignatureCache::new()
    }
}

impl std::fmt::Debug for SignatureCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureCache")
            .field("counts", &self.counts())
            .finish_non_exhaustive()
    }
}

impl SignatureCache {
    pub fn new() -> SignatureCache {
        SignatureCache {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            requested: AtomicU64::new(0),
            performed: AtomicU64::new(0),
        }
    }

    /// Whether `issuer`'s key verifies the signature on `child` (the model's verification:
    /// [`signature_verifies`]), computed at most once per pair for every caller of this cache.
    pub fn verifies(
        &self,
        child: &X509Certificate<'_>,
        issuer: &X509Certificate<'_>,
    ) -> Result<(), String> {
        self.requested.fetch_add(1, Ordering::Relaxed);
        let key = key(child, issuer);
        let shard = &self.shards[usize::from(key[0]) % SHARDS];
        if let Some(known) = lock(shard).get(&key) {
            return known.clone();
        }
        // Verified outside the lock: two threads may both miss the same pair at once and both
        // verify it (counted twice, same answer); the lock is never held across a verification.
        let result = signature_verifies(child, issuer);
        self.performed.fetch_add(1, Ordering::Relaxed);
        lock(shard).insert(key, result.clone());
        result
    }

    pub fn counts(&self) -> SignatureCounts {
        SignatureCounts {
            requested: self.requested.load(Ordering::Relaxed),
            performed: self.performed.load(Ordering::Relaxed),
        }
    }
}

/// A poisoned shard only means another thread panicked mid-insert of a complete value.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn key(child: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> Key {
    let mut hash = Sha256::new();
    // Length-prefixed, so no two different pairs hash the same bytes.
    hash.update((child.as_raw().len() as u64).to_be_bytes());
    hash.update(child.as_raw());
    hash.update(issuer.public_key().raw);
    hash.finalize().into()
}

/// The cryptographic check alone: SHA-1 signatures through OpenSSL (x509-parser's ring backend
/// has no ECDSA with SHA-1), every other one through x509-parser.
pub fn signature_verifies(
    child: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
) -> Result<(), String> {
    if super::cert::signed_with_sha1(child) {
        return openssl_verifies(child, issuer);
    }
    child
        .verify_signature(Some(issuer.public_key()))
        .map_err(|error| error.to_string())
}

fn openssl_verifies(
    child: &X509Certificate<'_>,
    parent: &X509Certificate<'_>,
) -> Result<(), String> {
    let child = openssl::x509::X509::from_der(child.as_raw()).map_err(|e| e.to_string())?;
    let key = openssl::pkey::PKey::public_key_from_der(parent.public_key().raw)
        .map_err(|e| e.to_string())?;
    match child.verify(&key) {
        Ok(true) => Ok(()),
        Ok(false) => Err("the signature does not verify".into()),
        Err(error) => Err(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use x509_parser::prelude::FromDer;

    /// Two CAs under different keys and a leaf issued by the first.
    fn ders() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let ca = |name: &str| {
            let key = KeyPair::generate().unwrap();
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, name);
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            let cert = params.self_signed(&key).unwrap();
            (cert.der().to_vec(), Issuer::new(params, key))
        };
        let (ca_der, issuer) = ca("CA");
        let (other_der, _) = ca("Other");
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["leaf.test".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        (ca_der, other_der, leaf.der().to_vec())
    }

    #[test]
    fn each_pair_is_verified_once_and_answers_as_without_the_cache() {
        let (ca, other, leaf) = ders();
        fn parse(der: &[u8]) -> X509Certificate<'_> {
            X509Certificate::from_der(der).unwrap().1
        }
        let (ca, other, leaf) = (parse(&ca), parse(&other), parse(&leaf));
        let cache = SignatureCache::new();
        for _ in 0..3 {
            assert_eq!(cache.verifies(&leaf, &ca), signature_verifies(&leaf, &ca));
            assert!(cache.verifies(&leaf, &ca).is_ok());
            let refused = cache.verifies(&leaf, &other);
            assert!(refused.is_err());
            assert_eq!(refused, signature_verifies(&leaf, &other));
        }
        assert_eq!(
            cache.counts(),
            SignatureCounts {
                requested: 9,
                performed: 2
            }
        );
        assert!((cache.counts().hit_rate() - 7.0 / 9.0).abs() < 1e-9);
    }
}
