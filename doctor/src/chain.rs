//! Reading the served chain: a PEM file, leaf first, every block a certificate, nothing after
//! the last one. Bad input is a located `Diagnostic`.

use std::ops::Range;
use std::path::Path;

use anchorsmith_diagnostics::{Code, Diagnostic};

/// The chain as the server sends it: DER certificates in the order served, leaf first. Never
/// empty, and every certificate parses as X.509 with nothing left over: `new`, the only
/// constructor, checks both, so nothing downstream has to ask (and parsing never panics).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedChain {
    certs: Vec<Vec<u8>>,
}

/// Why a list of DER blobs is not a served chain. Callers turn it into a located `Diagnostic`
/// on their own input (the file's block, the batch line's element, the server's handshake).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("the chain holds no certificate")]
    Empty,
    /// `index` is 0-based; the message counts from 1, as operators do.
    #[error("certificate {} is not X.509: {reason}", index + 1)]
    NotX509 { index: usize, reason: String },
    #[error("certificate {} has {bytes} byte(s) after its end", index + 1)]
    TrailingBytes { index: usize, bytes: usize },
}

impl ServedChain {
    /// The chain of `certs` (served order): at least one, each one X.509 DER and nothing more.
    pub fn new(certs: Vec<Vec<u8>>) -> Result<ServedChain, ChainError> {
        use x509_parser::prelude::{FromDer, X509Certificate};
        if certs.is_empty() {
            return Err(ChainError::Empty);
        }
        for (index, der) in certs.iter().enumerate() {
            match X509Certificate::from_der(der) {
                Ok(([], _)) => {}
                Ok((rest, _)) => {
                    return Err(ChainError::TrailingBytes {
                        index,
                        bytes: rest.len(),
                    })
                }
                Err(error) => {
                    return Err(ChainError::NotX509 {
                        index,
                        reason: error.to_string(),
                    })
                }
            }
        }
        Ok(ServedChain { certs })
    }

    /// The first certificate sent: the server's own.
    pub fn leaf(&self) -> &[u8] {
        &self.certs[0]
    }

