//! The device's trust policy, applied over the reach matrix after validation ([`apply`]):
//! trust metadata of the candidates (distrusted roots, distrust-after dates) and the key types
//! the device can use. Validation ([`crate::coverage`]) says whether a chain reaches an anchor;
//! the policy says whether the device may use that anchor for it. Both are pure functions, so
//! the policy only ever takes coverage away.
//!
//! A distrust-after date D limits the TLS server certificates an anchor vouches for to those
//! issued on or before D. It is compared with the leaf's notBefore, not with the current time:
//! a leaf issued before D stays trusted through the anchor until it expires, even after D; its
//! renewal is not ([`distrust_lints`] says so). Without a leaf (only intermediates at hand), the
//! leaves still to come are issued from the moment the chain is first checked onwards.

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use x509_parser::oid_registry::{
    OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_EC_P521, OID_PKCS1_RSAENCRYPTION,
    OID_PKCS1_RSASSAPSS, OID_SIG_ED25519, OID_SIG_ED448,
};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::coverage::{self, Reach};
use crate::lint::Lint;
use crate::load::{self, Endpoint};

/// A public key algorithm a device may support (`--key-types`).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    strum::Display,
    strum::EnumString,
    strum::VariantNames,
    strum::VariantArray,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum KeyType {
    Rsa,
    EcdsaP256,
    EcdsaP384,
    EcdsaP521,
    Ed25519,
    Ed448,
}

/// A certificate's public key as a device sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Key {
    /// `None` for an algorithm no device of ours supports (DSA, GOST, other curves).
    pub key_type: Option<KeyType>,
    /// The algorithm OID of the SubjectPublicKeyInfo (and the curve OID for EC keys).
    pub algorithm: String,
    /// The RSA modulus size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rsa_bits: Option<usize>,
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.key_type, self.rsa_bits) {
            (Some(KeyType::Rsa), Some(bits)) => write!(f, "rsa ({bits}-bit)"),
            (Some(key_type), _) => write!(f, "{key_type}"),
            (None, _) => write!(f, "unknown key algorithm {}", self.algorithm),
        }
    }
}

/// The bits of a big-endian unsigned integer. Computed here because x509-parser's
/// `RSAPublicKey::key_size` drops a whole byte when the modulus has no leading zero octet.
fn bit_length(bytes: &[u8]) -> usize {
    let trimmed: &[u8] = match bytes.iter().position(|&byte| byte != 0) {
        Some(first) => &bytes[first..],
        None => return 0,
    };
    (trimmed.len() - 1) * 8 + (8 - trimmed[0].leading_zeros() as usize)
}

/// The key of the certificate `der`, or `None` when it does not parse.
pub fn key_of(der: &[u8]) -> Option<Key> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let spki = cert.public_key();
    let algorithm = &spki.algorithm.algorithm;
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|parameters| parameters.as_oid().ok());
    let (key_type, described) = if *algorithm == OID_PKCS1_RSAENCRYPTION
        || *algorithm == OID_PKCS1_RSASSAPSS
    {
        (Some(KeyType::Rsa), algorithm.to_id_string())
    } else if *algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let key_type = match &curve {
            Some(curve) if *curve == x509_parser::oid_registry::OID_EC_P256 => {
                Some(KeyType::EcdsaP256)
            }
            Some(curve) if *curve == OID_NIST_EC_P384 => Some(KeyType::EcdsaP384),
            Some(curve) if *curve == OID_NIST_EC_P521 => Some(KeyType::EcdsaP521),
            _ => None,
        };
        let curve = curve.map_or_else(|| "no named curve".to_string(), |oid| oid.to_id_string());
        (key_type, format!("{} {curve}", algorithm.to_id_string()))
    } else if *algorithm == OID_SIG_ED25519 {
        (Some(KeyType::Ed25519), algorithm.to_id_string())
    } else if *algorithm == OID_SIG_ED448 {
        (Some(KeyType::Ed448), algorithm.to_id_string())
    } else {
        (None, algorithm.to_id_string())
    };
    let rsa_bits = match spki.parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => Some(bit_length(rsa.modulus)),
        _ => None,
    };
    Some(Key {
        key_type,
        algorithm: described,
        rsa_bits,
    })
}

/// The keys a device can check signatures with (`--key-types`, `--min-rsa-bits`). The default
/// restricts nothing: any key, even of an algorithm not listed in [`KeyType`], is left to the
/// verifier to accept or not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyPolicy {
    /// `None`: no restriction by type.
    pub supported: Option<BTreeSet<KeyType>>,
    pub min_rsa_bits: Option<usize>,
}

