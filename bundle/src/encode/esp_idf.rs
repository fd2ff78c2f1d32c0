//! ESP-IDF's certificate bundle (`esp_crt_bundle`), which keeps only each root's subject name and
//! public key, and finds a root by a binary search (`memcmp`) over the subject names.
//!
//! Layouts, as checked against ESP-IDF's `esp_crt_bundle.c` (its format comment and `get16_le`
//! reader) and `gen_crt_bundle.py` (`struct.pack('<{n}L', ...)`, `'<HH'`; the legacy script
//! `'>H'` and `'>HH'`):
//! - current: n little-endian u32 offsets from the start of the bundle (the first offset is
//!   therefore 4n, which is how the reader counts roots), then per root a little-endian u16
//!   subject-name length, a little-endian u16 key length, the subject Name DER and the
//!   SubjectPublicKeyInfo DER;
//! - legacy (before the offsets table): a big-endian u16 count, then per root big-endian u16
//!   lengths and the same two DER values (the original reader: `(x509_bundle[0] << 8) |
//!   x509_bundle[1]`). A short-lived intermediate reader (2023) took a little-endian count and
//!   a u32 offsets list after the last root; that variant is not emitted here.
//!
//! Roots are sorted by subject DER as raw bytes (the binary search needs it); two roots with the
//! same subject (a lint elsewhere: the device can match only one) are ordered by key DER.

use super::{parse, EncodeError, Format};
use crate::Anchor;

/// One root as the bundle holds it.
struct Entry<'a> {
    name: &'a str,
    subject: &'a [u8],
    spki: &'a [u8],
}

/// Each anchor's subject and key, sorted as the device searches them, lengths checked for u16.
fn entries(anchors: &[Anchor], format: Format) -> Result<Vec<Entry<'_>>, EncodeError> {
    if anchors.is_empty() {
        return Err(EncodeError::Empty { format });
    }
    let mut entries = anchors
        .iter()
        .map(|anchor| {
            let cert = parse(anchor)?;
            let tbs = &cert.tbs_certificate;
            // Both slices borrow the anchor's DER, not the parsed certificate.
            let subject: &[u8] = tbs.subject.as_raw();
            let spki: &[u8] = tbs.subject_pki.raw;
            for (field, len) in [("subject name", subject.len()), ("public key", spki.len())] {
                if len > usize::from(u16::MAX) {
                    return Err(EncodeError::TooLarge {
                        name: anchor.name.clone(),
                        format,
                        field,
                        len,
                        max: usize::from(u16::MAX),
                    });
                }
            }
            Ok(Entry {
                name: &anchor.name,
                subject,
                spki,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    entries.sort_by(|a, b| (a.subject, a.spki).cmp(&(b.subject, b.spki)));
    Ok(entries)
}

/// The u16 length of a field already checked by [`entries`].
fn len16(field: &[u8]) -> u16 {
    u16::try_from(field.len()).expect("checked in entries()")
}

/// The current ESP-IDF bundle (offsets table), as `gen_crt_bundle.py` writes `x509_crt_bundle`.
pub fn esp_idf(anchors: &[Anchor]) -> Result<Vec<u8>, EncodeError> {
    let entries = entries(anchors, Format::EspIdf)?;
    let mut offsets = Vec::with_capacity(4 * entries.len());
    let mut body = Vec::new();
    let table_len = 4 * entries.len();
    for entry in &entries {
        let offset = u32::try_from(table_len + body.len()).map_err(|_| EncodeError::TooLarge {
            name: entry.name.to_string(),
            format: Format::EspIdf,
            field: "offset",
            len: table_len + body.len(),
            max: u32::MAX as usize,
        })?;
        offsets.extend_from_slice(&offset.to_le_bytes());
        body.extend_from_slice(&len16(entry.subject).to_le_bytes());
        body.extend_from_slice(&len16(entry.spki).to_le_bytes());
        body.extend_from_slice(entry.subject);
        body.extend_from_slice(entry.spki);
    }
    offsets.extend_from_slice(&body);
    Ok(offsets)
}

/// The legacy ESP-IDF bundle (a u16 count header, big-endian), for firmware built before the
/// offsets table.
pub fn esp_idf_legacy(anchors: &[Anchor]) -> Result<Vec<u8>, EncodeError> {
    let entries = entries(anchors, Format::EspIdfLegacy)?;
    let count = u16::try_from(entries.len()).map_err(|_| EncodeError::TooLarge {
        name: entries[usize::from(u16::MAX)].name.to_string(),
        format: Format::EspIdfLegacy,
        field: "count of roots",
        len: entries.len(),
        max: usize::from(u16::MAX),
    })?;
    let mut out = count.to_be_bytes().to_vec();
    for entry in &entries {
        out.extend_from_slice(&len16(entry.subject).to_be_bytes());
        out.extend_from_slice(&len16(entry.spki).to_be_bytes());
        out.extend_from_slice(entry.subject);
        out.extend_from_slice(entry.spki);
    }
    Ok(out)
}
