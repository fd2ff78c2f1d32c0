//! Running an x509-limbo suite: load a testcase file (`.json` or `.json.gz`), turn its testcases
//! into [`ValidationInput`]s, and account for what every validator answered — per namespace
//! agreement with `expected_result`, comparison with other harnesses' results files, and the
//! unexpected results grouped by reason.
//!
//! Everything here is pure bookkeeping over verdicts: running the validators is the
//! [`crate::runner`]'s job, printing and writing files is the xtask's. Any limbo file that
//! validates against limbo's schema goes through the same path (limbo's own suites and our corpus
//! export alike).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::limbo::{Limbo, LimboResult, LimboResults, Testcase};
use crate::runner::to_limbo_results_with_profile;
use crate::{ValidationInput, Verdict};

/// Why a suite or results file could not be used. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("{path}: cannot read: {error}")]
    Read {
        path: PathBuf,
        // Not `source`: the message already carries it, and anyhow would print it twice.
        error: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: unsupported limbo version {version} (only version 1 exists)")]
    Version { path: PathBuf, version: u32 },
    #[error("{path}: testcase `{id}`: field `{field}`: {message}")]
    Field {
        path: PathBuf,
        id: String,
        field: &'static str,
        message: String,
    },
}

/// Which suite to run: the two shipped with the project or any limbo file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SuiteSpec {
    Core,
    Full,
    Path(PathBuf),
}

impl SuiteSpec {
    /// `core`, `full`, or a path (relative paths are taken as given, i.e. from the current dir).
    pub fn parse(text: &str) -> SuiteSpec {
        match text {
            "core" => SuiteSpec::Core,
            "full" => SuiteSpec::Full,
            other => SuiteSpec::Path(PathBuf::from(other)),
        }
    }

    /// The file to read. `shared/` sits beside the workspace root.
    pub fn resolve(&self, workspace_root: &Path) -> PathBuf {
        let shared_limbo = workspace_root.join("..").join("shared").join("limbo");
        match self {
            SuiteSpec::Core => shared_limbo.join("limbo-core.json"),
            SuiteSpec::Full => shared_limbo.join("limbo-full.json.gz"),
            SuiteSpec::Path(path) => path.clone(),
        }
    }
}

/// The bytes of a file, gunzipped when it is gzip (by magic number, so a misnamed file still
/// works).
pub fn read_maybe_gzipped(path: &Path) -> Result<Vec<u8>, SuiteError> {
    let read_error = |error| SuiteError::Read {
        path: path.to_path_buf(),
        error,
    };
    let raw = std::fs::read(path).map_err(read_error)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut decoded = Vec::with_capacity(raw.len() * 6);
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut decoded)
            .map_err(read_error)?;
        Ok(decoded)
    } else {
        Ok(raw)
    }
}

fn parse_error(path: &Path, error: &serde_json::Error, context: Option<String>) -> SuiteError {
    // serde appends " at line L column C"; the position is already in our prefix.
    let full = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    let serde_message = full.strip_suffix(&position).unwrap_or(&full);
    let message = match context {
        Some(context) => format!("{context}: {serde_message}"),
        None => serde_message.to_string(),
    };
    SuiteError::Parse {
        path: path.to_path_buf(),
        line: error.line(),
        column: error.column(),
        message,
    }
}

/// The JSON key whose value holds the position serde stopped at: the last `"key":` before it.
/// A heuristic (limbo values are PEM, names and enums, which never contain `":`), used only to
/// name the field in an error message; serde names missing fields itself.
fn field_at(bytes: &[u8], line: usize, column: usize) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let offset = (line_start + column).min(text.len());
    let before = text.get(..offset)?;
    let colon = before.rfind("\":").or_else(|| before.rfind("\" :"))?;
    let open = before[..colon].rfind('"')?;
    Some(before[open + 1..colon].to_string())
}

/// Parse a limbo testcase file from bytes. On a type error, the failing testcase is located (its
/// index and id) so the message says which testcase and field are wrong, not only where.
pub fn parse_limbo(path: &Path, bytes: &[u8]) -> Result<Limbo, SuiteError> {
    let limbo: Limbo = serde_json::from_slice(bytes).map_err(|error| {
        let testcase = locate_bad_testcase(bytes);
        let field = (error.classify() == serde_json::error::Category::Data
            && !error.to_string().starts_with("missing field"))
        .then(|| field_at(bytes, error.line(), error.column()))
        .flatten();
        let context = match (testcase, field) {
            (Some(testcase), Some(field)) => Some(format!("{testcase}: field `{field}`")),
            (testcase, None) => testcase,
            (None, Some(field)) => Some(format!("field `{field}`")),
        };
        parse_error(path, &error, context)
    })?;
    if limbo.version != 1 {
        return Err(SuiteError::Version {
            path: path.to_path_buf(),
            version: limbo.version,
        });
    }
    for testcase in &limbo.testcases {
        Expected::parse(&testcase.expected_result).map_err(|message| SuiteError::Field {
            path: path.to_path_buf(),
            id: testcase.id.clone(),
            field: "expected_result",
            message,
        })?;
    }
    Ok(limbo)
}

