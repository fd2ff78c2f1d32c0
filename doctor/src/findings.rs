//! What is wrong with a served chain: each finding a sentence an operator understands, with a
//! stable code. Each kind of finding is one small function over the parsed chain; `findings`
//! runs them in report order.

use anchorsmith_corpus::Scenario;
use time::OffsetDateTime;
use x509_parser::prelude::X509Certificate;

use crate::cert::{
    aia_url, cn, cn_of_issuer, issues, leaf_index, not_after, parse, same_key, self_signed,
    signed_by, try_parse,
};
use crate::chain::ServedChain;
use crate::fix::TargetStore;
use crate::report::date;
use crate::verdicts::{Panel, TargetVerdict};

/// What is wrong with a served chain, as a stable code (kebab-case in text and JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, strum::Display, serde::Serialize)]
#[strum(serialize_all = "kebab-case")]
#[serde(rename_all = "kebab-case")]
pub enum FindingCode {
    IncompleteChain,
    WrongNameSameKey,
    WrongOrder,
    DuplicateCertificate,
    UnrelatedCertificate,
    RootIncluded,
    CrossSignExpiring,
    LeafExpiring,
    LeafExpired,
}

/// One finding: its code and the sentence for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub code: FindingCode,
    pub message: String,
}

/// How close an expiry must be to the validation time to be reported.
pub const SOON: time::Duration = time::Duration::days(30);

/// The end of the window in which an expiry counts as soon: `SOON` after `at`, or the last
/// instant there is when that lies beyond it (`--at 9999-12-31` is a valid date, and a
/// finding must never panic on it).
fn soon(at: OffsetDateTime) -> OffsetDateTime {
    at.saturating_add(SOON)
}

/// What the findings know besides the chain: the scenario's certificates (to name what should
/// be served instead, and to recognise cross-signs; none without a scenario) and each seat's
/// roots (an issuer a seat's store holds is not missing for that seat).
pub struct Reference<'a> {
    pub known: Vec<KnownCert<'a>>,
    pub stores: Vec<SeatRoots<'a>>,
}

/// One of the scenario's certificates, by its id in the topology.
pub struct KnownCert<'a> {
    pub id: String,
    pub cert: X509Certificate<'a>,
}

/// One seat's store, parsed.
pub struct SeatRoots<'a> {
    pub who: TargetStore,
    pub roots: Vec<X509Certificate<'a>>,
}

impl<'a> Reference<'a> {
    pub fn of(scenario: Option<&'a Scenario>, panel: &'a Panel) -> Self {
        Reference {
            known: scenario
                .into_iter()
                .flat_map(|scenario| &scenario.pki.certs)
                .map(|(id, cert)| KnownCert {
                    id: id.clone(),
                    cert: parse(&cert.der),
                })
                .collect(),
            stores: panel
                .seats
                .iter()
                .map(|seat| SeatRoots {
                    who: seat.who.clone(),
                    roots: seat
                        .anchors
                        .iter()
                        .filter_map(|der| try_parse(der))
                        .collect(),
                })
                .collect(),
        }
    }
}

/// The findings on `chain`, in report order.
pub fn findings(reference: &Reference, chain: &ServedChain, at: OffsetDateTime) -> Vec<Finding> {
    findings_with(reference, chain.certs(), at)
}

/// The served chain seen once: each certificate's first copy, with its served position, and
/// who issues whom among them. Every signature is verified once here (not once per question):
/// the findings only read the two matrices.
struct Served<'c> {
    /// 0-based served positions of the first copies, in served order.
    positions: Vec<usize>,
    certs: Vec<X509Certificate<'c>>,
    /// `issues[i][c]`: certificate `i` issues certificate `c` (names chain, signature verifies).
    issues: Vec<Vec<bool>>,
    /// `twin[t][c]`: `t` has the key that signed `c` but not the name `c` names, and nothing
    /// served issues `c` by name: the wrong same-key intermediate.
    twin: Vec<Vec<bool>>,
    /// The server's own certificate: the first served, unless that is a CA and an end-entity
    /// certificate comes after it (the leaf sent out of place; paths start from it).
    leaf: usize,
}

