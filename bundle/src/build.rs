//! The builder's pipeline: coverage of every endpoint by every candidate, the selection, the
//! lints, and the output files (`bundle.pem`, `manifest.json`, `report.md`, `report.html`) as data, so the
//! caller writes them all or none.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::coverage::{self, DeviceVerifier, Reach};
use crate::lint::Lint;
use crate::load::{Candidate, CandidateSource, Endpoint};
use crate::policy::{self, Policy};
use crate::select::{self, Selection};
use crate::Anchor;

/// Everything the builder is asked.
#[derive(Clone, Debug)]
pub struct Request {
    pub endpoints: Vec<Endpoint>,
    pub candidates: Vec<Candidate>,
    pub sources: Vec<CandidateSource>,
    pub verifier: DeviceVerifier,
    pub now: OffsetDateTime,
    pub horizon: OffsetDateTime,
    pub min_per_endpoint: usize,
    pub max_bytes: Option<usize>,
    /// Trust metadata and key types: what the device may use beyond what validates.
    pub policy: Policy,
    /// Where the real libraries' harnesses (validators/harnesses/) are set up for the proof;
    /// `None`: nowhere, so a device verifier with a real library is not proved with it (a
    /// failure under CI, a recorded skip elsewhere; see [`crate::proof`]).
    pub harness_dir: Option<PathBuf>,
    /// Known cross-signs (CA certificates) the servers may not send. A verifier that builds
    /// paths from the intermediates it holds may go through them, when the firmware ships them
    /// ([`DeviceVerifier::uses_held_intermediates`]).
    pub cross_signs: Vec<Candidate>,
}

impl Request {
    /// A request with the defaults of `cargo xtask bundle`: two anchors per endpoint, no size
    /// limit, no recorded sources, the harnesses under this workspace's `target/harnesses`, no
    /// known cross-signs. Set the other fields on the value returned.
    pub fn new(
        endpoints: Vec<Endpoint>,
        candidates: Vec<Candidate>,
        verifier: DeviceVerifier,
        now: OffsetDateTime,
        horizon: OffsetDateTime,
    ) -> Request {
        Request {
            endpoints,
            candidates,
            sources: Vec::new(),
            verifier,
            now,
            horizon,
            min_per_endpoint: 2,
            max_bytes: None,
            policy: Policy::default(),
            harness_dir: Some(anchorsmith_validators::harnesses::workspace_harness_dir()),
            cross_signs: Vec::new(),
        }
    }
}

/// Endpoints no candidate covers: each host with the reason.
#[derive(Debug, thiserror::Error)]
#[error("{}", .uncovered.iter().map(|(host, why)| format!("{host}: no candidate anchor covers it ({why})")).collect::<Vec<_>>().join("; "))]
pub struct Uncovered {
    pub uncovered: Vec<(String, String)>,
}

pub use crate::proof::ProofFailed;

/// The manifest a bundle directory holds (what `--diff` reads back).
pub const MANIFEST_FILE: &str = "manifest.json";
/// The reports beside the bundle.
pub const REPORT_FILES: [&str; 2] = ["report.md", "report.html"];
/// What `--diff OLD_MANIFEST` adds to the directory.
pub const DIFF_FILE: &str = "diff.md";

/// Every name a bundle directory's top level can hold: each format's output (a file, or the
/// `der` directory), the manifest, the reports and the diff. A directory holding anything else
/// is not (only) a bundle.
pub fn directory_entries() -> impl Iterator<Item = &'static str> {
    crate::encode::Format::ALL
        .into_iter()
        .map(crate::encode::Format::output_name)
        .chain([MANIFEST_FILE, DIFF_FILE])
        .chain(REPORT_FILES)
}

/// The result: the request, every reach, the selection and the lints.
#[derive(Clone, Debug)]
pub struct Bundle {
    /// The request, its candidates merged by subject and key.
    pub request: Request,
    /// The candidates merged into another of the same subject and key (cross-signs of a root
    /// offered beside it): still evidence of a CA's successor.
    pub merged: Vec<Candidate>,
    /// `reach[endpoint][candidate]`.
    pub reach: Vec<Vec<Reach>>,
    /// (endpoint, candidate) → the known cross-signs (positions in `request.cross_signs`) the
    /// candidate needs to cover the endpoint: it covers with them and not without. Only the
    /// pairs that need some.
    pub via: BTreeMap<(usize, usize), Vec<usize>>,
    pub selection: Selection,
    pub lints: Vec<Lint>,
}

