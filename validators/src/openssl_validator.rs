//! OpenSSL's `X509_verify_cert` (the system library, through the `openssl` crate) as a
//! [`Validator`], in three profiles that real clients use.
//!
//! Each validation builds its own `X509_STORE` holding only the case's anchors — never the
//! system store — and passes the served certificates, then the client's cache, as the untrusted
//! stack, in that order (OpenSSL 3 does not backtrack across same-subject untrusted candidates,
//! so order changes verdicts; see NOTES.md).

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use openssl::ssl::SslFiletype;
use openssl::stack::Stack;
use openssl::x509::store::{X509Lookup, X509StoreBuilder};
use openssl::x509::verify::{X509VerifyFlags, X509VerifyParam};
use openssl::x509::{X509PurposeId, X509StoreContext, X509StoreContextRef, X509};

use crate::limbo::FEATURE_MULTIPLE_PEER_NAMES;
use crate::{
    der_fingerprint_label, PeerName, RejectKind, Usage, ValidationInput, Validator, Verdict,
};

/// The verification flags a client sets; each is one report column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpenSslProfile {
    /// Library defaults (OpenSSL 3: trusted-first on, partial chains off).
    Default,
    /// `X509_V_FLAG_PARTIAL_CHAIN`: any trusted certificate, even a non-self-signed
    /// intermediate, ends the chain (curl >= 7.68, Python 3.13 set it).
    PartialChain,
    /// `X509_V_FLAG_X509_STRICT`: extra RFC 5280 encoding checks.
    Strict,
}

impl OpenSslProfile {
    pub const ALL: [OpenSslProfile; 3] = [
        OpenSslProfile::Default,
        OpenSslProfile::PartialChain,
        OpenSslProfile::Strict,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OpenSslProfile::Default => "openssl",
            OpenSslProfile::PartialChain => "openssl-partial-chain",
            OpenSslProfile::Strict => "openssl-strict",
        }
    }

    fn flags(self) -> X509VerifyFlags {
        match self {
            OpenSslProfile::Default => X509VerifyFlags::empty(),
            OpenSslProfile::PartialChain => X509VerifyFlags::PARTIAL_CHAIN,
            OpenSslProfile::Strict => X509VerifyFlags::X509_STRICT,
        }
    }

    fn description(self) -> &'static str {
        match self {
            OpenSslProfile::Default => "default flags (X509_V_FLAG_TRUSTED_FIRST is the default)",
            OpenSslProfile::PartialChain => "X509_V_FLAG_PARTIAL_CHAIN",
            OpenSslProfile::Strict => "X509_V_FLAG_X509_STRICT",
        }
    }
}

/// OpenSSL `X509_verify_cert` with one [`OpenSslProfile`].
#[derive(Clone, Copy, Debug)]
pub struct OpenSslValidator {
    profile: OpenSslProfile,
}

impl OpenSslValidator {
    pub fn new(profile: OpenSslProfile) -> Self {
        OpenSslValidator { profile }
    }
}

impl Validator for OpenSslValidator {
    fn name(&self) -> &str {
        self.profile.name()
    }

    fn version(&self) -> String {
        openssl::version::version().to_string()
    }

    fn profile(&self) -> String {
        self.profile.description().to_string()
    }

    fn validate(&self, input: &ValidationInput) -> Verdict {
        if let Some(reason) = unsupported(input) {
            return Verdict::Skip { reason };
        }
        match verify(input, self.profile) {
            Ok(verdict) => verdict,
            Err(error) => Verdict::Error {
                detail: format!("OpenSSL API error: {error}"),
            },
        }
    }
}

/// Why this adapter cannot honour the case, if it cannot (as limbo's OpenSSL harness does).
fn unsupported(input: &ValidationInput) -> Option<String> {
    if input
        .features
        .iter()
        .any(|f| f == FEATURE_MULTIPLE_PEER_NAMES)
    {
        return Some("several expected peer names: OpenSSL checks one".into());
    }
    // CRLs, depth limits and directoryName constraints are honoured; policy processing
    // (X509_V_FLAG_POLICY_CHECK) is not enabled in any of the three profiles.
    if let Some(reason) = crate::unhonoured_feature(
        input,
        "OpenSSL",
        &[
            "has-crl",
            "name-constraint-dn",
            "max-chain-depth",
            FEATURE_MULTIPLE_PEER_NAMES,
        ],
    ) {
        return Some(reason);
    }
    crate::unsupported_constraints(input)
}

