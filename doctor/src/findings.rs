//! What is wrong with a served chain: each finding a sentence an operator understands, with a
//! stable code. Each kind of finding is one small function over the parsed chain; `findings`
//! runs them in report order.

use anchorsmith_corpus::Scenario;
use time::OffsetDateTime;
use x509_parser::prelude::X509Certificate;

use crate::cert::{
    aia_url, cn, cn_of_issuer, issues, not_after, parse, same_key, self_signed, signed_by,
};
use crate::report::date;

/// What is wrong with a served chain, as a stable code (kebab-case in text and JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::Display)]
#[strum(serialize_all = "kebab-case")]
pub enum FindingCode {
    IncompleteChain,
    WrongNameSameKey,
    WrongOrder,
    DuplicateCertificate,
    UnrelatedCertificate,
    RootIncluded,
    CrossSignExpiring,
    LeafExpiring,
}

/// One finding: its code and the sentence for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub code: FindingCode,
    pub message: String,
}

/// How close an expiry must be to the validation time to be reported.
pub const SOON: time::Duration = time::Duration::days(30);

/// What the findings know besides the chain: the scenario's certificates (to name what should
/// be served instead, and to recognise cross-signs) and the roots its stores hold (an issuer
/// a store holds is not missing).
pub struct Reference<'a> {
    pub known: Vec<(String, X509Certificate<'a>)>,
    pub anchors: Vec<X509Certificate<'a>>,
}

impl<'a> Reference<'a> {
    pub fn of(scenario: &'a Scenario) -> Self {
        Reference {
            known: scenario
                .pki
                .certs
                .iter()
                .map(|(id, cert)| (id.clone(), parse(&cert.der)))
                .collect(),
            anchors: scenario
                .stores
                .values()
                .flatten()
                .map(|id| parse(&scenario.pki.certs[id].der))
                .collect(),
        }
    }
}

/// The findings on `chain` (served order, leaf first), using the scenario's certificates to
/// name what should be served instead.
pub fn findings(scenario: &Scenario, chain: &[Vec<u8>], at: OffsetDateTime) -> Vec<Finding> {
    findings_with(&Reference::of(scenario), chain, at)
}

/// The findings on `chain` against `reference`, in report order.
pub fn findings_with(reference: &Reference, chain: &[Vec<u8>], at: OffsetDateTime) -> Vec<Finding> {
    let certs: Vec<X509Certificate> = chain.iter().map(|der| parse(der)).collect();
    let mut found = duplicates(chain, &certs);
    found.extend(roots_included(&certs));
    let walk = walk_path(reference, chain, &certs);
    found.extend(walk.findings);
    found.extend(unrelated(chain, &certs, &walk.on_path));
    found.extend(cross_signs_expiring(reference, &certs, at));
    found.extend(leaf_expiring(&certs, at));
    found
}

/// Certificate `index` repeats one served before it.
fn is_copy(chain: &[Vec<u8>], index: usize) -> bool {
    chain[..index].contains(&chain[index])
}

/// Each certificate sent again after its first copy.
fn duplicates(chain: &[Vec<u8>], certs: &[X509Certificate]) -> Vec<Finding> {
    (0..chain.len())
        .filter(|&index| is_copy(chain, index))
        .map(|index| Finding {
            code: FindingCode::DuplicateCertificate,
            message: format!(
                "certificate {} (`{}`) is sent twice: remove the copy",
                index + 1,
                cn(&certs[index])
            ),
        })
        .collect()
}

/// Each self-signed certificate after the leaf.
fn roots_included(certs: &[X509Certificate]) -> Vec<Finding> {
    certs
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, cert)| self_signed(cert))
        .map(|(index, cert)| Finding {
            code: FindingCode::RootIncluded,
            message: format!("certificate {} (`{}`) is a self-signed root: clients take roots from their own store, sending it only costs bytes", index + 1, cn(cert)),
        })
        .collect()
}

/// The path walked from the leaf, and what the walk found.
struct Walk {
    /// Which served certificates the path from the leaf uses (copies never do).
    on_path: Vec<bool>,
    findings: Vec<Finding>,
}

