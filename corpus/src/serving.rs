//! Server-side chain assembly: what a server sends, given its software and what that software
//! reads (its certificate store, the files it is configured with). A scenario's
//! `[served.<chain>]` table names a [`Server`]; [`assemble`] turns it into the chain's
//! certificate ids, peer first, exactly as a hand-written `[chains]` entry would list them.
//!
//! Assembly happens when a scenario is resolved, before any key exists, so IIS's choice by key
//! identifier is made on [`KeyId`]s computed from the topology's declarations (key labels and
//! explicit identifiers) by the same rule the generator encodes; a test checks the choices
//! against the identifiers in the generated certificates' bytes.

use anchorsmith_generator::{CertSpec, KeyIdentifier, Topology};
use serde::{Deserialize, Serialize};

use crate::spec::Strength;

/// The server software whose chain assembly is modelled.
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
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum ServerSoftware {
    /// IIS (SChannel): after the leaf, the intermediate whose subject key identifier equals the
    /// child's authority key identifier, the first of several matches in its store (seed 001).
    Iis,
    /// Apache configured with `cert.pem` only: the leaf alone (seed 000).
    ApacheCertOnly,
    /// Any server configured with certbot's `fullchain.pem`: the leaf and the chain the ACME
    /// CA offered with it (seeds 000 and 003).
    CertbotFullchain,
}

/// Which of the chains an ACME CA offers certbot writes after the leaf in `fullchain.pem`.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum PreferredChain {
    /// The CA's default chain (Let's Encrypt 2021: the long one), what certbot takes unless told.
    #[default]
    Default,
    /// The CA's alternate chain (certbot's `preferred_chain`; Let's Encrypt 2021: the short one).
    Alternate,
}

/// The chains an ACME CA offers with a certificate it issues: certificate ids after the leaf.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AcmeChains {
    pub default: Vec<String>,
    pub alternate: Option<Vec<String>>,
}

impl AcmeChains {
    /// The offered chain `preferred` names; `None` when the CA offers no alternate.
    pub fn get(&self, preferred: PreferredChain) -> Option<&[String]> {
        match preferred {
            PreferredChain::Default => Some(&self.default),
            PreferredChain::Alternate => self.alternate.as_deref(),
        }
    }
}

/// A server as a scenario declares it: its software and what that software reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "software", rename_all = "kebab-case")]
pub enum Server {
    /// IIS with its intermediate certificate store, in the order IIS finds them.
    Iis {
        intermediate_store: Vec<String>,
    },
    ApacheCertOnly,
    /// certbot's `fullchain.pem`: the leaf, then `offered` (the chain `preferred` names).
    CertbotFullchain {
        preferred: PreferredChain,
        offered: Vec<String>,
    },
}

impl Server {
    pub fn software(&self) -> ServerSoftware {
        match self {
            Server::Iis { .. } => ServerSoftware::Iis,
            Server::ApacheCertOnly => ServerSoftware::ApacheCertOnly,
            Server::CertbotFullchain { .. } => ServerSoftware::CertbotFullchain,
        }
    }
}

/// A chain a scenario has a modelled server assemble: for which leaf, by which server, and the
/// seed sentence (with its strength) the model of that server's software rests on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServedBy {
    pub leaf: String,
    pub server: Server,
    /// How strongly the seed states the software's behaviour (IIS: "seems to", hedged).
    pub strength: Strength,
    pub seed_file: String,
    /// Verbatim from the seed file (whitespace normalised).
    pub quote: String,
}

/// A key identifier as the topology determines it, before keys are generated. Distinct key
/// labels are distinct keys (each key is derived from the seed and its label), so two
/// `OfKey` identifiers are equal exactly when their labels are.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyId {
    /// The RFC 5280 method-1 identifier (SHA-1 of the public key) of this key label.
    OfKey(String),
    /// Exactly these bytes, declared in the topology.
    Bytes(Vec<u8>),
}

/// The subject key identifier `cert` carries; `None` when it omits the extension.
pub fn subject_key_id(cert: &CertSpec) -> Option<KeyId> {
    match &cert.extensions.subject_key_identifier {
        KeyIdentifier::Derived => Some(KeyId::OfKey(cert.key_label.clone())),
        KeyIdentifier::Omit => None,
        KeyIdentifier::Explicit(bytes) => Some(KeyId::Bytes(bytes.clone())),
    }
}

/// The authority key identifier `cert` carries; `None` when it omits the extension. Mirrors
/// the generator: a derived AKI is the issuer's declared SKI, or, when the issuer omits its
/// SKI, what that SKI would have been (the issuer key's method-1 identifier).
pub fn authority_key_id(topology: &Topology, cert: &CertSpec) -> Option<KeyId> {
    match &cert.extensions.authority_key_identifier {
        KeyIdentifier::Omit => None,
        KeyIdentifier::Explicit(bytes) => Some(KeyId::Bytes(bytes.clone())),
        KeyIdentifier::Derived => {
            let issuer = topology.cert(&cert.issuer_id).unwrap_or(cert);
            Some(match &issuer.extensions.subject_key_identifier {
                KeyIdentifier::Explicit(bytes) => KeyId::Bytes(bytes.clone()),
                KeyIdentifier::Derived | KeyIdentifier::Omit => {
                    KeyId::OfKey(issuer.key_label.clone())
                }
            })
        }
    }
}

