//! Turning a byte offset in a topology file into `line:column` and a field path such as
//! `cert[2].extensions.key_usage.usages`, for errors reported by the TOML deserializer (which
//! knows the span of the offending text but not the path of the field).
//!
//! Errors found by our own validation know their field exactly and use only [`line_column`].

/// 1-based line and column (in characters) of `offset`.
pub(crate) fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(source, offset.min(source.len()));
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    let column = source[line_start..offset].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(source: &str, mut offset: usize) -> usize {
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The dotted path of the field at `offset`, reconstructed from table headers and keys.
pub(crate) fn field_at(source: &str, offset: usize) -> String {
    let offset = floor_char_boundary(source, offset.min(source.len()));
    let mut table = String::new();
    let mut cert_count = 0usize;
    let mut last_key: Option<String> = None;
    let mut line_start = 0;
    for line in source.split_inclusive('\n') {
        let line_end = line_start + line.len();
        let is_target = offset < line_end || line_end == source.len();
        let trimmed = line.trim();
        if let Some((is_array, name)) = parse_header(trimmed) {
            table = qualify_table(is_array, &name, &mut cert_count);
            last_key = None;
            if is_target {
                return table;
            }
        } else if is_target {
            let column = offset - line_start;
            let key = key_path_in_line(line, column).or(last_key);
            return join(&table, key.as_deref());
        } else if let Some(key) = leading_key(trimmed) {
            // A line that opens an inline table without closing it (`ku = { usages = [`)
            // continues on the next lines: remember the inner key too.
            let opens_table = trimmed.contains('{') && !trimmed.contains('}');
            last_key = if opens_table {
                key_path_in_line(line, line.trim_end().len())
            } else {
                Some(key)
            };
        }
        line_start = line_end;
    }
    table
}

fn join(table: &str, key: Option<&str>) -> String {
    match (table.is_empty(), key) {
        (_, None) => table.to_string(),
        (true, Some(key)) => key.to_string(),
        (false, Some(key)) => format!("{table}.{key}"),
    }
}

/// `[[cert]]` → (true, "cert"); `[cert.extensions]` → (false, "cert.extensions").
fn parse_header(trimmed: &str) -> Option<(bool, String)> {
    let without_comment = trimmed.split('#').next().unwrap_or("").trim();
    if let Some(inner) = without_comment
        .strip_prefix("[[")
        .and_then(|s| s.strip_suffix("]]"))
    {
        return Some((true, normalise_key(inner)));
    }
    let inner = without_comment.strip_prefix('[')?.strip_suffix(']')?;
    Some((false, normalise_key(inner)))
}

fn qualify_table(is_array: bool, name: &str, cert_count: &mut usize) -> String {
    if is_array && name == "cert" {
        *cert_count += 1;
        return format!("cert[{}]", *cert_count - 1);
    }
    match name.strip_prefix("cert.") {
        Some(rest) if *cert_count > 0 => format!("cert[{}].{rest}", *cert_count - 1),
        _ => name.to_string(),
    }
}

fn normalise_key(raw: &str) -> String {
    raw.split('.')
        .map(|part| part.trim().trim_matches('"').trim_matches('\''))
        .collect::<Vec<_>>()
        .join(".")
}

/// `key = ...` at the start of a line.
fn leading_key(trimmed: &str) -> Option<String> {
    if trimmed.starts_with('#') {
        return None;
    }
    let (key, _) = trimmed.split_once('=')?;
    let key = normalise_key(key);
    let valid = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.\" ".contains(c));
    valid.then_some(key)
}

/// The key path at byte `column` of `line`: `subject.cn` inside an inline table, or the key
/// that starts at `column` (an unknown or duplicate key).
fn key_path_in_line(line: &str, column: usize) -> Option<String> {
    let column = floor_char_boundary(line, column.min(line.len()));
    let before = &line[..column];
    let token_here = token_at(&line[column..]);
    let Some(equals) = before.find('=') else {
        return token_here;
    };
    let outer = leading_key(line.trim())?;
    let mut path = vec![outer];
    path.extend(inline_table_keys(&before[equals + 1..], token_here));
    Some(path.join("."))
}

