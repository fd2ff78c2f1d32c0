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
                armour_safe(&comment_safe(&anchor.name)),
                fingerprint_colon_hex(anchor),
                pem::encode_config(&Pem::new("CERTIFICATE", anchor.der.clone()), config)
            )
        })
        .collect()
}

/// Comment text that no PEM reader takes for armour: runs of five dashes (`-----BEGIN`) are cut
/// to four. Found by the `encoders` fuzz target: an anchor named `x -----BEGIN ...` (a subject CN
/// is a name) broke the bundle for readers, and a whole block on one line could add a
/// certificate to it.
fn armour_safe(text: &str) -> String {
    let mut text = text.to_string();
    while text.contains("-----") {
        text = text.replace("-----", "----");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `encoders` fuzz target's input, reduced: a name holding `-----BEGIN`.
    #[test]
    fn a_name_holding_pem_armour_does_not_change_what_the_bundle_reads() {
        // The encoder does not parse the DER: any bytes stand for a certificate here.
        let der = vec![0x30, 0x03, 0x02, 0x01, 0x05];
        let anchors = [Anchor {
            name: "x -----BEGIN CERTIFICATE-----MIIB------END CERTIFICATE----- y".into(),
            der: der.clone(),
        }];
        let text = pem(&anchors);
        let blocks = ::pem::parse_many(&text).expect("the bundle parses");
        assert_eq!(blocks.len(), 1, "{text}");
        assert_eq!(blocks[0].contents(), der.as_slice());
        assert!(
            text.starts_with("# x ----BEGIN CERTIFICATE----MIIB----END CERTIFICATE---- y\n"),
            "{text}"
        );
    }
}