impl<'c> Served<'c> {
    fn of(chain: &'c [Vec<u8>]) -> Self {
        let positions: Vec<usize> = (0..chain.len())
            .filter(|&index| !is_copy(chain, index))
            .collect();
        let certs: Vec<X509Certificate> = positions.iter().map(|&at| parse(&chain[at])).collect();
        let n = certs.len();
        let issues: Vec<Vec<bool>> = (0..n)
            .map(|i| {
                (0..n)
                    .map(|c| i != c && issues(&certs[i], &certs[c]))
                    .collect()
            })
            .collect();
        let has_issuer = |c: usize| (0..n).any(|i| issues[i][c]);
        let twin = (0..n)
            .map(|t| {
                (0..n)
                    .map(|c| {
                        t != c
                            && !self_signed(&certs[c])
                            && !has_issuer(c)
                            && signed_by(&certs[c], &certs[t])
                    })
                    .collect()
            })
            .collect();
        let leaf = leaf_index(&certs);
        Served {
            positions,
            certs,
            issues,
            twin,
            leaf,
        }
    }

    /// Whether some served certificate issues `cert`.
    fn has_issuer(&self, cert: usize) -> bool {
        (0..self.certs.len()).any(|i| self.issues[i][cert])
    }

    fn is_twin(&self, twin: usize, cert: usize) -> bool {
        self.twin[twin][cert]
    }

    /// `issuer` completes `cert` in a path: by name and signature, or as its same-key twin.
    fn links(&self, issuer: usize, cert: usize) -> bool {
        self.issues[issuer][cert] || self.twin[issuer][cert]
    }

    /// Which first copies lie on some path from the leaf: the leaf, and every certificate that
    /// issues one on a path (any issuer, not only the first: a cross-sign is another path).
    fn on_path(&self) -> Vec<bool> {
        let mut on = vec![false; self.certs.len()];
        on[self.leaf] = true;
        let mut grew = true;
        while grew {
            grew = false;
            for issuer in 0..self.certs.len() {
                if !on[issuer] && (0..self.certs.len()).any(|c| on[c] && self.links(issuer, c)) {
                    on[issuer] = true;
                    grew = true;
                }
            }
        }
        on
    }

    /// The order to send the on-path certificates in: from the leaf, each one's issuer next
    /// (the first served when there are several), then the other on-path ones as served.
    fn path_order(&self, on_path: &[bool]) -> Vec<usize> {
        let mut order = vec![self.leaf];
        let mut current = self.leaf;
        while let Some(next) = (0..self.certs.len())
            .find(|&i| on_path[i] && !order.contains(&i) && self.links(i, current))
        {
            order.push(next);
            current = next;
        }
        let others: Vec<usize> = (0..self.certs.len())
            .filter(|i| on_path[*i] && !order.contains(i))
            .collect();
        order.extend(others);
        order
    }
}

/// The findings on `chain` (served order, leaf first) against `reference`, in report order.
/// Copies are reported once, as duplicates; every other finding looks at first copies only.
pub fn findings_with(reference: &Reference, chain: &[Vec<u8>], at: OffsetDateTime) -> Vec<Finding> {
    let served = Served::of(chain);
    let on_path = served.on_path();
    let mut found = duplicates(chain);
    found.extend(roots_included(&served));
    found.extend(missing_issuers(reference, &served, &on_path, at));
    found.extend(twins(reference, &served, &on_path));
    found.extend(wrong_order(&served, &on_path));
    found.extend(unrelated(&served, &on_path));
    found.extend(cross_signs_expiring(reference, &served, at));
    found.extend(leaf_expiry(&served.certs[served.leaf], at));
    found
}

/// Certificate `index` repeats one served before it.
fn is_copy(chain: &[Vec<u8>], index: usize) -> bool {
    chain[..index].contains(&chain[index])
}

