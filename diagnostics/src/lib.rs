//! One way to report bad input, for every crate and every command.
//!
//! A [`Diagnostic`] names the file, the line and column, the field (a path such as
//! `cert[1].extensions.key_usage`), a typed [`Code`] and a message, and keeps the source lines
//! around the fault so that it renders like a compiler error (through `annotate-snippets`):
//!
//! ```text
//! error[unknown-name]: field `cert[1].issuer`: unknown issuer `rooot`
//!  --> corpus/scenarios/x/topology.toml:12:10
//!    |
//! 12 | issuer = "rooot"
//!    |          ^^^^^^^
//! ```
//!
//! Field paths come from the deserializer itself (`serde_path_to_error`) and positions from the
//! spans that `toml` and `serde_json` report, never from re-reading the text: see
//! [`parse_toml`] and [`parse_json`]. Errors found after parsing (an unknown name, a cycle) carry
//! the span of the offending value, which the input types keep with `toml::Spanned`.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// What kind of fault a diagnostic reports: stable, for machines and for tests.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, strum::IntoStaticStr, strum::Display,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Code {
    /// Not well-formed TOML, JSON, PEM or DER at all.
    Syntax,
    /// Well-formed, but a field is missing, unknown or of the wrong type or value set.
    Shape,
    /// A name that refers to nothing: an unknown issuer, key, client, case id or validator.
    UnknownName,
    /// A name or id defined twice.
    Duplicate,
    /// A value that is out of range, or inconsistent with another value.
    InvalidValue,
    /// References that go round in a circle (an issuance cycle).
    Cycle,
    /// Bytes that should be a certificate (or key) and are not, or are the wrong kind.
    Encoding,
    /// A quotation that is not in the document it cites.
    Quote,
}

/// One bad-input error, located in its file. Rendered with [`fmt::Display`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub file: PathBuf,
    /// 1-based line of the fault.
    pub line: usize,
    /// 1-based column of the fault, in characters.
    pub column: usize,
    /// The field at fault, as a path (`cert[1].issuer`), when there is one.
    pub field: Option<String>,
    pub message: String,
    /// A hint at the fix, shown as `= help: …`.
    pub help: Option<String>,
    excerpt: Option<Excerpt>,
}

/// The source lines that hold the fault, and the fault's byte range inside them.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Excerpt {
    text: String,
    first_line: usize,
    span: Range<usize>,
}

/// How many source lines an excerpt shows at most (a fault spanning a whole table is shown by
/// its first lines).
const MAX_EXCERPT_LINES: usize = 4;

impl Diagnostic {
    /// An error about a file as a whole (empty, unreadable as text): line 1, column 1, no excerpt.
    pub fn whole_file(code: Code, file: &Path, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            file: file.to_path_buf(),
            line: 1,
            column: 1,
            field: None,
            message: message.into(),
            help: None,
            excerpt: None,
        }
    }

    /// An error at the bytes `span` of `source`, the contents of `file`.
    pub fn at(
        code: Code,
        file: &Path,
        source: &str,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Diagnostic {
        let start = floor_char_boundary(source, span.start.min(source.len()));
        let end = floor_char_boundary(source, span.end.clamp(start, source.len()));
        let (line, column) = line_column(source, start);
        Diagnostic {
            code,
            file: file.to_path_buf(),
            line,
            column,
            field: None,
            message: message.into(),
            help: None,
            // An excerpt with no text (the empty last line of a file that ends with a newline,
            // an empty file) shows nothing, and annotate-snippets would call it line 1.
            excerpt: Some(Excerpt::around(source, start..end, line))
                .filter(|excerpt| !excerpt.text.is_empty()),
        }
    }

    /// An error at a 1-based `line` and `column` (in characters) of `source`, as JSON parsers
    /// report them.
    pub fn at_line_column(
        code: Code,
        file: &Path,
        source: &str,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Diagnostic {
        let offset = offset_of(source, line, column);
        Diagnostic::at(code, file, source, offset..offset + 1, message)
    }

    /// The same diagnostic, naming `field`.
    pub fn field(mut self, field: impl Into<String>) -> Diagnostic {
        let field = field.into();
        self.field = (!field.is_empty()).then_some(field);
        self
    }

    /// The same diagnostic, with a hint at the fix.
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// `file:line:column`.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file.display(), self.line, self.column)
    }

    /// The title line without the code: "field `x`: message", or the message alone.
    pub fn title(&self) -> String {
        match &self.field {
            Some(field) => format!("field `{field}`: {}", self.message),
            None => self.message.clone(),
        }
    }

    /// One line, `file:line:column: error[code]: field `x`: message`, for logs and JSON output.
    pub fn one_line(&self) -> String {
        format!(
            "{}: error[{}]: {}",
            self.location(),
            self.code,
            self.title()
        )
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use annotate_snippets::{Level, Renderer, Snippet};

        let code: &'static str = self.code.into();
        let title = self.title();
        let Some(excerpt) = &self.excerpt else {
            // Nothing to point at: the same shape as a rendered snippet, without one.
            writeln!(f, "error[{code}]: {title}")?;
            write!(f, " --> {}", self.location())?;
            if let Some(help) = &self.help {
                write!(f, "\n  = help: {help}")?;
            }
            return Ok(());
        };
        let origin = self.file.display().to_string();
        let excerpt = excerpt.fitted();
        let mut message = Level::Error.title(&title).id(code).snippet(
            Snippet::source(&excerpt.text)
                .line_start(excerpt.first_line)
                .origin(&origin)
                .annotation(Level::Error.span(excerpt.span.clone())),
        );
        if let Some(help) = &self.help {
            message = message.footer(Level::Help.title(help));
        }
        let rendered = Renderer::plain().render(message).to_string();
        f.write_str(&rendered)
    }
}

