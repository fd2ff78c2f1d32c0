//! Mozilla's NSS root store as it is published, `certdata.txt` (`--certdata FILE`): candidates
//! and their trust metadata from one file.
//!
//! The file is a list of PKCS#11 objects, each a run of attribute lines starting with
//! `CKA_CLASS`. An attribute line is `NAME TYPE VALUE`; a `MULTILINE_OCTAL` value follows on the
//! next lines as `\ooo` escapes up to a line `END`. Comments (`#`) and blank lines may appear
//! anywhere, even inside an object, so objects are split at `CKA_CLASS`, not at blank lines.
//!
//! - A `CKO_CERTIFICATE` object holds the certificate DER in `CKA_VALUE`, and may hold
//!   `CKA_NSS_SERVER_DISTRUST_AFTER`: a `MULTILINE_OCTAL` ASCII UTCTime `YYMMDDHHMMSSZ`, or
//!   `CK_BBOOL CK_FALSE` for none.
//! - A `CKO_NSS_TRUST` object gives the trust of the certificate whose SHA-1 is
//!   `CKA_CERT_SHA1_HASH` (or, without it, whose `CKA_ISSUER` and `CKA_SERIAL_NUMBER` match):
//!   `CKA_TRUST_SERVER_AUTH` is `CKT_NSS_TRUSTED_DELEGATOR` (an anchor for TLS servers),
//!   `CKT_NSS_NOT_TRUSTED` (distrusted) or `CKT_NSS_MUST_VERIFY_TRUST` (not an anchor for TLS
//!   servers: an e-mail root, say). It may carry a distrust-after date too.
//!
//! A certificate with no trust object, or not trusted for TLS servers, is still a candidate,
//! distrusted, so the report says why it covers nothing. Certificates that cannot be anchors
//! (leaves the store lists to distrust them) are skipped and counted.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use anchorsmith_diagnostics::{Code, Diagnostic};
use sha1::Digest as _;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::load::{self, Candidate, CandidateSource};
use crate::policy::{AnchorTrust, Trust, TrustMetadata};

/// What a `certdata.txt` file gives the builder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certdata {
    pub candidates: Vec<Candidate>,
    pub source: CandidateSource,
    pub trust: TrustMetadata,
}

/// One attribute's value.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Value {
    /// The rest of the line after the type (`CK_TRUE`, `"a label"`, `CKT_NSS_NOT_TRUSTED`).
    Word(String),
    /// A `MULTILINE_OCTAL` value.
    Bytes(Vec<u8>),
}

#[derive(Clone, Debug)]
struct Attribute {
    name: String,
    value: Value,
    /// The attribute's first line, where a diagnostic points.
    span: Range<usize>,
}

/// One object: its attributes in file order, the first being `CKA_CLASS`.
#[derive(Clone, Debug)]
struct Object {
    attributes: Vec<Attribute>,
}

impl Object {
    fn get(&self, name: &str) -> Option<&Attribute> {
        self.attributes
            .iter()
            .find(|attribute| attribute.name == name)
    }

    fn word(&self, name: &str) -> Option<&str> {
        match self.get(name).map(|attribute| &attribute.value) {
            Some(Value::Word(word)) => Some(word),
            _ => None,
        }
    }

    fn bytes(&self, name: &str) -> Option<&[u8]> {
        match self.get(name).map(|attribute| &attribute.value) {
            Some(Value::Bytes(bytes)) => Some(bytes),
            _ => None,
        }
    }

    fn class(&self) -> &str {
        self.word("CKA_CLASS").unwrap_or("")
    }

    fn label(&self) -> String {
        self.word("CKA_LABEL")
            .map(|label| label.trim_matches('"').to_string())
            .unwrap_or_default()
    }
}

/// The lines of `text` with the byte range of each (without its line break).
fn lines(text: &str) -> impl Iterator<Item = (Range<usize>, &str)> {
    let mut start = 0;
    text.split_inclusive('\n').map(move |line| {
        let range = start..start + line.trim_end_matches(['\r', '\n']).len();
        start += line.len();
        (range, line.trim_end_matches(['\r', '\n']))
    })
}