/// Walk the path from the leaf: each certificate's issuer is the next distinct one served (a
/// copy in between is a duplicate, not a wrong order), somewhere else (wrong order), a same-key
/// twin with the wrong name, or missing (unless a store holds it).
fn walk_path(reference: &Reference, chain: &[Vec<u8>], certs: &[X509Certificate]) -> Walk {
    let mut on_path = vec![false; certs.len()];
    let mut findings = Vec::new();
    let mut push = |code, message: String| findings.push(Finding { code, message });
    // A copy is never a candidate: its first occurrence stands for it.
    let candidate = |i: usize, on_path: &[bool]| !on_path[i] && !is_copy(chain, i);
    let mut current = 0;
    while let Some(cert) = certs.get(current) {
        on_path[current] = true;
        if self_signed(cert) {
            break;
        }
        if let Some(issuer) =
            (0..certs.len()).find(|&i| candidate(i, &on_path) && issues(&certs[i], cert))
        {
            let next = (current + 1..certs.len()).find(|&i| !is_copy(chain, i));
            if Some(issuer) != next {
                push(
                    FindingCode::WrongOrder,
                    format!("the issuer of `{}` is sent at position {}, not right after it: send each certificate right before its issuer", cn(cert), issuer + 1),
                );
            }
            current = issuer;
            continue;
        }
        if let Some(twin) = (0..certs.len()).find(|&i| {
            chain[i] != chain[current] && !is_copy(chain, i) && signed_by(cert, &certs[i])
        }) {
            let right = reference
                .known
                .iter()
                .find(|(_, k)| issues(k, cert) && same_key(k, &certs[twin]));
            on_path[twin] = true;
            push(
                FindingCode::WrongNameSameKey,
                format!(
                    "`{}` is served with `{}`, which has the right key but the wrong name: `{}` was issued by `{}`{}. Clients that match issuers by name find none in the chain; only a client that already holds the right intermediate (a cache) or fetches it (AIA) accepts",
                    cn(cert),
                    cn(&certs[twin]),
                    cn(cert),
                    right.map_or_else(|| cn_of_issuer(cert), |(_, k)| cn(k)),
                    right.map_or(String::new(), |(id, _)| format!(" (serve `{id}` instead)")),
                ),
            );
            break;
        }
        // A missing issuer that is the root of a store is not missing: stores hold roots.
        if !reference.anchors.iter().any(|anchor| issues(anchor, cert)) {
            let url = aia_url(cert).map_or(String::new(), |url| {
                format!("; its AIA caIssuers URL is {url}")
            });
            push(
                FindingCode::IncompleteChain,
                format!(
                    "the issuer of `{}` (`{}`) is not sent: clients that do not already hold it fail{url}",
                    cn(cert),
                    cn_of_issuer(cert)
                ),
            );
        }
        break;
    }
    Walk { on_path, findings }
}

/// Each certificate (first copies only) on no path from the leaf.
fn unrelated(chain: &[Vec<u8>], certs: &[X509Certificate], on_path: &[bool]) -> Vec<Finding> {
    certs
        .iter()
        .enumerate()
        .filter(|&(index, _)| !on_path[index] && !is_copy(chain, index))
        .map(|(index, cert)| Finding {
            code: FindingCode::UnrelatedCertificate,
            message: format!(
                "certificate {} (`{}`) is on no path from the leaf: remove it",
                index + 1,
                cn(cert)
            ),
        })
        .collect()
}

/// Each served cross-sign (a CA certificate whose key is also a self-signed root's in the
/// scenario: a root signed by another root) that has expired or expires within `SOON`.
fn cross_signs_expiring(
    reference: &Reference,
    certs: &[X509Certificate],
    at: OffsetDateTime,
) -> Vec<Finding> {
    certs
        .iter()
        .skip(1)
        .filter(|cert| {
            !self_signed(cert)
                && reference
                    .known
                    .iter()
                    .any(|(_, k)| self_signed(k) && same_key(k, cert))
        })
        .filter(|cert| not_after(cert) < at + SOON)
        .map(|cert| {
            let state = if not_after(cert) < at {
                "expired"
            } else {
                "expires"
            };
            Finding {
                code: FindingCode::CrossSignExpiring,
                message: format!("the cross-sign `{}` (issued by `{}`) {state} on {}: clients that build the path through it break then; see the verdicts", cn(cert), cn_of_issuer(cert), date(not_after(cert))),
            }
        })
        .collect()
}