/// Slow path, only on error: re-read the document loosely and find the first testcase that does
/// not deserialize. serde's own message names the field for missing fields; this adds the id.
fn locate_bad_testcase(bytes: &[u8]) -> Option<String> {
    let document: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let testcases = document.get("testcases")?.as_array()?;
    testcases.iter().enumerate().find_map(|(index, testcase)| {
        serde_json::from_value::<Testcase>(testcase.clone())
            .err()
            .map(|_| {
                let id = testcase
                    .get("id")
                    .and_then(|id| id.as_str())
                    .unwrap_or("<no id>");
                format!("testcases[{index}] (id `{id}`)")
            })
    })
}

/// Read and parse a limbo testcase file (`.json` or `.json.gz`).
pub fn load_limbo(path: &Path) -> Result<Limbo, SuiteError> {
    parse_limbo(path, &read_maybe_gzipped(path)?)
}

/// Read and parse a limbo harness results file (`.json` or `.json.gz`).
pub fn load_results(path: &Path) -> Result<LimboResults, SuiteError> {
    let bytes = read_maybe_gzipped(path)?;
    let results: LimboResults =
        serde_json::from_slice(&bytes).map_err(|error| parse_error(path, &error, None))?;
    if results.version != 1 {
        return Err(SuiteError::Version {
            path: path.to_path_buf(),
            version: results.version,
        });
    }
    Ok(results)
}

/// Gives every case whose `validation_time` is null ("now") this fixed time instead. Snapshot
/// tests use it so that their verdicts cannot change with the day they run on.
pub fn pin_now(inputs: &mut [ValidationInput], now: std::time::SystemTime) {
    for input in inputs
        .iter_mut()
        .filter(|input| input.validation_time.is_none())
    {
        input.validation_time = Some(now);
    }
}

/// The namespace of a limbo id: everything before the last `::`, at most two components
/// (`bettertls::pathbuilding::x` → `bettertls::pathbuilding`; our corpus's
/// `root-expiry-long-short::long-chain::store-old::at-2021-10-01` → `root-expiry-long-short::long-chain`).
/// An id without `::` is reported under `(none)`.
pub fn namespace(id: &str) -> &str {
    // limbo's ids have at most three components (`rfc5280::aki::case`); ours have more
    // (`scenario::chain::store-x::at-date`), and a namespace per case would be no grouping at
    // all. So at most the first two components, which is exactly limbo's rule on limbo's ids.
    let Some(end) = id.rfind("::") else {
        return "(none)";
    };
    match id.match_indices("::").nth(1) {
        Some((second, _)) => &id[..second.min(end)],
        None => &id[..end],
    }
}

/// limbo's `expected_result`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Expected {
    Success,
    Failure,
}

impl Expected {
    pub fn parse(text: &str) -> Result<Expected, String> {
        match text {
            "SUCCESS" => Ok(Expected::Success),
            "FAILURE" => Ok(Expected::Failure),
            other => Err(format!("expected SUCCESS or FAILURE, found `{other}`")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Expected::Success => "SUCCESS",
            Expected::Failure => "FAILURE",
        }
    }
}

/// One testcase as the accounting sees it.
#[derive(Clone, Debug)]
pub struct SuiteCase {
    pub id: String,
    pub namespace: String,
    pub expected: Expected,
    /// Why the testcase could not become a [`ValidationInput`]; every validator then gets an
    /// Error verdict for it.
    pub conversion_error: Option<String>,
}

/// A loaded suite: every testcase, and the inputs of those that converted.
#[derive(Clone, Debug)]
pub struct PreparedSuite {
    pub path: PathBuf,
    pub cases: Vec<SuiteCase>,
    /// Inputs of the convertible cases, in suite order (what the runner gets).
    pub inputs: Vec<ValidationInput>,
}

/// Read, parse and convert a suite file.
pub fn load_suite(path: &Path) -> Result<PreparedSuite, SuiteError> {
    let limbo = load_limbo(path)?;
    Ok(PreparedSuite::prepare(path, &limbo))
}

impl PreparedSuite {
    /// Convert every testcase with [`Testcase::to_input`].
    pub fn prepare(path: &Path, limbo: &Limbo) -> PreparedSuite {
        Self::prepare_with(path, limbo, Testcase::to_input)
    }

    /// Convert every testcase with `convert`; a failure is recorded on the case, never fatal.
    pub fn prepare_with<F, E>(path: &Path, limbo: &Limbo, convert: F) -> PreparedSuite
    where
        F: Fn(&Testcase) -> Result<ValidationInput, E> + Sync,
        E: std::fmt::Display + Send,
    {
        use rayon::prelude::*;
        // Decoding ~40,000 PEM blocks is the largest part of loading the full suite: spread it
        // over the cores (results keep the suite's order).
        let converted: Vec<Result<ValidationInput, E>> =
            limbo.testcases.par_iter().map(&convert).collect();
        let mut cases = Vec::with_capacity(limbo.testcases.len());
        let mut inputs = Vec::with_capacity(limbo.testcases.len());
        for (testcase, conversion) in limbo.testcases.iter().zip(converted) {
            let conversion_error = match conversion {
                Ok(input) => {
                    inputs.push(input);
                    None
                }
                Err(error) => Some(format!("cannot convert testcase: {error}")),
            };
            cases.push(SuiteCase {
                id: testcase.id.clone(),
                namespace: namespace(&testcase.id).to_string(),
                // parse_limbo has checked every expected_result.
                expected: Expected::parse(&testcase.expected_result).unwrap_or(Expected::Failure),
                conversion_error,
            });
        }
        PreparedSuite {
            path: path.to_path_buf(),
            cases,
            inputs,
        }
    }