/// The bytes of one `MULTILINE_OCTAL` line: `\ooo` escapes, nothing else.
fn octal_line(line: &str) -> Result<Vec<u8>, String> {
    let trimmed = line.trim();
    let mut bytes = Vec::new();
    let mut rest = trimmed;
    while !rest.is_empty() {
        let digits = rest
            .strip_prefix('\\')
            .filter(|after| after.len() >= 3 && after.is_char_boundary(3))
            .map(|after| &after[..3])
            .ok_or_else(|| format!("`{trimmed}` is not a line of \\ooo octal escapes"))?;
        let byte = u8::from_str_radix(digits, 8)
            .map_err(|_| format!("`\\{digits}` is not an octal byte (\\000 to \\377)"))?;
        bytes.push(byte);
        rest = &rest[4..];
    }
    Ok(bytes)
}

/// Every object of the file. Lines before `BEGINDATA` (a header) are skipped when it is there.
fn objects(file: &Path, text: &str) -> Result<Vec<Object>, Diagnostic> {
    let mut found: Vec<Object> = Vec::new();
    let mut all = lines(text).peekable();
    if text.lines().any(|line| line.trim() == "BEGINDATA") {
        for (_, line) in all.by_ref() {
            if line.trim() == "BEGINDATA" {
                break;
            }
        }
    }
    while let Some((span, line)) = all.next() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut words = trimmed.splitn(3, char::is_whitespace);
        let name = words.next().unwrap_or_default().to_string();
        let kind = words.next().unwrap_or_default();
        let rest = words.next().unwrap_or_default().trim().to_string();
        if !name.starts_with("CKA_") || kind.is_empty() {
            return Err(Diagnostic::at(
                Code::Syntax,
                file,
                text,
                span,
                format!("`{trimmed}` is not an attribute line (CKA_NAME TYPE VALUE)"),
            ));
        }
        let value = if kind == "MULTILINE_OCTAL" {
            let mut bytes = Vec::new();
            loop {
                let Some((octal_span, octal)) = all.next() else {
                    return Err(Diagnostic::at(
                        Code::Syntax,
                        file,
                        text,
                        span,
                        format!("{name}: the octal value has no END line"),
                    ));
                };
                if octal.trim() == "END" {
                    break;
                }
                bytes.extend(octal_line(octal).map_err(|message| {
                    Diagnostic::at(Code::Syntax, file, text, octal_span, message)
                })?);
            }
            Value::Bytes(bytes)
        } else {
            Value::Word(rest)
        };
        let attribute = Attribute { name, value, span };
        if attribute.name == "CKA_CLASS" {
            found.push(Object {
                attributes: vec![attribute],
            });
        } else if let Some(object) = found.last_mut() {
            object.attributes.push(attribute);
        } else {
            return Err(Diagnostic::at(
                Code::Syntax,
                file,
                text,
                attribute.span,
                format!("{} before the first CKA_CLASS", attribute.name),
            ));
        }
    }
    Ok(found)
}

/// A distrust-after attribute: an ASCII UTCTime, `None` for `CK_BBOOL CK_FALSE` or absence.
fn distrust_after(
    file: &Path,
    text: &str,
    object: &Object,
) -> Result<Option<OffsetDateTime>, Diagnostic> {
    const NAME: &str = "CKA_NSS_SERVER_DISTRUST_AFTER";
    let Some(attribute) = object.get(NAME) else {
        return Ok(None);
    };
    match &attribute.value {
        Value::Word(word) if word == "CK_FALSE" => Ok(None),
        Value::Bytes(bytes) => utc_time(bytes).map(Some).ok_or_else(|| {
            Diagnostic::at(
                Code::InvalidValue,
                file,
                text,
                attribute.span.clone(),
                format!(
                    "{NAME}: `{}` is not a UTCTime YYMMDDHHMMSSZ",
                    String::from_utf8_lossy(bytes)
                ),
            )
            .field(NAME)
        }),
        Value::Word(word) => Err(Diagnostic::at(
            Code::InvalidValue,
            file,
            text,
            attribute.span.clone(),
            format!("{NAME}: `{word}` is neither a MULTILINE_OCTAL date nor CK_BBOOL CK_FALSE"),
        )
        .field(NAME)),
    }
}

