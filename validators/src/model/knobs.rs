//! The client model's quirks as explicit knobs. Each knob is one documented behaviour of a real
//! client or library; its default is the plain RFC 5280 path builder (trusted first, full search,
//! every certificate's validity checked, only self-signed anchors, no cache, no AIA, no budget
//! surprises). A target file (`corpus/targets/*.toml`) and the calibration table
//! (`validators/engine-models.toml`) write these as a TOML table in kebab-case.

use serde::{Deserialize, Serialize};

/// When the path builder looks beyond the first chain it built.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum AlternateChains {
    /// Only the first chain is ever tried (OpenSSL before 1.0.1n / 1.0.2b).
    Never,
    /// A second chain is tried only when the first one ends untrusted, never when it fails for
    /// another reason such as an expired anchor (OpenSSL 1.0.1n+ / 1.0.2b+ without trusted-first:
    /// seed 003's "older versions of OpenSSL").
    WhenUntrusted,
    /// Every candidate path is tried until one validates (modern path builders).
    #[default]
    FullSearch,
}

/// Whether the trust anchor's own validity period is checked.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum AnchorExpiry {
    /// An expired (or not yet valid) anchor fails the chain (OpenSSL, RFC 5280 as limbo reads it).
    #[default]
    Checked,
    /// An anchor is a name and a key; its dates are ignored (Android before 7.1.1 per seed 003;
    /// rustls-webpki; BearSSL).
    Ignored,
}

/// The client model's knobs. Unknown keys are an error, so a misspelt quirk never silently
/// becomes the default.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Knobs {
    /// Look for an issuer in the trust store before the served certificates (OpenSSL's
    /// X509_V_FLAG_TRUSTED_FIRST, default from 1.1.0); off: follow the served chain first.
    pub trusted_first: bool,
    pub alternate_chains: AlternateChains,
    pub anchor_expiry: AnchorExpiry,
    /// Any certificate in the trust store may end a chain, self-signed or not
    /// (X509_V_FLAG_PARTIAL_CHAIN; seed 004's devices trusting an intermediate).
    pub partial_chain: bool,
    /// Use the intermediates the client already holds (a browser's cache, seeds 000 and 001).
    pub intermediate_cache: bool,
    /// Download a missing issuer from the AIA caIssuers URL (Windows' CryptoAPI, seed 000).
    pub aia_fetching: bool,
    /// Take the chain exactly as sent: each certificate must be issued by the next one, no
    /// reordering and no extras skipped (BearSSL's X.509 "minimal" engine).
    pub chain_as_sent: bool,
    /// Look up only the issuer of the topmost certificate the server sent in the trust store
    /// (ESP-IDF's certificate-bundle verify callback), never an intermediate below it.
    pub topmost_issuer_only: bool,
    /// The most signature checks one validation may spend; running out is a rejection whose
    /// reason says so (rustls-webpki's budget is 100).
    pub signature_budget: u32,
    /// Accept SHA-1 signatures (OpenSSL 3 at its default security level and BearSSL do in
    /// certificate chains; rustls-webpki and mbedTLS's default profile refuse them). Found
    /// necessary by calibration: limbo's bettertls pathbuilding cases sign with ecdsa-with-SHA1.
    pub sha1_signatures: bool,
    /// The most (name, constraint) comparisons name constraints may cost; above it the chain is
    /// rejected as a denial of service (OpenSSL's NAME_CHECK_MAX is 2^20 since 1.1.0h). Found
    /// necessary by calibration: limbo's `pathological::nc-dos-*`.
    pub name_constraint_budget: u32,
    /// An issuer's extendedKeyUsage, when present, must allow the purpose too (OpenSSL and
    /// rustls-webpki check it; BearSSL and mbedTLS read EKU on the end entity only). Found
    /// necessary by calibration: bettertls pathbuilding cases 5, 12 and 38.
    pub issuer_eku: bool,
    /// A builder that never backtracks still passes over a candidate issuer that is no CA, may
    /// not sign certificates or has no path length room, and a trusted candidate whose key does
    /// not verify the child (mbedTLS's x509_crt_find_parent_in, read in mbedTLS 2.x's
    /// x509_crt.c); off: name and key identifiers choose (OpenSSL's find_issuer).
    pub verified_selection: bool,
    /// An untrusted issuer of a served certificate is looked for only among the certificates
    /// sent after it (mbedTLS keeps the chain as a linked list and searches from child->next);
    /// the peer's issuer may be any of them. Found necessary by calibration: bettertls
    /// pathbuilding's bridge and cross-sign mazes.
    pub forward_only: bool,
    /// A DNS name is matched against the subject's common names when the peer has no dNSName
    /// in its subjectAltName (OpenSSL's X509_check_host by default, Node.js's
    /// checkServerIdentity, BearSSL, mbedTLS; rustls-webpki never reads the CN). Found
    /// necessary by calibration: limbo's `pathological::nc-dos-3` names its host only in CNs.
    pub common_name_fallback: bool,
    /// A peer with an empty subject fails the name check whatever its subjectAltName says
    /// (Node.js 0.12 and 8's checkServerIdentity: "Cert is empty"). Found necessary by
    /// calibration: limbo's `pathological::nc-dos-2`.
    pub empty_subject_refused: bool,
}

impl Default for Knobs {
    fn default() -> Knobs {
        Knobs {
            trusted_first: true,
            alternate_chains: AlternateChains::FullSearch,
            anchor_expiry: AnchorExpiry::Checked,
            partial_chain: false,
            intermediate_cache: false,
            aia_fetching: false,
            chain_as_sent: false,
            topmost_issuer_only: false,
            signature_budget: 100,
            sha1_signatures: false,
            name_constraint_budget: u32::MAX,
            issuer_eku: true,
            verified_selection: false,
            forward_only: false,
            common_name_fallback: false,
            empty_subject_refused: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_table_is_the_plain_path_builder() {
        let knobs: Knobs = toml::from_str("").unwrap();
        assert_eq!(knobs, Knobs::default());
    }

    #[test]
    fn knobs_are_spelled_in_kebab_case_and_unknown_ones_are_refused() {
        let knobs: Knobs =
            toml::from_str("anchor-expiry = \"ignored\"\nalternate-chains = \"when-untrusted\"\ntrusted-first = false\n")
                .unwrap();
        assert_eq!(knobs.anchor_expiry, AnchorExpiry::Ignored);
        assert_eq!(knobs.alternate_chains, AlternateChains::WhenUntrusted);
        assert!(!knobs.trusted_first);
        assert!(toml::from_str::<Knobs>("trusted-frist = false\n").is_err());
    }
}