/// A certificate's human name: its subject CN, else a fingerprint label.
pub fn name(der: &[u8]) -> String {
    anchorsmith_validators::subject_label(der)
}

/// A cross-sign's human name: its subject's and its issuer's, since a root and its cross-signs
/// share a subject (`Root YR cross-signed by ISRG Root X1`).
pub fn cross_sign_name(der: &[u8]) -> String {
    let issuer = X509Certificate::from_der(der)
        .map(|(_, cert)| {
            cert.issuer()
                .iter_common_name()
                .next()
                .and_then(|cn| cn.as_str().ok().map(str::to_string))
                .unwrap_or_else(|| cert.issuer().to_string())
        })
        .unwrap_or_default();
    format!("{} cross-signed by {issuer}", name(der))
}

/// Self-signed (subject = issuer): a root.
pub fn is_root(der: &[u8]) -> bool {
    X509Certificate::from_der(der)
        .map(|(_, cert)| cert.subject().as_raw() == cert.issuer().as_raw())
        .unwrap_or(false)
}

fn organization(der: &[u8]) -> Option<String> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let org = cert
        .subject()
        .iter_organization()
        .next()?
        .as_str()
        .ok()?
        .to_string();
    Some(org)
}

fn fingerprint(der: &[u8]) -> String {
    crate::load::sha256_hex(der)
}

/// Whether each candidate covers each endpoint (the input of [`select::select`]).
pub fn covers(reach: &[Vec<Reach>]) -> Vec<Vec<bool>> {
    reach
        .iter()
        .map(|row| row.iter().map(Reach::covers).collect())
        .collect()
}

fn why_uncovered(
    policy: &Policy,
    endpoint: &Endpoint,
    candidates: &[Candidate],
    row: &[Reach],
) -> String {
    if let Some(why) = policy.chain_refusal(endpoint) {
        return why;
    }
    let best = row
        .iter()
        .zip(candidates)
        .find_map(|(reach, candidate)| match reach {
            Reach::Until { fails_at, verdict } => Some(format!(
                "{} validates it only until {} ({verdict})",
                name(&candidate.der),
                fails_at.format(&Rfc3339).unwrap_or_default()
            )),
            _ => None,
        });
    best.unwrap_or_else(|| {
        let top = endpoint.chain.last().expect("a chain has a certificate");
        let issuer = X509Certificate::from_der(top)
            .map(|(_, cert)| cert.issuer().to_string())
            .unwrap_or_default();
        let named = row.iter().zip(candidates).find(|(_, candidate)| {
            X509Certificate::from_der(&candidate.der)
                .map(|(_, cert)| cert.subject().to_string() == issuer)
                .unwrap_or(false)
        });
        match named {
            Some((Reach::Never { verdict }, candidate)) => {
                format!("{} rejects it now: {verdict}", name(&candidate.der))
            }
            _ => format!(
                "none of the {} candidates is named {issuer}, the issuer of the topmost certificate sent",
                candidates.len()
            ),
        }
    })
}

/// Candidate positions, most preferred first: roots before intermediates, then the latest
/// notAfter, then the DER (deterministic).
pub fn preference(candidates: &[Candidate]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by_key(|&c| {
        let der = &candidates[c].der;
        let not_after = coverage::validity(der).map(|(_, not_after)| not_after);
        (!is_root(der), std::cmp::Reverse(not_after), der.clone())
    });
    order
}

/// One candidate per (subject, key): a root and its cross-signs by other CAs are one anchor to a
/// device (a name and a key), so they must not count as each other's backup, nor fill the bundle
/// twice. The preferred one is kept: the self-signed root, else the latest notAfter.
pub fn one_per_name_and_key(candidates: Vec<Candidate>) -> Vec<Candidate> {
    let order = preference(&candidates);
    let mut seen = BTreeSet::new();
    let mut kept: Vec<usize> = order
        .into_iter()
        .filter(|&c| {
            let identity = X509Certificate::from_der(&candidates[c].der).map(|(_, cert)| {
                (
                    cert.subject().as_raw().to_vec(),
                    cert.public_key().raw.to_vec(),
                )
            });
            match identity {
                Ok(identity) => seen.insert(identity),
                Err(_) => true,
            }
        })
        .collect();
    kept.sort_unstable();
    kept.into_iter().map(|c| candidates[c].clone()).collect()
}

