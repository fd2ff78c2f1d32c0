//! rustls-webpki (the verifier inside rustls) as a [`Validator`].
//!
//! Mirrors how rustls uses it: anchors from trusted certificates, the served certificates (then
//! the client's cache) offered as intermediates, `verify_for_usage` with every signature
//! algorithm of the ring backend, then the server-name check. Whatever rustls-webpki's API cannot
//! express (a maximum chain depth, key-usage or signature-algorithm constraints, e-mail names)
//! becomes [`Verdict::Skip`], following limbo's own rustls-webpki harness.

use std::time::{SystemTime, UNIX_EPOCH};

use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use webpki::{EndEntityCert, Error as WebpkiError, KeyUsage, RevocationOptionsBuilder};

use crate::limbo::FEATURE_MULTIPLE_PEER_NAMES;
use crate::{subject_label, PeerName, RejectKind, Usage, ValidationInput, Validator, Verdict};

/// rustls-webpki's built-in limit on intermediates (`MAX_SUB_CA_COUNT` in verify_cert.rs).
const WEBPKI_MAX_INTERMEDIATES: usize = 6;

/// rustls-webpki 0.103 with the ring backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct RustlsWebpki;

impl Validator for RustlsWebpki {
    fn name(&self) -> &str {
        "rustls-webpki"
    }

    fn version(&self) -> String {
        format!(
            "rustls-webpki {} (ring {})",
            env!("ANCHORSMITH_WEBPKI_VERSION"),
            env!("ANCHORSMITH_RING_VERSION")
        )
    }

    /// rustls-webpki bounds its own work per verification (its `Budget`: 100 signature checks,
    /// 200,000 path-building calls, 250,000 name-constraint comparisons, then a `Maximum…Exceeded`
    /// error), so no input can make it hang.
    fn cannot_hang(&self) -> bool {
        true
    }

    fn validate(&self, input: &ValidationInput) -> Verdict {
        if let Some(reason) = unsupported(input) {
            return Verdict::Skip { reason };
        }
        match verify(input) {
            Ok(chain_built) => Verdict::Accept { chain_built },
            Err(verdict) => verdict,
        }
    }
}

/// Why rustls-webpki cannot honour this case, if it cannot.
fn unsupported(input: &ValidationInput) -> Option<String> {
    // webpki has no depth knob, but its own limit (6 intermediates) honours any looser one.
    let depth_within_own_limit = input
        .max_chain_depth
        .is_none_or(|depth| depth as usize >= WEBPKI_MAX_INTERMEDIATES);
    if !depth_within_own_limit || input.features.iter().any(|f| f == "max-chain-depth") {
        return Some("max-chain-depth testcases are not supported by this API".into());
    }
    if input
        .features
        .iter()
        .any(|f| f == FEATURE_MULTIPLE_PEER_NAMES)
    {
        return Some("several expected peer names: webpki checks one server name".into());
    }
    // webpki checks CRLs; it evaluates directoryName constraints by failing closed (a real,
    // documented policy, so those cases run); it has no certificate-policy processing.
    if let Some(reason) = crate::unhonoured_feature(
        input,
        "rustls-webpki",
        &[
            "has-crl",
            "name-constraint-dn",
            "max-chain-depth",
            FEATURE_MULTIPLE_PEER_NAMES,
        ],
    ) {
        return Some(reason);
    }
    match (&input.expected_peer_name, input.usage) {
        (Some(PeerName::Rfc822(_)), _) => {
            return Some("webpki cannot check an RFC822 (e-mail) peer name".into())
        }
        (Some(_), Usage::ClientAuth) => {
            return Some("webpki does not check a client certificate's name".into())
        }
        _ => {}
    }
    crate::unsupported_constraints(input)
}