    /// The server's own certificate as the findings see it: the first sent, unless that is a
    /// CA and an end-entity certificate comes later (the leaf out of place; `wrong-order` says
    /// so). The fix's candidates start with it. Clients, and so the verdicts, take [`leaf`].
    ///
    /// [`leaf`]: ServedChain::leaf
    pub fn end_entity(&self) -> &[u8] {
        let parsed: Vec<_> = self
            .certs
            .iter()
            .map(|der| crate::cert::parse(der))
            .collect();
        &self.certs[crate::cert::leaf_index(&parsed)]
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
/// checks each one parses), nothing but whitespace before, between or after the blocks.
pub fn read_chain(file: &Path) -> Result<ServedChain, Diagnostic> {
    let source = anchorsmith_bundle::load::read(file)?;
    parse_chain(file, &source)
}

/// [`read_chain`] on the file's text already read: `file` only names it in diagnostics. Pure,
/// so the fuzz target (`fuzz/fuzz_targets/chain.rs`) drives it on bytes.
pub fn parse_chain(file: &Path, source: &str) -> Result<ServedChain, Diagnostic> {
    let certs = certificates(file, source)?;
    if let Some(junk) = stray_text(source, certs.iter().map(|(_, span)| span.clone())) {
        let (message, help) = if junk.start < certs[0].1.start {
            (
                "text before the first certificate",
                "a chain file holds only PEM certificate blocks: remove what comes before the first -----BEGIN line",
            )
        } else if junk.start > certs[certs.len() - 1].1.end {
            (
                "trailing data after the last certificate",
                "a chain file holds only PEM certificate blocks",
            )
        } else {
            (
                "text between two certificates",
                "a chain file holds only PEM certificate blocks: remove what comes between them",
            )
        };
        return Err(Diagnostic::at(Code::Encoding, file, source, junk, message).help(help));
    }
    let spans: Vec<Range<usize>> = certs.iter().map(|(_, span)| span.clone()).collect();
    ServedChain::new(certs.into_iter().map(|(der, _)| der).collect()).map_err(|error| {
        let span = match &error {
            ChainError::NotX509 { index, .. } | ChainError::TrailingBytes { index, .. } => {
                spans[*index].clone()
            }
            ChainError::Empty => 0..0,
        };
        Diagnostic::at(Code::Encoding, file, source, span, error.to_string())
    })
}

/// The first line of text that is not whitespace outside the certificate `blocks` (in source
/// order): before the first, between two, or after the last.
fn stray_text(source: &str, blocks: impl Iterator<Item = Range<usize>>) -> Option<Range<usize>> {
    let mut gaps = Vec::new();
    let mut end = 0;
    for block in blocks {
        gaps.push(end..block.start);
        end = block.end;
    }
    gaps.push(end..source.len());
    gaps.into_iter().find_map(|gap| {
        let start = gap.start + source[gap.clone()].find(|c: char| !c.is_whitespace())?;
        let stop = source[start..gap.end]
            .find('\n')
            .map_or(gap.end, |at| start + at);
        Some(start..stop)
    })
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
    fn a_chain_is_never_empty_and_every_certificate_is_x509_with_nothing_left_over() {
        assert_eq!(ServedChain::new(Vec::new()), Err(ChainError::Empty));
        let leaf = healthy().leaf;
        let error = ServedChain::new(vec![leaf.clone(), b"not a certificate".to_vec()]);
        assert!(
            matches!(error, Err(ChainError::NotX509 { index: 1, .. })),
            "{error:?}"
        );
        assert!(error
            .unwrap_err()
            .to_string()
            .starts_with("certificate 2 is not X.509"));
        let mut padded = leaf.clone();
        padded.extend_from_slice(b"xx");
        assert_eq!(
            ServedChain::new(vec![padded]),
            Err(ChainError::TrailingBytes { index: 0, bytes: 2 })
        );
        assert!(ServedChain::new(vec![leaf]).is_ok());
    }

    #[test]
    fn text_between_or_before_certificates_is_a_located_error() {
        let p = healthy();
        let (leaf, inter) = (to_pem(&p.leaf), to_pem(&p.inter));
        let error = read(&format!("{leaf}junk between\n{inter}")).unwrap_err();
        assert_eq!(error.code, Code::Encoding);
        assert_eq!((error.line, error.column), (leaf.lines().count() + 1, 1));
        assert!(
            error.message.contains("between two certificates"),
            "{error}"
        );
        let error = read(&format!("subject=CN = leaf\n{leaf}{inter}")).unwrap_err();
        assert_eq!((error.line, error.column), (1, 1));
        assert!(error.message.contains("before the first"), "{error}");
        // Blank lines around and between blocks are fine.
        assert!(read(&format!("\n\n{leaf}\n\n{inter}\n")).is_ok());
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
    fn the_end_entity_is_the_leaf_even_out_of_place() {
        let p = healthy();
        let in_order = ServedChain::new(vec![p.leaf.clone(), p.inter.clone()]).unwrap();
        assert_eq!(in_order.end_entity(), &p.leaf[..]);
        let reversed = ServedChain::new(vec![p.inter.clone(), p.leaf.clone()]).unwrap();
        assert_eq!(reversed.leaf(), &p.inter[..]);
        assert_eq!(reversed.end_entity(), &p.leaf[..]);
        let cas_only = ServedChain::new(vec![p.inter.clone(), p.root_a.clone()]).unwrap();
        assert_eq!(cas_only.end_entity(), &p.inter[..]);
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
    /// Found by the `chain` fuzz target: rendering the diagnostic for this chain file (a damaged
    /// block with a line of tabs) panicked inside annotate-snippets; fixed in
    /// `anchorsmith_diagnostics` (`Excerpt::fitted`).
    #[test]
    fn fuzz_a_damaged_block_with_tabs_renders_its_diagnostic() {
        let text = "-----BEGIN CERTIFICATE-----\nMIIE0zCCAru/gAwIBAgIQDW4uuMfmsqCx88TV5vcIGTANBgkqhkiG9w0\
            BAQsFAVf/BjAbBgNVHREEFDASghB3d3cuZXhhbXBs\n\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\tB\t\t\
            \t\t0b3JzbWl0aCB0ZXN0IFBLSTExM!8-----BEGIN CE\t\t\t\t\t\t\t\t\t\t\t\x00\x00\x00\x00\x00\
            \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
            \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
            \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00IGggdGVzdCBQS0kxKTAnSpDAgGGMBgNVB\
            AMMIERldmljZSBWZW6kb3IgQmFja3VwIFJv\nb\x1bQgKHRlc3QpMB4XDTIxMD\t\t\t\t\t\t\t\t\t\t\t\t\
            \t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\tB\t\t\t\t0G\t\t\t\t\t\t\t\tDBj\nMQswCQYDV\
            QQGEEdMBsGA1UECgwUYW5jaG9yc21pdGcgdGVzdCBQS0kx CEcnNtaR-----SqfWXrlCv5FbS%TK6F3LuYauZ\
            rs9Wl\naMCVQcmeVzdCBQS0kxNTAz\n\nBgNVBAMMSqfWWhcNMjEw\x18\x18\x18\x18\x18\x18v5uq6VpM\
            Nxuz+*4dmTxwzaUBCMc7NQ+r\nmQvBo8phXc8lfD+6YDLgCWs+\n-----END CERTIFICATE-----\n";
        let file = Path::new("chain.pem");
        let error = parse_chain(file, text).expect_err("not a chain");
        assert!(error.to_string().contains("chain.pem:"), "{error}");
        let error = anchorsmith_bundle::load::certificates(file, text).expect_err("not PEM");
        assert!(error.to_string().contains("chain.pem:"), "{error}");
    }
    /// Found by the `chain` fuzz target: a file of carriage returns and `-----BEGIN` lines; its
    /// diagnostic panicked inside annotate-snippets (the `\\r`s are leading whitespace to it).
    #[test]
    fn fuzz_carriage_returns_before_a_block_render_their_diagnostic() {
        let text =
            "\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\
            \r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r-----BEGIN\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\
            \r\x0c\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\x0c\r\r\r\r\
            \r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r-----BEGIN\r\r\r\r\r\
            \r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\x0c\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\
            \r\r\r\r\r\r\r\r\r\r\r-----BEGIN ";
        let error = parse_chain(Path::new("chain.pem"), text).expect_err("not a chain");
        assert!(error.to_string().contains("chain.pem:"), "{error}");
    }
}
