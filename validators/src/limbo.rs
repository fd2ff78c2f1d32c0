//! The x509-limbo formats: the testcase file (`limbo-schema.json`, `$defs/Limbo`) and the
//! harness results file. Field names and enum spellings follow limbo exactly, so our corpus
//! export and limbo's own suites go through the same code.

use serde::{Deserialize, Serialize};

/// A limbo testcase file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Limbo {
    pub version: u32,
    pub testcases: Vec<Testcase>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Testcase {
    pub id: String,
    #[serde(default)]
    pub conflicts_with: Vec<String>,
    #[serde(default)]
    pub features: Vec<String>,
    #[serde(default = "undetermined")]
    pub importance: String,
    pub description: String,
    /// `SERVER` or `CLIENT`.
    pub validation_kind: String,
    /// PEM strings.
    pub trusted_certs: Vec<String>,
    pub untrusted_intermediates: Vec<String>,
    pub peer_certificate: String,
    #[serde(default)]
    pub peer_certificate_key: Option<String>,
    /// RFC 3339; `None` means now.
    #[serde(default)]
    pub validation_time: Option<String>,
    pub signature_algorithms: Vec<String>,
    pub key_usage: Vec<String>,
    pub extended_key_usage: Vec<String>,
    /// `SUCCESS` or `FAILURE`.
    pub expected_result: String,
    #[serde(default)]
    pub expected_peer_name: Option<LimboPeerName>,
    pub expected_peer_names: Vec<LimboPeerName>,
    #[serde(default)]
    pub max_chain_depth: Option<u32>,
    #[serde(default)]
    pub crls: Vec<String>,
}

