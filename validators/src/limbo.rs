//! The x509-limbo formats: the testcase file (`limbo-schema.json`, `$defs/Limbo`) and the
//! harness results file. Field names and enum spellings follow limbo exactly, so our corpus
//! export and limbo's own suites go through the same code. Every closed set of values is an
//! enum, so a bad value is a parse error that names its place (`testcases[3].expected_result`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::time::SystemTime;

use serde::de::{Deserializer, Error as _, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::{PeerName, Usage, ValidationInput, Verdict};

/// A limbo testcase file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Limbo {
    /// Always 1: the only version limbo has defined.
    #[serde(deserialize_with = "version_one")]
    pub version: u32,
    /// Ids are unique: verdicts are keyed by them.
    #[serde(deserialize_with = "testcases_with_unique_ids")]
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
    pub validation_kind: ValidationKind,
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
    pub expected_result: ExpectedResult,
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

/// limbo's `expected_result`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ExpectedResult {
    Success,
    Failure,
}

/// limbo's `validation_kind`: what the peer certificate is checked for.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ValidationKind {
    /// A client checking a server: [`Usage::ServerAuth`].
    Server,
    /// A server checking a client: [`Usage::ClientAuth`].
    Client,
}

impl From<ValidationKind> for Usage {
    fn from(kind: ValidationKind) -> Usage {
        match kind {
            ValidationKind::Server => Usage::ServerAuth,
            ValidationKind::Client => Usage::ClientAuth,
        }
    }
}

impl From<Usage> for ValidationKind {
    fn from(usage: Usage) -> ValidationKind {
        match usage {
            Usage::ServerAuth => ValidationKind::Server,
            Usage::ClientAuth => ValidationKind::Client,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimboPeerName {
    pub kind: PeerNameKind,
    pub value: String,
}

/// The kind of a limbo peer name.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
)]
pub enum PeerNameKind {
    #[serde(rename = "DNS")]
    #[strum(serialize = "DNS")]
    Dns,
    #[serde(rename = "IP")]
    #[strum(serialize = "IP")]
    Ip,
    #[serde(rename = "RFC822")]
    #[strum(serialize = "RFC822")]
    Rfc822,
}

/// A harness results file: `{"version":1,"harness":..,"results":[..]}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LimboResults {
    /// Always 1.
    #[serde(deserialize_with = "version_one")]
    pub version: u32,
    pub harness: String,
    pub results: Vec<LimboResult>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LimboResult {
    pub id: String,
    pub actual_result: ActualResult,
    pub context: Option<String>,
}

/// limbo's `actual_result`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ActualResult {
    Success,
    Failure,
    Skipped,
    /// Not written by harnesses: limbo's own runner records a harness that timed out this way,
    /// and its published results files carry it (`certvalidator.json.gz` has two).
    Hang,
}

impl LimboResult {
    /// One of our verdicts as a limbo result. A [`Verdict::Error`] becomes `SKIPPED` with an
    /// `error: ...` context: limbo has no error outcome, and an error is no verdict.
    pub fn from_verdict(id: &str, verdict: &Verdict, profile: &str) -> LimboResult {
        let actual_result = match verdict {
            Verdict::Accept { .. } => ActualResult::Success,
            Verdict::Reject { .. } => ActualResult::Failure,
            Verdict::Skip { .. } | Verdict::Error { .. } => ActualResult::Skipped,
        };
        LimboResult {
            id: id.to_string(),
            actual_result,
            context: result_context(verdict, profile),
        }
    }
}

impl LimboResults {
    /// One validator's verdicts (keyed by case id) as a results file, in the order of `ids`;
    /// `harness` names the validator and its version. An id without a verdict is written as an
    /// error, so a results file always answers every case.
    pub fn from_verdicts<S: AsRef<str>>(
        harness: &str,
        profile: &str,
        ids: &[S],
        verdicts: &BTreeMap<String, Verdict>,
    ) -> LimboResults {
        let missing = missing_verdict();
        let results = ids
            .iter()
            .map(|id| {
                let id = id.as_ref();
                LimboResult::from_verdict(id, verdicts.get(id).unwrap_or(&missing), profile)
            })
            .collect();
        LimboResults {
            version: 1,
            harness: harness.to_string(),
            results,
        }
    }
}