/// Computes coverage, selects, lints. Fails when an endpoint has no covering candidate.
/// Candidates sharing a subject and key are merged first ([`one_per_name_and_key`]).
pub fn build(mut request: Request) -> Result<Bundle, Uncovered> {
    let offered = std::mem::take(&mut request.candidates);
    request.candidates = one_per_name_and_key(offered.clone());
    let merged = offered
        .into_iter()
        .filter(|candidate| !request.candidates.contains(candidate))
        .collect();
    let ders: Vec<Vec<u8>> = request.candidates.iter().map(|c| c.der.clone()).collect();
    let cross_signs: Vec<Vec<u8>> = request.cross_signs.iter().map(|c| c.der.clone()).collect();
    let coverage::Coverage {
        reach: unrestricted,
        mut via,
    } = coverage::coverage(
        request.verifier,
        &request.endpoints,
        &ders,
        &cross_signs,
        request.now,
        request.horizon,
    );
    // Candidates the device cannot use for their key alone, with what they would have covered.
    let left_out = policy::key_lints(
        &request.policy,
        &request.endpoints,
        &ders,
        Some(&unrestricted),
        &[],
    );
    let reach = policy::apply(
        &request.policy,
        &request.endpoints,
        &ders,
        request.now,
        request.horizon,
        unrestricted,
    );
    // A covering the policy removed needs no cross-sign.
    via.retain(|&(endpoint, candidate), _| reach[endpoint][candidate].covers());
    let uncovered: Vec<(String, String)> = request
        .endpoints
        .iter()
        .zip(&reach)
        .filter(|(_, row)| !row.iter().any(Reach::covers))
        .map(|(endpoint, row)| {
            (
                endpoint.host.clone(),
                why_uncovered(&request.policy, endpoint, &request.candidates, row),
            )
        })
        .collect();
    if !uncovered.is_empty() {
        return Err(Uncovered { uncovered });
    }
    let selection = select::select(
        &covers(&reach),
        request.min_per_endpoint,
        &preference(&request.candidates),
    );
    let mut bundle = Bundle {
        request,
        merged,
        reach,
        via,
        selection,
        lints: Vec::new(),
    };
    bundle.lints = bundle.lint_store(&bundle.chosen_in_order());
    bundle.lints.extend(left_out);
    if let Some(max) = bundle.request.max_bytes {
        let bytes = bundle.pem().len();
        if bytes > max {
            bundle.lints.push(Lint::ExceedsMaxBytes { bytes, max });
        }
    }
    Ok(bundle)
}

impl Bundle {
    /// The chosen candidates in output order: by name, then DER, whatever order the candidates
    /// came in, so the same inputs give the same bytes.
    fn chosen_in_order(&self) -> Vec<usize> {
        let mut chosen = self.selection.chosen.clone();
        let der = |c: usize| &self.request.candidates[c].der;
        chosen.sort_by_key(|&c| (name(der(c)), der(c).clone()));
        chosen
    }

    /// The chosen anchors, in output order.
    pub fn anchors(&self) -> Vec<Anchor> {
        self.chosen_in_order()
            .iter()
            .map(|&c| {
                let der = self.request.candidates[c].der.clone();
                Anchor {
                    name: name(&der),
                    der,
                }
            })
            .collect()
    }