impl std::error::Error for Diagnostic {}

/// An excerpt with a line wider than this may be trimmed by annotate-snippets (at its terminal
/// width, 140 columns): see [`Excerpt::fitted`].
const WIDE_LINE: usize = 100;

impl Excerpt {
    /// The excerpt as annotate-snippets (0.11) can take it. Its trimming of a wide line panics
    /// (a subtraction overflow) when the span ends before the excerpt's common indentation does,
    /// as it measures them (found by the `chain` and `harness_results` fuzz targets): a span in
    /// the indentation, or on a blank line above an indented one; tabs (which it expands); or
    /// whitespace it shows zero-wide (`\r`, form feed). So tabs are shown as one space each (one
    /// byte for one: the span and the column stay), and on a wide excerpt, a line whose
    /// indentation is not plain spaces shows it as [`dotted`], and so does
    /// every line when the span ends within the common indentation.
    fn fitted(&self) -> Excerpt {
        let text = self.text.replace('\t', " ");
        if text.lines().all(|line| line.len() <= WIDE_LINE) {
            return Excerpt {
                text,
                first_line: self.first_line,
                span: self.span.clone(),
            };
        }
        let indent_of =
            |line: &str| line.len() - line.trim_start_matches(char::is_whitespace).len();
        let common_indent = text
            .split('\n')
            .filter(|line| !line.trim().is_empty())
            .map(indent_of)
            .min()
            .unwrap_or(0);
        let span_end = self.span.end.min(text.len());
        let end_line_start = text[..span_end].rfind('\n').map_or(0, |index| index + 1);
        let span_end_column = text[end_line_start..span_end].chars().count();
        let dot_every_line = span_end_column <= common_indent;
        let lines: Vec<String> = text
            .split('\n')
            .map(|line| {
                let indent = indent_of(line);
                if dot_every_line || line[..indent].chars().any(|c| c != ' ') {
                    format!("{}{}", dotted(&line[..indent]), &line[indent..])
                } else {
                    line.to_string()
                }
            })
            .collect();
        Excerpt {
            text: lines.join("\n"),
            first_line: self.first_line,
            span: self.span.clone(),
        }
    }
}

/// Whitespace shown as dots, one visible character for each, of the same length in bytes (`.`,
/// `·` or `…`: no whitespace character is longer), so that byte spans and character columns stay.
fn dotted(indent: &str) -> String {
    indent
        .chars()
        .map(|c| match c.len_utf8() {
            1 => '.',
            2 => '\u{b7}',
            _ => '\u{2026}',
        })
        .collect()
}

impl Excerpt {
    /// The lines of `source` that hold `span` (at most [`MAX_EXCERPT_LINES`]), starting at
    /// `line`.
    fn around(source: &str, span: Range<usize>, line: usize) -> Excerpt {
        let line_start = source[..span.start]
            .rfind('\n')
            .map_or(0, |index| index + 1);
        let mut end = line_start;
        for _ in 0..MAX_EXCERPT_LINES {
            end = source[end..]
                .find('\n')
                .map_or(source.len(), |index| end + index);
            if end >= span.end || end == source.len() {
                break;
            }
            end += 1;
        }
        let text = source[line_start..end].trim_end_matches('\n').to_string();
        let relative_start = span.start - line_start;
        // An empty span (an error at the end of a value) still gets one caret; a span running past
        // the excerpt is cut at its end.
        let relative_end = (span.end - line_start)
            .min(text.len())
            .max(next_char_boundary(&text, relative_start));
        Excerpt {
            text,
            first_line: line,
            span: relative_start..relative_end,
        }
    }
}

