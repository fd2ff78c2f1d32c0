//! The reference verdict: a small path search over the topology, derived from the graph rather
//! than typed (in the style of BetterTLS), so every case's `expected_result` has a reason.
//!
//! Rules, deliberately few:
//! - a certificate's issuer is any available certificate whose subject equals the child's issuer
//!   name and whose key label equals the child's issuer key label (so cross-sign twins, which
//!   share subject and key, verify each other's children; same-key certificates with another
//!   name do not);
//! - available = the served chain, then the client's cache, then (if allowed) the AIA repository;
//! - every certificate on the path except the anchor must be within its validity at the
//!   validation time; intermediates must be CAs, respect `pathLenConstraint` (self-issued ones
//!   not counted) and, when they carry extendedKeyUsage, include the case's usage;
//! - the peer must name the DNS name in its SAN (exact, or a left-most `*.` wildcard) and, when
//!   it carries extendedKeyUsage, include the usage;
//! - an anchor is a trust-store certificate whose subject and key issue the last certificate; it
//!   may be an intermediate (x509-limbo's convention, and what seed 004's devices relied on), and
//!   its CA flag and constraints are not checked, but it must be within its validity at the
//!   validation time. RFC 5280 §6.1 leaves an anchor's validity to the relying party; x509-limbo
//!   expects an expired root to fail (`rfc5280::validity::expired-root`) and seed 003 documents
//!   that, after DST Root CA X3 expired, "only devices that ignore said expiration" still accept
//!   the long chain. Validators that ignore an anchor's expiry (rustls-webpki) therefore differ
//!   from the reference on an expired root; that difference is what the corpus is for.

use std::collections::BTreeMap;

use serde::Serialize;
use time::OffsetDateTime;

use anchorsmith_generator::ExtendedKeyUsage;
use anchorsmith_validators::limbo::ExpectedResult;
use anchorsmith_validators::Usage;

/// What the reference search needs to know about one certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertFacts {
    pub id: String,
    pub subject: String,
    pub key_label: String,
    /// The issuer's subject name (the child's issuer field).
    pub issuer_subject: String,
    /// The key label of the certificate that signed this one.
    pub issuer_key_label: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub is_ca: bool,
    pub path_len: Option<u32>,
    pub dns_names: Vec<String>,
    /// Extended key usages; empty = extension absent.
    pub ext_key_usage: Vec<ExtendedKeyUsage>,
}

impl CertFacts {
    fn self_issued(&self) -> bool {
        self.subject == self.issuer_subject
    }

    fn valid_at(&self, time: OffsetDateTime) -> Result<(), String> {
        if time < self.not_before {
            Err(format!(
                "{} is not yet valid (notBefore {})",
                self.id, self.not_before
            ))
        } else if time > self.not_after {
            Err(format!(
                "{} has expired (notAfter {})",
                self.id, self.not_after
            ))
        } else {
            Ok(())
        }
    }

    fn allows_usage(&self, usage: Usage) -> bool {
        let wanted = match usage {
            Usage::ServerAuth => ExtendedKeyUsage::ServerAuth,
            Usage::ClientAuth => ExtendedKeyUsage::ClientAuth,
        };
        self.ext_key_usage.is_empty()
            || self
                .ext_key_usage
                .iter()
                .any(|eku| *eku == wanted || *eku == ExtendedKeyUsage::Any)
    }

    fn names_dns(&self, dns_name: &str) -> bool {
        let dns_name = dns_name.to_ascii_lowercase();
        self.dns_names.iter().any(|san| {
            let san = san.to_ascii_lowercase();
            match san.strip_prefix("*.") {
                Some(suffix) => dns_name
                    .split_once('.')
                    .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
                None => san == dns_name,
            }
        })
    }
}

/// The reference verdict of one case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum ReferenceVerdict {
    /// The path found, from the peer to the anchor, as certificate ids.
    Accept {
        path: Vec<String>,
    },
    Reject {
        reason: String,
    },
}

impl ReferenceVerdict {
    pub fn is_accept(&self) -> bool {
        matches!(self, ReferenceVerdict::Accept { .. })
    }