/// Runs rustls-webpki; `Ok` is the built chain as labels, `Err` a Reject (or Skip/Error).
fn verify(input: &ValidationInput) -> Result<Vec<String>, Verdict> {
    let peer_der = CertificateDer::from(input.peer.as_slice());
    let peer =
        EndEntityCert::try_from(&peer_der).map_err(|e| reject_with("peer certificate", &e))?;

    // An anchor webpki cannot parse is ignored, as a rustls RootCertStore built with
    // `add_parsable_certificates` would.
    let anchor_ders: Vec<CertificateDer<'_>> = input
        .trust_anchors
        .iter()
        .map(|der| CertificateDer::from(der.as_slice()))
        .collect();
    let mut anchors = Vec::new();
    let mut anchor_sources = Vec::new();
    for der in &anchor_ders {
        if let Ok(anchor) = webpki::anchor_from_trusted_cert(der) {
            anchors.push(anchor);
            anchor_sources.push(der.as_ref());
        }
    }

    let intermediates: Vec<CertificateDer<'_>> = input
        .served_chain
        .iter()
        .chain(&input.cached)
        .map(|der| CertificateDer::from(der.as_slice()))
        .collect();

    let time =
        unix_time(input.validation_time.unwrap_or_else(SystemTime::now)).ok_or_else(|| {
            Verdict::Error {
                detail: "validation time before 1970 cannot be given to webpki".into(),
            }
        })?;

    let mut crls = Vec::with_capacity(input.crls.len());
    for (index, der) in input.crls.iter().enumerate() {
        let crl = webpki::OwnedCertRevocationList::from_der(der).map_err(|e| Verdict::Skip {
            reason: format!("CRL {index} cannot be loaded by webpki: {e:?}"),
        })?;
        crls.push(webpki::CertRevocationList::from(crl));
    }
    let crl_refs: Vec<&webpki::CertRevocationList<'_>> = crls.iter().collect();
    // rustls' defaults: check the whole chain, deny unknown status, ignore CRL expiry.
    let revocation = RevocationOptionsBuilder::new(&crl_refs)
        .ok()
        .map(|builder| builder.build());

    let usage = match input.usage {
        Usage::ServerAuth => KeyUsage::server_auth(),
        Usage::ClientAuth => KeyUsage::client_auth(),
    };
    let path = peer
        .verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &intermediates,
            time,
            usage,
            revocation,
            None,
        )
        .map_err(|e| reject_with("path", &e))?;

    let mut chain_built = vec![subject_label(&input.peer)];
    chain_built.extend(
        path.intermediate_certificates()
            .map(|cert| subject_label(cert.der().as_ref())),
    );
    let anchor = path.anchor();
    if let Some(position) = anchors.iter().position(|candidate| {
        candidate.subject == anchor.subject
            && candidate.subject_public_key_info == anchor.subject_public_key_info
    }) {
        chain_built.push(subject_label(anchor_sources[position]));
    }

    if let Some(name) = &input.expected_peer_name {
        let server_name = match name {
            PeerName::Dns(dns) => ServerName::try_from(dns.as_str())
                .map_err(|e| Verdict::Skip {
                    reason: format!("`{dns}` is not a server name rustls accepts: {e}"),
                })?
                .to_owned(),
            PeerName::Ip(address) => ServerName::IpAddress((*address).into()),
            PeerName::Rfc822(_) => unreachable!("skipped by `unsupported`"),
        };
        peer.verify_is_valid_for_subject_name(&server_name)
            .map_err(|e| reject_with("name", &e))?;
    }
    Ok(chain_built)
}

fn unix_time(time: SystemTime) -> Option<UnixTime> {
    time.duration_since(UNIX_EPOCH)
        .ok()
        .map(UnixTime::since_unix_epoch)
}

fn reject_with(stage: &str, error: &WebpkiError) -> Verdict {
    Verdict::Reject {
        kind: reject_kind(error),
        detail: format!("{stage}: {error:?}"),
    }
}

/// Maps rustls-webpki's error to our normalized kind; unlisted errors are `Other` (the native
/// `Debug` stays in the detail, so nothing is lost).
#[allow(deprecated)] // the deprecated signature variants can still be returned
pub fn reject_kind(error: &WebpkiError) -> RejectKind {
    use WebpkiError as E;
    match error {
        E::CertExpired { .. } => RejectKind::Expired,
        E::CertNotValidYet { .. } => RejectKind::NotYetValid,
        E::UnknownIssuer => RejectKind::UnknownIssuer,
        E::InvalidSignatureForPublicKey
        | E::UnsupportedSignatureAlgorithm
        | E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKey
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_)
        | E::SignatureAlgorithmMismatch => RejectKind::BadSignature,
        E::CertNotValidForName(_) => RejectKind::NameMismatch,
        E::NameConstraintViolation
        | E::CaUsedAsEndEntity
        | E::EndEntityUsedAsCa
        | E::InvalidNetworkMaskConstraint
        | E::MalformedNameConstraint => RejectKind::ConstraintViolation,
        E::PathLenConstraintViolated
        | E::MaximumPathDepthExceeded
        | E::MaximumSignatureChecksExceeded
        | E::MaximumPathBuildCallsExceeded => RejectKind::PathTooLong,
        E::RequiredEkuNotFound | E::RequiredEkuNotFoundContext(_) | E::EmptyEkuExtension => {
            RejectKind::Usage
        }
        _ => RejectKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_the_locked_one() {
        let version = RustlsWebpki.version();
        assert!(version.starts_with("rustls-webpki 0.103."), "{version}");
        assert!(!version.contains("unknown"), "{version}");
    }

    #[test]
    fn error_mapping_follows_the_kinds() {
        assert_eq!(
            reject_kind(&WebpkiError::UnknownIssuer),
            RejectKind::UnknownIssuer
        );
        assert_eq!(
            reject_kind(&WebpkiError::PathLenConstraintViolated),
            RejectKind::PathTooLong
        );
        assert_eq!(reject_kind(&WebpkiError::CertRevoked), RejectKind::Other);
    }
}