/// A file's path and text, for the checks after parsing: each error points at the span of the
/// offending value and names its field.
#[derive(Clone, Copy, Debug)]
pub struct SourceFile<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

impl SourceFile<'_> {
    /// An error of kind `code` at the bytes `span`, about `field`.
    pub fn error(
        &self,
        code: Code,
        span: Range<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::at(code, self.path, self.text, span, message).field(field)
    }
}

/// 1-based line and column (in characters) of byte `offset` in `source`.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(source, offset.min(source.len()));
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Byte offset of 1-based `line` and `column` (in characters), clamped to the text.
fn offset_of(source: &str, line: usize, column: usize) -> usize {
    let line_start = source
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    let rest = &source[line_start.min(source.len())..];
    let within = rest
        .char_indices()
        .take_while(|(_, c)| *c != '\n')
        .nth(column.saturating_sub(1))
        .map_or_else(|| rest.find('\n').unwrap_or(rest.len()), |(index, _)| index);
    line_start + within
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The boundary after the character at `offset` (or `offset` itself at the end of the text).
fn next_char_boundary(text: &str, offset: usize) -> usize {
    text[offset..]
        .chars()
        .next()
        .map_or(offset, |c| offset + c.len_utf8())
}

/// Deserializes a TOML file. A syntax error ([`Code::Syntax`]) or a field of the wrong shape
/// ([`Code::Shape`]) becomes a [`Diagnostic`] with the span `toml` reports and the field path the
/// deserializer walked.
pub fn parse_toml<T: DeserializeOwned>(file: &Path, source: &str) -> Result<T, Diagnostic> {
    let deserializer = toml::Deserializer::parse(source)
        .map_err(|error| toml_diagnostic(Code::Syntax, file, source, &error))?;
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let field = field_path(error.path());
        toml_diagnostic(Code::Shape, file, source, error.inner()).field(field)
    })
}

/// The path the deserializer walked, as the file spells it: without the private field through
/// which `toml::Spanned` deserializes its value, and empty at the root.
fn field_path(path: &serde_path_to_error::Path) -> String {
    const SPANNED_VALUE: &str = "$__serde_spanned_private_value";
    let field = path.to_string();
    if field == "." {
        return String::new();
    }
    field
        .split('.')
        .filter(|segment| *segment != SPANNED_VALUE)
        .collect::<Vec<_>>()
        .join(".")
}

/// A `toml` error as a diagnostic with `code`, at the span `toml` reports.
pub fn toml_diagnostic(
    code: Code,
    file: &Path,
    source: &str,
    error: &toml::de::Error,
) -> Diagnostic {
    let message = error.message().trim().to_string();
    match error.span() {
        Some(span) => Diagnostic::at(code, file, source, span, message),
        None => Diagnostic::whole_file(code, file, message),
    }
}

/// Deserializes a JSON document. Errors carry the line and column `serde_json` reports and the
/// path of the field (`testcases[3].expected_result`).
pub fn parse_json<T: DeserializeOwned>(file: &Path, source: &str) -> Result<T, Diagnostic> {
    let mut deserializer = serde_json::Deserializer::from_str(source);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let field = error.path().to_string();
        json_diagnostic(file, source, error.inner()).field(if field == "." {
            String::new()
        } else {
            field
        })
    })?;
    // Trailing characters after the document.
    deserializer
        .end()
        .map_err(|error| json_diagnostic(file, source, &error))?;
    Ok(value)
}

/// A `serde_json` error as a diagnostic at its line and column.
pub fn json_diagnostic(file: &Path, source: &str, error: &serde_json::Error) -> Diagnostic {
    use serde_json::error::Category;
    let code = match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => Code::Syntax,
        Category::Data => Code::Shape,
    };
    // serde_json appends " at line L column C" to its message; the location is shown apart.
    let message = error.to_string();
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(head, _)| head)
        .to_string();
    if error.line() == 0 {
        return Diagnostic::whole_file(code, file, message);
    }
    let end = offset_of(source, error.line(), error.column());
    // serde_json reports a wrong value just after it; point at the whole value instead.
    let span = match code {
        Code::Shape => value_ending_at(source, end),
        _ => end..end + 1,
    };
    Diagnostic::at(code, file, source, span, message)
}