    /// Spread the verdicts the runner gave for [`Self::inputs`] over all cases, giving an Error
    /// verdict to each case that did not convert. Returns one verdict per case, in suite order.
    pub fn verdicts_for_all_cases(&self, input_verdicts: Vec<Verdict>) -> Vec<Verdict> {
        let mut input_verdicts = input_verdicts.into_iter();
        self.cases
            .iter()
            .map(|case| match &case.conversion_error {
                Some(detail) => Verdict::Error {
                    detail: detail.clone(),
                },
                None => input_verdicts.next().unwrap_or_else(|| Verdict::Error {
                    detail: "runner returned no verdict".into(),
                }),
            })
            .collect()
    }

    pub fn ids(&self) -> Vec<String> {
        self.cases.iter().map(|case| case.id.clone()).collect()
    }

    /// One validator's verdicts for every case as a limbo results file; `harness` is the
    /// validator's name and version, the profile goes into every context.
    pub fn limbo_results(
        &self,
        harness: &str,
        profile: &str,
        verdicts: &[Verdict],
    ) -> LimboResults {
        to_limbo_results_with_profile(harness, profile, &self.ids(), verdicts)
    }
}

/// How one verdict relates to the expected result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Match,
    UnexpectedSuccess,
    UnexpectedFailure,
    Skipped,
    Error,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Match => "match",
            Outcome::UnexpectedSuccess => "unexpected SUCCESS",
            Outcome::UnexpectedFailure => "unexpected FAILURE",
            Outcome::Skipped => "SKIPPED",
            Outcome::Error => "error",
        }
    }
}

pub fn classify(expected: Expected, verdict: &Verdict) -> Outcome {
    match (verdict, expected) {
        (Verdict::Accept { .. }, Expected::Success)
        | (Verdict::Reject { .. }, Expected::Failure) => Outcome::Match,
        (Verdict::Accept { .. }, Expected::Failure) => Outcome::UnexpectedSuccess,
        (Verdict::Reject { .. }, Expected::Success) => Outcome::UnexpectedFailure,
        (Verdict::Skip { .. }, _) => Outcome::Skipped,
        (Verdict::Error { .. }, _) => Outcome::Error,
    }
}

/// Counts of outcomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub matches: usize,
    pub unexpected_success: usize,
    pub unexpected_failure: usize,
    pub skipped: usize,
    pub errors: usize,
}

impl Tally {
    pub fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Match => self.matches += 1,
            Outcome::UnexpectedSuccess => self.unexpected_success += 1,
            Outcome::UnexpectedFailure => self.unexpected_failure += 1,
            Outcome::Skipped => self.skipped += 1,
            Outcome::Error => self.errors += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.matches
            + self.unexpected_success
            + self.unexpected_failure
            + self.skipped
            + self.errors
    }

    pub fn merge(&mut self, other: &Tally) {
        self.matches += other.matches;
        self.unexpected_success += other.unexpected_success;
        self.unexpected_failure += other.unexpected_failure;
        self.skipped += other.skipped;
        self.errors += other.errors;
    }
}

/// Outcome counts per namespace (sorted) for one validator's verdicts (aligned with `cases`).
pub fn tally_by_namespace(cases: &[SuiteCase], verdicts: &[Verdict]) -> BTreeMap<String, Tally> {
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for (case, verdict) in cases.iter().zip(verdicts) {
        tallies
            .entry(case.namespace.clone())
            .or_default()
            .add(classify(case.expected, verdict));
    }
    tallies
}

/// Sum over namespaces.
pub fn total(tallies: &BTreeMap<String, Tally>) -> Tally {
    let mut sum = Tally::default();
    for tally in tallies.values() {
        sum.merge(tally);
    }
    sum
}