    /// Lints for a store made of the candidates `store` (the bundle, or a device's own store
    /// offered among the candidates).
    pub fn lint_store(&self, store: &[usize]) -> Vec<Lint> {
        let candidates = &self.request.candidates;
        let mut lints = Vec::new();
        for (e, (endpoint, row)) in self.request.endpoints.iter().zip(&self.reach).enumerate() {
            let covering: Vec<usize> = store.iter().copied().filter(|&c| row[c].covers()).collect();
            if covering.is_empty() {
                continue;
            }
            for &c in &covering {
                if let Some(needed) = self.via.get(&(e, c)) {
                    lints.push(Lint::ViaCrossSign {
                        endpoint: endpoint.host.clone(),
                        anchor: name(&candidates[c].der),
                        cross_signs: self.cross_sign_names(needed),
                    });
                }
            }
            let roots: BTreeSet<String> = covering
                .iter()
                .filter(|&&c| is_root(&candidates[c].der))
                .map(|&c| name(&candidates[c].der))
                .collect();
            if roots.is_empty() {
                lints.push(Lint::OnlyIntermediate {
                    endpoint: endpoint.host.clone(),
                    anchors: covering.iter().map(|&c| name(&candidates[c].der)).collect(),
                });
            } else if roots.len() == 1 {
                lints.push(Lint::SingleRoot {
                    endpoint: endpoint.host.clone(),
                    root: roots.into_iter().next().expect("one root"),
                });
            } else {
                let operators: BTreeSet<Option<String>> = covering
                    .iter()
                    .filter(|&&c| is_root(&candidates[c].der))
                    .map(|&c| organization(&candidates[c].der))
                    .collect();
                if let [Some(operator)] = operators.into_iter().collect::<Vec<_>>().as_slice() {
                    lints.push(Lint::SingleOperator {
                        endpoint: endpoint.host.clone(),
                        operator: operator.clone(),
                    });
                }
            }
            let available = row.iter().filter(|reach| reach.covers()).count();
            if covering.len() < self.request.min_per_endpoint {
                lints.push(Lint::BelowMinimum {
                    endpoint: endpoint.host.clone(),
                    have: available.min(covering.len()),
                    want: self.request.min_per_endpoint,
                });
            }
        }
        let mut by_subject: std::collections::BTreeMap<Vec<u8>, (String, usize)> =
            std::collections::BTreeMap::new();
        for &c in store {
            if let Ok((_, cert)) = X509Certificate::from_der(&candidates[c].der) {
                let entry = by_subject
                    .entry(cert.subject().as_raw().to_vec())
                    .or_insert_with(|| (cert.subject().to_string(), 0));
                entry.1 += 1;
            }
        }
        for (subject, count) in by_subject.into_values() {
            if count > 1 {
                lints.push(Lint::SameSubject { subject, count });
            }
        }
        for &c in store {
            let Some((_, not_after)) = coverage::validity(&candidates[c].der) else {
                continue;
            };
            if not_after >= self.request.horizon {
                continue;
            }
            // A replacement covers every endpoint this anchor covers and outlives it.
            let covered: Vec<usize> = (0..self.reach.len())
                .filter(|&e| self.reach[e][c].covers())
                .collect();
            let replacement = (0..candidates.len())
                .filter(|&other| other != c)
                .filter(|&other| {
                    coverage::validity(&candidates[other].der)
                        .is_some_and(|(_, later)| later > not_after)
                        && self.usable_to_the_horizon(other)
                        && (covered.iter().all(|&e| self.reach[e][other].covers())
                            || self.successor(c, other))
                })
                .map(|other| name(&candidates[other].der))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            lints.push(Lint::ExpiresBeforeHorizon {
                anchor: name(&candidates[c].der),
                not_after,
                replacement,
            });
        }
        let ders: Vec<Vec<u8>> = candidates.iter().map(|c| c.der.clone()).collect();
        let request = &self.request;
        lints.extend(policy::distrust_lints(
            &request.policy,
            &request.endpoints,
            &ders,
            &self.reach,
            store,
            request.horizon,
        ));
        lints.extend(policy::key_lints(
            &request.policy,
            &request.endpoints,
            &ders,
            None,
            store,
        ));
        lints
    }

    /// Each trust metadata source with its entries and how many match no candidate offered
    /// (merged candidates included).
    pub fn metadata_use(&self) -> Vec<MetadataSource> {
        let offered: Vec<&[u8]> = self
            .request
            .candidates
            .iter()
            .chain(&self.merged)
            .map(|candidate| candidate.der.as_slice())
            .collect();
        self.request
            .policy
            .metadata_use(&offered)
            .into_iter()
            .map(|used| MetadataSource {
                path: used.metadata.file.clone(),
                sha256: used.metadata.file_sha256.clone(),
                source: used.metadata.source.clone(),
                entries: used.metadata.anchors.len(),
                unmatched: used.unmatched,
            })
            .collect()
    }

    /// The proof before writing: see [`crate::proof`].
    pub fn prove(&self) -> Result<crate::proof::Proof, ProofFailed> {
        crate::proof::prove(self)
    }

    /// Whether the device's policy lets candidate `c` serve until the horizon: a key it can
    /// use, not distrusted, no distrust-after date before the horizon. A successor named by the
    /// expiry lint must pass it, or the lint would recommend an anchor the policy removes.
    fn usable_to_the_horizon(&self, c: usize) -> bool {
        let der = &self.request.candidates[c].der;
        let policy = &self.request.policy;
        let judgement = policy.judge(der);
        policy.keys.refuses_certificate(der).is_none()
            && judgement.distrusted.is_none()
            && judgement
                .distrust_after
                .is_none_or(|(date, _)| date >= self.request.horizon)
    }

