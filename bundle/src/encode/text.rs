//! Text helpers shared by the source-code formats: identifiers, comments, byte lists.

use std::collections::BTreeSet;

/// Makes text safe inside a `/* */` or `//` comment: one line, no comment terminator.
pub(super) fn comment_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .replace("*/", "*_/")
}

/// Lower-case ASCII identifier words from a human name: runs of anything else become one `_`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_end_matches('_');
    if trimmed.is_empty() {
        "anchor".to_string()
    } else {
        trimmed.to_string()
    }
}

/// One identifier per name, each `prefix` + slug, unique (a counter settles collisions) and valid
/// in C and Rust (the prefix never starts with a digit).
pub(super) fn unique_identifiers<'a>(
    prefix: &str,
    names: impl Iterator<Item = &'a str>,
) -> Vec<String> {
    let mut taken = BTreeSet::new();
    names
        .map(|name| {
            let base = format!("{prefix}{}", slug(name));
            let mut candidate = base.clone();
            let mut counter = 2;
            while !taken.insert(candidate.clone()) {
                candidate = format!("{base}_{counter}");
                counter += 1;
            }
            candidate
        })
        .collect()
}

/// The identifier part of a file name: the slug of a human name.
pub(super) fn file_slug(name: &str) -> String {
    slug(name).replace('_', "-")
}

/// Bytes as `0x30, 0x82, ...`, `per_line` to a line, each line starting with `indent`.
pub(super) fn byte_lines(bytes: &[u8], indent: &str, per_line: usize) -> String {
    bytes
        .chunks(per_line)
        .map(|chunk| {
            let items: Vec<String> = chunk.iter().map(|b| format!("0x{b:02X}")).collect();
            format!("{indent}{},\n", items.join(", "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_valid_and_unique() {
        let ids = unique_identifiers(
            "anchor_",
            ["ISRG Root X1", "isrg root-x1", "", "1 é 2"].into_iter(),
        );
        assert_eq!(
            ids,
            [
                "anchor_isrg_root_x1",
                "anchor_isrg_root_x1_2",
                "anchor_anchor",
                "anchor_1_2"
            ]
        );
    }

    #[test]
    fn comments_cannot_be_closed_by_a_name() {
        assert_eq!(comment_safe("a */ b\nc"), "a *_/ b c");
    }
}