/// Keys of the inline tables still open at the end of `value_part`, outermost first, e.g.
/// ` { usages = ["a", ` → `["usages"]`. A level with no `key =` yet takes `token_here`.
fn inline_table_keys(value_part: &str, token_here: Option<String>) -> Vec<String> {
    // Each open inline table: the key being assigned in it and the bracket depth it opened at.
    let mut levels: Vec<(Option<String>, usize)> = Vec::new();
    let mut bracket_depth = 0usize;
    let mut pending = String::new();
    let mut in_string: Option<char> = None;
    for c in value_part.chars() {
        if let Some(quote) = in_string {
            if c == quote {
                in_string = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => in_string = Some(c),
            '{' => {
                levels.push((None, bracket_depth));
                pending.clear();
            }
            '}' => {
                levels.pop();
                pending.clear();
            }
            '[' => bracket_depth += 1,
            ']' => bracket_depth = bracket_depth.saturating_sub(1),
            '=' => {
                if let Some(level) = levels.last_mut() {
                    level.0 = Some(normalise_key(&pending));
                }
                pending.clear();
            }
            ',' => {
                if let Some(level) = levels.last_mut() {
                    if level.1 == bracket_depth {
                        level.0 = None;
                    }
                }
                pending.clear();
            }
            _ => pending.push(c),
        }
    }
    let mut keys: Vec<String> = Vec::new();
    let level_count = levels.len();
    for (index, (key, _)) in levels.into_iter().enumerate() {
        match key {
            Some(key) => keys.push(key),
            None if index + 1 == level_count => keys.extend(token_here.clone()),
            None => {}
        }
    }
    keys
}

/// The key starting at the front of `text`, if it is a key (followed by `=`), not a value.
fn token_at(text: &str) -> Option<String> {
    let token: String = text
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "_-.\"'".contains(*c))
        .collect();
    let followed_by_equals = text[token.len()..].trim_start().starts_with('=');
    let token = normalise_key(&token);
    (!token.is_empty() && followed_by_equals).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "seed = \"x\"\n[keys]\nroot = \"rsa-2048\"\n\n[[cert]]\nid = \"a\"\n\n[[cert]]\nid = \"b\"\nsubject = { cn = \"b\", zz = \"q\" }\n[cert.extensions]\nkey_usage = { usages = [\n  \"bogus\",\n] }\n";

    fn offset_of(needle: &str) -> usize {
        SOURCE.find(needle).unwrap()
    }

    #[test]
    fn line_and_column_are_one_based() {
        assert_eq!(line_column(SOURCE, 0), (1, 1));
        assert_eq!(line_column(SOURCE, offset_of("\"rsa-2048\"")), (3, 8));
    }

    #[test]
    fn paths_follow_headers_and_keys() {
        assert_eq!(field_at(SOURCE, offset_of("\"x\"")), "seed");
        assert_eq!(field_at(SOURCE, offset_of("\"rsa-2048\"")), "keys.root");
        assert_eq!(field_at(SOURCE, offset_of("\"a\"")), "cert[0].id");
        assert_eq!(field_at(SOURCE, offset_of("\"b\"")), "cert[1].id");
        assert_eq!(field_at(SOURCE, offset_of("zz")), "cert[1].subject.zz");
        assert_eq!(field_at(SOURCE, offset_of("\"q\"")), "cert[1].subject.zz");
        assert_eq!(
            field_at(SOURCE, offset_of("\"bogus\"")),
            "cert[1].extensions.key_usage.usages"
        );
        assert_eq!(
            field_at(SOURCE, offset_of("[cert.extensions]")),
            "cert[1].extensions"
        );
        let inline = "[[cert]]\nku = { usages = [\"a\", \"b\"], critical = x }\n";
        assert_eq!(
            field_at(inline, inline.find("\"b\"").unwrap()),
            "cert[0].ku.usages"
        );
        assert_eq!(
            field_at(inline, inline.find("x }").unwrap()),
            "cert[0].ku.critical"
        );
    }
}