/// Each certificate sent again after its first copy.
fn duplicates(chain: &[Vec<u8>]) -> Vec<Finding> {
    (0..chain.len())
        .filter(|&index| is_copy(chain, index))
        .map(|index| Finding {
            code: FindingCode::DuplicateCertificate,
            message: format!(
                "certificate {} (`{}`) is sent twice: remove the copy",
                index + 1,
                cn(&parse(&chain[index]))
            ),
        })
        .collect()
}

/// Each self-signed certificate after the leaf.
fn roots_included(served: &Served) -> Vec<Finding> {
    (0..served.certs.len())
        .filter(|&i| i != served.leaf && self_signed(&served.certs[i]))
        .map(|i| Finding {
            code: FindingCode::RootIncluded,
            message: format!("certificate {} (`{}`) is a self-signed root: clients take roots from their own store, sending it only costs bytes", served.positions[i] + 1, cn(&served.certs[i])),
        })
        .collect()
}

/// `seat`'s store completes a path: one of its roots issues an on-path certificate, or is one.
fn completes(roots: &[X509Certificate], served: &Served, on_path: &[bool]) -> bool {
    (0..served.certs.len()).filter(|&i| on_path[i]).any(|i| {
        let cert = &served.certs[i];
        roots
            .iter()
            .any(|root| root.as_ref() == cert.as_ref() || issues(root, cert))
    })
}

/// The issuers nothing serves: each on-path certificate (not a root) with no served issuer and
/// no same-key twin. Reported unless every seat's store completes the chain, saying which
/// seats hold that issuer as a root and which have no root completing any path; naming the
/// scenario's certificate to serve and its AIA caIssuers URL when they exist.
fn missing_issuers(
    reference: &Reference,
    served: &Served,
    on_path: &[bool],
    at: OffsetDateTime,
) -> Vec<Finding> {
    let lacking: Vec<&TargetStore> = reference
        .stores
        .iter()
        .filter(|store| !completes(&store.roots, served, on_path))
        .map(|store| &store.who)
        .collect();
    if lacking.is_empty() && !reference.stores.is_empty() {
        return Vec::new();
    }
    (0..served.certs.len())
        .filter(|&i| on_path[i] && !self_signed(&served.certs[i]) && !served.has_issuer(i))
        .filter(|&i| !(0..served.certs.len()).any(|t| served.is_twin(t, i)))
        .map(|i| {
            let cert = &served.certs[i];
            let holders: Vec<String> = reference
                .stores
                .iter()
                .filter(|store| store.roots.iter().any(|root| issues(root, cert)))
                .map(|store| store.who.to_string())
                .collect();
            let held = if holders.is_empty() {
                String::new()
            } else {
                format!(" (held as a root by {})", holders.join(", "))
            };
            let who_fails = if lacking.is_empty() {
                "clients that do not already hold it fail".to_string()
            } else {
                let names: Vec<String> = lacking.iter().map(ToString::to_string).collect();
                format!(
                    "{} hold no root that completes the chain and fail unless they already hold it or fetch it",
                    names.join(", ")
                )
            };
            let to_serve: Vec<String> = reference
                .known
                .iter()
                .filter(|known| !self_signed(&known.cert) && issues(&known.cert, cert))
                .filter(|known| path_valid_at(reference, &known.cert, at, MAX_DEPTH))
                .map(|known| format!("`{}`", known.id))
                .collect();
            let serve = match &to_serve[..] {
                [] => String::new(),
                [one] => format!("; serve the scenario's {one} after it"),
                several => format!("; serve one of the scenario's {} after it", several.join(", ")),
            };
            let url = aia_url(cert).map_or(String::new(), |url| {
                format!("; get it from its AIA caIssuers URL {url}")
            });
            Finding {
                code: FindingCode::IncompleteChain,
                message: format!(
                    "the issuer of `{}` (`{}`) is not sent{held}: {who_fails}{serve}{url}",
                    cn(cert),
                    cn_of_issuer(cert)
                ),
            }
        })
        .collect()
}

