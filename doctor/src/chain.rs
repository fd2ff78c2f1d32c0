//! Reading the served chain: a PEM file, leaf first, every block a certificate, nothing after
//! the last one. Bad input is a located `Diagnostic`.

use std::path::Path;

use anchorsmith_diagnostics::{Code, Diagnostic};

/// The chain as the server sends it: DER certificates, in the order served (leaf first).
pub type ServedChain = Vec<Vec<u8>>;

/// The chain file, in the order served: every block a certificate (the bundle's PEM reader, which
/// checks each one parses), nothing but whitespace after the last one.
pub fn read_chain(file: &Path) -> Result<ServedChain, Diagnostic> {
    use anchorsmith_bundle::load::{certificates, read};
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
    Ok(certs.into_iter().map(|(der, _)| der).collect())
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
        assert_eq!(read(&text).unwrap(), vec![p.leaf, p.inter]);
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
}
