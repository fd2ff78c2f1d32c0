//! Running an x509-limbo suite: load a testcase file (`.json` or `.json.gz`), turn its testcases
//! into [`ValidationInput`]s, and account for what every validator answered.
//!
//! One module per job, in data-flow order:
//! - [`load`]: read (gunzip) and parse suite and results files; bad input becomes a located
//!   [`anchorsmith_diagnostics::Diagnostic`];
//! - this module: the [`PreparedSuite`] (the cases as the accounting sees them, and the inputs
//!   the runner gets);
//! - [`tally`]: agreement of each verdict with `expected_result`, per namespace, and the
//!   unexpected results grouped by reason;
//! - [`compare`]: our verdicts against another harness's results file, case by case;
//! - [`render`]: the agreement table, `differences.md` and `compare.md`.
//!
//! Everything here is pure bookkeeping over verdicts, which are keyed by case id: running the
//! validators is the [`crate::runner`]'s job, printing and writing files is the xtask's. Any limbo
//! file that validates against limbo's schema goes through the same path (limbo's own suites and
//! our corpus export alike).

pub mod compare;
pub mod load;
pub mod render;
pub mod tally;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use compare::{compare, Comparison, Disagreement, OurAnswer, TheirAnswer, ValidatorVerdicts};
pub use load::{
    load_limbo, load_results, load_suite, parse_limbo, read_maybe_gzipped, SuiteError, SuiteSpec,
};
pub use render::{
    render_agreement_table, render_compare_markdown, render_comparison_summary,
    render_differences_markdown,
};
pub use tally::{
    classify, group_differences, tally_by_namespace, total, Agreement, DifferenceGroup, Tally,
    ValidatorDifferences,
};

use crate::limbo::{missing_verdict, ExpectedResult, Limbo, LimboResults, Testcase};
use crate::{ValidationInput, Verdict};

/// One testcase as the accounting sees it.
#[derive(Clone, Debug)]
pub struct SuiteCase {
    pub id: String,
    pub namespace: String,
    pub expected: ExpectedResult,
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
                expected: testcase.expected_result,
                conversion_error,
            });
        }
        PreparedSuite {
            path: path.to_path_buf(),
            cases,
            inputs,
        }
    }

    /// A verdict for every case: the runner's verdicts for [`Self::inputs`], and an Error
    /// verdict for each case that did not convert or that the runner gave no verdict for.
    pub fn verdicts_for_all_cases(
        &self,
        mut run_verdicts: BTreeMap<String, Verdict>,
    ) -> BTreeMap<String, Verdict> {
        self.cases
            .iter()
            .map(|case| {
                let verdict = match &case.conversion_error {
                    Some(detail) => Verdict::Error {
                        detail: detail.clone(),
                    },
                    None => run_verdicts
                        .remove(&case.id)
                        .unwrap_or_else(missing_verdict),
                };
                (case.id.clone(), verdict)
            })
            .collect()
    }

    pub fn ids(&self) -> Vec<String> {
        self.cases.iter().map(|case| case.id.clone()).collect()
    }

    /// One validator's verdicts for every case as a limbo results file, in suite order;
    /// `harness` is the validator's name and version, the profile goes into every context.
    pub fn limbo_results(
        &self,
        harness: &str,
        profile: &str,
        verdicts: &BTreeMap<String, Verdict>,
    ) -> LimboResults {
        LimboResults::from_verdicts(harness, profile, &self.ids(), verdicts)
    }
}

/// The verdict for case `id`; an id without one counts as an error.
pub(crate) fn verdict_for<'a>(
    verdicts: &'a BTreeMap<String, Verdict>,
    id: &str,
) -> Cow<'a, Verdict> {
    verdicts
        .get(id)
        .map_or_else(|| Cow::Owned(missing_verdict()), Cow::Borrowed)
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

/// Shared by the tests of the submodules.
#[cfg(test)]
pub(crate) mod test_support {
    use std::collections::BTreeMap;

    use super::{namespace, SuiteCase};
    use crate::limbo::ExpectedResult;
    use crate::{RejectKind, Verdict};

    pub fn case(id: &str, expected: ExpectedResult) -> SuiteCase {
        SuiteCase {
            id: id.into(),
            namespace: namespace(id).into(),
            expected,
            conversion_error: None,
        }
    }

    pub fn accept() -> Verdict {
        Verdict::Accept {
            chain_built: vec![],
        }
    }

    pub fn reject(kind: RejectKind, detail: &str) -> Verdict {
        Verdict::Reject {
            kind,
            detail: detail.into(),
        }
    }

    /// Verdicts keyed by the ids of `cases`, given in the same order.
    pub fn keyed(cases: &[SuiteCase], verdicts: Vec<Verdict>) -> BTreeMap<String, Verdict> {
        assert_eq!(cases.len(), verdicts.len());
        cases
            .iter()
            .map(|case| case.id.clone())
            .zip(verdicts)
            .collect()
    }

    /// A limbo document with one minimal SERVER testcase per id, one testcase per line.
    pub fn limbo_json(ids: &[&str]) -> String {
        let testcases: Vec<String> = ids
            .iter()
            .map(|id| {
                format!(
                    r#"{{"id": "{id}", "description": "d", "validation_kind": "SERVER", "trusted_certs": [], "untrusted_intermediates": [], "peer_certificate": "", "signature_algorithms": [], "key_usage": [], "extended_key_usage": [], "expected_result": "SUCCESS", "expected_peer_names": []}}"#
                )
            })
            .collect();
        format!(
            "{{\"version\": 1, \"testcases\": [\n{}\n]}}",
            testcases.join(",\n")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::RejectKind;

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
    fn unconverted_and_unanswered_cases_get_error_verdicts() {
        let limbo: Limbo =
            serde_json::from_str(&limbo_json(&["x::ok", "x::bad", "x::ok2", "x::lost"])).unwrap();
        let suite = PreparedSuite::prepare_with(Path::new("t.json"), &limbo, |testcase| {
            if testcase.id == "x::bad" {
                Err("bad PEM")
            } else {
                Ok(ValidationInput {
                    id: testcase.id.clone(),
                    ..ValidationInput::default()
                })
            }
        });
        assert_eq!(suite.inputs.len(), 3);
        assert_eq!(suite.cases[0].expected, ExpectedResult::Success);
        let run: BTreeMap<String, Verdict> = [
            ("x::ok2".to_string(), reject(RejectKind::Other, "no")),
            ("x::ok".to_string(), accept()),
        ]
        .into_iter()
        .collect();
        let verdicts = suite.verdicts_for_all_cases(run);
        assert_eq!(verdicts.len(), 4);
        assert_eq!(verdicts["x::ok"], accept());
        assert!(
            matches!(&verdicts["x::bad"], Verdict::Error { detail } if detail.contains("bad PEM"))
        );
        assert_eq!(verdicts["x::ok2"], reject(RejectKind::Other, "no"));
        assert_eq!(verdicts["x::lost"], missing_verdict());
    }
}
