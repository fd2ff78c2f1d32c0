//! Reading a harness's `context`: its native error onto a normalized [`RejectKind`] through the
//! harness's own table (`[[reject_kind]]` in `harness.toml`), the chain it built, and whether a
//! SKIPPED result is really "no verdict".
//!
//! The table is data, one per harness, because every library words its errors its own way; the
//! native text itself stays the verdict's `detail`, so nothing is lost by the mapping.

use std::fmt;

use serde::Deserialize;

use crate::RejectKind;

/// One row of a harness's table: a context containing `native` is a reject of `kind`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindRule {
    /// Text as the harness writes it (an error's symbolic name, code or wording), matched as a
    /// case-sensitive substring of the context.
    pub native: NativePattern,
    pub kind: RejectKind,
}

/// A non-empty substring: an empty one would match every context and hide every later row.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct NativePattern(String);

impl NativePattern {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for NativePattern {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        if text.is_empty() {
            Err("`native` must not be empty: it would match every context".into())
        } else {
            Ok(NativePattern(text))
        }
    }
}

impl fmt::Display for NativePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The position of the first row whose pattern occurs in `context`. Rows are tried in table
/// order, so a table lists the specific before the general (and a code that only appears in a
/// trailing note, such as an anchor left out, is written with the prefix of the leading error).
pub fn matching_rule(table: &[KindRule], context: &str) -> Option<usize> {
    table
        .iter()
        .position(|rule| context.contains(rule.native.as_str()))
}

/// The kind of the first matching row; no match is [`RejectKind::Other`].
pub fn map_kind(table: &[KindRule], context: &str) -> RejectKind {
    matching_rule(table, context)
        .map(|index| table[index].kind)
        .unwrap_or(RejectKind::Other)
}

/// The chain a harness reports on SUCCESS, `chain: LEAF <- ISSUER <- ... <- ANCHOR`, leaf first;
/// empty when the context names no chain. Whatever the harness notes after the chain (`; ...`)
/// is not part of it.
pub fn chain_from_context(context: &str) -> Vec<String> {
    let Some(chain) = context.trim_start().strip_prefix("chain: ") else {
        return Vec::new();
    };
    let chain = chain
        .split_once("; ")
        .map_or(chain, |(chain, _notes)| chain);
    chain
        .split(" <- ")
        .map(str::trim)
        .filter(|label| !label.is_empty())
        .map(String::from)
        .collect()
}

/// True when a SKIPPED result means the library gave no verdict (the harness's protocol
/// extension: `timeout:` or `crash:`), which a consumer treats as an error, not a skip.
pub fn is_no_verdict(context: &str) -> bool {
    context.starts_with("timeout:") || context.starts_with("crash:")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(native: &str, kind: RejectKind) -> KindRule {
        KindRule {
            native: NativePattern(native.into()),
            kind,
        }
    }

    #[test]
    fn the_first_matching_row_wins_and_no_match_is_other() {
        let table = [
            rule("GNUTLS_CERT_NOT_ACTIVATED", RejectKind::NotYetValid),
            rule("GNUTLS_CERT_SIGNER_NOT_FOUND", RejectKind::UnknownIssuer),
        ];
        let both =
            "GNUTLS_CERT_INVALID|GNUTLS_CERT_SIGNER_NOT_FOUND|GNUTLS_CERT_NOT_ACTIVATED (0x242)";
        assert_eq!(matching_rule(&table, both), Some(0));
        assert_eq!(map_kind(&table, both), RejectKind::NotYetValid);
        assert_eq!(
            map_kind(
                &table,
                "GNUTLS_CERT_INVALID|GNUTLS_CERT_SIGNER_NOT_FOUND (0x42)"
            ),
            RejectKind::UnknownIssuer
        );
        assert_eq!(
            map_kind(&table, "GNUTLS_E_ASN1_TAG_ERROR (-73)"),
            RejectKind::Other
        );
        assert_eq!(map_kind(&[], "anything"), RejectKind::Other);
    }

    #[test]
    fn matching_is_case_sensitive() {
        let table = [rule("CERT_HAS_EXPIRED", RejectKind::Expired)];
        assert_eq!(map_kind(&table, "cert_has_expired"), RejectKind::Other);
    }

    #[test]
    fn an_empty_pattern_is_refused() {
        assert!(NativePattern::try_from(String::new()).is_err());
        assert_eq!(
            NativePattern::try_from("x".to_string()).unwrap().as_str(),
            "x"
        );
    }

    #[test]
    fn chain_is_read_leaf_first() {
        // Captured from the gnutls and go-crypto-x509 harnesses on limbo's `cve::cve-2024-0567`
        // (a leaf without a CN) and `pathlen::ee-with-intermediate-pathlen-0`.
        assert_eq!(
            chain_from_context("chain: (empty subject) <- Intermediate A1 <- Root A"),
            ["(empty subject)", "Intermediate A1", "Root A"]
        );
        assert_eq!(
            chain_from_context("chain: sha256:38f45e69e82a4e71 <- Intermediate A1 <- Root A"),
            ["sha256:38f45e69e82a4e71", "Intermediate A1", "Root A"]
        );
        assert_eq!(
            chain_from_context(
                "chain: example.com <- x509-limbo-intermediate-pathlen-0 <- x509-limbo-root"
            ),
            [
                "example.com",
                "x509-limbo-intermediate-pathlen-0",
                "x509-limbo-root"
            ]
        );
        // A note appended after the chain (the C harnesses' `limbo_note`) is not a label.
        assert_eq!(
            chain_from_context(
                "chain: example.com <- x509-limbo-root; 1 of 2 trusted certificates left out: not parsed"
            ),
            ["example.com", "x509-limbo-root"]
        );
        assert!(chain_from_context("").is_empty());
        assert!(chain_from_context("1 of 1 trusted certificates left out: not parsed").is_empty());
        assert!(chain_from_context("chain: ").is_empty());
    }

    #[test]
    fn only_timeout_and_crash_skips_are_no_verdict() {
        assert!(is_no_verdict("timeout: validation did not finish in 10 s"));
        assert!(is_no_verdict("crash: killed by signal 11"));
        assert!(!is_no_verdict("max_chain_depth is not supported"));
        assert!(!is_no_verdict("resource limit: address space"));
        assert!(!is_no_verdict(
            " timeout: leading space is not the protocol"
        ));
        assert!(!is_no_verdict(""));
    }
}
