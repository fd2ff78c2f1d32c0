//! Facts about one certificate (or one issuer/subject pair) that the findings and the fix ask.

use std::cell::RefCell;
use std::sync::Arc;

use anchorsmith_validators::model::{signature_verifies, SignatureCache};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

/// A certificate `ServedChain::new` or the corpus has already checked to parse.
pub(crate) fn parse(der: &[u8]) -> X509Certificate<'_> {
    X509Certificate::from_der(der)
        .expect("ServedChain::new (or the corpus) checked every certificate")
        .1
}

/// A certificate from a store that may hold something unparsable (the system store).
pub(crate) fn try_parse(der: &[u8]) -> Option<X509Certificate<'_>> {
    X509Certificate::from_der(der).ok().map(|(_, cert)| cert)
}

/// The name a client would connect with: the leaf's first DNS subjectAltName, else its CN.
pub fn leaf_dns_name(der: &[u8]) -> String {
    use x509_parser::extensions::GeneralName;
    let cert = parse(der);
    let san = cert.subject_alternative_name().ok().flatten();
    san.and_then(|san| {
        san.value.general_names.iter().find_map(|name| match name {
            GeneralName::DNSName(dns) => Some(dns.to_string()),
            _ => None,
        })
    })
    .unwrap_or_else(|| cn(&cert))
}

/// The subject's common name, or the whole subject when it has none.
pub(crate) fn cn(cert: &X509Certificate) -> String {
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map_or_else(|| cert.subject().to_string(), str::to_string)
}

/// The issuer's common name, or the whole issuer name when it has none.
pub(crate) fn cn_of_issuer(cert: &X509Certificate) -> String {
    cert.issuer()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map_or_else(|| cert.issuer().to_string(), str::to_string)
}

thread_local! {
    /// The batch's signature cache while this thread diagnoses one of its chains (see
    /// [`with_signature_cache`]). A thread-local, not a parameter, because it changes only what a
    /// check costs, never its answer: every finding's function keeps its plain signature.
    static SIGNATURES: RefCell<Option<Arc<SignatureCache>>> = const { RefCell::new(None) };
}

/// Run `work` with every [`signed_by`] on this thread answered through `cache` (verified once
/// per certificate and issuer key, shared with the client models' path builders).
pub(crate) fn with_signature_cache<R>(cache: &Arc<SignatureCache>, work: impl FnOnce() -> R) -> R {
    let previous = SIGNATURES.with(|slot| slot.replace(Some(Arc::clone(cache))));
    // Restored even if `work` panics, so a rayon worker never keeps a stale cache.
    struct Restore(Option<Arc<SignatureCache>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            SIGNATURES.with(|slot| *slot.borrow_mut() = previous);
        }
    }
    let _restore = Restore(previous);
    work()
}

/// The signature on `cert` verifies with `issuer`'s key (whatever the names say).
pub(crate) fn signed_by(cert: &X509Certificate, issuer: &X509Certificate) -> bool {
    SIGNATURES.with(|slot| match slot.borrow().as_deref() {
        Some(cache) => cache.verifies(cert, issuer).is_ok(),
        // The same check the cache makes (SHA-1 through OpenSSL, as the client models do), so
        // a finding never depends on whether a batch's cache is in play.
        None => signature_verifies(cert, issuer).is_ok(),
    })
}

/// `issuer` issued `cert`: the names chain and the signature verifies.
pub(crate) fn issues(issuer: &X509Certificate, cert: &X509Certificate) -> bool {
    issuer.subject().as_raw() == cert.issuer().as_raw() && signed_by(cert, issuer)
}

/// The index of the server's own certificate among `certs` (served order): the first, unless it
/// is a CA and a later certificate is an end entity (not a CA, not self-signed): the leaf sent
/// out of place.
pub(crate) fn leaf_index(certs: &[X509Certificate]) -> usize {
    if !certs[0].is_ca() {
        return 0;
    }
    certs
        .iter()
        .position(|cert| !cert.is_ca() && !self_signed(cert))
        .unwrap_or(0)
}

pub(crate) fn self_signed(cert: &X509Certificate) -> bool {
    cert.subject().as_raw() == cert.issuer().as_raw()
}

pub(crate) fn same_key(a: &X509Certificate, b: &X509Certificate) -> bool {
    a.public_key().raw == b.public_key().raw
}

pub(crate) fn not_after(cert: &X509Certificate) -> OffsetDateTime {
    cert.validity().not_after.to_datetime()
}

/// The AIA caIssuers URL, where a client that fetches finds the issuer.
pub(crate) fn aia_url(cert: &X509Certificate) -> Option<String> {
    use x509_parser::extensions::{GeneralName, ParsedExtension};
    /// id-ad-caIssuers (RFC 5280, 4.2.2.1).
    const CA_ISSUERS: &str = "1.3.6.1.5.5.7.48.2";
    cert.extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::AuthorityInfoAccess(aia) => aia.accessdescs.iter().find_map(|desc| {
                match (
                    &desc.access_method.to_id_string()[..],
                    &desc.access_location,
                ) {
                    (CA_ISSUERS, GeneralName::URI(uri)) => Some(uri.to_string()),
                    _ => None,
                }
            }),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::asn1::Asn1Time;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::{PKey, Private};
    use openssl::x509::{X509Name, X509};

    fn certificate(cn: &str, key: &PKey<Private>, issuer: Option<(&X509, &PKey<Private>)>) -> X509 {
        let mut name = X509Name::builder().unwrap();
        name.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
        let name = name.build();
        let mut builder = X509::builder().unwrap();
        builder.set_version(2).unwrap();
        builder.set_subject_name(&name).unwrap();
        builder
            .set_issuer_name(issuer.map_or(&*name, |(cert, _)| cert.subject_name()))
            .unwrap();
        builder.set_pubkey(key).unwrap();
        builder
            .set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        builder
            .set_not_after(&Asn1Time::days_from_now(30).unwrap())
            .unwrap();
        // ecdsa-with-SHA1: x509-parser's own check cannot verify it, OpenSSL can.
        builder
            .sign(issuer.map_or(key, |(_, key)| key), MessageDigest::sha1())
            .unwrap();
        builder.build()
    }

    #[test]
    fn a_sha1_signature_verifies_with_and_without_the_cache() {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let key = || PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
        let (root_key, child_key) = (key(), key());
        let root = certificate("SHA-1 Root", &root_key, None);
        let child = certificate("SHA-1 Child", &child_key, Some((&root, &root_key)));
        let (root_der, child_der) = (root.to_der().unwrap(), child.to_der().unwrap());
        let (root, child) = (parse(&root_der), parse(&child_der));
        assert!(signed_by(&child, &root), "without a cache");
        let cache = Arc::new(SignatureCache::default());
        assert!(
            with_signature_cache(&cache, || signed_by(&child, &root)),
            "with one"
        );
        assert!(!signed_by(&root, &child));
    }
}