/// Errors of this type are failures of the API plumbing (a certificate OpenSSL cannot even
/// load is a verdict, not an error: see `parse_failure`).
fn verify(
    input: &ValidationInput,
    profile: OpenSslProfile,
) -> Result<Verdict, openssl::error::ErrorStack> {
    let peer = match X509::from_der(&input.peer) {
        Ok(cert) => cert,
        Err(error) => return Ok(parse_failure("peer certificate", &error)),
    };
    let mut untrusted = Stack::new()?;
    for (index, der) in input.served_chain.iter().chain(&input.cached).enumerate() {
        match X509::from_der(der) {
            Ok(cert) => untrusted.push(cert)?,
            Err(error) => {
                return Ok(parse_failure(
                    &format!("untrusted certificate {index}"),
                    &error,
                ))
            }
        }
    }

    let mut store = X509StoreBuilder::new()?;
    for der in &input.trust_anchors {
        // An anchor OpenSSL cannot parse would not make it into a real client's store either.
        if let Ok(cert) = X509::from_der(der) {
            store.add_cert(cert)?;
        }
    }
    let mut flags = profile.flags();
    // Kept alive until verification ends: OpenSSL reads the CRL file when the lookup is added.
    let _crl_file = if input.crls.is_empty() {
        None
    } else {
        flags |= X509VerifyFlags::CRL_CHECK | X509VerifyFlags::CRL_CHECK_ALL;
        let file = match crl_pem_file(&input.crls) {
            Ok(file) => file,
            Err(error) => {
                return Ok(Verdict::Error {
                    detail: format!("cannot write the CRLs to a temporary file: {error}"),
                })
            }
        };
        store
            .add_lookup(X509Lookup::file())?
            .load_crl_file(file.path(), SslFiletype::PEM)?;
        Some(file)
    };
    let mut param = X509VerifyParam::new()?;
    param.set_flags(flags)?;
    param.set_purpose(match input.usage {
        Usage::ServerAuth => X509PurposeId::SSL_SERVER,
        Usage::ClientAuth => X509PurposeId::SSL_CLIENT,
    })?;
    if let Some(time) = input.validation_time {
        param.set_time(unix_seconds(time));
    }
    if let Some(depth) = input.max_chain_depth {
        param.set_depth(i32::try_from(depth).unwrap_or(i32::MAX));
    }
    match &input.expected_peer_name {
        Some(PeerName::Dns(host)) => param.set_host(host)?,
        Some(PeerName::Ip(address)) => param.set_ip(*address)?,
        Some(PeerName::Rfc822(email)) => param.set_email(email)?,
        None => {}
    }
    store.set_param(&param)?;
    let store = store.build();

    let mut context = X509StoreContext::new()?;
    context.init(&store, &peer, &untrusted, |context| {
        if context.verify_cert()? {
            Ok(Verdict::Accept {
                chain_built: built_chain(context),
            })
        } else {
            Ok(rejection(context))
        }
    })
}

/// [`crate::subject_label`] for a certificate OpenSSL already parsed: read the CN directly
/// rather than re-encoding and re-parsing it.
fn x509_label(cert: &openssl::x509::X509Ref) -> String {
    cert.subject_name()
        .entries_by_nid(openssl::nid::Nid::COMMONNAME)
        .next()
        .and_then(|entry| entry.data().to_string().ok())
        .unwrap_or_else(|| {
            cert.to_der()
                .map(|der| der_fingerprint_label(&der))
                .unwrap_or_default()
        })
}

fn built_chain(context: &X509StoreContextRef) -> Vec<String> {
    context
        .chain()
        .map(|chain| chain.iter().map(x509_label).collect())
        .unwrap_or_default()
}

fn rejection(context: &X509StoreContextRef) -> Verdict {
    let error = context.error();
    let code = error.as_raw();
    let depth = context.error_depth();
    let subject = context
        .chain()
        .and_then(|chain| chain.get(depth as usize))
        .or(context.current_cert())
        .map(x509_label)
        .unwrap_or_else(|| "?".into());
    Verdict::Reject {
        kind: reject_kind(code),
        detail: format!(
            "error {code} at depth {depth} ({subject}): {}",
            error.error_string()
        ),
    }
}

fn parse_failure(what: &str, error: &openssl::error::ErrorStack) -> Verdict {
    Verdict::Reject {
        kind: RejectKind::Other,
        detail: format!("{what}: OpenSSL cannot parse it: {error}"),
    }
}

