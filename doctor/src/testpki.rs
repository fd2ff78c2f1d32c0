//! A small real PKI for the unit tests (rcgen, ECDSA P-256): two roots, an intermediate and its
//! same-key twin with the wrong name, a cross-sign of root A by root B, an unrelated CA, leaves;
//! and the verdicts the tests hand to the report, the fix and the tally.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use time::{Duration, OffsetDateTime};

use crate::cert::parse;
use crate::findings::{KnownCert, Reference, SeatRoots};
use crate::fix::TargetStore;
use crate::TargetVerdict;
use anchorsmith_validators::{RejectKind, Verdict};

/// The validation time the tests use.
pub fn at() -> OffsetDateTime {
    time::macros::datetime!(2030-01-01 00:00 UTC)
}

fn params(cn: &str, ca: bool, not_after: OffsetDateTime) -> CertificateParams {
    let sans = if ca { Vec::new() } else { vec![cn.to_string()] };
    let mut params = CertificateParams::new(sans).expect("valid names");
    params.distinguished_name.push(DnType::CommonName, cn);
    if ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    params.not_before = at() - Duration::days(365);
    params.not_after = not_after;
    params
}

pub struct Pki {
    pub root_a: Vec<u8>,
    pub root_b: Vec<u8>,
    /// `Inter`, issued by root A.
    pub inter: Vec<u8>,
    /// `Twin`: Inter's key, another name, issued by root A.
    pub twin: Vec<u8>,
    /// Root A's name and key, issued by root B.
    pub cross: Vec<u8>,
    /// `Stranger`, issued by root B: on no path from the leaf.
    pub stranger: Vec<u8>,
    /// `leaf.example`, issued by Inter.
    pub leaf: Vec<u8>,
}

/// The PKI, with the cross-sign and the leaf expiring `cross_left` and `leaf_left` after `at()`.
pub fn pki(cross_left: Duration, leaf_left: Duration) -> Pki {
    build(cross_left, leaf_left, Duration::days(3650))
}

/// The healthy PKI but for root B (the cross-sign's issuer), expiring `root_b_left` after `at()`.
pub fn pki_with_root_b_left(root_b_left: Duration) -> Pki {
    build(Duration::days(3650), Duration::days(365), root_b_left)
}

fn build(cross_left: Duration, leaf_left: Duration, root_b_left: Duration) -> Pki {
    let far = at() + Duration::days(3650);
    let key = || KeyPair::generate().expect("key");
    let (ka, kb, ki, ks, kl) = (key(), key(), key(), key(), key());
    let root_a_params = params("Root A", true, far);
    let root_b_params = params("Root B", true, at() + root_b_left);
    let root_a = root_a_params.self_signed(&ka).expect("root A");
    let root_b = root_b_params.self_signed(&kb).expect("root B");
    let by_a = Issuer::from_params(&root_a_params, &ka);
    let by_b = Issuer::from_params(&root_b_params, &kb);
    let inter_params = params("Inter", true, far);
    let inter = inter_params.signed_by(&ki, &by_a).expect("inter");
    let twin = params("Twin", true, far)
        .signed_by(&ki, &by_a)
        .expect("twin");
    let cross = params("Root A", true, at() + cross_left)
        .signed_by(&ka, &by_b)
        .expect("cross");
    let stranger = params("Stranger", true, far)
        .signed_by(&ks, &by_b)
        .expect("stranger");
    let by_inter = Issuer::from_params(&inter_params, &ki);
    let leaf = params("leaf.example", false, at() + leaf_left)
        .signed_by(&kl, &by_inter)
        .expect("leaf");
    let der = |cert: rcgen::Certificate| cert.der().to_vec();
    Pki {
        root_a: der(root_a),
        root_b: der(root_b),
        inter: der(inter),
        twin: der(twin),
        cross: der(cross),
        stranger: der(stranger),
        leaf: der(leaf),
    }
}

/// Nothing expiring soon.
pub fn healthy() -> Pki {
    pki(Duration::days(3650), Duration::days(365))
}

impl Pki {
    /// Every certificate known by id, both roots in the stores.
    pub fn reference(&self) -> Reference<'_> {
        let known: Vec<KnownCert> = [
            ("root-a", &self.root_a),
            ("root-b", &self.root_b),
            ("inter", &self.inter),
            ("twin", &self.twin),
            ("cross", &self.cross),
            ("stranger", &self.stranger),
            ("leaf", &self.leaf),
        ]
        .into_iter()
        .map(|(id, der)| KnownCert {
            id: id.to_string(),
            cert: parse(der),
        })
        .collect();
        Reference {
            known,
            stores: vec![SeatRoots {
                who: TargetStore {
                    target: "client".into(),
                    store: "both-roots".into(),
                },
                roots: vec![parse(&self.root_a), parse(&self.root_b)],
            }],
        }
    }
}

/// `target`'s `verdict` with its store `store`, reached without a cache or AIA.
pub fn target_verdict(target: &str, store: &str, verdict: Verdict) -> TargetVerdict {
    TargetVerdict {
        who: TargetStore {
            target: target.to_string(),
            store: store.to_string(),
        },
        verdict,
        only_through_cache_or_aia: false,
    }
}

/// An accept, with no path shown.
pub fn accept() -> Verdict {
    Verdict::Accept {
        chain_built: Vec::new(),
    }
}

/// A reject of `kind`, with no detail.
pub fn reject(kind: RejectKind) -> Verdict {
    Verdict::Reject {
        kind,
        detail: String::new(),
    }
}
