//! The client model's path builder. One pool of parsed certificates (the peer, the served ones
//! in order, the cache, the trust store, AIA-fetchable ones), and three ways to walk it chosen by
//! the knobs: a greedy builder with OpenSSL's alternate-chain retry, a full depth-first search,
//! and the served chain taken exactly as sent.

use std::cell::Cell;

use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use x509_parser::time::ASN1Time;

use super::cert::{self, KeyIdMatch, Problem};
use super::knobs::{AlternateChains, AnchorExpiry, Knobs};
use super::signatures::SignatureCache;
use crate::{RejectKind, ValidationInput};

/// Where a certificate of the pool came from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Origin {
    Peer,
    Served,
    Cached,
    Store,
    /// Fetchable from this AIA caIssuers URL.
    Fetchable(String),
}

struct Node<'a> {
    cert: X509Certificate<'a>,
    origin: Origin,
    /// In the trust store (a served or cached copy of a store certificate counts as trusted).
    trusted: bool,
    self_signed: bool,
}

/// The detail of a rejection caused by running out of signature checks.
pub const BUDGET_EXHAUSTED: &str = "path-building budget exhausted";

/// One validation: the pool, the time, and what is left of the signature budget.
pub struct Builder<'a, 'i> {
    knobs: &'a Knobs,
    input: &'i ValidationInput,
    nodes: Vec<Node<'i>>,
    at: ASN1Time,
    budget_left: Cell<u32>,
    /// Signatures already verified by other validations (none: verify every one asked about).
    signatures: Option<&'a SignatureCache>,
}

/// A built path (pool indices, peer first) or the most informative reason it failed.
pub type Built = Result<Vec<String>, Problem>;

/// The best failure seen so far: budget exhaustion beats everything, a reason other than a
/// missing issuer beats a missing issuer, and then the longer path wins (ties: the first).
#[derive(Default)]
struct Best {
    failure: Option<(Problem, usize)>,
}

impl Best {
    fn record(&mut self, problem: Problem, depth: usize) {
        let rank = |problem: &Problem, depth: usize| {
            (
                problem.detail == BUDGET_EXHAUSTED,
                problem.kind != RejectKind::UnknownIssuer,
                depth,
            )
        };
        let better = match &self.failure {
            None => true,
            Some((current, current_depth)) => rank(&problem, depth) > rank(current, *current_depth),
        };
        if better {
            self.failure = Some((problem, depth));
        }
    }

    fn into_problem(self) -> Problem {
        self.failure
            .map(|(problem, _)| problem)
            .unwrap_or_else(|| Problem::new(RejectKind::UnknownIssuer, "no path"))
    }
}

fn parse(der: &[u8]) -> Option<X509Certificate<'_>> {
    X509Certificate::from_der(der).ok().map(|(_, cert)| cert)
}