    /// Whether the root `other` is the CA's successor of `anchor`: some candidate, known
    /// cross-sign or served certificate is `other`'s subject and key cross-signed by `anchor` (how a CA moves its
    /// clients to a new root before the old one expires).
    fn successor(&self, anchor: usize, other: usize) -> bool {
        let candidates = &self.request.candidates;
        let Ok((_, old)) = X509Certificate::from_der(&candidates[anchor].der) else {
            return false;
        };
        let Ok((_, new)) = X509Certificate::from_der(&candidates[other].der) else {
            return false;
        };
        if !is_root(&candidates[other].der) {
            return false;
        }
        let everything = candidates
            .iter()
            .chain(&self.merged)
            .chain(&self.request.cross_signs)
            .map(|candidate| candidate.der.as_slice())
            .chain(
                self.request
                    .endpoints
                    .iter()
                    .flat_map(|e| e.chain.iter().map(Vec::as_slice)),
            );
        everything
            .filter_map(|der| X509Certificate::from_der(der).ok().map(|(_, cert)| cert))
            .any(|cross| {
                cross.issuer().as_raw() == old.subject().as_raw()
                    && cross.subject().as_raw() == new.subject().as_raw()
                    && cross.public_key().raw == new.public_key().raw
                    && cross.verify_signature(Some(old.public_key())).is_ok()
            })
    }

    /// The names ([`cross_sign_name`]) of the known cross-signs at `positions`.
    pub fn cross_sign_names(&self, positions: &[usize]) -> Vec<String> {
        positions
            .iter()
            .map(|&x| cross_sign_name(&self.request.cross_signs[x].der))
            .collect()
    }

    /// The anchors as concatenated PEM, each preceded by its name.
    pub fn pem(&self) -> String {
        crate::encode::pem(&self.anchors())
    }

    pub fn manifest(&self) -> Manifest {
        let request = &self.request;
        let anchors = self
            .chosen_in_order()
            .iter()
            .map(|&c| {
                let der = &request.candidates[c].der;
                let (not_before, not_after) =
                    coverage::validity(der).unwrap_or((request.now, request.now));
                let subject = X509Certificate::from_der(der)
                    .map(|(_, cert)| cert.subject().to_string())
                    .unwrap_or_default();
                let covers = request
                    .endpoints
                    .iter()
                    .zip(&self.reach)
                    .filter(|(_, row)| row[c].covers())
                    .map(|(endpoint, _)| endpoint.host.clone())
                    .collect();
                ManifestAnchor {
                    name: name(der),
                    sha256: fingerprint(der),
                    subject,
                    not_before,
                    not_after,
                    origin: request.candidates[c].origin.clone(),
                    covers,
                    key: policy::key_of(der),
                    distrust_after: request.policy.judge(der).distrust_after.map(|(at, _)| at),
                }
            })
            .collect();
        Manifest {
            device_verifier: request.verifier,
            now: request.now,
            horizon: request.horizon,
            min_anchors_per_endpoint: request.min_per_endpoint,
            sources: request.sources.clone(),
            trust_metadata: self.metadata_use(),
            method: self.selection.method,
            lower_bound: self.selection.lower_bound,
            anchors,
            endpoints: self.endpoint_coverage(),
            pem_bytes: self.pem().len(),
            bytes_per_format: std::collections::BTreeMap::new(),
            proof: None,
            cross_signs: request
                .cross_signs
                .iter()
                .map(|cross_sign| ManifestCrossSign {
                    name: cross_sign_name(&cross_sign.der),
                    sha256: fingerprint(&cross_sign.der),
                    not_after: coverage::validity(&cross_sign.der)
                        .map_or(request.now, |(_, not_after)| not_after),
                    origin: cross_sign.origin.clone(),
                })
                .collect(),
            via: self.via_in_bundle(),
        }
    }

