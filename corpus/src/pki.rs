//! A scenario's generated PKI as the corpus sees it: per certificate, the facts the reference
//! verdict needs (from the topology) and the bytes validators need (from the generator).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anchorsmith_generator::{CertSpec, ExtendedKeyUsage, Topology};

use crate::error::CorpusError;
use crate::reference::CertFacts;

/// One generated certificate.
#[derive(Clone, Debug)]
pub struct GeneratedCert {
    pub facts: CertFacts,
    pub der: Vec<u8>,
    pub pem: String,
}

/// All certificates of one scenario, by id, plus the generator's manifest.
#[derive(Clone, Debug)]
pub struct ScenarioPki {
    pub certs: BTreeMap<String, GeneratedCert>,
    /// Certificate ids in the topology's declaration order.
    pub order: Vec<String>,
    /// The generator's `manifest.json`, as text.
    pub manifest_json: String,
    facts: BTreeMap<String, CertFacts>,
}

impl ScenarioPki {
    pub fn facts(&self) -> &BTreeMap<String, CertFacts> {
        &self.facts
    }

    pub fn der(&self, id: &str) -> &[u8] {
        &self.certs[id].der
    }

    pub fn pem(&self, id: &str) -> &str {
        &self.certs[id].pem
    }
}

/// The topology's name for an extended key usage (as in the topology file).
pub fn eku_name(eku: ExtendedKeyUsage) -> &'static str {
    match eku {
        ExtendedKeyUsage::ServerAuth => "server-auth",
        ExtendedKeyUsage::ClientAuth => "client-auth",
        ExtendedKeyUsage::CodeSigning => "code-signing",
        ExtendedKeyUsage::EmailProtection => "email-protection",
        ExtendedKeyUsage::TimeStamping => "time-stamping",
        ExtendedKeyUsage::OcspSigning => "ocsp-signing",
        ExtendedKeyUsage::Any => "any",
    }
}

/// The reference facts of every certificate of `topology`, read from the declarations (the
/// generator encodes exactly these).
pub fn facts_from_topology(topology: &Topology) -> BTreeMap<String, CertFacts> {
    topology
        .certs()
        .iter()
        .map(|spec| (spec.id.clone(), facts_of(topology, spec)))
        .collect()
}

fn facts_of(topology: &Topology, spec: &CertSpec) -> CertFacts {
    let issuer = topology.cert(&spec.issuer_id).unwrap_or(spec);
    CertFacts {
        id: spec.id.clone(),
        subject: spec.subject_dn(),
        key_label: spec.key_label.clone(),
        issuer_subject: issuer.subject_dn(),
        issuer_key_label: issuer.key_label.clone(),
        not_before: spec.not_before,
        not_after: spec.not_after,
        is_ca: spec.is_ca(),
        path_len: spec.path_len(),
        dns_names: spec.san_dns().to_vec(),
        ext_key_usage: spec
            .ext_key_usages()
            .unwrap_or(&[])
            .iter()
            .map(|eku| eku_name(*eku).to_string())
            .collect(),
    }
}

/// Where keys are cached between runs: generating RSA-4096 keys is the slow part, and every
/// scenario shares the same seed, so a key label shared across scenarios is one cached key.
pub fn default_key_cache_dir(_corpus_dir: &Path) -> Option<PathBuf> {
    Some(anchorsmith_generator::default_key_cache_dir())
}

/// Generates the PKI of `topology`.
pub fn generate_pki(
    topology: &Topology,
    key_cache_dir: Option<&Path>,
) -> Result<ScenarioPki, CorpusError> {
    let options = anchorsmith_generator::GenerateOptions {
        seed_override: None,
        key_cache_dir: key_cache_dir.map(Path::to_path_buf),
    };
    let pki = anchorsmith_generator::generate(topology, &options).map_err(|error| {
        CorpusError::Topology {
            file: topology.origin().to_path_buf(),
            message: format!("{}: {error}", topology.origin().display()),
        }
    })?;
    let facts = facts_from_topology(topology);
    let order: Vec<String> = topology.cert_ids().map(str::to_string).collect();
    let certs = order
        .iter()
        .map(|id| {
            let generated = pki.get(id).ok_or_else(|| CorpusError::Topology {
                file: topology.origin().to_path_buf(),
                message: format!("the generator produced no certificate {id}"),
            })?;
            Ok((
                id.clone(),
                GeneratedCert {
                    facts: facts[id].clone(),
                    der: generated.der.clone(),
                    pem: generated.pem.clone(),
                },
            ))
        })
        .collect::<Result<BTreeMap<_, _>, CorpusError>>()?;
    Ok(ScenarioPki {
        certs,
        order,
        manifest_json: pki.manifest_json(),
        facts,
    })
}
