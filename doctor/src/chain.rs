//! Reading the served chain: a PEM file, leaf first, every block a certificate, nothing after
//! the last one. Bad input is a located `Diagnostic`.

use std::path::Path;

use anchorsmith_diagnostics::{Code, Diagnostic};

/// The chain as the server sends it: DER certificates in the order served, leaf first. Never
/// empty: a chain without a leaf cannot be built (`new` returns `None`), so nothing downstream
/// has to ask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedChain {
    certs: Vec<Vec<u8>>,
}

impl ServedChain {
    /// The chain of `certs` (served order), or `None` when there is no certificate.
    pub fn new(certs: Vec<Vec<u8>>) -> Option<ServedChain> {
        (!certs.is_empty()).then_some(ServedChain { certs })
    }

    /// The first certificate sent: the server's own.
    pub fn leaf(&self) -> &[u8] {
        &self.certs[0]
    }

    /// Everything sent after the leaf, in order.
    pub fn rest(&self) -> &[Vec<u8>] {
        &self.certs[1..]
    }

    /// Every certificate, leaf first.
    pub fn certs(&self) -> &[Vec<u8>] {
        &self.certs
    }
}

/// The chain file, in the order served: every block a certificate (the bundle's PEM reader, which
/// checks each one parses), nothing but whitespace after the last one.
pub fn read_chain(file: &Path) -> Result<ServedChain, Diagnostic> {
    use anchorsmith_bundle::load::read;
    let source = read(file)?;
    let certs = certificates(file, &source)?;
    let end = certs.last().map_or(0, |(_, span)| span.end);
    if let Some(offset) = source[end..].find(|c: char| !c.is_whitespace()) {
        let start = end + offset;
        let stop = source[start..]
            .find('\n')
            .map_or(source.len(), |at| start + at);
        return Err(Diagnostic::at(
            Code::Encoding,
            file,
            &source,
            start..stop,
            "trailing data after the last certificate",
        )
        .help("a chain file holds only PEM certificate blocks"));
    }
    Ok(
        ServedChain::new(certs.into_iter().map(|(der, _)| der).collect())
            .expect("the reader refuses a file without a certificate"),
    )
}

/// The certificates of `source` by the bundle's reader, with the chain file's own words for an
/// empty file and for a private key (the bundle speaks of trust bundles).
fn certificates(
    file: &Path,
    source: &str,
) -> Result<Vec<anchorsmith_bundle::load::Located>, Diagnostic> {
    if source.trim().is_empty() {
        return Err(
            Diagnostic::at(Code::Syntax, file, source, 0..0, "the chain file is empty")
                .help("write the certificates the server sends, as PEM blocks, leaf first"),
        );
    }
    anchorsmith_bundle::load::certificates(file, source).map_err(|mut error| {
        if error.message.starts_with("not valid PEM") {
            if let Some(bad) = bad_base64(source, error.line) {
                let character = &source[bad..].chars().next().expect("a character");
                return Diagnostic::at(
                    Code::Encoding,
                    file,
                    source,
                    bad..bad + character.len_utf8(),
                    format!(
                        "bad base64 in this certificate: `{character}` is not a base64 character"
                    ),
                )
                .help("the block was damaged in copying: copy the certificate again");
            }
        }
        if error.message.starts_with("a private key") {
            error.message = "this block is a private key, not a certificate".into();
            error.help = Some(
                "a chain file must never hold a private key: remove it (and, if the file was \
                 shared, replace the key)"
                    .into(),
            );
        }
        error
    })
}

/// The byte offset of the first character that is not base64 in the PEM block whose
/// `-----BEGIN` line is `line` (1-based).
fn bad_base64(source: &str, line: usize) -> Option<usize> {
    let mut offset = source
        .lines()
        .take(line)
        .map(|l| l.len() + 1)
        .sum::<usize>();
    for body in source.get(offset..)?.lines() {
        if body.starts_with("-----END") {
            return None;
        }
        let is_base64 = |c: char| c.is_ascii_alphanumeric() || "+/=\r \t".contains(c);
        if let Some(at) = body.find(|c: char| !is_base64(c)) {
            return Some(offset + at);
        }
        offset += body.len() + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::to_pem;
    use crate::testpki::healthy;

    fn read(text: &str) -> Result<ServedChain, Diagnostic> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("chain.pem");
        std::fs::write(&file, text).unwrap();
        read_chain(&file)
    }

    #[test]
    fn certificates_are_read_in_served_order() {
        let p = healthy();
        let text = format!("{}\n{}\n", to_pem(&p.leaf), to_pem(&p.inter));
        let chain = read(&text).unwrap();
        assert_eq!(chain.leaf(), &p.leaf[..]);
        assert_eq!(chain.rest(), [p.inter]);
    }

    #[test]
    fn a_chain_is_never_empty() {
        assert_eq!(ServedChain::new(Vec::new()), None);
    }

    #[test]
    fn trailing_data_is_a_located_error_on_its_line() {
        let p = healthy();
        let pem = to_pem(&p.leaf);
        let error = read(&format!("{pem}\nnot a certificate\n")).unwrap_err();
        assert_eq!(error.code, Code::Encoding);
        assert_eq!(error.line, pem.lines().count() + 2);
        assert_eq!(error.column, 1);
        assert!(error.to_string().contains("not a certificate"));
    }

    #[test]
    fn bad_base64_points_at_the_bad_character() {
        let pem = to_pem(&healthy().leaf);
        let damaged = pem.replacen("\n", "\nAB!", 1);
        let error = read(&damaged).unwrap_err();
        assert_eq!((error.line, error.column), (2, 3), "{error}");
        assert!(error.message.contains("`!` is not a base64 character"));
    }

    #[test]
    fn an_empty_file_and_a_private_key_are_located_errors_in_chain_words() {
        let error = read("\n  \n").unwrap_err();
        assert_eq!((error.line, error.column), (1, 1));
        assert!(error.message.contains("empty"), "{error}");
        let p = healthy();
        let key =
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n";
        let pem = to_pem(&p.leaf);
        let error = read(&format!("{pem}{key}")).unwrap_err();
        assert_eq!(error.line, pem.lines().count() + 1);
        assert!(error.message.contains("private key"), "{error}");
        assert!(error.help.unwrap().contains("a chain file must never hold"));
    }
}