    /// The coverings by anchors of the bundle that need known cross-signs, in endpoint order,
    /// then anchor order.
    fn via_in_bundle(&self) -> Vec<ManifestVia> {
        let request = &self.request;
        let chosen = self.chosen_in_order();
        let mut via = Vec::new();
        for (e, endpoint) in request.endpoints.iter().enumerate() {
            for &c in &chosen {
                if let Some(needed) = self.via.get(&(e, c)) {
                    let der = &request.candidates[c].der;
                    via.push(ManifestVia {
                        endpoint: endpoint.host.clone(),
                        anchor: name(der),
                        anchor_sha256: fingerprint(der),
                        cross_signs: self.cross_sign_names(needed),
                        cross_sign_sha256: needed
                            .iter()
                            .map(|&x| fingerprint(&request.cross_signs[x].der))
                            .collect(),
                    });
                }
            }
        }
        via
    }

    /// Per endpoint, the bundle's anchors that cover it and until when (what `--diff` compares
    /// between two bundles), in request order.
    pub fn endpoint_coverage(&self) -> Vec<EndpointCoverage> {
        let request = &self.request;
        request
            .endpoints
            .iter()
            .zip(&self.reach)
            .map(|(endpoint, row)| {
                let mut anchors: Vec<CoveringAnchor> = self
                    .selection
                    .chosen
                    .iter()
                    .filter(|&&c| row[c].covers())
                    .map(|&c| {
                        let der = &request.candidates[c].der;
                        CoveringAnchor {
                            name: name(der),
                            sha256: fingerprint(der),
                            not_after: coverage::validity(der)
                                .map_or(request.now, |(_, not_after)| not_after),
                        }
                    })
                    .collect();
                anchors.sort_by(|a, b| (&a.name, &a.sha256).cmp(&(&b.name, &b.sha256)));
                EndpointCoverage {
                    host: endpoint.host.clone(),
                    covered_until: (!anchors.is_empty())
                        .then(|| coverage::served_until(endpoint, request.horizon)),
                    anchors,
                }
            })
            .collect()
    }

    /// The device policy in the report: the key types when restricted, and each trust metadata
    /// source with how many of its entries match no candidate. Empty for the default policy.
    fn policy_report(&self) -> String {
        let policy = &self.request.policy;
        let mut out = String::new();
        if let Some(supported) = &policy.keys.supported {
            let names: Vec<String> = supported.iter().map(ToString::to_string).collect();
            out += &format!("\nKey types the device supports: {}.\n", names.join(", "));
        }
        if let Some(bits) = policy.keys.min_rsa_bits {
            out += &format!("\nRSA keys the device accepts: {bits} bits or more.\n");
        }
        for used in self.metadata_use() {
            out += &format!(
                "\nTrust metadata `{}` ({}): {} entr{}, {} matching no candidate (ignored).\n",
                used.path.display(),
                used.source,
                used.entries,
                if used.entries == 1 { "y" } else { "ies" },
                used.unmatched
            );
        }
        out
    }

