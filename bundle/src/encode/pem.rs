//! Concatenated PEM, each certificate after a `# name` line and its SHA-256 fingerprint, the way
//! curl's CA bundle reads (the lines outside the armour are ignored by PEM readers).

use super::{fingerprint_colon_hex, text::comment_safe};
use crate::Anchor;
use pem::{EncodeConfig, LineEnding, Pem};

/// The anchors as one PEM file, in the given order.
pub fn pem(anchors: &[Anchor]) -> String {
    let config = EncodeConfig::new().set_line_ending(LineEnding::LF);
    anchors
        .iter()
        .map(|anchor| {
            format!(
                "# {}\n# SHA-256 Fingerprint: {}\n{}\n",
                comment_safe(&anchor.name),
                fingerprint_colon_hex(anchor),
                pem::encode_config(&Pem::new("CERTIFICATE", anchor.der.clone()), config)
            )
        })
        .collect()
}
