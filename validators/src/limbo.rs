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