/// The agreement table: one block per validator (in the given order), one row per namespace
/// (sorted) and a total. Plain text with fixed-width columns so it reads in a terminal and diffs
/// cleanly in a snapshot; no timings or versions in it.
pub fn render_agreement_table(per_validator: &[(String, BTreeMap<String, Tally>)]) -> String {
    let namespace_width = per_validator
        .iter()
        .flat_map(|(_, tallies)| tallies.keys().map(|namespace| namespace.len()))
        .chain(["namespace".len(), "TOTAL".len()])
        .max()
        .unwrap_or(0);
    let validator_width = per_validator
        .iter()
        .map(|(name, _)| name.len())
        .chain(["validator".len()])
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    let header = format!(
        "{:<vw$}  {:<nw$}  {:>6}  {:>6}  {:>13}  {:>13}  {:>7}  {:>6}",
        "validator",
        "namespace",
        "cases",
        "match",
        "unexp SUCCESS",
        "unexp FAILURE",
        "SKIPPED",
        "errors",
        vw = validator_width,
        nw = namespace_width
    );
    let _ = writeln!(out, "{header}");
    let _ = writeln!(out, "{}", "-".repeat(header.len()));
    for (name, tallies) in per_validator {
        let total_row = total(tallies);
        let rows = tallies
            .iter()
            .map(|(namespace, tally)| (namespace.as_str(), tally))
            .chain([("TOTAL", &total_row)]);
        for (namespace, tally) in rows {
            let _ = writeln!(
                out,
                "{:<vw$}  {:<nw$}  {:>6}  {:>6}  {:>13}  {:>13}  {:>7}  {:>6}",
                name,
                namespace,
                tally.total(),
                tally.matches,
                tally.unexpected_success,
                tally.unexpected_failure,
                tally.skipped,
                tally.errors,
                vw = validator_width,
                nw = namespace_width
            );
        }
    }
    out
}

/// limbo's `actual_result` for one of our verdicts. An Error has no limbo spelling; in results
/// files it is written as SKIPPED with an `error:` context (see [`result_context`]), but in
/// comparisons it stays `ERROR` so it never counts as agreeing with anyone.
pub fn actual_result(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Accept { .. } => "SUCCESS",
        Verdict::Reject { .. } => "FAILURE",
        Verdict::Skip { .. } => "SKIPPED",
        Verdict::Error { .. } => "ERROR",
    }
}

/// The `context` string of a result: reject kind and native detail, skip reason or error, plus
/// the validator's profile (a knob limbo cannot express) when it has one.
pub fn result_context(verdict: &Verdict, profile: &str) -> Option<String> {
    let base = match verdict {
        Verdict::Accept { chain_built } if chain_built.is_empty() => None,
        Verdict::Accept { chain_built } => Some(format!("chain: {}", chain_built.join(" -> "))),
        Verdict::Reject { kind, detail } => Some(format!("{}: {detail}", kind.as_str())),
        Verdict::Skip { reason } => Some(reason.clone()),
        Verdict::Error { detail } => Some(format!("error: {detail}")),
    };
    match (base, profile.is_empty()) {
        (base, true) => base,
        (Some(base), false) => Some(format!("{base}; profile: {profile}")),
        (None, false) => Some(format!("profile: {profile}")),
    }
}

/// One of our validators' verdicts, named, for comparison and reports.
#[derive(Clone, Debug)]
pub struct ValidatorVerdicts<'a> {
    pub name: &'a str,
    pub profile: &'a str,
    pub verdicts: &'a [Verdict],
}

/// A case where our verdict and another harness's differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disagreement {
    pub id: String,
    pub expected: Expected,
    pub ours: String,
    pub ours_context: Option<String>,
    /// `MISSING` when their file has no result for the id.
    pub theirs: String,
    pub theirs_context: Option<String>,
}

/// Our validator against one other harness's results file.
#[derive(Clone, Debug)]
pub struct Comparison {
    pub ours: String,
    pub theirs: String,
    pub theirs_file: PathBuf,
    pub agree: usize,
    pub disagreements: Vec<Disagreement>,
    /// (ours, theirs) actual results → count, for the summary.
    pub by_pair: BTreeMap<(String, String), usize>,
    /// Ids in their file that are not in our suite (ignored).
    pub extra_in_theirs: usize,
    /// A profile mismatch the reader must know about, e.g. limbo's OpenSSL harness flags.
    pub caveat: Option<String>,
}

impl Comparison {
    pub fn disagree(&self) -> usize {
        self.disagreements.len()
    }
}

/// Limbo's C++ OpenSSL harness sets X509_V_FLAG_X509_STRICT and X509_V_FLAG_PARTIAL_CHAIN together;
/// none of our OpenSSL profiles does, so part of any difference is configuration, not library.
pub fn profile_caveat(ours: &ValidatorVerdicts, theirs_harness: &str) -> Option<String> {
    if !theirs_harness.to_ascii_lowercase().contains("openssl") {
        return None;
    }
    let our_profile = if ours.profile.is_empty() {
        "no flags"
    } else {
        ours.profile
    };
    Some(format!(
        "`{theirs_harness}` is limbo's OpenSSL harness, which runs with X509_V_FLAG_X509_STRICT and \
         X509_V_FLAG_PARTIAL_CHAIN together; `{}` runs with {our_profile}. None of our profiles is \
         exactly limbo's, so some differences below are configuration differences, not library ones.",
        ours.name
    ))
}