/// How many issuers up [`path_valid_at`] looks: deeper than any real chain, and a bound on
/// cross-sign loops.
const MAX_DEPTH: usize = 8;

/// `cert` is valid at `at` and so is some path from it up to a root (of the scenario or of a
/// seat's store), through issuers valid at `at`: serving it still helps then. (Seed 003: the
/// cross-sign of ISRG Root X1 by DST Root CA X3 is in date on 2021-10-01, but DST's root is not.)
fn path_valid_at(
    reference: &Reference,
    cert: &X509Certificate,
    at: OffsetDateTime,
    depth: usize,
) -> bool {
    if !cert
        .validity()
        .is_valid_at(x509_parser::time::ASN1Time::from(at))
    {
        return false;
    }
    if self_signed(cert) {
        return true;
    }
    depth > 0
        && reference
            .known
            .iter()
            .map(|known| &known.cert)
            .chain(reference.stores.iter().flat_map(|store| &store.roots))
            .filter(|issuer| issues(issuer, cert))
            .any(|issuer| path_valid_at(reference, issuer, at, depth - 1))
}

/// Each on-path certificate whose served issuer is a same-key twin with the wrong name.
fn twins(reference: &Reference, served: &Served, on_path: &[bool]) -> Vec<Finding> {
    let mut found = Vec::new();
    for cert_at in (0..served.certs.len()).filter(|&i| on_path[i]) {
        let Some(twin_at) = (0..served.certs.len()).find(|&t| served.is_twin(t, cert_at)) else {
            continue;
        };
        let (cert, twin) = (&served.certs[cert_at], &served.certs[twin_at]);
        let right = reference
            .known
            .iter()
            .find(|known| issues(&known.cert, cert) && same_key(&known.cert, twin));
        found.push(Finding {
            code: FindingCode::WrongNameSameKey,
            message: format!(
                "`{}` is served with `{}`, which has the right key but the wrong name: `{}` was issued by `{}`{}. Clients that match issuers by name find none in the chain; only a client that already holds the right intermediate (a cache) or fetches it (AIA) accepts",
                cn(cert),
                cn(twin),
                cn(cert),
                right.map_or_else(|| cn_of_issuer(cert), |known| cn(&known.cert)),
                right.map_or(String::new(), |known| format!(" (serve `{}` instead)", known.id)),
            ),
        });
    }
    found
}

/// The on-path certificates are not served in path order: one finding for the whole chain,
/// naming the order to send (unrelated certificates and copies aside: they have their own).
fn wrong_order(served: &Served, on_path: &[bool]) -> Option<Finding> {
    let order = served.path_order(on_path);
    let as_served: Vec<usize> = (0..served.certs.len()).filter(|&i| on_path[i]).collect();
    (order != as_served).then(|| {
        let names: Vec<String> = order
            .iter()
            .map(|&i| format!("`{}` ({})", cn(&served.certs[i]), served.positions[i] + 1))
            .collect();
        let leaf_first = if served.leaf == 0 {
            String::new()
        } else {
            format!(
                "the leaf `{}` is served at position {}, not first: clients take the first certificate as the server's own, so as served every client rejects (the verdicts below judge the chain as served); ",
                cn(&served.certs[served.leaf]),
                served.positions[served.leaf] + 1
            )
        };
        Finding {
            code: FindingCode::WrongOrder,
            message: format!(
                "{leaf_first}the chain is not in path order: send {} (served positions in brackets), each certificate right before its issuer",
                names.join(", ")
            ),
        }
    })
}

/// Each certificate (first copies only) on no path from the leaf.
fn unrelated(served: &Served, on_path: &[bool]) -> Vec<Finding> {
    (0..served.certs.len())
        .filter(|&i| !on_path[i])
        .map(|i| Finding {
            code: FindingCode::UnrelatedCertificate,
            message: format!(
                "certificate {} (`{}`) is on no path from the leaf: remove it",
                served.positions[i] + 1,
                cn(&served.certs[i])
            ),
        })
        .collect()
}