impl<'a, 'i> Builder<'a, 'i> {
    /// The pool for `input` as `knobs` let the client see it. `Err`: the peer does not parse.
    pub fn new(
        knobs: &'a Knobs,
        input: &'i ValidationInput,
        at: ASN1Time,
        signatures: Option<&'a SignatureCache>,
    ) -> Result<Builder<'a, 'i>, Problem> {
        let in_store = |der: &[u8]| input.trust_anchors.iter().any(|anchor| anchor == der);
        let node = |der: &'i [u8], origin: Origin| {
            parse(der).map(|cert| Node {
                self_signed: cert::is_self_signed(&cert),
                trusted: origin == Origin::Store || in_store(der),
                cert,
                origin,
            })
        };
        let peer = node(&input.peer, Origin::Peer).ok_or_else(|| {
            Problem::new(RejectKind::Other, "the peer certificate does not parse")
        })?;
        let mut nodes = vec![peer];
        let mut untrusted_ders: Vec<&[u8]> = vec![&input.peer];
        for der in &input.served_chain {
            nodes.extend(node(der, Origin::Served));
            untrusted_ders.push(der);
        }
        if knobs.intermediate_cache {
            for der in &input.cached {
                nodes.extend(node(der, Origin::Cached));
                untrusted_ders.push(der);
            }
        }
        // A store certificate also served is one node (trusted), not two.
        for der in &input.trust_anchors {
            if !untrusted_ders.contains(&der.as_slice()) {
                nodes.extend(node(der, Origin::Store));
            }
        }
        if knobs.aia_fetching {
            for (url, der) in &input.aia_repository {
                nodes.extend(node(der, Origin::Fetchable(url.clone())));
            }
        }
        Ok(Builder {
            knobs,
            input,
            nodes,
            at,
            budget_left: Cell::new(knobs.signature_budget),
            signatures,
        })
    }

    /// Build and check a path the way the knobs say; the chain as labels, peer first.
    pub fn run(&self) -> Built {
        let path = if self.knobs.chain_as_sent {
            self.as_sent()
        } else if self.knobs.topmost_issuer_only {
            self.topmost_issuer_only()
        } else {
            match self.knobs.alternate_chains {
                AlternateChains::FullSearch => {
                    let mut best = Best::default();
                    let mut path = vec![0];
                    match self.search(&mut path, &mut best) {
                        true => Ok(path),
                        false => Err(best.into_problem()),
                    }
                }
                AlternateChains::Never => self.greedy(false),
                AlternateChains::WhenUntrusted => self.greedy(true),
            }
        }?;
        Ok(path
            .iter()
            .map(|&index| cert::label(&self.nodes[index].cert))
            .collect())
    }

    /// Spend one signature check; `Err` when the budget is gone.
    fn verify(&self, child: usize, parent: usize) -> Result<(), Problem> {
        let left = self.budget_left.get();
        if left == 0 {
            return Err(Problem::new(RejectKind::Other, BUDGET_EXHAUSTED));
        }
        self.budget_left.set(left - 1);
        cert::signed_by(
            &self.nodes[child].cert,
            &self.nodes[parent].cert,
            self.knobs.sha1_signatures,
            self.signatures,
        )
    }

    /// A path may end at `index`: a store certificate that is self-signed, or any store
    /// certificate under partial-chain.
    fn ends_path(&self, index: usize) -> bool {
        let node = &self.nodes[index];
        node.trusted && (self.knobs.partial_chain || node.self_signed)
    }

    /// Already on the path. A full search (rustls-webpki) refuses a second certificate with
    /// the same subject and key, as a loop; a greedy builder (OpenSSL's find_issuer) refuses
    /// only the very same certificate, so a name and key may come back through a cross-sign.
    fn on_path(&self, path: &[usize], candidate: usize) -> bool {
        let candidate_cert = &self.nodes[candidate].cert;
        let full_search = self.knobs.alternate_chains == AlternateChains::FullSearch;
        path.iter().any(|&index| {
            let member = &self.nodes[index].cert;
            index == candidate
                || member.as_raw() == candidate_cert.as_raw()
                || (full_search
                    && member.subject().as_raw() == candidate_cert.subject().as_raw()
                    && member.public_key().raw == candidate_cert.public_key().raw)
        })
    }

    /// Issuer candidates of the top of `path`, in the order this client tries them: two groups
    /// (trust store and untrusted, in the order trusted-first says; untrusted: served order,
    /// then the cache), each with key-identifier matches first. AIA-fetched certificates only
    /// when no other candidate exists, and only from the URLs the certificate names.
    fn candidates(&self, path: &[usize]) -> Vec<Vec<usize>> {
        let top = *path.last().expect("a path starts with the peer");
        let child = &self.nodes[top].cert;
        let issuers = |wanted: &dyn Fn(&Node) -> bool| {
            let mut group: Vec<usize> = (0..self.nodes.len())
                .filter(|&index| {
                    let node = &self.nodes[index];
                    node.origin != Origin::Peer
                        && !matches!(node.origin, Origin::Fetchable(_))
                        && wanted(node)
                        && cert::names_chain(child, &node.cert)
                        && !self.on_path(path, index)
                })
                .collect();
            // A full search tries key-identifier matches first (they are likelier to verify);
            // a greedy builder keeps the order it finds them in, as OpenSSL does.
            if self.knobs.alternate_chains == AlternateChains::FullSearch {
                group.sort_by_key(|&index| cert::key_id_match(child, &self.nodes[index].cert));
            }
            group
        };
        let trusted = issuers(&|node| node.trusted);
        // Pool order is the list order: the peer, the served certificates, then the cache.
        let after_top = |node: &Node| {
            !self.knobs.forward_only
                || self.nodes[top + 1..]
                    .iter()
                    .any(|later| std::ptr::eq(later, node))
        };
        let untrusted = issuers(&|node| !node.trusted && after_top(node));
        let mut groups = if self.knobs.trusted_first {
            vec![trusted, untrusted]
        } else {
            vec![untrusted, trusted]
        };
        if groups.iter().all(Vec::is_empty) && self.knobs.aia_fetching {
            let urls = cert::ca_issuers_urls(child);
            groups.push(
                (0..self.nodes.len())
                    .filter(|&index| {
                        let node = &self.nodes[index];
                        matches!(&node.origin, Origin::Fetchable(url) if urls.contains(&url.as_str()))
                            && cert::names_chain(child, &node.cert)
                            && !self.on_path(path, index)
                    })
                    .collect(),
            );
        }
        groups.retain(|group| !group.is_empty());
        groups
    }

    /// OpenSSL's choice within a group: the first candidate valid now, else the one that
    /// expires last. Candidates whose key identifiers contradict are not issuers.
    fn pick(&self, path: &[usize], group: &[usize]) -> Option<usize> {
        let child = &self.nodes[*path.last().expect("non-empty")].cert;
        let plausible: Vec<usize> = group
            .iter()
            .copied()
            .filter(|&index| {
                cert::key_id_match(child, &self.nodes[index].cert) != KeyIdMatch::Mismatch
            })
            .filter(|&index| !self.knobs.verified_selection || self.suitable_parent(path, index))
            .collect();
        plausible
            .iter()
            .copied()
            .find(|&index| cert::within_validity(&self.nodes[index].cert, self.at).is_ok())
            .or_else(|| {
                plausible
                    .iter()
                    .copied()
                    .max_by_key(|&index| self.nodes[index].cert.validity().not_after)
            })
    }

    /// mbedTLS's suitable parent for the top of `path`: a CA (a trusted v1 certificate is
    /// excused) that may sign certificates, with path length room, and, when it is trusted, whose
    /// key verifies the child; an untrusted parent's signature is checked only after choosing.
    fn suitable_parent(&self, path: &[usize], issuer: usize) -> bool {
        let node = &self.nodes[issuer];
        let below = path.len() - 1;
        let is_ca = match cert::ca_path_len(&node.cert) {
            Ok(limit) => limit.is_none_or(|limit| below as u64 <= u64::from(limit)),
            Err(_) => node.trusted && node.cert.version().0 < 2,
        };
        let child = *path.last().expect("non-empty");
        is_ca
            && cert::may_sign_certificates(&node.cert).is_ok()
            && (!node.trusted || self.verify(child, issuer).is_ok())
    }

    /// Extend `path` one issuer at a time, never backtracking, until it ends at an anchor or
    /// no issuer is found. `true`: it ended at an anchor.
    fn extend_greedily(&self, path: &mut Vec<usize>) -> bool {
        loop {
            let top = *path.last().expect("non-empty");
            if self.ends_path(top) {
                return true;
            }
            if self.nodes[top].self_signed && !self.nodes[top].trusted {
                return false;
            }
            let next = self
                .candidates(path)
                .iter()
                .find_map(|group| self.pick(path, group));
            match next {
                Some(issuer) => path.push(issuer),
                None => return false,
            }
        }
    }

    /// The first chain, and (with `retry`) OpenSSL's alternate chains: when it ends untrusted,
    /// look for a store issuer of each certificate from the top down, cut the chain there and
    /// build on. A chain that ends at an anchor but fails (an expired root) is never retried.
    fn greedy(&self, retry: bool) -> Result<Vec<usize>, Problem> {
        let mut path = vec![0];
        let mut anchored = self.extend_greedily(&mut path);
        let mut retries_left = 8;
        while !anchored && retry && retries_left > 0 {
            retries_left -= 1;
            let cut = (0..path.len().saturating_sub(1)).rev().find(|&depth| {
                let child = &self.nodes[path[depth]].cert;
                self.nodes.iter().enumerate().any(|(index, node)| {
                    node.origin == Origin::Store
                        && cert::names_chain(child, &node.cert)
                        && !path[..=depth].contains(&index)
                })
            });
            let Some(depth) = cut else { break };
            path.truncate(depth + 1);
            let store: Vec<usize> = self
                .candidates(&path)
                .into_iter()
                .flatten()
                .filter(|&index| self.nodes[index].trusted)
                .collect();
            match self.pick(&path, &store) {
                Some(issuer) => path.push(issuer),
                None => break,
            }
            anchored = self.extend_greedily(&mut path);
        }
        self.check_path(&path, anchored, false)?;
        Ok(path)
    }

    /// Depth-first over every candidate until one path validates. Signatures and each
    /// issuer's own properties are checked as the path grows, so a bad branch is left early.
    fn search(&self, path: &mut Vec<usize>, best: &mut Best) -> bool {
        let top = *path.last().expect("non-empty");
        if self.ends_path(top) {
            return match self.check_path(path, true, true) {
                Ok(()) => true,
                Err(problem) => {
                    best.record(problem, path.len());
                    false
                }
            };
        }
        let candidates: Vec<usize> = self.candidates(path).into_iter().flatten().collect();
        if candidates.is_empty() {
            best.record(self.no_issuer(top), path.len());
            return false;
        }
        for candidate in candidates {
            if let Err(problem) = self.verify(top, candidate) {
                let exhausted = problem.detail == BUDGET_EXHAUSTED;
                best.record(problem, path.len() + 1);
                if exhausted {
                    return false;
                }
                continue;
            }
            if !self.ends_path(candidate) {
                if let Err(problem) = self.issuer_properties(candidate, path.len() - 1) {
                    best.record(problem, path.len() + 1);
                    continue;
                }
            }
            path.push(candidate);
            if self.search(path, best) {
                return true;
            }
            path.pop();
            if best
                .failure
                .as_ref()
                .is_some_and(|(problem, _)| problem.detail == BUDGET_EXHAUSTED)
            {
                return false;
            }
        }
        false
    }

    /// BearSSL: the served chain in order. At each certificate, an anchor whose name is its
    /// issuer's and whose key verifies it ends the chain; otherwise the next served
    /// certificate must be its issuer.
    fn as_sent(&self) -> Result<Vec<usize>, Problem> {
        let served: Vec<usize> = (0..self.nodes.len())
            .filter(|&index| self.nodes[index].origin == Origin::Served)
            .collect();
        let mut path = vec![0];
        let mut next_served = served.iter();
        loop {
            let top = *path.last().expect("non-empty");
            let anchor = (0..self.nodes.len()).find(|&index| {
                self.nodes[index].trusted
                    && index != top
                    && cert::names_chain(&self.nodes[top].cert, &self.nodes[index].cert)
                    && self.verify(top, index).is_ok()
            });
            if let Some(anchor) = anchor {
                path.push(anchor);
                self.check_path(&path, true, true)?;
                return Ok(path);
            }
            let Some(&next) = next_served.next() else {
                return Err(self.no_issuer(top));
            };
            if !cert::names_chain(&self.nodes[top].cert, &self.nodes[next].cert) {
                return Err(Problem::new(
                    RejectKind::UnknownIssuer,
                    format!(
                        "the certificate sent after {} is not its issuer",
                        cert::label(&self.nodes[top].cert)
                    ),
                ));
            }
            self.verify(top, next)?;
            path.push(next);
        }
    }

    /// ESP-IDF's bundle: the served certificates chain among themselves; only the issuer of
    /// the last one sent is looked up in the trust store.
    fn topmost_issuer_only(&self) -> Result<Vec<usize>, Problem> {
        let mut path = vec![0];
        loop {
            let top = *path.last().expect("non-empty");
            let next = (0..self.nodes.len()).find(|&index| {
                matches!(self.nodes[index].origin, Origin::Served)
                    && cert::names_chain(&self.nodes[top].cert, &self.nodes[index].cert)
                    && !self.on_path(&path, index)
            });
            match next {
                Some(issuer) => path.push(issuer),
                None => break,
            }
        }
        let last_sent = (0..self.nodes.len())
            .rev()
            .find(|&index| self.nodes[index].origin == Origin::Served)
            .unwrap_or(0);
        let top = *path.last().expect("non-empty");
        if top != last_sent {
            return Err(self.no_issuer(top));
        }
        let anchor = (0..self.nodes.len()).find(|&index| {
            self.nodes[index].origin == Origin::Store
                && cert::names_chain(&self.nodes[top].cert, &self.nodes[index].cert)
        });
        match anchor {
            Some(anchor) => {
                path.push(anchor);
                self.check_path(&path, true, false)?;
                Ok(path)
            }
            None => Err(self.no_issuer(top)),
        }
    }

    fn no_issuer(&self, top: usize) -> Problem {
        Problem::new(
            RejectKind::UnknownIssuer,
            format!(
                "no trusted issuer found for {}",
                cert::label(&self.nodes[top].cert)
            ),
        )
    }

    /// What an issuer at `below` certificates above the peer must satisfy on its own (the
    /// anchor excepted): a CA, path length room, keyCertSign, the purpose, valid now.
    fn issuer_properties(&self, index: usize, intermediates_below: usize) -> Result<(), Problem> {
        let issuer = &self.nodes[index].cert;
        let path_len = cert::ca_path_len(issuer)?;
        if path_len.is_some_and(|limit| (intermediates_below as u64) > u64::from(limit)) {
            return Err(Problem::new(
                RejectKind::PathTooLong,
                format!(
                    "{} allows {} intermediates below it, the path has {intermediates_below}",
                    cert::label(issuer),
                    path_len.unwrap_or_default()
                ),
            ));
        }
        cert::may_sign_certificates(issuer)?;
        if self.knobs.issuer_eku {
            cert::allows_usage(issuer, self.input.usage, &[])?;
        }
        cert::within_validity(issuer, self.at)
    }

    /// Every check of a whole path, peer first. `anchored`: it ends at an anchor (else the
    /// reason is the missing issuer). `signatures_checked`: the walk already verified them.
    fn check_path(
        &self,
        path: &[usize],
        anchored: bool,
        signatures_checked: bool,
    ) -> Result<(), Problem> {
        let top = *path.last().expect("non-empty");
        if !anchored {
            return Err(self.no_issuer(top));
        }
        let peer = &self.nodes[path[0]].cert;
        cert::within_validity(peer, self.at)?;
        cert::allows_usage(peer, self.input.usage, &self.input.extended_key_usage)?;
        let issuers = path.len() - 1;
        for (depth, &index) in path.iter().enumerate().skip(1) {
            let is_anchor = depth == issuers;
            if is_anchor {
                if self.knobs.anchor_expiry == AnchorExpiry::Checked {
                    cert::within_validity(&self.nodes[index].cert, self.at)?;
                }
            } else {
                self.issuer_properties(index, depth - 1)?;
            }
        }
        for &index in &path[1..] {
            cert::within_name_constraints(
                &self.nodes[index].cert,
                peer,
                self.knobs.name_constraint_budget,
            )?;
        }
        if let Some(name) = &self.input.expected_peer_name {
            cert::proves_name(
                peer,
                name,
                self.knobs.common_name_fallback,
                self.knobs.empty_subject_refused,
            )?;
        }
        if !signatures_checked {
            for pair in path.windows(2).rev() {
                self.verify(pair[0], pair[1])?;
            }
        }
        Ok(())
    }
}