/// The chain `server` sends for `leaf`: certificate ids, peer first. Every id must be a
/// certificate of `topology` (the scenario checks them before assembling).
pub fn assemble(topology: &Topology, leaf: &str, server: &Server) -> Vec<String> {
    match server {
        Server::Iis { intermediate_store } => iis_chain(topology, leaf, intermediate_store),
        Server::ApacheCertOnly => vec![leaf.to_string()],
        Server::CertbotFullchain { offered, .. } => std::iter::once(leaf.to_string())
            .chain(offered.iter().cloned())
            .collect(),
    }
}

/// IIS: from the leaf upwards, the first certificate of `store` whose SKI equals the child's
/// AKI; stops when nothing matches, when the child has no AKI, or at a self-signed match (a
/// root is not sent). A certificate is sent at most once, so same-key certificates that
/// identify each other cannot loop.
fn iis_chain(topology: &Topology, leaf: &str, store: &[String]) -> Vec<String> {
    let cert = |id: &str| {
        topology
            .cert(id)
            .unwrap_or_else(|| panic!("unchecked certificate id {id:?}"))
    };
    let mut chain = vec![leaf.to_string()];
    let mut child = cert(leaf);
    while let Some(wanted) = authority_key_id(topology, child) {
        let matched = store.iter().map(|id| cert(id)).find(|candidate| {
            !chain.contains(&candidate.id) && subject_key_id(candidate).as_ref() == Some(&wanted)
        });
        match matched {
            Some(next) if !next.self_signed => {
                chain.push(next.id.clone());
                child = next;
            }
            _ => break,
        }
    }
    chain
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use x509_parser::extensions::ParsedExtension;
    use x509_parser::prelude::{FromDer, X509Certificate};

    use super::*;

    fn scenario_topology(name: &str) -> Topology {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(name)
            .join("topology.toml");
        anchorsmith_generator::load_topology(&path).unwrap_or_else(|e| panic!("{e}"))
    }

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|id| id.to_string()).collect()
    }

    fn iis(store: &[&str]) -> Server {
        Server::Iis {
            intermediate_store: ids(store),
        }
    }

    #[test]
    fn iis_takes_the_first_intermediate_with_the_leafs_key_identifier() {
        let topology = scenario_topology("same-key-intermediates");
        // X1 and X3 share one key, so both match the X3 leaf's AKI: the first in the store wins.
        let x1_first = iis(&["dst-root", "le-x1-by-dst", "le-x3-by-dst"]);
        let x3_first = iis(&["le-x3-by-dst", "le-x1-by-dst", "dst-root"]);
        assert_eq!(
            assemble(&topology, "leaf-by-x3", &x1_first),
            ["leaf-by-x3", "le-x1-by-dst"]
        );
        assert_eq!(
            assemble(&topology, "leaf-by-x3", &x3_first),
            ["leaf-by-x3", "le-x3-by-dst"]
        );
        assert_eq!(
            assemble(&topology, "leaf-by-x1", &x3_first),
            ["leaf-by-x1", "le-x3-by-dst"]
        );
    }

    #[test]
    fn iis_climbs_through_cross_signs_and_does_not_send_the_root() {
        let topology = scenario_topology("root-expiry-long-short");
        let full = iis(&["dst-root", "isrg-x1", "isrg-x1-by-dst", "r3"]);
        // R3's AKI is ISRG Root X1's key: the self-signed X1 comes first and ends the chain.
        assert_eq!(assemble(&topology, "leaf", &full), ["leaf", "r3"]);
        let cross_sign_only = iis(&["r3", "isrg-x1-by-dst", "dst-root"]);
        assert_eq!(
            assemble(&topology, "leaf", &cross_sign_only),
            ["leaf", "r3", "isrg-x1-by-dst"]
        );
        // Nothing in the store matches: the leaf alone.
        assert_eq!(assemble(&topology, "leaf", &iis(&["dst-root"])), ["leaf"]);
    }

    #[test]
    fn apache_and_certbot_send_what_their_files_hold() {
        let topology = scenario_topology("root-expiry-long-short");
        assert_eq!(
            assemble(&topology, "leaf", &Server::ApacheCertOnly),
            ["leaf"]
        );
        let offered = AcmeChains {
            default: ids(&["r3", "isrg-x1-by-dst"]),
            alternate: Some(ids(&["r3"])),
        };
        for (preferred, expected) in [
            (
                PreferredChain::Default,
                ids(&["leaf", "r3", "isrg-x1-by-dst"]),
            ),
            (PreferredChain::Alternate, ids(&["leaf", "r3"])),
        ] {
            let server = Server::CertbotFullchain {
                preferred,
                offered: offered.get(preferred).unwrap().to_vec(),
            };
            assert_eq!(assemble(&topology, "leaf", &server), expected);
            assert_eq!(server.software(), ServerSoftware::CertbotFullchain);
        }
        let no_alternate = AcmeChains {
            alternate: None,
            ..offered
        };
        assert_eq!(no_alternate.get(PreferredChain::Alternate), None);
    }

    #[test]
    fn explicit_and_omitted_identifiers_are_honoured() {
        let text = r#"
seed = "t"
[keys]
root = "ecdsa-p256"
a = "ecdsa-p256"
b = "ecdsa-p256"
leaf = "ecdsa-p256"
[[cert]]
id = "root"
subject = { cn = "Root" }
key = "root"
issuer = "self"
not_before = "2020-01-01T00:00:00Z"
not_after = "2030-01-01T00:00:00Z"
serial = "01"
[cert.extensions]
basic_constraints = { ca = true }
[[cert]]
id = "a"
subject = { cn = "A" }
key = "a"
issuer = "root"
not_before = "2020-01-01T00:00:00Z"
not_after = "2030-01-01T00:00:00Z"
serial = "02"
[cert.extensions]
basic_constraints = { ca = true }
subject_key_identifier = "0102"
[[cert]]
id = "b"
subject = { cn = "A" }
key = "b"
issuer = "root"
not_before = "2020-01-01T00:00:00Z"
not_after = "2030-01-01T00:00:00Z"
serial = "03"
[cert.extensions]
basic_constraints = { ca = true }
subject_key_identifier = "omit"
[[cert]]
id = "leaf"
subject = { cn = "leaf" }
key = "leaf"
issuer = "a"
not_before = "2020-01-01T00:00:00Z"
not_after = "2030-01-01T00:00:00Z"
serial = "04"
"#;
        let topology = anchorsmith_generator::parse_topology(text, Path::new("t.toml"))
            .unwrap_or_else(|e| panic!("{e}"));
        let leaf = topology.cert("leaf").unwrap();
        // The leaf's AKI is its issuer's explicit SKI, not A's key identifier.
        assert_eq!(
            authority_key_id(&topology, leaf),
            Some(KeyId::Bytes(vec![1, 2]))
        );
        assert_eq!(subject_key_id(topology.cert("b").unwrap()), None);
        assert_eq!(
            assemble(&topology, "leaf", &iis(&["b", "a"])),
            ["leaf", "a"]
        );
    }

    /// The (SKI, AKI) a generated certificate carries, read from its bytes.
    fn key_ids_in(der: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
        let (_, cert) = X509Certificate::from_der(der).expect("a certificate");
        let mut ski = None;
        let mut aki = None;
        for extension in cert.extensions() {
            match extension.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => ski = Some(id.0.to_vec()),
                ParsedExtension::AuthorityKeyIdentifier(id) => {
                    aki = id.key_identifier.as_ref().map(|id| id.0.to_vec())
                }
                _ => {}
            }
        }
        (ski, aki)
    }

    /// IIS's choice made on the topology's declarations is the choice the real identifiers in
    /// the generated certificates give: every sent intermediate's SKI is its child's AKI, and
    /// no certificate before it in the store carries that SKI.
    #[test]
    fn iis_choices_hold_on_the_generated_certificates() {
        let corpus_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let corpus = crate::load_corpus(&corpus_dir).unwrap_or_else(|e| panic!("{e}"));
        let mut checked = 0;
        for scenario in &corpus.scenarios {
            for (name, served) in &scenario.served {
                let Server::Iis { intermediate_store } = &served.server else {
                    continue;
                };
                let chain = &scenario.chains[name];
                for pair in chain.windows(2) {
                    let (_, child_aki) = key_ids_in(scenario.pki.der(&pair[0]));
                    let child_aki = child_aki.expect("the child carries an AKI");
                    let (parent_ski, _) = key_ids_in(scenario.pki.der(&pair[1]));
                    assert_eq!(parent_ski.as_ref(), Some(&child_aki), "{name}: {pair:?}");
                    let first_match = intermediate_store
                        .iter()
                        .find(|id| key_ids_in(scenario.pki.der(id)).0.as_ref() == Some(&child_aki))
                        .unwrap();
                    assert_eq!(first_match, &pair[1], "{name}: first match in the store");
                    checked += 1;
                }
            }
        }
        assert!(checked >= 1, "no IIS-served intermediate in the corpus");
        // Seed 001 only says IIS "seems to" choose by key identifier: the scenario says so.
        let same_key = corpus
            .scenarios
            .iter()
            .find(|scenario| scenario.name == "same-key-intermediates")
            .unwrap();
        let served = &same_key.served["x3-leaf-served-x1"];
        assert_eq!(served.server.software(), ServerSoftware::Iis);
        assert_eq!(served.strength, Strength::Hedged);
        assert!(served.quote.contains("seems to use"), "{}", served.quote);
    }
}