/// The verdict that stands for "the runner gave none for this id".
pub fn missing_verdict() -> Verdict {
    Verdict::Error {
        detail: "runner returned no verdict".into(),
    }
}

/// The `context` string of a result: reject kind and native detail, skip reason or error, plus
/// the validator's profile (a knob limbo cannot express) when it has one.
pub fn result_context(verdict: &Verdict, profile: &str) -> Option<String> {
    let base = match verdict {
        Verdict::Accept { chain_built } if chain_built.is_empty() => None,
        Verdict::Accept { chain_built } => Some(format!("chain: {}", chain_built.join(" -> "))),
        Verdict::Reject { kind, detail } => Some(format!("{kind}: {detail}")),
        Verdict::Skip { reason } => Some(reason.clone()),
        Verdict::Error { detail } => Some(format!("error: {detail}")),
    };
    match (base, profile.is_empty()) {
        (base, true) => base,
        (Some(base), false) => Some(format!("{base}; profile: {profile}")),
        (None, false) => Some(format!("profile: {profile}")),
    }
}

fn version_one<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    match u32::deserialize(deserializer)? {
        1 => Ok(1),
        other => Err(D::Error::custom(format!(
            "unsupported limbo version {other} (only version 1 exists)"
        ))),
    }
}

/// The testcases, failing on the first id seen twice. The error names both indices; serde_json
/// locates it where it stopped reading, just after the repeated testcase.
fn testcases_with_unique_ids<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Testcase>, D::Error> {
    struct UniqueIds;
    impl<'de> Visitor<'de> for UniqueIds {
        type Value = Vec<Testcase>;

        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("a list of testcases")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut testcases: Vec<Testcase> = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            let mut first_index: HashMap<String, usize> = HashMap::new();
            while let Some(testcase) = seq.next_element::<Testcase>()? {
                let index = testcases.len();
                if let Some(first) = first_index.insert(testcase.id.clone(), index) {
                    return Err(A::Error::custom(format!(
                        "testcases[{index}] repeats the id `{}` of testcases[{first}]",
                        testcase.id
                    )));
                }
                testcases.push(testcase);
            }
            Ok(testcases)
        }
    }
    deserializer.deserialize_seq(UniqueIds)
}

// ---------------------------------------------------------------------------------------------
// Conversion between limbo testcases and our `ValidationInput`.

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
    /// Decodes the PEM, time and peer name once, so validators work on DER and typed values.
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
            usage: self.validation_kind.into(),
            extended_key_usage: self.extended_key_usage.clone(),
            key_usage: self.key_usage.clone(),
            signature_algorithms: self.signature_algorithms.clone(),
            max_chain_depth: self.max_chain_depth,
            features,
            crls,
            expected_result: Some(self.expected_result),
            peer_key_pem: self.peer_certificate_key.clone(),
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
    expected_result: ExpectedResult,
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
        validation_kind: input.usage.into(),
        trusted_certs: cert_pems(&input.trust_anchors),
        untrusted_intermediates,
        peer_certificate: der_pem(&input.peer, "CERTIFICATE"),
        peer_certificate_key: input.peer_key_pem.clone(),
        validation_time: input.validation_time.map(rfc3339),
        signature_algorithms: input.signature_algorithms.clone(),
        key_usage: input.key_usage.clone(),
        extended_key_usage: input.extended_key_usage.clone(),
        expected_result,
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
    match name.kind {
        PeerNameKind::Dns => Ok(PeerName::Dns(name.value.clone())),
        PeerNameKind::Ip => name
            .value
            .parse::<IpAddr>()
            .map(PeerName::Ip)
            .map_err(|e| format!("not an IP address `{}`: {e}", name.value)),
        PeerNameKind::Rfc822 => Ok(PeerName::Rfc822(name.value.clone())),
    }
}