    /// `accept` or `reject`.
    pub fn label(&self) -> &'static str {
        if self.is_accept() {
            "accept"
        } else {
            "reject"
        }
    }

    /// Limbo's `expected_result` for this verdict.
    pub fn limbo_expected_result(&self) -> ExpectedResult {
        if self.is_accept() {
            ExpectedResult::Success
        } else {
            ExpectedResult::Failure
        }
    }

    /// One line: `accept: leaf → r3 → isrg-x1 (anchor)` or `reject: <reason>`.
    pub fn summary(&self) -> String {
        match self {
            ReferenceVerdict::Accept { path } => {
                let mut text = format!("accept: {}", path.join(" → "));
                text.push_str(" (anchor)");
                text
            }
            ReferenceVerdict::Reject { reason } => format!("reject: {reason}"),
        }
    }
}

/// Everything one reference validation looks at, as certificate ids into `certs`.
#[derive(Clone, Debug)]
pub struct ReferenceInput<'a> {
    pub certs: &'a BTreeMap<String, CertFacts>,
    pub peer: &'a str,
    /// Served certificates after the peer, then cached ones, then AIA-fetchable ones.
    pub available: Vec<&'a str>,
    pub trust_store: &'a [String],
    pub validation_time: OffsetDateTime,
    pub dns_name: &'a str,
    pub usage: Usage,
}

/// Longest path searched (peer + intermediates); real chains here have at most four.
const MAX_PATH: usize = 8;

/// Runs the reference path search.
pub fn reference_verdict(input: &ReferenceInput<'_>) -> ReferenceVerdict {
    let Some(peer) = input.certs.get(input.peer) else {
        return ReferenceVerdict::Reject {
            reason: format!("unknown peer certificate {}", input.peer),
        };
    };
    if let Err(reason) = peer.valid_at(input.validation_time) {
        return ReferenceVerdict::Reject { reason };
    }
    if !peer.names_dns(input.dns_name) {
        return ReferenceVerdict::Reject {
            reason: format!("{} does not name {} in its SAN", peer.id, input.dns_name),
        };
    }
    if !peer.allows_usage(input.usage) {
        return ReferenceVerdict::Reject {
            reason: format!("{}'s extendedKeyUsage excludes {:?}", peer.id, input.usage),
        };
    }
    let mut path = vec![peer.id.clone()];
    let mut failures = Vec::new();
    if search(input, peer, &mut path, &mut failures) {
        return ReferenceVerdict::Accept { path };
    }
    // The first problem met on a candidate path explains more than "no issuer" does.
    let reason = failures
        .into_iter()
        .next()
        .unwrap_or_else(|| format!("no issuer of {} is served, cached or trusted", peer.id));
    ReferenceVerdict::Reject { reason }
}

fn issues(issuer: &CertFacts, child: &CertFacts) -> bool {
    issuer.subject == child.issuer_subject && issuer.key_label == child.issuer_key_label
}

/// Depth-first search from `current` (the last certificate of `path`) to an anchor. On success
/// `path` ends with the anchor's id.
fn search(
    input: &ReferenceInput<'_>,
    current: &CertFacts,
    path: &mut Vec<String>,
    failures: &mut Vec<String>,
) -> bool {
    for anchor_id in input.trust_store {
        if let Some(anchor) = input.certs.get(anchor_id) {
            if issues(anchor, current) {
                match anchor.valid_at(input.validation_time) {
                    Ok(()) => {
                        path.push(anchor.id.clone());
                        return true;
                    }
                    Err(problem) => failures.push(format!("trust anchor: {problem}")),
                }
            }
        }
    }
    if path.len() >= MAX_PATH {
        failures.push(format!("no path within {MAX_PATH} certificates"));
        return false;
    }
    // Intermediates already on the path, not counting the peer or self-issued ones.
    let intermediates_below = path
        .iter()
        .skip(1)
        .filter(|id| !input.certs[id.as_str()].self_issued())
        .count();
    let mut seen = Vec::new();
    for candidate_id in &input.available {
        if seen.contains(candidate_id) || path.iter().any(|id| id == candidate_id) {
            continue;
        }
        seen.push(candidate_id);
        let Some(candidate) = input.certs.get(*candidate_id) else {
            continue;
        };
        if !issues(candidate, current) {
            continue;
        }
        if let Err(problem) = check_intermediate(input, candidate, intermediates_below) {
            failures.push(problem);
            continue;
        }
        path.push(candidate.id.clone());
        if search(input, candidate, path, failures) {
            return true;
        }
        path.pop();
    }
    if failures.is_empty() {
        failures.push(format!(
            "no issuer of {} ({}) is served, cached or trusted",
            current.id, current.issuer_subject
        ));
    }
    false
}