/// `YYMMDDHHMMSSZ`, the years 50–99 in the 1900s as RFC 5280 reads UTCTime.
fn utc_time(bytes: &[u8]) -> Option<OffsetDateTime> {
    let text = std::str::from_utf8(bytes).ok()?;
    let digits = text.strip_suffix('Z')?;
    if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let field = |at: usize| digits[at..at + 2].parse::<u8>().ok();
    let year = i32::from(field(0)?);
    let year = if year >= 50 { 1900 + year } else { 2000 + year };
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(field(2)?).ok()?, field(4)?)
            .ok()?;
    let at = time::Time::from_hms(field(6)?, field(8)?, field(10)?).ok()?;
    Some(date.with_time(at).assume_utc())
}

/// What a trust object says about TLS server authentication.
struct ServerTrust {
    trust: Trust,
    why: &'static str,
    distrust_after: Option<OffsetDateTime>,
}

fn server_trust(file: &Path, text: &str, object: &Object) -> Result<ServerTrust, Diagnostic> {
    const NAME: &str = "CKA_TRUST_SERVER_AUTH";
    let value = object.word(NAME).unwrap_or("");
    let (trust, why) = match value.split_whitespace().last().unwrap_or("") {
        "CKT_NSS_TRUSTED_DELEGATOR" => (Trust::Trusted, "trusted for TLS servers"),
        "CKT_NSS_NOT_TRUSTED" => (Trust::Distrusted, "CKT_NSS_NOT_TRUSTED"),
        "CKT_NSS_MUST_VERIFY_TRUST" | "CKT_NSS_TRUST_UNKNOWN" | "" => (
            Trust::Distrusted,
            "not an anchor for TLS servers (CKT_NSS_MUST_VERIFY_TRUST)",
        ),
        other => {
            let span = object
                .get(NAME)
                .map_or_else(|| object.attributes[0].span.clone(), |a| a.span.clone());
            return Err(Diagnostic::at(
                Code::InvalidValue,
                file,
                text,
                span,
                format!("{NAME}: unknown trust `{other}`"),
            )
            .field(NAME)
            .help(
                "one of CKT_NSS_TRUSTED_DELEGATOR, CKT_NSS_NOT_TRUSTED, CKT_NSS_MUST_VERIFY_TRUST",
            ));
        }
    };
    Ok(ServerTrust {
        trust,
        why,
        distrust_after: distrust_after(file, text, object)?,
    })
}