    /// Coverage per endpoint and the lints, in Markdown.
    pub fn report(&self) -> String {
        let request = &self.request;
        let date = |at: OffsetDateTime| at.format(&Rfc3339).unwrap_or_default();
        let mut out = String::from("# Trust bundle\n\n");
        out += &format!(
            "Device verifier `{}`, from {} to the horizon {}, {} anchor(s) wanted per endpoint.\n\n",
            request.verifier,
            date(request.now),
            date(request.horizon),
            request.min_per_endpoint
        );
        out += &format!(
            "{} anchor(s) chosen from {} candidate(s), {} more merged with one of the same subject and key ({} selection; lower bound {}).\n\n",
            self.selection.chosen.len(),
            request.candidates.len(),
            self.merged.len(),
            self.selection.method,
            self.selection.lower_bound
        );
        out += &match self.selection.method {
            select::Method::Exact => {
                "The set is minimum: no smaller set meets the demand.\n\n".to_string()
            }
            select::Method::Greedy => format!(
                "Greedy selection: at most {} anchor(s) more than the minimum.\n\n",
                self.selection
                    .chosen
                    .len()
                    .saturating_sub(self.selection.lower_bound)
            ),
        };
        for anchor in self.anchors() {
            out += &format!("- {}\n", anchor.name);
        }
        out += &self.policy_report();
        out += &self.cross_signs_paragraph();
        out += "\n## Coverage per endpoint\n\n| endpoint | checked from | checked until | covering anchors in the bundle | other candidates that cover it | candidates that stop too early |\n|---|---|---|---|---|---|\n";
        for (e, (endpoint, row)) in request.endpoints.iter().zip(&self.reach).enumerate() {
            let (chosen, other): (Vec<usize>, Vec<usize>) = (0..row.len())
                .filter(|&c| row[c].covers())
                .partition(|c| self.selection.chosen.contains(c));
            let names = |set: &[usize]| {
                let mut names: Vec<String> = set
                    .iter()
                    .map(|&c| {
                        let anchor = name(&request.candidates[c].der);
                        match self.via.get(&(e, c)) {
                            Some(needed) => format!(
                                "{anchor} (via cross-sign {}, not sent by the server)",
                                self.cross_sign_names(needed).join(" and ")
                            ),
                            None => anchor,
                        }
                    })
                    .collect();
                names.sort();
                names.join(", ")
            };
            let from = coverage::served_from(endpoint, request.now);
            let until = coverage::served_until(endpoint, request.horizon);
            let note = if until < request.horizon {
                " (its chain expires then)"
            } else {
                ""
            };
            // Why an endpoint has fewer anchors than asked: the candidates that validate it
            // first and fail before the chain expires, each with its first failing checkpoint.
            let mut early: Vec<String> = row
                .iter()
                .zip(&request.candidates)
                .filter_map(|(reach, candidate)| match reach {
                    Reach::Until { fails_at, verdict } => Some(format!(
                        "{} (fails {}: {})",
                        name(&candidate.der),
                        date(*fails_at),
                        verdict.replace('|', "/")
                    )),
                    _ => None,
                })
                .collect();
            early.sort();
            out += &format!(
                "| {}{} | {} | {}{note} | {} | {} | {} |\n",
                endpoint.host,
                if endpoint.has_leaf {
                    ""
                } else {
                    " (intermediates only)"
                },
                date(from),
                date(until),
                names(&chosen),
                names(&other),
                early.join("; ")
            );
        }
        out += "\n## Lints\n\n";
        if self.lints.is_empty() {
            out += "None.\n";
        }
        for (severity, sentence) in crate::lint::summarized(&self.lints) {
            out += &format!("- **{severity}**: {sentence}\n");
        }
        out
    }

    /// What the known cross-signs can do for this device verifier, for the report; empty when
    /// none were given.
    fn cross_signs_paragraph(&self) -> String {
        let request = &self.request;
        if request.cross_signs.is_empty() {
            return String::new();
        }
        let names: Vec<String> = request
            .cross_signs
            .iter()
            .map(|cross_sign| cross_sign_name(&cross_sign.der))
            .collect();
        let what = if request.verifier.uses_held_intermediates() {
            format!(
                "The device verifier `{}` builds paths from the intermediates it holds, so a chain may reach an anchor through them when the firmware ships them; the coverage below says where it must.",
                request.verifier
            )
        } else {
            format!(
                "The device verifier `{}` uses the chain as the server sends it and cannot build a path through a certificate the server does not send: they change no coverage.",
                request.verifier
            )
        };
        format!(
            "\n{} known cross-sign(s) offered: {}. {what}\n",
            names.len(),
            names.join(", ")
        )
    }

    /// The output files, by name, once the bundle is proved ([`Bundle::prove`]): each of
    /// `formats` (see [`crate::encode`]), then `manifest.json` (with the byte size per format)
    /// `report.md` and `report.html`.
    pub fn files(
        &self,
        proof: &crate::proof::Proof,
        formats: &[crate::encode::Format],
    ) -> Result<Vec<(PathBuf, Vec<u8>)>, crate::encode::EncodeError> {
        let anchors = self.anchors();
        let mut files = Vec::new();
        let mut sizes = std::collections::BTreeMap::new();
        for &format in formats {
            let output = crate::encode::encode(format, &anchors)?;
            sizes.insert(format.cli_name().to_string(), output.byte_size());
            match output {
                crate::encode::Output::File(bytes) => {
                    files.push((PathBuf::from(format.output_name()), bytes))
                }
                crate::encode::Output::Directory(entries) => {
                    for (name, bytes) in entries {
                        files.push((Path::new(format.output_name()).join(name), bytes));
                    }
                }
            }
        }
        let manifest = Manifest {
            proof: Some(proof.clone()),
            bytes_per_format: sizes,
            ..self.manifest()
        };
        let manifest = serde_json::to_string_pretty(&manifest).expect("serializable") + "\n";
        let mut report = format!(
            "{}\n## Proof\n\n{} validations of the covered endpoints against the whole bundle, at every checkpoint, all accepted: {}.\n",
            self.report(),
            proof.validations,
            proof.validators.join(", ")
        );
        if let Some(why) = crate::proof::model_only(self.request.verifier) {
            report += &format!("\n{why}.\n");
        }
        if !proof.skipped.is_empty() {
            report += "\nNot proved here (skipped, not accepted):\n\n";
            for skipped in &proof.skipped {
                report += &format!("- {}\n", skipped.sentence());
            }
        }
        let [report_md, report_html] = REPORT_FILES;
        files.push((PathBuf::from(MANIFEST_FILE), manifest.into_bytes()));
        files.push((PathBuf::from(report_md), report.into_bytes()));
        files.push((
            PathBuf::from(report_html),
            crate::html::render(self, proof).into_bytes(),
        ));
        Ok(files)
    }
}