fn check_intermediate(
    input: &ReferenceInput<'_>,
    candidate: &CertFacts,
    intermediates_below: usize,
) -> Result<(), String> {
    candidate.valid_at(input.validation_time)?;
    if !candidate.is_ca {
        return Err(format!("{} is not a CA", candidate.id));
    }
    if let Some(path_len) = candidate.path_len {
        if intermediates_below > path_len as usize {
            return Err(format!(
                "{} allows {path_len} intermediates below it, the path has {intermediates_below}",
                candidate.id
            ));
        }
    }
    if !candidate.allows_usage(input.usage) {
        return Err(format!(
            "{}'s extendedKeyUsage excludes {:?}",
            candidate.id, input.usage
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn cert(id: &str, subject: &str, key: &str, issuer: (&str, &str)) -> CertFacts {
        CertFacts {
            id: id.into(),
            subject: subject.into(),
            key_label: key.into(),
            issuer_subject: issuer.0.into(),
            issuer_key_label: issuer.1.into(),
            not_before: datetime!(2020-01-01 0:00 UTC),
            not_after: datetime!(2030-01-01 0:00 UTC),
            is_ca: true,
            path_len: None,
            dns_names: Vec::new(),
            ext_key_usage: Vec::new(),
        }
    }

    /// old root, new root, new root cross-signed by old, an intermediate and a leaf.
    fn graph() -> BTreeMap<String, CertFacts> {
        let mut old = cert("old", "CN=Old", "old", ("CN=Old", "old"));
        old.not_after = datetime!(2021-09-30 14:01:15 UTC);
        let new = cert("new", "CN=New", "new", ("CN=New", "new"));
        let mut cross = cert("new-by-old", "CN=New", "new", ("CN=Old", "old"));
        cross.not_after = datetime!(2024-09-30 18:14:03 UTC);
        let mut int = cert("int", "CN=Int", "int", ("CN=New", "new"));
        int.path_len = Some(0);
        let mut leaf = cert("leaf", "CN=leaf", "leaf", ("CN=Int", "int"));
        leaf.is_ca = false;
        leaf.dns_names = vec!["www.example.test".into()];
        leaf.ext_key_usage = vec![ExtendedKeyUsage::ServerAuth];
        [old, new, cross, int, leaf]
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect()
    }

    fn verdict(available: &[&str], store: &[&str], time: OffsetDateTime) -> ReferenceVerdict {
        let certs = graph();
        let trust_store: Vec<String> = store.iter().map(|s| s.to_string()).collect();
        reference_verdict(&ReferenceInput {
            certs: &certs,
            peer: "leaf",
            available: available.to_vec(),
            trust_store: &trust_store,
            validation_time: time,
            dns_name: "www.example.test",
            usage: Usage::ServerAuth,
        })
    }

    #[test]
    fn long_chain_reaches_the_old_root_through_the_cross_sign() {
        let v = verdict(
            &["int", "new-by-old"],
            &["old"],
            datetime!(2021-09-29 0:00 UTC),
        );
        assert_eq!(
            v,
            ReferenceVerdict::Accept {
                path: vec![
                    "leaf".into(),
                    "int".into(),
                    "new-by-old".into(),
                    "old".into()
                ]
            }
        );
    }

    #[test]
    fn an_expired_anchor_fails_and_so_does_an_expired_cross_sign() {
        let before_expiry = verdict(
            &["int", "new-by-old"],
            &["old"],
            datetime!(2021-09-29 0:00 UTC),
        );
        assert!(before_expiry.is_accept(), "{before_expiry:?}");
        let after_root = verdict(
            &["int", "new-by-old"],
            &["old"],
            datetime!(2021-10-01 0:00 UTC),
        );
        assert!(
            matches!(&after_root, ReferenceVerdict::Reject { reason } if reason.contains("trust anchor: old has expired")),
            "{after_root:?}"
        );
        // With the new root trusted too, the path stops at the valid anchor.
        let both = verdict(
            &["int", "new-by-old"],
            &["old", "new"],
            datetime!(2021-10-01 0:00 UTC),
        );
        assert!(both.is_accept(), "{both:?}");
        let after_cross = verdict(
            &["int", "new-by-old"],
            &["old"],
            datetime!(2024-10-01 0:00 UTC),
        );
        assert!(
            matches!(&after_cross, ReferenceVerdict::Reject { reason } if reason.contains("new-by-old has expired")),
            "{after_cross:?}"
        );
    }

    #[test]
    fn short_chain_needs_the_new_root() {
        assert!(!verdict(&["int"], &["old"], datetime!(2021-09-29 0:00 UTC)).is_accept());
        assert!(verdict(&["int"], &["new"], datetime!(2021-09-29 0:00 UTC)).is_accept());
    }

    #[test]
    fn leaf_alone_fails_and_names_the_missing_issuer() {
        let v = verdict(&[], &["new"], datetime!(2021-09-29 0:00 UTC));
        assert!(
            matches!(&v, ReferenceVerdict::Reject { reason } if reason.contains("no issuer of leaf")),
            "{v:?}"
        );
    }

    #[test]
    fn same_key_with_another_name_does_not_issue() {
        let mut certs = graph();
        certs.insert("int-other-name".into(), {
            let mut c = certs["int"].clone();
            c.id = "int-other-name".into();
            c.subject = "CN=Other".into();
            c
        });
        let store = vec!["new".to_string()];
        let v = reference_verdict(&ReferenceInput {
            certs: &certs,
            peer: "leaf",
            available: vec!["int-other-name"],
            trust_store: &store,
            validation_time: datetime!(2021-09-29 0:00 UTC),
            dns_name: "www.example.test",
            usage: Usage::ServerAuth,
        });
        assert!(!v.is_accept());
    }

    #[test]
    fn peer_checks_name_time_and_usage() {
        let certs = graph();
        let store = vec!["new".to_string()];
        let mut input = ReferenceInput {
            certs: &certs,
            peer: "leaf",
            available: vec!["int"],
            trust_store: &store,
            validation_time: datetime!(2021-09-29 0:00 UTC),
            dns_name: "other.example.test",
            usage: Usage::ServerAuth,
        };
        assert!(!reference_verdict(&input).is_accept());
        input.dns_name = "WWW.example.test";
        assert!(reference_verdict(&input).is_accept());
        input.usage = Usage::ClientAuth;
        assert!(!reference_verdict(&input).is_accept());
        input.usage = Usage::ServerAuth;
        input.validation_time = datetime!(2031-01-01 0:00 UTC);
        assert!(!reference_verdict(&input).is_accept());
    }

    #[test]
    fn path_len_zero_forbids_an_intermediate_below() {
        let mut certs = graph();
        let mut sub = certs["int"].clone();
        sub.id = "sub".into();
        sub.subject = "CN=Sub".into();
        sub.key_label = "sub".into();
        sub.issuer_subject = "CN=Int".into();
        sub.issuer_key_label = "int".into();
        sub.path_len = None;
        certs.insert("sub".into(), sub);
        let leaf = certs.get_mut("leaf").unwrap();
        leaf.issuer_subject = "CN=Sub".into();
        leaf.issuer_key_label = "sub".into();
        let store = vec!["new".to_string()];
        let v = reference_verdict(&ReferenceInput {
            certs: &certs,
            peer: "leaf",
            available: vec!["sub", "int"],
            trust_store: &store,
            validation_time: datetime!(2021-09-29 0:00 UTC),
            dns_name: "www.example.test",
            usage: Usage::ServerAuth,
        });
        assert!(
            matches!(&v, ReferenceVerdict::Reject { reason } if reason.contains("allows 0")),
            "{v:?}"
        );
    }
}