impl KeyPolicy {
    /// Why the device cannot use `key`, or `None` when it can.
    pub fn refuses(&self, key: &Key) -> Option<String> {
        if let Some(supported) = &self.supported {
            if !key
                .key_type
                .is_some_and(|key_type| supported.contains(&key_type))
            {
                let names: Vec<String> = supported.iter().map(ToString::to_string).collect();
                return Some(format!(
                    "a key of type {key}, which the device does not support (it supports {})",
                    names.join(", ")
                ));
            }
        }
        match key.key_type {
            Some(KeyType::Rsa) => match (self.min_rsa_bits, key.rsa_bits) {
                (Some(min), Some(bits)) if bits < min => Some(format!(
                    "a key of type {key}, shorter than the {min} bits the device requires"
                )),
                _ => None,
            },
            _ => None,
        }
    }

    /// Why the device cannot use the key of the certificate `der` (an unparsable certificate is
    /// left to the validators to refuse).
    pub fn refuses_certificate(&self, der: &[u8]) -> Option<String> {
        key_of(der).and_then(|key| self.refuses(&key))
    }
}

/// Whether a store's operator lets an anchor vouch for TLS servers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trust {
    #[default]
    Trusted,
    /// Removed for TLS server authentication.
    Distrusted,
}

/// What one metadata source says about one certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnchorTrust {
    /// SHA-256 of the certificate DER, lowercase hex.
    pub sha256: String,
    pub trust: Trust,
    /// TLS server certificates issued (notBefore) after this are not trusted through it.
    pub distrust_after: Option<OffsetDateTime>,
    pub note: Option<String>,
}

/// One source of trust metadata: a `--trust-metadata` file or a `--certdata` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustMetadata {
    pub file: PathBuf,
    /// SHA-256 of the file's bytes.
    pub file_sha256: String,
    /// Provenance, as the file states it.
    pub source: String,
    pub anchors: Vec<AnchorTrust>,
}

/// The device's policy beyond its verifier. The default restricts nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    pub keys: KeyPolicy,
    pub trust: Vec<TrustMetadata>,
}

/// What every metadata source together says about one certificate: distrusted if any source
/// distrusts it, and the earliest distrust-after date any source gives (the stricter reading
/// wins, so adding a source never widens trust).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Judgement {
    /// The source and note that distrust it.
    pub distrusted: Option<String>,
    /// The date and the source that gives it.
    pub distrust_after: Option<(OffsetDateTime, String)>,
}

impl Policy {
    /// What the metadata says about the certificate `der`.
    pub fn judge(&self, der: &[u8]) -> Judgement {
        let sha256 = load::sha256_hex(der);
        let mut judgement = Judgement::default();
        for metadata in &self.trust {
            for entry in metadata
                .anchors
                .iter()
                .filter(|entry| entry.sha256 == sha256)
            {
                let said = match &entry.note {
                    Some(note) => format!("{}: {note}", metadata.source),
                    None => metadata.source.clone(),
                };
                if entry.trust == Trust::Distrusted && judgement.distrusted.is_none() {
                    judgement.distrusted = Some(said.clone());
                }
                if let Some(at) = entry.distrust_after {
                    if judgement
                        .distrust_after
                        .as_ref()
                        .is_none_or(|(earlier, _)| at < *earlier)
                    {
                        judgement.distrust_after = Some((at, said));
                    }
                }
            }
        }
        judgement
    }

    /// Why no anchor can make the device accept `endpoint`: a CA certificate of its chain has a
    /// key the device cannot check signatures with.
    pub fn chain_refusal(&self, endpoint: &Endpoint) -> Option<String> {
        endpoint
            .chain
            .iter()
            .filter(|der| load::can_anchor(der))
            .find_map(|der| {
                self.keys.refuses_certificate(der).map(|why| {
                    format!(
                        "its chain holds {}, with {why}: the device cannot check the signatures it makes",
                        crate::build::name(der)
                    )
                })
            })
    }

    /// Per metadata source: its entries, and how many of them match none of `offered` (every
    /// candidate offered, merged or not). Unmatched entries are ignored, but counted so that a
    /// metadata file for another store shows.
    pub fn metadata_use<'a>(&'a self, offered: &[&[u8]]) -> Vec<MetadataUse<'a>> {
        let known: BTreeSet<String> = offered.iter().map(|der| load::sha256_hex(der)).collect();
        self.trust
            .iter()
            .map(|metadata| MetadataUse {
                metadata,
                unmatched: metadata
                    .anchors
                    .iter()
                    .filter(|entry| !known.contains(&entry.sha256))
                    .count(),
            })
            .collect()
    }
}

/// A metadata source and how many of its entries match no candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataUse<'a> {
    pub metadata: &'a TrustMetadata,
    pub unmatched: usize,
}

/// How far the policy lets an anchor reach an endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Limit {
    /// Not at all, for this reason.
    Never(String),
    /// Not from this moment on, for this reason.
    From(OffsetDateTime, String),
}