/// Parses a `certdata.txt` (see the module documentation).
pub fn parse_certdata(file: &Path, text: &str) -> Result<Certdata, Diagnostic> {
    let objects = objects(file, text)?;
    let mut by_sha1: BTreeMap<Vec<u8>, ServerTrust> = BTreeMap::new();
    let mut by_issuer_serial: BTreeMap<(Vec<u8>, Vec<u8>), usize> = BTreeMap::new();
    let mut trusts: Vec<ServerTrust> = Vec::new();
    for object in objects
        .iter()
        .filter(|o| o.class().ends_with("CKO_NSS_TRUST"))
    {
        let trust = server_trust(file, text, object)?;
        match object.bytes("CKA_CERT_SHA1_HASH") {
            Some(sha1) => {
                by_sha1.insert(sha1.to_vec(), trust);
            }
            None => {
                if let (Some(issuer), Some(serial)) = (
                    object.bytes("CKA_ISSUER"),
                    object.bytes("CKA_SERIAL_NUMBER"),
                ) {
                    by_issuer_serial.insert((issuer.to_vec(), serial.to_vec()), trusts.len());
                    trusts.push(trust);
                }
            }
        }
    }
    let mut candidates = Vec::new();
    let mut anchors = Vec::new();
    let mut skipped = 0;
    for object in objects
        .iter()
        .filter(|o| o.class().ends_with("CKO_CERTIFICATE"))
    {
        let at = object.attributes[0].span.clone();
        let Some(der) = object.bytes("CKA_VALUE") else {
            return Err(Diagnostic::at(
                Code::Shape,
                file,
                text,
                at,
                format!(
                    "the certificate object {:?} has no CKA_VALUE MULTILINE_OCTAL",
                    object.label()
                ),
            ));
        };
        if let Err(error) = X509Certificate::from_der(der) {
            let span = object.get("CKA_VALUE").map_or(at, |a| a.span.clone());
            return Err(Diagnostic::at(
                Code::Encoding,
                file,
                text,
                span,
                format!(
                    "CKA_VALUE of {:?} is not an X.509 certificate: {error}",
                    object.label()
                ),
            ));
        }
        if !load::can_anchor(der) {
            skipped += 1;
            continue;
        }
        let sha1 = sha1::Sha1::digest(der).to_vec();
        let joined = by_sha1.get(&sha1).or_else(|| {
            let key = (
                object.bytes("CKA_ISSUER")?.to_vec(),
                object.bytes("CKA_SERIAL_NUMBER")?.to_vec(),
            );
            by_issuer_serial.get(&key).map(|&index| &trusts[index])
        });
        let own = distrust_after(file, text, object)?;
        let (trust, why, from_trust) = match joined {
            Some(found) => (found.trust, found.why, found.distrust_after),
            None => (Trust::Distrusted, "no trust object", None),
        };
        // Either object may carry the date; the earlier one counts.
        let date = match (own, from_trust) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let (line, _) = anchorsmith_diagnostics::line_column(text, at.start);
        anchors.push(AnchorTrust {
            sha256: hex::encode(sha2::Sha256::digest(der)),
            trust,
            distrust_after: date,
            note: Some(format!("{} ({why})", object.label())),
        });
        candidates.push(Candidate {
            der: der.to_vec(),
            origin: format!("{}:{line}", file.display()),
        });
    }
    let file_sha256 = hex::encode(sha2::Sha256::digest(text.as_bytes()));
    Ok(Certdata {
        source: CandidateSource::Certdata {
            path: file.to_path_buf(),
            sha256: file_sha256.clone(),
            count: candidates.len(),
            skipped,
        },
        candidates,
        trust: TrustMetadata {
            file: file.to_path_buf(),
            file_sha256,
            source: "NSS certdata.txt".into(),
            anchors,
        },
    })
}

/// Reads and parses a `certdata.txt`.
pub fn load_certdata(file: &Path) -> Result<Certdata, Diagnostic> {
    let text = std::fs::read_to_string(file).map_err(|error| {
        Diagnostic::whole_file(Code::Syntax, file, format!("cannot read the file: {error}"))
    })?;
    parse_certdata(file, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_time_reads_the_two_centuries() {
        assert_eq!(
            utc_time(b"191130235959Z"),
            Some(time::macros::datetime!(2019-11-30 23:59:59 UTC))
        );
        assert_eq!(
            utc_time(b"991231000000Z"),
            Some(time::macros::datetime!(1999-12-31 0:00 UTC))
        );
        assert_eq!(utc_time(b"191330235959Z"), None);
        assert_eq!(utc_time(b"1911302359Z"), None);
    }

    #[test]
    fn octal_lines_are_escapes_only() {
        assert_eq!(octal_line("\\060\\377\\000"), Ok(vec![0o60, 0xff, 0]));
        assert!(octal_line("\\060 x").is_err());
        assert!(octal_line("\\400").is_err());
    }
}