/// Each served cross-sign (a CA certificate whose key is also a self-signed root's in the
/// scenario or a seat's store: a root signed by another root) that has expired or expires
/// within `SOON`, or whose issuing root (the old root the cross-sign reaches) has: the path
/// through the cross-sign ends then, whichever of the two ends first (seed 003: DST Root CA X3
/// expired on 2021-09-30 while its cross-sign of ISRG Root X1 ran to 2024).
fn cross_signs_expiring(
    reference: &Reference,
    served: &Served,
    at: OffsetDateTime,
) -> Vec<Finding> {
    let roots = || {
        reference
            .known
            .iter()
            .map(|known| &known.cert)
            .chain(reference.stores.iter().flat_map(|store| &store.roots))
            .filter(|k| self_signed(k))
    };
    let state = |end: OffsetDateTime| if end < at { "expired" } else { "expires" };
    let mut found = Vec::new();
    for (index, cert) in served.certs.iter().enumerate() {
        if index == served.leaf || self_signed(cert) || !roots().any(|k| same_key(k, cert)) {
            continue;
        }
        let end = not_after(cert);
        if end < soon(at) {
            found.push(Finding {
                code: FindingCode::CrossSignExpiring,
                message: format!("the cross-sign `{}` (issued by `{}`) {} on {}: clients that build the path through it break then", cn(cert), cn_of_issuer(cert), state(end), date(end)),
            });
            continue;
        }
        // The old root it reaches, when that ends first (the first such root, once).
        if let Some(issuer) = roots().find(|k| issues(k, cert) && not_after(k) < soon(at)) {
            let end = not_after(issuer);
            found.push(Finding {
                code: FindingCode::CrossSignExpiring,
                message: format!("the cross-sign `{}` leads to the root `{}`, which {} on {}: clients that build the path through it reject from then on, unless they ignore their root's expiry", cn(cert), cn(issuer), state(end), date(end)),
            });
        }
    }
    found
}

