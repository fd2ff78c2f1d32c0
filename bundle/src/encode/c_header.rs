//! A C header: one `static const unsigned char` array per anchor (its certificate DER), named
//! after the anchor, with a comment giving subject, fingerprint and notAfter; then an array of
//! pointers and an array of lengths, in the same order, for code that loads them all.

use super::{describe, text, EncodeError};
use crate::Anchor;
use std::fmt::Write;

/// The include guard, also the prefix of the header's other global names.
const GUARD: &str = "ANCHORSMITH_TRUST_ANCHORS_H";

/// The anchors as a C header, in the given order.
pub fn c_header(anchors: &[Anchor]) -> Result<String, EncodeError> {
    let names = text::unique_identifiers("anchorsmith_", anchors.iter().map(|a| a.name.as_str()));
    let mut out = format!(
        "/* Trust anchors written by anchorsmith: {} certificates, DER. */\n\
         #ifndef {GUARD}\n#define {GUARD}\n\n#include <stddef.h>\n\n",
        anchors.len()
    );
    for (anchor, ident) in anchors.iter().zip(&names) {
        let described = describe(anchor)?;
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "/* {}\n * Subject: {}\n * SHA-256: {}\n * Not after: {}\n */\nstatic const unsigned char {ident}[{}] = {{\n{}}};\n\n",
            text::comment_safe(&anchor.name),
            text::comment_safe(&described.subject),
            described.fingerprint,
            text::comment_safe(&described.not_after),
            anchor.der.len(),
            text::byte_lines(&anchor.der, "    ", 12),
        );
    }
    let _ = writeln!(out, "#define ANCHORSMITH_ANCHOR_COUNT {}\n", anchors.len());
    // C has no zero-length arrays: an empty bundle has only the count.
    if !anchors.is_empty() {
        let pointers: String = names.iter().map(|n| format!("    {n},\n")).collect();
        let lengths: String = names.iter().map(|n| format!("    sizeof {n},\n")).collect();
        let _ = write!(
            out,
            "static const unsigned char *const anchorsmith_anchors[ANCHORSMITH_ANCHOR_COUNT] = {{\n{pointers}}};\n\n\
             static const size_t anchorsmith_anchor_lengths[ANCHORSMITH_ANCHOR_COUNT] = {{\n{lengths}}};\n\n"
        );
    }
    let _ = writeln!(out, "#endif /* {GUARD} */");
    Ok(out)
}