/// Compare our verdicts (aligned with `cases`) with another harness's results, case by case.
pub fn compare(
    cases: &[SuiteCase],
    ours: &ValidatorVerdicts,
    theirs: &LimboResults,
    theirs_file: &Path,
) -> Comparison {
    let their_results: HashMap<&str, &LimboResult> = theirs
        .results
        .iter()
        .map(|result| (result.id.as_str(), result))
        .collect();
    let mut agree = 0;
    let mut disagreements = Vec::new();
    let mut by_pair: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (case, verdict) in cases.iter().zip(ours.verdicts) {
        let ours_actual = actual_result(verdict);
        let their_result = their_results.get(case.id.as_str());
        let theirs_actual = their_result.map_or("MISSING", |result| result.actual_result.as_str());
        *by_pair
            .entry((ours_actual.to_string(), theirs_actual.to_string()))
            .or_default() += 1;
        if ours_actual == theirs_actual {
            agree += 1;
        } else {
            disagreements.push(Disagreement {
                id: case.id.clone(),
                expected: case.expected,
                ours: ours_actual.to_string(),
                ours_context: result_context(verdict, ""),
                theirs: theirs_actual.to_string(),
                theirs_context: their_result.and_then(|result| result.context.clone()),
            });
        }
    }
    let our_ids: std::collections::HashSet<&str> =
        cases.iter().map(|case| case.id.as_str()).collect();
    let extra_in_theirs = theirs
        .results
        .iter()
        .filter(|result| !our_ids.contains(result.id.as_str()))
        .count();
    Comparison {
        ours: ours.name.to_string(),
        theirs: theirs.harness.clone(),
        theirs_file: theirs_file.to_path_buf(),
        agree,
        disagreements,
        by_pair,
        extra_in_theirs,
        caveat: profile_caveat(ours, &theirs.harness),
    }
}

/// A short summary line per comparison, for the terminal.
pub fn render_comparison_summary(comparisons: &[Comparison]) -> String {
    let mut out = String::new();
    for comparison in comparisons {
        let pairs: Vec<String> = comparison
            .by_pair
            .iter()
            .filter(|((ours, theirs), _)| ours != theirs)
            .map(|((ours, theirs), count)| format!("{ours}/{theirs} {count}"))
            .collect();
        let _ = writeln!(
            out,
            "{} vs {}: agree {}, disagree {}{}{}",
            comparison.ours,
            comparison.theirs,
            comparison.agree,
            comparison.disagree(),
            if pairs.is_empty() {
                String::new()
            } else {
                format!(" (ours/theirs: {})", pairs.join(", "))
            },
            if comparison.extra_in_theirs > 0 {
                format!(
                    "; {} of their ids are not in this suite",
                    comparison.extra_in_theirs
                )
            } else {
                String::new()
            },
        );
        if let Some(caveat) = &comparison.caveat {
            let _ = writeln!(out, "  note: {caveat}");
        }
    }
    out
}

fn markdown_cell(text: Option<&str>) -> String {
    text.unwrap_or("").replace('|', "\\|").replace('\n', " ")
}

/// `compare.md`: per pair, the counts, the caveat and every differing case with both contexts.
pub fn render_compare_markdown(suite_name: &str, comparisons: &[Comparison]) -> String {
    let mut out = format!("# limbo comparison: {suite_name}\n\n");
    for comparison in comparisons {
        let _ = writeln!(out, "## {} vs {}\n", comparison.ours, comparison.theirs);
        let _ = writeln!(
            out,
            "Their file: `{}`. Agree: {}. Disagree: {}.\n",
            comparison.theirs_file.display(),
            comparison.agree,
            comparison.disagree()
        );
        if let Some(caveat) = &comparison.caveat {
            let _ = writeln!(out, "> Note: {caveat}\n");
        }
        if comparison.disagreements.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "| id | expected | ours | our context | theirs | their context |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for row in &comparison.disagreements {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                row.id,
                row.expected.as_str(),
                row.ours,
                markdown_cell(row.ours_context.as_deref()),
                row.theirs,
                markdown_cell(row.theirs_context.as_deref()),
            );
        }
        out.push('\n');
    }
    out
}

/// The reason an unexpected result happened, for grouping: the reject kind with the native
/// error's name, the skip reason, or the error. Case-specific tails (names, depths, subjects) are
/// cut so equal causes fall into one group.
pub fn reason(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Accept { .. } => "accepted".to_string(),
        Verdict::Reject { kind, detail } => format!("{}: {}", kind.as_str(), native_head(detail)),
        Verdict::Skip { reason } => format!("skip: {reason}"),
        Verdict::Error { detail } => format!("error: {}", native_head(detail)),
    }
}

/// The stable head of a native message: up to the first structural punctuation that starts
/// case-specific data (`(` or `{` of a Rust Debug value, `;`, a newline). OpenSSL details read
/// `error 47 at depth 0 (subject): message`; the depth and subject are dropped, the code and
/// message kept.
pub fn native_head(detail: &str) -> String {
    let detail = drop_depth_and_subject(detail);
    let cut = ["(", "{", ";", "\n"]
        .iter()
        .filter_map(|marker| detail.find(marker))
        .min()
        .unwrap_or(detail.len());
    let head = detail[..cut].trim();
    let head = if head.is_empty() { detail.trim() } else { head };
    head.chars().take(120).collect()
}

/// `error 47 at depth 0 (a.example): permitted subtree violation` →
/// `error 47: permitted subtree violation`.
fn drop_depth_and_subject(detail: &str) -> std::borrow::Cow<'_, str> {
    let Some(at_depth) = detail.find(" at depth ") else {
        return detail.into();
    };
    let tail = &detail[at_depth..];
    match tail
        .rfind("): ")
        .or_else(|| tail.find(": ").map(|colon| colon.saturating_sub(1)))
    {
        Some(end) => format!("{}: {}", &detail[..at_depth], &tail[end + 3..]).into(),
        None => detail[..at_depth].to_string().into(),
    }
}

