//! A scenario's generated PKI as the corpus sees it: per certificate, the facts the reference
//! verdict and the timeline need (read once from the topology) and the bytes validators need
//! (the generator's [`GeneratedCert`]).

use std::collections::BTreeMap;
use std::path::Path;

use anchorsmith_generator::{CertSpec, GeneratedCert, Topology};

use crate::error::CorpusError;
use crate::reference::CertFacts;

/// All certificates of one scenario, by id, with their reference facts and the manifest.
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
    /// The reference facts of every certificate, by id.
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

/// The reference facts of every certificate of `topology`, read from the declarations (the
/// generator encodes exactly these).
fn facts_from_topology(topology: &Topology) -> BTreeMap<String, CertFacts> {
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
        ext_key_usage: spec.ext_key_usages().unwrap_or(&[]).to_vec(),
    }
}

/// Generates the PKI of `topology` and reads its certificates' facts.
pub fn generate_pki(
    topology: &Topology,
    key_cache_dir: Option<&Path>,
) -> Result<ScenarioPki, CorpusError> {
    let options = anchorsmith_generator::GenerateOptions {
        seed_override: None,
        key_cache_dir: key_cache_dir.map(Path::to_path_buf),
    };
    let pki = anchorsmith_generator::generate(topology, &options).map_err(|error| {
        CorpusError::Generate {
            topology: topology.origin().to_path_buf(),
            error,
        }
    })?;
    let manifest_json = pki.manifest_json();
    let order: Vec<String> = pki.certs.iter().map(|cert| cert.id.clone()).collect();
    let certs = pki
        .certs
        .into_iter()
        .map(|cert| (cert.id.clone(), cert))
        .collect();
    Ok(ScenarioPki {
        certs,
        order,
        manifest_json,
        facts: facts_from_topology(topology),
    })
}