/// `manifest.json`: provenance and each anchor with why it was chosen.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    pub device_verifier: DeviceVerifier,
    #[serde(with = "time::serde::rfc3339")]
    pub now: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub horizon: OffsetDateTime,
    pub min_anchors_per_endpoint: usize,
    pub sources: Vec<CandidateSource>,
    /// The trust metadata files applied to the candidates.
    pub trust_metadata: Vec<MetadataSource>,
    pub method: select::Method,
    pub lower_bound: usize,
    pub anchors: Vec<ManifestAnchor>,
    /// Per endpoint, the anchors of this bundle that cover it and until when.
    pub endpoints: Vec<EndpointCoverage>,
    pub pem_bytes: usize,
    /// Format (its `--format` name) → bytes written in that format.
    pub bytes_per_format: std::collections::BTreeMap<String, usize>,
    /// What validated the bundle before it was written.
    pub proof: Option<crate::proof::Proof>,
    /// The known cross-signs offered (`--cross-signs`), used or not.
    pub cross_signs: Vec<ManifestCrossSign>,
    /// Where an anchor of the bundle covers an endpoint only through known cross-signs the
    /// server does not send: the firmware must ship them as intermediates.
    pub via: Vec<ManifestVia>,
}

/// A known cross-sign, as the manifest records it.
#[derive(Clone, Debug, Serialize)]
pub struct ManifestCrossSign {
    /// [`cross_sign_name`].
    pub name: String,
    pub sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    pub origin: String,
}

/// An anchor of the bundle that covers an endpoint only through known cross-signs.
#[derive(Clone, Debug, Serialize)]
pub struct ManifestVia {
    pub endpoint: String,
    pub anchor: String,
    pub anchor_sha256: String,
    /// Their [`cross_sign_name`]s.
    pub cross_signs: Vec<String>,
    pub cross_sign_sha256: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ManifestAnchor {
    pub name: String,
    pub sha256: String,
    pub subject: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    pub origin: String,
    /// Why it was chosen: the endpoints it covers until their horizon.
    pub covers: Vec<String>,
    /// Its public key (`None` when the certificate does not parse).
    pub key: Option<policy::Key>,
    /// TLS certificates issued after this are not trusted through it (trust metadata).
    #[serde(with = "time::serde::rfc3339::option")]
    pub distrust_after: Option<OffsetDateTime>,
}

/// A trust metadata source as the manifest records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MetadataSource {
    pub path: PathBuf,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Provenance, as the file states it.
    pub source: String,
    pub entries: usize,
    /// Entries that match no candidate offered (ignored).
    pub unmatched: usize,
}

/// One endpoint's coverage by the bundle, as the manifest records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct EndpointCoverage {
    pub host: String,
    /// The last moment checked (the horizon, or earlier when the chain sent expires first);
    /// `None` when no anchor of the bundle covers the endpoint.
    #[serde(with = "time::serde::rfc3339::option")]
    pub covered_until: Option<OffsetDateTime>,
    /// By name, then fingerprint.
    pub anchors: Vec<CoveringAnchor>,
}

/// An anchor of the bundle that covers an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CoveringAnchor {
    pub name: String,
    pub sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

/// `2040-01-01` (midnight UTC) or an RFC 3339 instant.
pub fn parse_instant(text: &str) -> Result<OffsetDateTime, String> {
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(at);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &format)
        .map(|date| date.midnight().assume_utc())
        .map_err(|_| format!("`{text}` is neither a date (2040-01-01) nor an RFC 3339 instant"))
}