fn undetermined() -> String {
    "undetermined".into()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimboPeerName {
    /// `DNS`, `IP` or `RFC822`.
    pub kind: String,
    pub value: String,
}

/// A harness results file: `{"version":1,"harness":..,"results":[..]}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LimboResults {
    pub version: u32,
    pub harness: String,
    pub results: Vec<LimboResult>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LimboResult {
    pub id: String,
    /// `SUCCESS`, `FAILURE` or `SKIPPED`.
    pub actual_result: String,
    pub context: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Conversion between limbo testcases and our `ValidationInput`.

use std::net::IpAddr;
use std::time::SystemTime;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::{PeerName, Usage, ValidationInput};

/// Added to [`ValidationInput::features`] when a limbo case lists several
/// `expected_peer_names`: [`ValidationInput`] holds one peer name, so adapters must skip such a
/// case rather than silently check only one of them.
pub const FEATURE_MULTIPLE_PEER_NAMES: &str = "anchorsmith-multiple-peer-names";

/// A limbo testcase we cannot turn into a [`ValidationInput`]; names the case and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("testcase `{id}`: field `{field}`: {message}")]
pub struct InputError {
    pub id: String,
    pub field: String,
    pub message: String,
}

impl Testcase {
    /// Decodes the PEM, time and enums once, so validators work on DER and typed values.
    pub fn to_input(&self) -> Result<ValidationInput, InputError> {
        let error = |field: String, message: String| InputError {
            id: self.id.clone(),
            field,
            message,
        };
        let certs = |field: &str, pems: &[String]| -> Result<Vec<Vec<u8>>, InputError> {
            pems.iter()
                .enumerate()
                .map(|(index, text)| {
                    pem_der(text, "CERTIFICATE").map_err(|m| error(format!("{field}[{index}]"), m))
                })
                .collect()
        };
        let usage = match self.validation_kind.as_str() {
            "SERVER" => Usage::ServerAuth,
            "CLIENT" => Usage::ClientAuth,
            other => {
                return Err(error(
                    "validation_kind".into(),
                    format!("expected SERVER or CLIENT, got `{other}`"),
                ))
            }
        };
        let validation_time = match &self.validation_time {
            None => None,
            Some(text) => Some(
                OffsetDateTime::parse(text, &Rfc3339)
                    .map(SystemTime::from)
                    .map_err(|e| {
                        error(
                            "validation_time".into(),
                            format!("not an RFC 3339 time `{text}`: {e}"),
                        )
                    })?,
            ),
        };
        let mut features = self.features.clone();
        // limbo's `expected_peer_names` (CLIENT cases) names what the peer must present; with a
        // single entry it means the same as `expected_peer_name`.
        let peer_name_source = match (
            &self.expected_peer_name,
            self.expected_peer_names.as_slice(),
        ) {
            (Some(name), []) => Some(("expected_peer_name".to_string(), name)),
            (None, [only]) => Some(("expected_peer_names[0]".to_string(), only)),
            (None, []) => None,
            (Some(name), _) | (None, [name, ..]) => {
                features.push(FEATURE_MULTIPLE_PEER_NAMES.to_string());
                Some(("expected_peer_name".to_string(), name))
            }
        };
        let expected_peer_name = match peer_name_source {
            None => None,
            Some((field, name)) => Some(peer_name(name).map_err(|m| error(field, m))?),
        };
        let crls = self
            .crls
            .iter()
            .enumerate()
            .map(|(index, text)| {
                pem_der(text, "X509 CRL").map_err(|m| error(format!("crls[{index}]"), m))
            })
            .collect::<Result<_, _>>()?;
        Ok(ValidationInput {
            id: self.id.clone(),
            trust_anchors: certs("trusted_certs", &self.trusted_certs)?,
            served_chain: certs("untrusted_intermediates", &self.untrusted_intermediates)?,
            peer: pem_der(&self.peer_certificate, "CERTIFICATE")
                .map_err(|m| error("peer_certificate".into(), m))?,
            cached: Vec::new(),
            aia_repository: Vec::new(),
            validation_time,
            expected_peer_name,
            usage,
            extended_key_usage: self.extended_key_usage.clone(),
            key_usage: self.key_usage.clone(),
            signature_algorithms: self.signature_algorithms.clone(),
            max_chain_depth: self.max_chain_depth,
            features,
            crls,
        })
    }
}

/// The limbo testcase for `input`, to feed external harnesses or export a corpus.
///
/// Limbo has no notion of a client's intermediate cache, so `cached` certificates follow the
/// served ones in `untrusted_intermediates` — the same order our in-process adapters offer them
/// to their path builders. AIA repositories cannot be expressed and are left out.
pub fn testcase_from_input(
    input: &ValidationInput,
    expected_result: &str,
    description: &str,
) -> Testcase {
    let cert_pems = |ders: &[Vec<u8>]| ders.iter().map(|d| der_pem(d, "CERTIFICATE")).collect();
    let mut untrusted_intermediates: Vec<String> = cert_pems(&input.served_chain);
    untrusted_intermediates.extend(input.cached.iter().map(|d| der_pem(d, "CERTIFICATE")));
    Testcase {
        id: input.id.clone(),
        conflicts_with: Vec::new(),
        features: input
            .features
            .iter()
            .filter(|f| f.as_str() != FEATURE_MULTIPLE_PEER_NAMES)
            .cloned()
            .collect(),
        importance: undetermined(),
        description: description.to_string(),
        validation_kind: match input.usage {
            Usage::ServerAuth => "SERVER".into(),
            Usage::ClientAuth => "CLIENT".into(),
        },
        trusted_certs: cert_pems(&input.trust_anchors),
        untrusted_intermediates,
        peer_certificate: der_pem(&input.peer, "CERTIFICATE"),
        peer_certificate_key: None,
        validation_time: input.validation_time.map(rfc3339),
        signature_algorithms: input.signature_algorithms.clone(),
        key_usage: input.key_usage.clone(),
        extended_key_usage: input.extended_key_usage.clone(),
        expected_result: expected_result.to_string(),
        expected_peer_name: input.expected_peer_name.as_ref().map(limbo_peer_name),
        expected_peer_names: Vec::new(),
        max_chain_depth: input.max_chain_depth,
        crls: input.crls.iter().map(|d| der_pem(d, "X509 CRL")).collect(),
    }
}

/// RFC 3339 in UTC with a `Z`, second precision when the time has no fraction.
pub fn rfc3339(time: SystemTime) -> String {
    OffsetDateTime::from(time)
        .format(&Rfc3339)
        .expect("every SystemTime after year 0 formats as RFC 3339")
}

fn peer_name(name: &LimboPeerName) -> Result<PeerName, String> {
    match name.kind.as_str() {
        "DNS" => Ok(PeerName::Dns(name.value.clone())),
        "IP" => name
            .value
            .parse::<IpAddr>()
            .map(PeerName::Ip)
            .map_err(|e| format!("not an IP address `{}`: {e}", name.value)),
        "RFC822" => Ok(PeerName::Rfc822(name.value.clone())),
        other => Err(format!("kind must be DNS, IP or RFC822, got `{other}`")),
    }
}

fn limbo_peer_name(name: &PeerName) -> LimboPeerName {
    let (kind, value) = match name {
        PeerName::Dns(value) => ("DNS", value.clone()),
        PeerName::Ip(address) => ("IP", address.to_string()),
        PeerName::Rfc822(value) => ("RFC822", value.clone()),
    };
    LimboPeerName {
        kind: kind.into(),
        value,
    }
}

fn pem_der(text: &str, expected_tag: &str) -> Result<Vec<u8>, String> {
    let block = pem::parse(text).map_err(|e| format!("not PEM: {e}"))?;
    if block.tag() != expected_tag {
        return Err(format!(
            "PEM label is `{}`, expected `{expected_tag}`",
            block.tag()
        ));
    }
    Ok(block.into_contents())
}

/// PEM with LF line endings, so exports are byte-identical on every platform.
fn der_pem(der: &[u8], tag: &str) -> String {
    pem::encode_config(
        &pem::Pem::new(tag, der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

#[cfg(test)]
mod conversion_tests {
    use super::*;

    fn core_suite() -> Limbo {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/limbo/limbo-core.json"),
        )
        .expect("limbo-core.json is part of the shared material");
        serde_json::from_str(&text).expect("limbo-core.json parses")
    }

    #[test]
    fn every_core_case_converts_and_round_trips() {
        for case in core_suite().testcases {
            let input = case.to_input().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                input.peer,
                pem_der(&case.peer_certificate, "CERTIFICATE").unwrap()
            );
            let back = testcase_from_input(&input, &case.expected_result, &case.description);
            let again = back.to_input().unwrap();
            assert_eq!(again.trust_anchors, input.trust_anchors, "{}", case.id);
            assert_eq!(again.served_chain, input.served_chain, "{}", case.id);
            assert_eq!(again.validation_time, input.validation_time, "{}", case.id);
            assert_eq!(
                again.expected_peer_name, input.expected_peer_name,
                "{}",
                case.id
            );
            assert_eq!(again.usage, input.usage, "{}", case.id);
            assert_eq!(again.crls, input.crls, "{}", case.id);
        }
    }

    #[test]
    fn client_case_takes_its_single_peer_name_and_flags_multiple() {
        let suite = core_suite();
        let find = |id: &str| suite.testcases.iter().find(|c| c.id == id).unwrap();
        let single = find("rfc5280::nc::nc-permits-email-exact")
            .to_input()
            .unwrap();
        assert_eq!(single.usage, Usage::ClientAuth);
        assert_eq!(
            single.expected_peer_name,
            Some(PeerName::Rfc822("foo@example.com".into()))
        );
        let multiple = find("rfc5280::nc::nc-permits-invalid-email-san")
            .to_input()
            .unwrap();
        assert!(multiple
            .features
            .iter()
            .any(|f| f == FEATURE_MULTIPLE_PEER_NAMES));
    }

    #[test]
    fn errors_name_the_case_and_field() {
        let mut case = core_suite().testcases.remove(0);
        case.validation_time = Some("yesterday".into());
        let error = case.to_input().unwrap_err();
        assert_eq!(error.field, "validation_time");
        assert!(error.to_string().contains(&case.id));

        let mut case = core_suite().testcases.remove(0);
        case.untrusted_intermediates.push("garbage".into());
        let index = case.untrusted_intermediates.len() - 1;
        assert_eq!(
            case.to_input().unwrap_err().field,
            format!("untrusted_intermediates[{index}]")
        );

        let mut case = core_suite().testcases.remove(0);
        case.validation_kind = "PEER".into();
        assert_eq!(case.to_input().unwrap_err().field, "validation_kind");
    }
}