/// Maps an `X509_V_ERR_*` code to our normalized kind.
pub fn reject_kind(code: i32) -> RejectKind {
    use openssl_sys as ffi;
    match code {
        ffi::X509_V_ERR_CERT_HAS_EXPIRED => RejectKind::Expired,
        ffi::X509_V_ERR_CERT_NOT_YET_VALID => RejectKind::NotYetValid,
        ffi::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
        | ffi::X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
        | ffi::X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
        | ffi::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
        | ffi::X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE
        | ffi::X509_V_ERR_CERT_UNTRUSTED
        | ffi::X509_V_ERR_SUBJECT_ISSUER_MISMATCH
        | ffi::X509_V_ERR_AKID_SKID_MISMATCH
        | ffi::X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH => RejectKind::UnknownIssuer,
        ffi::X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE
        | ffi::X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY
        | ffi::X509_V_ERR_CERT_SIGNATURE_FAILURE
        | X509_V_ERR_NO_ISSUER_PUBLIC_KEY
        | ffi::X509_V_ERR_CA_MD_TOO_WEAK
        | X509_V_ERR_UNSUPPORTED_SIGNATURE_ALGORITHM
        | X509_V_ERR_SIGNATURE_ALGORITHM_MISMATCH
        | X509_V_ERR_SIGNATURE_ALGORITHM_INCONSISTENCY => RejectKind::BadSignature,
        ffi::X509_V_ERR_HOSTNAME_MISMATCH
        | ffi::X509_V_ERR_EMAIL_MISMATCH
        | ffi::X509_V_ERR_IP_ADDRESS_MISMATCH => RejectKind::NameMismatch,
        ffi::X509_V_ERR_INVALID_CA
        | ffi::X509_V_ERR_INVALID_NON_CA
        | ffi::X509_V_ERR_PERMITTED_VIOLATION
        | ffi::X509_V_ERR_EXCLUDED_VIOLATION
        | ffi::X509_V_ERR_SUBTREE_MINMAX
        | ffi::X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE
        | ffi::X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX
        | ffi::X509_V_ERR_UNSUPPORTED_NAME_SYNTAX
        | X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA
        | X509_V_ERR_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA
        | X509_V_ERR_CA_BCONS_NOT_CRITICAL => RejectKind::ConstraintViolation,
        ffi::X509_V_ERR_CERT_CHAIN_TOO_LONG
        | ffi::X509_V_ERR_PATH_LENGTH_EXCEEDED
        | ffi::X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED => RejectKind::PathTooLong,
        ffi::X509_V_ERR_INVALID_PURPOSE
        | ffi::X509_V_ERR_CERT_REJECTED
        | ffi::X509_V_ERR_KEYUSAGE_NO_CERTSIGN
        | X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE
        | X509_V_ERR_CA_CERT_MISSING_KEY_USAGE => RejectKind::Usage,
        _ => RejectKind::Other,
    }
}

// OpenSSL 3.0 codes that openssl-sys does not name (values from <openssl/x509_vfy.h>).
const X509_V_ERR_NO_ISSUER_PUBLIC_KEY: i32 = 24;
const X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE: i32 = 39;
const X509_V_ERR_UNSUPPORTED_SIGNATURE_ALGORITHM: i32 = 76;
const X509_V_ERR_SIGNATURE_ALGORITHM_MISMATCH: i32 = 77;
const X509_V_ERR_SIGNATURE_ALGORITHM_INCONSISTENCY: i32 = 78;
const X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA: i32 = 80;
const X509_V_ERR_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA: i32 = 82;
const X509_V_ERR_CA_BCONS_NOT_CRITICAL: i32 = 89;
const X509_V_ERR_CA_CERT_MISSING_KEY_USAGE: i32 = 92;

fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_secs() as i64,
        Err(before) => -(before.duration().as_secs() as i64),
    }
}

fn crl_pem_file(crls: &[Vec<u8>]) -> std::io::Result<tempfile::NamedTempFile> {
    let mut file = tempfile::NamedTempFile::new()?;
    for der in crls {
        let block = pem::Pem::new("X509 CRL", der.clone());
        file.write_all(pem::encode(&block).as_bytes())?;
    }
    file.flush()?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions() {
        let names: Vec<_> = OpenSslProfile::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(
            names,
            ["openssl", "openssl-partial-chain", "openssl-strict"]
        );
        assert!(OpenSslValidator::new(OpenSslProfile::Default)
            .version()
            .starts_with("OpenSSL 3"));
    }

    #[test]
    fn code_mapping() {
        assert_eq!(reject_kind(10), RejectKind::Expired);
        assert_eq!(reject_kind(20), RejectKind::UnknownIssuer);
        assert_eq!(reject_kind(62), RejectKind::NameMismatch);
        assert_eq!(reject_kind(25), RejectKind::PathTooLong);
        // OpenSSL 3 moved "invalid CA" to 79; 24 is "no issuer public key".
        assert_eq!(reject_kind(79), RejectKind::ConstraintViolation);
        assert_eq!(reject_kind(24), RejectKind::BadSignature);
        assert_eq!(reject_kind(12345), RejectKind::Other);
    }
}