/// A group of unexpected results of one validator that share an outcome and a reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DifferenceGroup {
    pub outcome: Outcome,
    pub reason: String,
    pub ids: Vec<String>,
}

/// Every unexpected result (not a match) of one validator, grouped by (outcome, reason); groups
/// ordered by outcome, then size (largest first), then reason; ids in suite order.
pub fn group_differences(cases: &[SuiteCase], verdicts: &[Verdict]) -> Vec<DifferenceGroup> {
    let mut groups: BTreeMap<(Outcome, String), Vec<String>> = BTreeMap::new();
    for (case, verdict) in cases.iter().zip(verdicts) {
        let outcome = classify(case.expected, verdict);
        if outcome != Outcome::Match {
            groups
                .entry((outcome, reason(verdict)))
                .or_default()
                .push(case.id.clone());
        }
    }
    let mut groups: Vec<DifferenceGroup> = groups
        .into_iter()
        .map(|((outcome, reason), ids)| DifferenceGroup {
            outcome,
            reason,
            ids,
        })
        .collect();
    groups.sort_by(|a, b| {
        a.outcome
            .cmp(&b.outcome)
            .then(b.ids.len().cmp(&a.ids.len()))
            .then_with(|| a.reason.cmp(&b.reason))
    });
    groups
}