fn limbo_peer_name(name: &PeerName) -> LimboPeerName {
    let (kind, value) = match name {
        PeerName::Dns(value) => (PeerNameKind::Dns, value.clone()),
        PeerName::Ip(address) => (PeerNameKind::Ip, address.to_string()),
        PeerName::Rfc822(value) => (PeerNameKind::Rfc822, value.clone()),
    };
    LimboPeerName { kind, value }
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
            assert_eq!(input.expected_result, Some(case.expected_result));
            let back = testcase_from_input(&input, case.expected_result, &case.description);
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
    }

    #[test]
    fn bad_enum_values_and_repeated_ids_do_not_parse() {
        let text = |expected: &str, kind: &str, second_id: &str| {
            format!(
                r#"{{"version": 1, "testcases": [{case}, {second}]}}"#,
                case = case_json("a::one", expected, kind),
                second = case_json(second_id, "FAILURE", "SERVER"),
            )
        };
        assert!(serde_json::from_str::<Limbo>(&text("SUCCESS", "SERVER", "a::two")).is_ok());
        for (bad, needle) in [
            (text("MAYBE", "SERVER", "a::two"), "unknown variant `MAYBE`"),
            (text("SUCCESS", "PEER", "a::two"), "unknown variant `PEER`"),
            (
                text("SUCCESS", "SERVER", "a::one"),
                "testcases[1] repeats the id `a::one` of testcases[0]",
            ),
            (
                text("SUCCESS", "SERVER", "a::two").replace("\"version\": 1", "\"version\": 2"),
                "unsupported limbo version 2",
            ),
        ] {
            let error = serde_json::from_str::<Limbo>(&bad).unwrap_err().to_string();
            assert!(error.contains(needle), "{error}");
        }
        let results = r#"{"version": 1, "harness": "h", "results": [
            {"id": "a", "actual_result": "HANG", "context": null},
            {"id": "b", "actual_result": "SKIPPED", "context": "x"}]}"#;
        let parsed: LimboResults = serde_json::from_str(results).unwrap();
        assert_eq!(parsed.results[0].actual_result, ActualResult::Hang);
        assert!(serde_json::from_str::<LimboResults>(&results.replace("HANG", "MAYBE")).is_err());
    }

    fn case_json(id: &str, expected: &str, kind: &str) -> String {
        format!(
            r#"{{"id": "{id}", "description": "d", "validation_kind": "{kind}", "trusted_certs": [],
            "untrusted_intermediates": [], "peer_certificate": "", "signature_algorithms": [],
            "key_usage": [], "extended_key_usage": [], "expected_result": "{expected}",
            "expected_peer_names": [{{"kind": "DNS", "value": "x.example"}}]}}"#
        )
    }

    #[test]
    fn verdicts_become_results_in_id_order_with_kind_detail_and_profile() {
        let verdicts: BTreeMap<String, Verdict> = [
            (
                "a",
                Verdict::Accept {
                    chain_built: vec!["leaf".into(), "root".into()],
                },
            ),
            (
                "b",
                Verdict::Reject {
                    kind: crate::RejectKind::Expired,
                    detail: "error 10".into(),
                },
            ),
            (
                "c",
                Verdict::Skip {
                    reason: "no".into(),
                },
            ),
            (
                "d",
                Verdict::Error {
                    detail: "timeout after 1s".into(),
                },
            ),
        ]
        .into_iter()
        .map(|(id, verdict)| (id.to_string(), verdict))
        .collect();
        let ids = ["d", "c", "b", "a", "missing"];
        let results =
            LimboResults::from_verdicts("openssl", "X509_V_FLAG_PARTIAL_CHAIN", &ids, &verdicts);
        let ids_out: Vec<&str> = results.results.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids_out, ids);
        let outcomes: Vec<ActualResult> = results.results.iter().map(|r| r.actual_result).collect();
        use ActualResult::*;
        assert_eq!(outcomes, [Skipped, Skipped, Failure, Success, Skipped]);
        assert_eq!(
            results.results[2].context.as_deref(),
            Some("expired: error 10; profile: X509_V_FLAG_PARTIAL_CHAIN")
        );
        assert_eq!(
            results.results[0].context.as_deref(),
            Some("error: timeout after 1s; profile: X509_V_FLAG_PARTIAL_CHAIN")
        );
        assert_eq!(
            results.results[4].context.as_deref(),
            Some("error: runner returned no verdict; profile: X509_V_FLAG_PARTIAL_CHAIN")
        );
        let plain = LimboResults::from_verdicts("x", "", &ids, &verdicts);
        assert_eq!(plain.results[1].context.as_deref(), Some("no"));
        assert_eq!(
            plain.results[3].context.as_deref(),
            Some("chain: leaf -> root")
        );
    }
}
