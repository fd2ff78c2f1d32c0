//! Rust source: one `pub const` DER byte array per anchor with a doc comment (name, subject,
//! fingerprint, notAfter), and `ANCHORS`, every array in bundle order.

use super::{describe, text, EncodeError};
use crate::Anchor;
use std::fmt::Write;

/// The anchors as a Rust module, in the given order.
pub fn rust(anchors: &[Anchor]) -> Result<String, EncodeError> {
    let names: Vec<String> =
        text::unique_identifiers("anchor_", anchors.iter().map(|a| a.name.as_str()))
            .into_iter()
            .map(|n| n.to_ascii_uppercase())
            .collect();
    let mut out = format!(
        "//! Trust anchors written by anchorsmith: {} certificates, DER.\n\n",
        anchors.len()
    );
    for (anchor, ident) in anchors.iter().zip(&names) {
        let described = describe(anchor)?;
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "/// {}\n///\n/// - Subject: {}\n/// - SHA-256: {}\n/// - Not after: {}\npub const {ident}: &[u8] = &[\n{}];\n\n",
            text::comment_safe(&anchor.name),
            text::comment_safe(&described.subject),
            described.fingerprint,
            text::comment_safe(&described.not_after),
            text::byte_lines(&anchor.der, "    ", 12),
        );
    }
    let list: String = names.iter().map(|n| format!("    {n},\n")).collect();
    let _ = write!(
        out,
        "/// Every anchor above, in bundle order.\npub const ANCHORS: &[&[u8]] = &[\n{list}];\n"
    );
    Ok(out)
}