/// `differences.md`: per validator, its unexpected results grouped by reason.
pub fn render_differences_markdown(
    suite_name: &str,
    per_validator: &[(String, Vec<DifferenceGroup>)],
) -> String {
    let mut out = format!("# limbo differences: {suite_name}\n\n");
    out.push_str(
        "Every case whose result is not the expected one (unexpected SUCCESS or FAILURE, SKIPPED, or \
         error), per validator, grouped by reason.\n\n",
    );
    for (name, groups) in per_validator {
        let count: usize = groups.iter().map(|group| group.ids.len()).sum();
        let _ = writeln!(
            out,
            "## {name}\n\n{count} unexpected results in {} groups.\n",
            groups.len()
        );
        for group in groups {
            let _ = writeln!(
                out,
                "### {} — {} ({})\n",
                group.outcome.label(),
                group.reason,
                group.ids.len()
            );
            for id in &group.ids {
                let _ = writeln!(out, "- `{id}`");
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RejectKind;

    fn case(id: &str, expected: Expected) -> SuiteCase {
        SuiteCase {
            id: id.into(),
            namespace: namespace(id).into(),
            expected,
            conversion_error: None,
        }
    }

    fn accept() -> Verdict {
        Verdict::Accept {
            chain_built: vec![],
        }
    }

    fn reject(kind: RejectKind, detail: &str) -> Verdict {
        Verdict::Reject {
            kind,
            detail: detail.into(),
        }
    }

    #[test]
    fn namespace_is_at_most_two_components_before_the_last_separator() {
        assert_eq!(
            namespace("bettertls::pathbuilding::x"),
            "bettertls::pathbuilding"
        );
        assert_eq!(namespace("rfc5280::ee-critical-aia-invalid"), "rfc5280");
        assert_eq!(namespace("a::b::c::d"), "a::b");
        assert_eq!(namespace("a::b::c"), "a::b");
        assert_eq!(namespace("lonely"), "(none)");
    }

    #[test]
    fn classify_covers_every_combination() {
        assert_eq!(classify(Expected::Success, &accept()), Outcome::Match);
        assert_eq!(
            classify(Expected::Failure, &reject(RejectKind::Expired, "")),
            Outcome::Match
        );
        assert_eq!(
            classify(Expected::Failure, &accept()),
            Outcome::UnexpectedSuccess
        );
        assert_eq!(
            classify(Expected::Success, &reject(RejectKind::Other, "")),
            Outcome::UnexpectedFailure
        );
        assert_eq!(
            classify(Expected::Success, &Verdict::Skip { reason: "x".into() }),
            Outcome::Skipped
        );
        assert_eq!(
            classify(Expected::Failure, &Verdict::Error { detail: "x".into() }),
            Outcome::Error
        );
    }

    #[test]
    fn tallies_count_per_namespace_and_total() {
        let cases = vec![
            case("a::one", Expected::Success),
            case("a::two", Expected::Failure),
            case("b::c::three", Expected::Failure),
            case("b::c::four", Expected::Success),
        ];
        let verdicts = vec![
            accept(),
            accept(),
            reject(RejectKind::UnknownIssuer, "UnknownIssuer"),
            Verdict::Error {
                detail: "timeout after 10s".into(),
            },
        ];
        let tallies = tally_by_namespace(&cases, &verdicts);
        assert_eq!(tallies.keys().collect::<Vec<_>>(), ["a", "b::c"]);
        assert_eq!(
            tallies["a"],
            Tally {
                matches: 1,
                unexpected_success: 1,
                ..Tally::default()
            }
        );
        assert_eq!(
            tallies["b::c"],
            Tally {
                matches: 1,
                errors: 1,
                ..Tally::default()
            }
        );
        assert_eq!(total(&tallies).total(), 4);
        let table = render_agreement_table(&[("webpki".into(), tallies)]);
        assert!(table.contains("TOTAL"), "{table}");
        let total_line = table.lines().find(|line| line.contains("TOTAL")).unwrap();
        let numbers: Vec<&str> = total_line.split_whitespace().skip(2).collect();
        assert_eq!(numbers, ["4", "2", "1", "0", "0", "1"]);
    }

    #[test]
    fn unconverted_cases_get_error_verdicts_in_place() {
        let limbo: Limbo =
            serde_json::from_str(&limbo_json(&["x::ok", "x::bad", "x::ok2"])).unwrap();
        let suite = PreparedSuite::prepare_with(Path::new("t.json"), &limbo, |testcase| {
            if testcase.id == "x::bad" {
                Err("bad PEM")
            } else {
                Ok(dummy_input(&testcase.id))
            }
        });
        assert_eq!(suite.inputs.len(), 2);
        let verdicts =
            suite.verdicts_for_all_cases(vec![accept(), reject(RejectKind::Other, "no")]);
        assert_eq!(verdicts[0], accept());
        assert!(matches!(&verdicts[1], Verdict::Error { detail } if detail.contains("bad PEM")));
        assert_eq!(verdicts[2], reject(RejectKind::Other, "no"));
    }

    #[test]
    fn compare_counts_agreement_and_lists_differences() {
        let cases = vec![
            case("n::a", Expected::Success),
            case("n::b", Expected::Failure),
            case("n::c", Expected::Failure),
            case("n::d", Expected::Failure),
        ];
        let verdicts = vec![
            accept(),
            accept(),
            reject(RejectKind::Expired, "CertExpired"),
            Verdict::Error { detail: "x".into() },
        ];
        let theirs = LimboResults {
            version: 1,
            harness: "openssl-3.0.19".into(),
            results: vec![
                LimboResult {
                    id: "n::a".into(),
                    actual_result: "SUCCESS".into(),
                    context: None,
                },
                LimboResult {
                    id: "n::b".into(),
                    actual_result: "FAILURE".into(),
                    context: Some("bad".into()),
                },
                LimboResult {
                    id: "n::d".into(),
                    actual_result: "FAILURE".into(),
                    context: None,
                },
                LimboResult {
                    id: "other::z".into(),
                    actual_result: "FAILURE".into(),
                    context: None,
                },
            ],
        };
        let ours = ValidatorVerdicts {
            name: "openssl",
            profile: "",
            verdicts: &verdicts,
        };
        let comparison = compare(&cases, &ours, &theirs, Path::new("r.json"));
        assert_eq!(comparison.agree, 1);
        let ids: Vec<&str> = comparison
            .disagreements
            .iter()
            .map(|row| row.id.as_str())
            .collect();
        assert_eq!(ids, ["n::b", "n::c", "n::d"]);
        assert_eq!(comparison.disagreements[1].theirs, "MISSING");
        assert_eq!(comparison.disagreements[2].ours, "ERROR");
        assert_eq!(comparison.extra_in_theirs, 1);
        assert!(comparison
            .caveat
            .as_deref()
            .unwrap()
            .contains("PARTIAL_CHAIN"));
        let markdown = render_compare_markdown("t", &[comparison]);
        assert!(
            markdown.contains("| n::b | FAILURE | SUCCESS |  | FAILURE | bad |"),
            "{markdown}"
        );
    }

    #[test]
    fn no_caveat_against_other_libraries() {
        let ours = ValidatorVerdicts {
            name: "rustls-webpki",
            profile: "",
            verdicts: &[],
        };
        assert_eq!(profile_caveat(&ours, "rustls-webpki"), None);
    }

    #[test]
    fn differences_group_by_outcome_and_reason() {
        let cases = vec![
            case("n::a", Expected::Success),
            case("n::b", Expected::Success),
            case("n::c", Expected::Success),
            case("n::d", Expected::Failure),
            case("n::e", Expected::Failure),
            case("n::f", Expected::Failure),
        ];
        let verdicts = vec![
            reject(RejectKind::UnknownIssuer, "UnknownIssuer"),
            reject(
                RejectKind::NameMismatch,
                "CertNotValidForName(InvalidCertificateForName { a: 1 })",
            ),
            reject(RejectKind::UnknownIssuer, "UnknownIssuer"),
            accept(),
            Verdict::Skip {
                reason: "CRLs unsupported".into(),
            },
            reject(RejectKind::Other, "x"),
        ];
        let groups = group_differences(&cases, &verdicts);
        assert_eq!(
            groups,
            vec![
                DifferenceGroup {
                    outcome: Outcome::UnexpectedSuccess,
                    reason: "accepted".into(),
                    ids: vec!["n::d".into()]
                },
                DifferenceGroup {
                    outcome: Outcome::UnexpectedFailure,
                    reason: "unknown-issuer: UnknownIssuer".into(),
                    ids: vec!["n::a".into(), "n::c".into()]
                },
                DifferenceGroup {
                    outcome: Outcome::UnexpectedFailure,
                    reason: "name-mismatch: CertNotValidForName".into(),
                    ids: vec!["n::b".into()]
                },
                DifferenceGroup {
                    outcome: Outcome::Skipped,
                    reason: "skip: CRLs unsupported".into(),
                    ids: vec!["n::e".into()]
                },
            ]
        );
        let markdown = render_differences_markdown("t", &[("webpki".into(), groups)]);
        assert!(
            markdown.contains("### unexpected FAILURE — unknown-issuer: UnknownIssuer (2)"),
            "{markdown}"
        );
    }

    #[test]
    fn parse_errors_name_file_position_and_testcase() {
        let mut bad = limbo_json(&["x::one", "x::two"]);
        // Break the second testcase's validation_kind type.
        let second = bad.rfind("\"validation_kind\": \"SERVER\"").unwrap();
        bad.replace_range(
            second..second + "\"validation_kind\": \"SERVER\"".len(),
            "\"validation_kind\": 5",
        );
        let error = parse_limbo(Path::new("suite.json"), bad.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("suite.json:"), "{error}");
        assert!(
            error.contains("testcases[1] (id `x::two`): field `validation_kind`: invalid type"),
            "{error}"
        );
        assert!(!error.contains(" at line "), "position given once: {error}");
        let missing = parse_limbo(
            Path::new("m.json"),
            br#"{"version":1,"testcases":[{"id":"a::b"}]}"#,
        )
        .unwrap_err();
        assert!(missing.to_string().contains("missing field"), "{missing}");
        let version =
            parse_limbo(Path::new("v.json"), br#"{"version":2,"testcases":[]}"#).unwrap_err();
        assert!(matches!(version, SuiteError::Version { version: 2, .. }));
    }

    #[test]
    fn bad_expected_result_names_the_field() {
        let json = limbo_json(&["x::one"]).replace("\"SUCCESS\"", "\"MAYBE\"");
        let error = parse_limbo(Path::new("e.json"), json.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`x::one`") && error.contains("expected_result"),
            "{error}"
        );
    }

    #[test]
    fn gzipped_and_plain_files_read_alike() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let json = limbo_json(&["x::one"]);
        let plain = dir.path().join("s.json");
        std::fs::write(&plain, &json).unwrap();
        let gzipped = dir.path().join("s.json.gz");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(json.as_bytes()).unwrap();
        std::fs::write(&gzipped, encoder.finish().unwrap()).unwrap();
        assert_eq!(load_limbo(&plain).unwrap().testcases[0].id, "x::one");
        assert_eq!(load_limbo(&gzipped).unwrap().testcases[0].id, "x::one");
        let missing = load_limbo(&dir.path().join("nope.json"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("nope.json: cannot read"), "{missing}");
    }

    #[test]
    fn suite_spec_resolves_shipped_suites() {
        let root = Path::new("/w/main");
        assert_eq!(
            SuiteSpec::parse("core").resolve(root),
            Path::new("/w/main/../shared/limbo/limbo-core.json")
        );
        assert_eq!(
            SuiteSpec::parse("full").resolve(root),
            Path::new("/w/main/../shared/limbo/limbo-full.json.gz")
        );
        assert_eq!(
            SuiteSpec::parse("x/y.json").resolve(root),
            Path::new("x/y.json")
        );
    }

    #[test]
    fn native_head_cuts_case_specific_tails() {
        assert_eq!(
            native_head("CertNotValidForName(InvalidCertificateForName { x })"),
            "CertNotValidForName"
        );
        assert_eq!(
            native_head("error 47 at depth 0 (a.example (x)): permitted subtree violation"),
            "error 47: permitted subtree violation"
        );
        assert_eq!(
            native_head("error 10 at depth 1: certificate has expired"),
            "error 10: certificate has expired"
        );
        assert_eq!(native_head("UnknownIssuer"), "UnknownIssuer");
    }

    fn limbo_json(ids: &[&str]) -> String {
        let testcases: Vec<String> = ids
            .iter()
            .map(|id| {
                format!(
                    r#"{{"id": "{id}", "description": "d", "validation_kind": "SERVER", "trusted_certs": [],
                    "untrusted_intermediates": [], "peer_certificate": "", "signature_algorithms": [],
                    "key_usage": [], "extended_key_usage": [], "expected_result": "SUCCESS",
                    "expected_peer_names": []}}"#
                )
            })
            .collect();
        format!(
            "{{\"version\": 1, \"testcases\": [\n{}\n]}}",
            testcases.join(",\n")
        )
    }

    fn dummy_input(id: &str) -> ValidationInput {
        ValidationInput {
            id: id.into(),
            trust_anchors: vec![],
            served_chain: vec![],
            peer: vec![],
            cached: vec![],
            aia_repository: vec![],
            validation_time: None,
            expected_peer_name: None,
            usage: crate::Usage::ServerAuth,
            extended_key_usage: vec![],
            key_usage: vec![],
            signature_algorithms: vec![],
            max_chain_depth: None,
            features: vec![],
            crls: vec![],
        }
    }
}