/// Each cross-sign finding completed with what each target does with the chain as served (the
/// issue's "and what each target does with it"): who accepts and who rejects.
pub fn with_outcomes(findings: Vec<Finding>, verdicts: &[TargetVerdict]) -> Vec<Finding> {
    let who = |accepts: bool| -> Vec<String> {
        verdicts
            .iter()
            .filter(|v| v.decided() && v.accepts() == accepts)
            .map(|v| v.who().to_string())
            .collect()
    };
    let list = |names: Vec<String>| {
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    let (accept, reject) = (list(who(true)), list(who(false)));
    findings
        .into_iter()
        .map(|mut finding| {
            if finding.code == FindingCode::CrossSignExpiring && !verdicts.is_empty() {
                finding.message = format!(
                    "{}. As served, accepted by: {accept}; rejected by: {reject}",
                    finding.message
                );
            }
            finding
        })
        .collect()
}

/// The leaf, when it has expired (`leaf-expired`) or expires within `SOON` (`leaf-expiring`).
fn leaf_expiry(leaf: &X509Certificate, at: OffsetDateTime) -> Option<Finding> {
    let end = not_after(leaf);
    if end < at {
        return Some(Finding {
            code: FindingCode::LeafExpired,
            message: format!(
                "the leaf `{}` expired on {}: every client rejects it; renew it now",
                cn(leaf),
                date(end)
            ),
        });
    }
    (end < soon(at)).then(|| Finding {
        code: FindingCode::LeafExpiring,
        message: format!("the leaf `{}` expires on {}: renew it", cn(leaf), date(end)),
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
            stores: Vec::new(),
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
    fn one_swap_is_one_wrong_order_naming_the_order_to_send() {
        let p = healthy();
        let chain = vec![p.leaf.clone(), p.cross.clone(), p.inter.clone()];
        let found = findings_with(&p.reference(), &chain, at());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, FindingCode::WrongOrder);
        assert!(
            found[0]
                .message
                .contains("send `leaf.example` (1), `Inter` (3), `Root A` (2)"),
            "{}",
            found[0].message
        );
        // A root sent before the intermediate: one wrong order, not one per link.
        assert_eq!(
            codes(&p, &[&p.leaf, &p.root_a, &p.inter]),
            [FindingCode::RootIncluded, FindingCode::WrongOrder]
        );
    }

    #[test]
    fn a_leaf_served_after_its_issuer_is_a_wrong_order_not_unrelated() {
        let p = healthy();
        let chain = vec![p.inter.clone(), p.leaf.clone()];
        let found = findings_with(&p.reference(), &chain, at());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, FindingCode::WrongOrder);
        assert!(
            found[0]
                .message
                .starts_with("the leaf `leaf.example` is served at position 2, not first"),
            "{}",
            found[0].message
        );
        assert!(found[0]
            .message
            .contains("send `leaf.example` (2), `Inter` (1)"));
        // A CA first and no end entity served: the first certificate stays the leaf.
        assert_eq!(codes(&p, &[&p.inter]), []);
    }

    #[test]
    fn an_unrelated_certificate_in_between_is_not_a_wrong_order() {
        let p = healthy();
        assert_eq!(
            codes(&p, &[&p.leaf, &p.stranger, &p.inter]),
            [FindingCode::UnrelatedCertificate]
        );
    }

    #[test]
    fn a_certificate_that_issued_the_same_key_twin_is_on_the_path() {
        let p = healthy();
        assert_eq!(
            codes(&p, &[&p.leaf, &p.twin, &p.cross]),
            [FindingCode::WrongNameSameKey]
        );
    }

    #[test]
    fn copies_are_only_duplicates() {
        let p = healthy();
        assert_eq!(
            codes(&p, &[&p.leaf, &p.inter, &p.root_a, &p.root_a]),
            [FindingCode::DuplicateCertificate, FindingCode::RootIncluded]
        );
    }

    #[test]
    fn any_issuer_of_an_on_path_certificate_is_on_a_path() {
        let p = healthy();
        // The cross-sign is another issuer of Inter (Root A's name and key), not unrelated.
        assert_eq!(
            codes(&p, &[&p.leaf, &p.inter, &p.root_a, &p.cross]),
            [FindingCode::RootIncluded]
        );
    }

    #[test]
    fn a_missing_intermediate_names_the_scenario_certificate_to_serve() {
        let p = healthy();
        let found = findings_with(&p.reference(), std::slice::from_ref(&p.leaf), at());
        assert!(
            found[0]
                .message
                .contains("serve the scenario's `inter` after it"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_missing_intermediate_whose_path_has_expired_is_not_suggested() {
        // Root B, the cross-sign's issuer, expired ten days ago: the cross-sign (another
        // issuer of Inter, by Root A's name and key) leads nowhere; Inter's own path is fine.
        let p = crate::testpki::pki_with_root_b_left(-Duration::days(10));
        let reference = p.reference();
        let [inter, cross, root_a] = [&p.inter, &p.cross, &p.root_a].map(|der| parse(der));
        assert!(path_valid_at(&reference, &inter, at(), MAX_DEPTH));
        assert!(path_valid_at(&reference, &root_a, at(), MAX_DEPTH));
        assert!(!path_valid_at(&reference, &cross, at(), MAX_DEPTH));
        // Served Inter alone, with no store holding Root A: the scenario's cross-sign is not
        // offered (its path ended ten days ago).
        let none_held = Reference {
            stores: Vec::new(),
            ..p.reference()
        };
        let found = findings_with(&none_held, std::slice::from_ref(&p.inter), at());
        assert_eq!(found[0].code, FindingCode::IncompleteChain);
        assert!(
            !found[0].message.contains("`cross`"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn an_issuer_is_missing_per_store_and_the_holders_are_named() {
        let p = healthy();
        let seat = |target: &str, roots| SeatRoots {
            who: TargetStore {
                target: target.into(),
                store: "s".into(),
            },
            roots,
        };
        let split = Reference {
            stores: vec![
                seat("holder", vec![parse(&p.root_a)]),
                seat("lacker", vec![parse(&p.root_b)]),
            ],
            ..p.reference()
        };
        let found = findings_with(&split, std::slice::from_ref(&p.inter), at());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, FindingCode::IncompleteChain);
        assert!(found[0]
            .message
            .contains("held as a root by holder (store `s`)"));
        assert!(found[0]
            .message
            .contains("lacker (store `s`) hold no root that completes the chain"));
        // Every store holds it: silent.
        let both = Reference {
            stores: vec![
                seat("holder", vec![parse(&p.root_a)]),
                seat("other", vec![parse(&p.root_a), parse(&p.root_b)]),
            ],
            ..p.reference()
        };
        assert_eq!(
            findings_with(&both, std::slice::from_ref(&p.inter), at()),
            []
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
    fn a_cross_sign_whose_old_root_expires_first_is_reported() {
        // Root B (the issuer of the cross-sign) expires in ten days, the cross-sign much later.
        let p = healthy();
        let short_root_b = crate::testpki::pki_with_root_b_left(Duration::days(10));
        let found = findings_with(
            &short_root_b.reference(),
            &[
                short_root_b.leaf.clone(),
                short_root_b.inter.clone(),
                short_root_b.cross.clone(),
            ],
            at(),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, FindingCode::CrossSignExpiring);
        assert!(
            found[0]
                .message
                .contains("leads to the root `Root B`, which expires on 2030-01-11"),
            "{}",
            found[0].message
        );
        // Far from expiry: nothing.
        assert_eq!(codes(&p, &[&p.leaf, &p.inter, &p.cross]), []);
    }

    #[test]
    fn a_cross_sign_finding_says_who_accepts_and_who_rejects() {
        use crate::testpki::{accept, reject, target_verdict};
        use anchorsmith_validators::RejectKind;
        let verdict = |target: &str, accepts: bool| {
            let verdict = if accepts {
                accept()
            } else {
                reject(RejectKind::Expired)
            };
            target_verdict(target, "s", verdict)
        };
        let finding = Finding {
            code: FindingCode::CrossSignExpiring,
            message: "the cross-sign".into(),
        };
        let other = Finding {
            code: FindingCode::RootIncluded,
            message: "a root".into(),
        };
        let done = with_outcomes(
            vec![finding, other.clone()],
            &[
                verdict("old-android", true),
                verdict("openssl-1.0.2", false),
            ],
        );
        assert_eq!(
            done[0].message,
            "the cross-sign. As served, accepted by: old-android (store `s`); rejected by: openssl-1.0.2 (store `s`)"
        );
        assert_eq!(done[1], other);
    }

    #[test]
    fn a_leaf_expiring_soon_is_reported() {
        let p = pki(Duration::days(3650), Duration::days(29));
        assert_eq!(codes(&p, &[&p.leaf, &p.inter]), [FindingCode::LeafExpiring]);
        let later = pki(Duration::days(3650), Duration::days(31));
        assert_eq!(codes(&later, &[&later.leaf, &later.inter]), []);
    }

    #[test]
    fn the_last_valid_instant_does_not_panic_and_nothing_expires_after_it() {
        let last = time::PrimitiveDateTime::MAX.assume_utc();
        assert_eq!(soon(last), last);
        let p = pki(Duration::days(3650), Duration::days(3650));
        let found = findings_with(&p.reference(), &[p.leaf.clone(), p.inter.clone()], last);
        assert_eq!(
            found.iter().map(|f| f.code).collect::<Vec<_>>(),
            [FindingCode::LeafExpired]
        );
    }

    #[test]
    fn an_expired_leaf_says_expired_not_expires() {
        let p = pki(Duration::days(3650), -Duration::days(2));
        let found = findings_with(&p.reference(), &[p.leaf.clone(), p.inter.clone()], at());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, FindingCode::LeafExpired);
        assert!(
            found[0].message.contains("expired on 2029-12-30"),
            "{}",
            found[0].message
        );
    }
}