/// `reach` cut down by `limit`: the policy never adds coverage.
fn restrict(reach: Reach, limit: Limit) -> Reach {
    match (reach, limit) {
        (never @ Reach::Never { .. }, _) => never,
        (_, Limit::Never(verdict)) => Reach::Never { verdict },
        (Reach::Until { fails_at, verdict }, Limit::From(at, _)) if fails_at <= at => {
            Reach::Until { fails_at, verdict }
        }
        (_, Limit::From(fails_at, verdict)) => Reach::Until { fails_at, verdict },
    }
}

fn date(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// The limit a distrust-after date puts on `endpoint`, if any (see the module documentation).
fn distrust_after_limit(
    endpoint: &Endpoint,
    distrust_after: OffsetDateTime,
    said: &str,
    now: OffsetDateTime,
    horizon: OffsetDateTime,
) -> Option<Limit> {
    if endpoint.has_leaf {
        let (leaf_not_before, _) = coverage::validity(&endpoint.chain[0])?;
        return (leaf_not_before > distrust_after).then(|| {
            Limit::Never(format!(
                "distrusted for TLS certificates issued after {} ({said}); the leaf was issued {}",
                date(distrust_after),
                date(leaf_not_before)
            ))
        });
    }
    // Leaves to come are issued from the moment the chain is first checked.
    let from = coverage::served_from(endpoint, now);
    let cut = distrust_after + time::Duration::SECOND;
    if from > distrust_after {
        Some(Limit::Never(format!(
            "distrusted for TLS certificates issued after {} ({said}): every leaf issued from now on is refused",
            date(distrust_after)
        )))
    } else if cut <= coverage::served_until(endpoint, horizon) {
        Some(Limit::From(
            cut,
            format!(
                "distrusted for TLS certificates issued after {} ({said}): leaves issued from then on are refused",
                date(distrust_after)
            ),
        ))
    } else {
        None
    }
}

/// The reach matrix of [`coverage::matrix`] (`reach[endpoint][candidate]`) under `policy`:
/// an endpoint whose chain the device cannot check is reached by no anchor; an anchor with a key
/// the device does not support, or that a metadata source distrusts, reaches nothing; a
/// distrust-after date limits what it reaches (module documentation).
pub fn apply(
    policy: &Policy,
    endpoints: &[Endpoint],
    candidates: &[Vec<u8>],
    now: OffsetDateTime,
    horizon: OffsetDateTime,
    reach: Vec<Vec<Reach>>,
) -> Vec<Vec<Reach>> {
    let per_candidate: Vec<(Option<String>, Judgement)> = candidates
        .iter()
        .map(|der| (policy.keys.refuses_certificate(der), policy.judge(der)))
        .collect();
    endpoints
        .iter()
        .zip(reach)
        .map(|(endpoint, row)| {
            let chain_refusal = policy.chain_refusal(endpoint);
            row.into_iter()
                .zip(&per_candidate)
                .map(|(mut reach, (key_refusal, judgement))| {
                    let mut limits = Vec::new();
                    if let Some(why) = &chain_refusal {
                        limits.push(Limit::Never(why.clone()));
                    }
                    if let Some(why) = key_refusal {
                        limits.push(Limit::Never(format!("the anchor has {why}")));
                    }
                    if let Some(said) = &judgement.distrusted {
                        limits.push(Limit::Never(format!(
                            "distrusted for TLS server authentication ({said})"
                        )));
                    }
                    if let Some((at, said)) = &judgement.distrust_after {
                        limits.extend(distrust_after_limit(endpoint, *at, said, now, horizon));
                    }
                    for limit in limits {
                        reach = restrict(reach, limit);
                    }
                    reach
                })
                .collect()
        })
        .collect()
}

/// [`Lint::DistrustAfter`] for every endpoint that an anchor of `store` covers while a
/// distrust-after date before the horizon rules out the certificates the endpoint will be
/// issued later (the renewal of its leaf; without a leaf, the leaves issued after that date).
pub fn distrust_lints(
    policy: &Policy,
    endpoints: &[Endpoint],
    candidates: &[Vec<u8>],
    reach: &[Vec<Reach>],
    store: &[usize],
    horizon: OffsetDateTime,
) -> Vec<Lint> {
    let dates: Vec<Option<(OffsetDateTime, String)>> = candidates
        .iter()
        .map(|der| policy.judge(der).distrust_after)
        .collect();
    // An anchor survives the renewals if no distrust-after date falls before the horizon.
    let lasting = |c: usize| {
        dates[c]
            .as_ref()
            .is_none_or(|(distrust_after, _)| *distrust_after >= horizon)
    };
    let mut lints = Vec::new();
    for (endpoint, row) in endpoints.iter().zip(reach) {
        let leaf_not_before = endpoint
            .has_leaf
            .then(|| coverage::validity(&endpoint.chain[0]).map(|(not_before, _)| not_before))
            .flatten();
        let backup = store.iter().any(|&c| row[c].covers() && lasting(c));
        for &c in store {
            let Some((distrust_after, source)) = &dates[c] else {
                continue;
            };
            if row[c].covers() && *distrust_after < horizon {
                lints.push(Lint::DistrustAfter {
                    anchor: crate::build::name(&candidates[c]),
                    distrust_after: *distrust_after,
                    source: source.clone(),
                    endpoint: endpoint.host.clone(),
                    leaf_not_before,
                    backup,
                });
            }
        }
    }
    lints
}

/// [`Lint::UnsupportedKeyType`] for each anchor of `store` the device cannot use, and for each
/// other candidate whose key alone keeps it from covering endpoints (`unrestricted` is the reach
/// before the policy), naming those endpoints.
pub fn key_lints(
    policy: &Policy,
    endpoints: &[Endpoint],
    candidates: &[Vec<u8>],
    unrestricted: Option<&[Vec<Reach>]>,
    store: &[usize],
) -> Vec<Lint> {
    let mut lints = Vec::new();
    // Endpoints the device can check at all (no unsupported key in their chain), computed once
    // and only when some candidate's key is refused.
    let mut checkable: Option<Vec<bool>> = None;
    for (c, der) in candidates.iter().enumerate() {
        let Some(key) = key_of(der) else { continue };
        if policy.keys.refuses(&key).is_none() {
            continue;
        }
        let would_cover: Vec<String> = unrestricted
            .map(|reach| {
                let checkable = checkable.get_or_insert_with(|| {
                    endpoints
                        .iter()
                        .map(|endpoint| policy.chain_refusal(endpoint).is_none())
                        .collect()
                });
                endpoints
                    .iter()
                    .zip(reach)
                    .zip(checkable.iter())
                    .filter(|((_, row), &checkable)| checkable && row[c].covers())
                    .map(|((endpoint, _), _)| endpoint.host.clone())
                    .collect()
            })
            .unwrap_or_default();
        if store.contains(&c) || !would_cover.is_empty() {
            lints.push(Lint::UnsupportedKeyType {
                anchor: crate::build::name(der),
                key,
                would_cover,
            });
        }
    }
    // By sentence, whatever order the candidates came in: the same inputs give the same bytes.
    lints.sort_by_cached_key(Lint::sentence);
    lints
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_length_counts_from_the_first_set_bit() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x7f, 0x00]), 15);
        assert_eq!(bit_length(&[0x01]), 1);
        assert_eq!(bit_length(&[0, 0]), 0);
    }

    #[test]
    fn restrict_only_takes_coverage_away() {
        let at = time::macros::datetime!(2030-01-01 0:00 UTC);
        let later = time::macros::datetime!(2031-01-01 0:00 UTC);
        let never = Reach::Never {
            verdict: "no".into(),
        };
        assert_eq!(restrict(never.clone(), Limit::From(at, "d".into())), never);
        assert_eq!(
            restrict(Reach::Covers, Limit::From(at, "d".into())),
            Reach::Until {
                fails_at: at,
                verdict: "d".into()
            }
        );
        let early = Reach::Until {
            fails_at: at,
            verdict: "expired".into(),
        };
        assert_eq!(
            restrict(early.clone(), Limit::From(later, "d".into())),
            early
        );
        assert_eq!(
            restrict(early, Limit::Never("x".into())),
            Reach::Never {
                verdict: "x".into()
            }
        );
    }

    #[test]
    fn the_default_key_policy_refuses_nothing() {
        let policy = KeyPolicy::default();
        let rsa = Key {
            key_type: Some(KeyType::Rsa),
            algorithm: "1.2.840.113549.1.1.1".into(),
            rsa_bits: Some(1024),
        };
        assert_eq!(policy.refuses(&rsa), None);
        let strict = KeyPolicy {
            min_rsa_bits: Some(2048),
            ..KeyPolicy::default()
        };
        assert!(strict.refuses(&rsa).unwrap().contains("2048 bits"));
        let dsa = Key {
            key_type: None,
            algorithm: "1.2.840.10040.4.1".into(),
            rsa_bits: None,
        };
        assert_eq!(policy.refuses(&dsa), None);
        let listed = KeyPolicy {
            supported: Some([KeyType::Rsa].into_iter().collect()),
            ..KeyPolicy::default()
        };
        assert_eq!(listed.refuses(&rsa), None);
        let why = listed.refuses(&dsa).unwrap();
        assert!(
            why.contains("unknown key algorithm 1.2.840.10040.4.1"),
            "{why}"
        );
        assert!(why.contains("it supports rsa"), "{why}");
    }
}
