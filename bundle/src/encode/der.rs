//! One DER file per anchor, named `<first 16 hex digits of the SHA-256 fingerprint>-<name>.der`:
//! the fingerprint keeps names unique and stable, the name keeps them readable.

use super::{fingerprint, text::file_slug};
use crate::Anchor;
use std::collections::BTreeMap;

/// File name → certificate DER. An anchor given twice is written once.
pub fn der(anchors: &[Anchor]) -> BTreeMap<String, Vec<u8>> {
    anchors
        .iter()
        .map(|anchor| {
            let name = format!(
                "{}-{}.der",
                hex::encode(&fingerprint(anchor)[..8]),
                file_slug(&anchor.name)
            );
            (name, anchor.der.clone())
        })
        .collect()
}
