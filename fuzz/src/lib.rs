//! Shared by the fuzz targets: the framing of the encoder target's input (anchors as bytes) and
//! readers for every bundle format, so the target can check that decoding what an encoder
//! writes gives back its input. The bundle crate has no decoders (devices read its output), so
//! these readers are written here, each from the layout its encoder documents.

use anchorsmith_bundle::Anchor;

/// Splits fuzz input into anchors: records of a u8 name length, the name (UTF-8, lossily), a
/// big-endian u16 DER length and the DER. A short last record takes what is left. (`cargo xtask
/// fuzz` writes seeds in this framing: `frame` in xtask/src/fuzz.rs.)
pub fn anchors(mut data: &[u8]) -> Vec<Anchor> {
    let mut out = Vec::new();
    while let Some((&name_len, rest)) = data.split_first() {
        let (name, rest) = rest.split_at(usize::from(name_len).min(rest.len()));
        let (len, rest) = match rest {
            [a, b, rest @ ..] => (usize::from(u16::from_be_bytes([*a, *b])), rest),
            _ => (0, &[][..]),
        };
        let (der, rest) = rest.split_at(len.min(rest.len()));
        out.push(Anchor {
            name: String::from_utf8_lossy(name).into_owned(),
            der: der.to_vec(),
        });
        data = rest;
    }
    out
}

/// Every C or Rust byte array of a generated source file, in order: the line that opens it (a
/// line starting with `opener`, outside any comment) and its `0x..` bytes up to the closing line.
pub fn byte_arrays(source: &str, opener: &str) -> Vec<(String, Vec<u8>)> {
    let mut arrays = Vec::new();
    let mut lines = source.lines();
    while let Some(line) = lines.next() {
        if !line.starts_with(opener) {
            continue;
        }
        let mut bytes = Vec::new();
        for body in lines.by_ref() {
            let body = body.trim();
            if body.starts_with('}') || body.starts_with(']') {
                break;
            }
            for item in body.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                let hex = item.strip_prefix("0x").expect("a 0x byte");
                bytes.push(u8::from_str_radix(hex, 16).expect("a hex byte"));
            }
        }
        arrays.push((line.to_string(), bytes));
    }
    arrays
}

/// One root of an ESP-IDF bundle: subject Name DER and SubjectPublicKeyInfo DER.
pub type EspRoot = (Vec<u8>, Vec<u8>);

/// Reads the current ESP-IDF bundle as the device does: the first u32 offset gives the count;
/// each offset points at two little-endian u16 lengths and the two values. Every byte must
/// belong to exactly one root, in order.
pub fn read_esp_idf(bundle: &[u8]) -> Result<Vec<EspRoot>, String> {
    let u32_at = |at: usize| -> Result<usize, String> {
        let b = bundle.get(at..at + 4).ok_or("offset past the end")?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let first = u32_at(0)?;
    if first == 0 || first % 4 != 0 {
        return Err(format!("first offset {first} is not 4n"));
    }
    let count = first / 4;
    let mut roots = Vec::new();
    let mut expected = first;
    for index in 0..count {
        let offset = u32_at(4 * index)?;
        if offset != expected {
            return Err(format!("root {index} at {offset}, expected {expected}"));
        }
        let (root, next) = read_root(bundle, offset, u16::from_le_bytes)?;
        roots.push(root);
        expected = next;
    }
    if expected != bundle.len() {
        return Err(format!(
            "{} bytes after the last root",
            bundle.len() - expected
        ));
    }
    Ok(roots)
}

/// Reads the legacy ESP-IDF bundle: a big-endian u16 count, then per root big-endian u16
/// lengths and the two values, nothing after.
pub fn read_esp_idf_legacy(bundle: &[u8]) -> Result<Vec<EspRoot>, String> {
    let count = bundle.get(0..2).ok_or("no count")?;
    let count = u16::from_be_bytes([count[0], count[1]]);
    let mut at = 2;
    let mut roots = Vec::new();
    for _ in 0..count {
        let (root, next) = read_root(bundle, at, u16::from_be_bytes)?;
        roots.push(root);
        at = next;
    }
    if at != bundle.len() {
        return Err(format!("{} bytes after the last root", bundle.len() - at));
    }
    Ok(roots)
}

fn read_root(
    bundle: &[u8],
    at: usize,
    u16_from: fn([u8; 2]) -> u16,
) -> Result<(EspRoot, usize), String> {
    let header = bundle.get(at..at + 4).ok_or("root header past the end")?;
    let subject_len = usize::from(u16_from([header[0], header[1]]));
    let key_len = usize::from(u16_from([header[2], header[3]]));
    let subject = bundle
        .get(at + 4..at + 4 + subject_len)
        .ok_or("subject past the end")?;
    let key_at = at + 4 + subject_len;
    let key = bundle
        .get(key_at..key_at + key_len)
        .ok_or("key past the end")?;
    Ok(((subject.to_vec(), key.to_vec()), key_at + key_len))
}

/// The line between topology.toml and scenario.toml in an input of the `scenario` target.
pub const SCENARIO_SEPARATOR: &str = "\n# ---- scenario.toml ----\n";