/// The leaf, when it has expired or expires within `SOON`.
fn leaf_expiring(certs: &[X509Certificate], at: OffsetDateTime) -> Option<Finding> {
    let leaf = certs.first()?;
    (not_after(leaf) < at + SOON).then(|| Finding {
        code: FindingCode::LeafExpiring,
        message: format!(
            "the leaf `{}` expires on {}: renew it",
            cn(leaf),
            date(not_after(leaf))
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testpki::{at, healthy, pki, Pki};
    use time::Duration;

    fn codes(pki: &Pki, chain: &[&Vec<u8>]) -> Vec<FindingCode> {
        let chain: Vec<Vec<u8>> = chain.iter().map(|der| der.to_vec()).collect();
        findings_with(&pki.reference(), &chain, at())
            .into_iter()
            .map(|finding| finding.code)
            .collect()
    }

    #[test]
    fn a_good_chain_has_no_finding() {
        let p = healthy();
        assert_eq!(codes(&p, &[&p.leaf, &p.inter]), []);
        // A cross-sign that does not expire soon is a good chain too.
        assert_eq!(codes(&p, &[&p.leaf, &p.inter, &p.cross]), []);
    }

    #[test]
    fn a_missing_intermediate_is_an_incomplete_chain() {
        let p = healthy();
        let chain = vec![p.leaf.clone()];
        let found = findings_with(&p.reference(), &chain, at());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, FindingCode::IncompleteChain);
        assert!(found[0].message.contains("(`Inter`) is not sent"));
    }

    #[test]
    fn an_issuer_a_store_holds_is_not_missing() {
        let p = healthy();
        assert_eq!(codes(&p, &[&p.inter]), []);
        let none_held = Reference {
            anchors: Vec::new(),
            ..p.reference()
        };
        let found = findings_with(&none_held, std::slice::from_ref(&p.inter), at());
        assert_eq!(found[0].code, FindingCode::IncompleteChain);
    }

    #[test]
    fn a_same_key_twin_is_named_with_the_intermediate_to_serve() {
        let p = healthy();
        let chain = vec![p.leaf.clone(), p.twin.clone()];
        let found = findings_with(&p.reference(), &chain, at());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, FindingCode::WrongNameSameKey);
        assert!(found[0].message.contains("served with `Twin`"));
        assert!(found[0].message.contains("(serve `inter` instead)"));
    }

    #[test]
    fn an_issuer_sent_later_is_wrong_order() {
        let p = healthy();
        let chain = vec![p.leaf.clone(), p.stranger.clone(), p.inter.clone()];
        let found = findings_with(&p.reference(), &chain, at());
        let codes: Vec<FindingCode> = found.iter().map(|f| f.code).collect();
        assert_eq!(
            codes,
            [FindingCode::WrongOrder, FindingCode::UnrelatedCertificate]
        );
        assert!(found[0].message.contains("sent at position 3"));
    }

    #[test]
    fn a_copy_between_a_certificate_and_its_issuer_is_a_duplicate_not_wrong_order() {
        let p = healthy();
        // The leaf sent twice: its issuer comes right after the copy.
        assert_eq!(
            codes(&p, &[&p.leaf, &p.leaf, &p.inter]),
            [FindingCode::DuplicateCertificate]
        );
        assert_eq!(
            codes(&p, &[&p.leaf, &p.inter, &p.inter]),
            [FindingCode::DuplicateCertificate]
        );
        assert_eq!(
            codes(&p, &[&p.leaf, &p.inter, &p.inter, &p.cross]),
            [FindingCode::DuplicateCertificate]
        );
        // A real wrong order is still reported with a duplicate present.
        assert_eq!(
            codes(&p, &[&p.leaf, &p.stranger, &p.stranger, &p.inter]),
            [
                FindingCode::DuplicateCertificate,
                FindingCode::WrongOrder,
                FindingCode::UnrelatedCertificate
            ]
        );
    }

    #[test]
    fn a_certificate_on_no_path_is_unrelated() {
        let p = healthy();
        let chain = vec![p.leaf.clone(), p.inter.clone(), p.stranger.clone()];
        let found = findings_with(&p.reference(), &chain, at());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, FindingCode::UnrelatedCertificate);
        assert!(found[0].message.starts_with("certificate 3 (`Stranger`)"));
    }

    #[test]
    fn a_served_root_is_reported() {
        let p = healthy();
        assert_eq!(
            codes(&p, &[&p.leaf, &p.inter, &p.root_a]),
            [FindingCode::RootIncluded]
        );
    }

    #[test]
    fn a_cross_sign_expiring_soon_or_expired_is_reported() {
        let soon = pki(Duration::days(10), Duration::days(365));
        let found = findings_with(
            &soon.reference(),
            &[soon.leaf.clone(), soon.inter.clone(), soon.cross.clone()],
            at(),
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, FindingCode::CrossSignExpiring);
        assert!(found[0].message.contains("expires on 2030-01-11"));
        let gone = pki(-Duration::days(10), Duration::days(365));
        let found = findings_with(
            &gone.reference(),
            &[gone.leaf.clone(), gone.inter.clone(), gone.cross.clone()],
            at(),
        );
        assert!(found[0].message.contains("expired on 2029-12-22"));
    }

    #[test]
    fn a_leaf_expiring_soon_is_reported() {
        let p = pki(Duration::days(3650), Duration::days(29));
        assert_eq!(codes(&p, &[&p.leaf, &p.inter]), [FindingCode::LeafExpiring]);
        let later = pki(Duration::days(3650), Duration::days(31));
        assert_eq!(codes(&later, &[&later.leaf, &later.inter]), []);
    }
}