/// The JSON scalar (string, number, literal) that ends at byte `end` (exclusive, or inclusive
/// of a closing quote at `end - 1`), or `end..end + 1` when there is none.
fn value_ending_at(source: &str, end: usize) -> Range<usize> {
    let end = floor_char_boundary(source, end.min(source.len()));
    let bytes = source.as_bytes();
    // serde_json's column counts the last byte read, which may be the closing quote itself.
    let end = if end < bytes.len() && bytes[end] == b'"' && end > 0 {
        end + 1
    } else {
        end
    };
    if end > 0 && bytes[end - 1] == b'"' {
        let mut start = end - 1;
        while start > 0 {
            start -= 1;
            let escaped = start > 0 && bytes[start - 1] == b'\\';
            if bytes[start] == b'"' && !escaped {
                return start..end;
            }
        }
    }
    let start = source[..end]
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c)))
        .map_or(0, |index| index + 1);
    if start < end {
        start..end
    } else {
        end..end + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        seed: String,
        cert: Vec<Cert>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Cert {
        id: String,
        key: Key,
    }

    #[derive(Debug, serde::Deserialize)]
    enum Key {
        #[serde(rename = "rsa-2048")]
        Rsa2048,
        #[serde(rename = "ecdsa-p256")]
        EcdsaP256,
    }

    const FILE: &str = "topology.toml";

    #[test]
    fn toml_shape_errors_name_field_line_column_and_show_the_line() {
        let source = "seed = \"s\"\n\n[[cert]]\nid = \"a\"\nkey = \"rsa-2048\"\n\n[[cert]]\nid = \"b\"\nkey = \"rsa-1024\"\n";
        let error = parse_toml::<Doc>(Path::new(FILE), source).unwrap_err();
        assert_eq!(error.code, Code::Shape);
        assert_eq!(error.field.as_deref(), Some("cert[1].key"));
        assert_eq!((error.line, error.column), (9, 7));
        let rendered = error.to_string();
        assert!(rendered.contains("error[shape]: field `cert[1].key`: unknown variant `rsa-1024`"));
        assert!(rendered.contains("--> topology.toml:9:7"), "{rendered}");
        assert!(rendered.contains("9 | key = \"rsa-1024\""), "{rendered}");
        assert!(rendered.contains("^^^^^^^^^^"), "{rendered}");
    }

    #[test]
    fn field_paths_look_through_spanned_values() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Spans {
            cert: Vec<toml::Spanned<Cert>>,
        }
        let source = "[[cert]]\nid = \"a\"\nkey = \"rsa-1024\"\n";
        let error = parse_toml::<Spans>(Path::new(FILE), source).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("cert[0].key"));
    }

    #[test]
    fn unknown_fields_are_located_at_the_key() {
        let source = "seed = \"s\"\n[[cert]]\nid = \"a\"\nkey = \"rsa-2048\"\nissuer_typo = 1\n";
        let error = parse_toml::<Doc>(Path::new(FILE), source).unwrap_err();
        assert_eq!(error.code, Code::Shape);
        assert_eq!(error.line, 5);
        assert!(error.message.contains("unknown field `issuer_typo`"));
    }

    #[test]
    fn toml_syntax_errors_are_syntax() {
        let source = "seed = \"s\"\n[[cert]\n";
        let error = parse_toml::<Doc>(Path::new(FILE), source).unwrap_err();
        assert_eq!(error.code, Code::Syntax);
        assert_eq!(error.line, 2);
        assert!(error.to_string().contains("2 | [[cert]"));
    }

    #[test]
    fn json_errors_name_path_and_position() {
        let source = "{\n  \"seed\": \"s\",\n  \"cert\": [{\"id\": \"a\", \"key\": \"ecdsa-p256\"},\n    {\"id\": \"b\", \"key\": \"dsa\"}]\n}\n";
        let error = parse_json::<Doc>(Path::new("x.json"), source).unwrap_err();
        assert_eq!(error.code, Code::Shape);
        assert_eq!(error.field.as_deref(), Some("cert[1].key"));
        assert_eq!(error.line, 4);
        assert!(
            error
                .to_string()
                .contains("{\"id\": \"b\", \"key\": \"dsa\"}"),
            "{error}"
        );
        let truncated = parse_json::<Doc>(Path::new("x.json"), "{\"seed\": ").unwrap_err();
        assert_eq!(truncated.code, Code::Syntax);
        let trailing =
            parse_json::<Doc>(Path::new("x.json"), "{\"seed\":\"s\",\"cert\":[]} x").unwrap_err();
        assert_eq!(trailing.code, Code::Syntax);
    }

    #[test]
    fn spans_across_lines_and_multibyte_text_render() {
        let source = "a = 1\nbé = \"x\"\nc = [\n  1,\n  2,\n]\n";
        let at = source.find('=').unwrap();
        assert_eq!(line_column(source, at), (1, 3));
        let second = source[at + 1..].find('=').unwrap() + at + 1;
        assert_eq!(line_column(source, second), (2, 4));
        let array = source.find('[').unwrap();
        let diagnostic = Diagnostic::at(
            Code::InvalidValue,
            Path::new(FILE),
            source,
            array..source.len(),
            "too long",
        )
        .field("c")
        .help("shorten it");
        let rendered = diagnostic.to_string();
        assert!(rendered.contains("--> topology.toml:3:5"), "{rendered}");
        assert!(rendered.contains("c = ["), "{rendered}");
        assert!(rendered.contains("= help: shorten it"), "{rendered}");
        assert_eq!(
            diagnostic.one_line(),
            "topology.toml:3:5: error[invalid-value]: field `c`: too long"
        );
        let at_end = Diagnostic::at(Code::Syntax, Path::new(FILE), "x", 1..1, "eof");
        assert_eq!((at_end.line, at_end.column), (1, 2));
        assert!(!at_end.to_string().is_empty());
    }

    #[test]
    fn whole_file_errors_still_name_the_file() {
        let diagnostic = Diagnostic::whole_file(Code::Syntax, Path::new("empty.pem"), "no data");
        assert_eq!(
            diagnostic.to_string(),
            "error[syntax]: no data\n --> empty.pem:1:1"
        );
    }

    /// Found by the `chain` fuzz target: annotate-snippets' own trimming of a wide line panicked
    /// (a subtraction overflow) when the span lay in the line's leading whitespace or the line
    /// held tabs. Every span of such lines now renders.
    #[test]
    fn wide_lines_with_leading_whitespace_or_tabs_render_at_every_span() {
        for (blank, count, tail) in [
            ("\t", 10, 200),
            (" ", 30, 200),
            (" ", 100, 200),
            ("\t", 30, 10),
        ] {
            let line = format!("{}x{}", blank.repeat(count), "y".repeat(tail));
            let source = format!("first\n{line}\nlast\n");
            for at in (6..6 + line.len()).step_by(7) {
                let rendered =
                    Diagnostic::at(Code::Syntax, Path::new("f"), &source, at..at + 1, "m")
                        .to_string();
                assert!(rendered.contains(" --> f:2:"), "{rendered}");
                assert!(rendered.contains('^'), "{rendered}");
            }
        }
    }

    proptest::proptest! {
        /// What the fuzzers found twice, asked of every shape: any text of wide lines, blank
        /// lines and odd whitespace, with a span anywhere, renders with its location and a caret.
        #[test]
        fn any_span_of_any_text_renders(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    " ", "          ", "\t", "\r", "\x0c", "\n", "\n\n", "x", "yyyyyyyyyyyyyyyy",
                    "\u{e9}", "\u{3000}", "\u{fffd}\u{fffd}\u{fffd}\u{fffd}",
                ]),
                0..80,
            ),
            start in 0usize..2000,
            width in 0usize..300,
        ) {
            let source: String = pieces.concat();
            let start = start % (source.len() + 1);
            let diagnostic =
                Diagnostic::at(Code::Syntax, Path::new("f"), &source, start..start + width, "m");
            let rendered = diagnostic.to_string();
            // The line only: annotate-snippets hides a line's closing `\r`, so its column of a
            // span on that `\r` is one less than ours.
            let location = format!("--> f:{}:", diagnostic.line);
            proptest::prop_assert!(rendered.contains(&location), "{}", rendered);
        }
    }

    #[test]
    fn a_wide_indented_line_keeps_its_column_and_caret() {
        let source = format!("{}NEEDLE{}", " ".repeat(50), "b".repeat(300));
        let rendered =
            Diagnostic::at(Code::Syntax, Path::new("f"), &source, 50..56, "here").to_string();
        assert!(rendered.contains(" --> f:1:51"), "{rendered}");
        let shown = rendered
            .lines()
            .find(|l| l.contains("NEEDLE"))
            .expect("the span's line");
        let caret = rendered
            .lines()
            .find(|l| l.contains("^^^^^^"))
            .expect("carets");
        assert_eq!(caret.find('^'), shown.find("NEEDLE"), "{rendered}");
    }
}
