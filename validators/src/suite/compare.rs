//! Our verdicts against another harness's limbo results file, case by case (by id).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use super::{verdict_for, SuiteCase};
use crate::limbo::{result_context, ActualResult, ExpectedResult, LimboResult, LimboResults};
use crate::Verdict;

/// What one of our validators answered, in limbo's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OurAnswer {
    Actual(ActualResult),
    /// The validator failed (panic, timeout, unconvertible case). limbo has no spelling for it;
    /// it never agrees with anyone.
    Error,
}

impl OurAnswer {
    pub fn of(verdict: &Verdict) -> OurAnswer {
        match verdict {
            Verdict::Accept { .. } => OurAnswer::Actual(ActualResult::Success),
            Verdict::Reject { .. } => OurAnswer::Actual(ActualResult::Failure),
            Verdict::Skip { .. } => OurAnswer::Actual(ActualResult::Skipped),
            Verdict::Error { .. } => OurAnswer::Error,
        }
    }
}

/// What the other harness answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TheirAnswer {
    Actual(ActualResult),
    /// Their file has no result for the id.
    Missing,
}

impl fmt::Display for OurAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OurAnswer::Actual(actual) => actual.fmt(f),
            OurAnswer::Error => f.write_str("ERROR"),
        }
    }
}

impl fmt::Display for TheirAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TheirAnswer::Actual(actual) => actual.fmt(f),
            TheirAnswer::Missing => f.write_str("MISSING"),
        }
    }
}

/// Whether two answers are the same limbo result.
pub fn agree(ours: OurAnswer, theirs: TheirAnswer) -> bool {
    matches!((ours, theirs), (OurAnswer::Actual(a), TheirAnswer::Actual(b)) if a == b)
}

/// One of our validators' verdicts (keyed by case id), named, for comparison and reports.
#[derive(Clone, Debug)]
pub struct ValidatorVerdicts<'a> {
    pub name: &'a str,
    pub profile: &'a str,
    pub verdicts: &'a BTreeMap<String, Verdict>,
}

/// A case where our verdict and another harness's differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disagreement {
    pub id: String,
    pub expected: ExpectedResult,
    pub ours: OurAnswer,
    pub ours_context: Option<String>,
    pub theirs: TheirAnswer,
    pub theirs_context: Option<String>,
}

/// Our validator against one other harness's results file.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// Our validator's name.
    pub ours: String,
    /// Their file's `harness`.
    pub theirs: String,
    pub theirs_file: PathBuf,
    pub agree: usize,
    pub disagreements: Vec<Disagreement>,
    /// How often each pair of answers occurred, for the summary.
    pub by_pair: BTreeMap<(OurAnswer, TheirAnswer), usize>,
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

/// Compare our verdicts with another harness's results, case by case, in suite order.
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
    let mut agreeing = 0;
    let mut disagreements = Vec::new();
    let mut by_pair: BTreeMap<(OurAnswer, TheirAnswer), usize> = BTreeMap::new();
    for case in cases {
        let verdict = verdict_for(ours.verdicts, &case.id);
        let our_answer = OurAnswer::of(&verdict);
        let their_result = their_results.get(case.id.as_str());
        let their_answer = their_result.map_or(TheirAnswer::Missing, |r| {
            TheirAnswer::Actual(r.actual_result)
        });
        *by_pair.entry((our_answer, their_answer)).or_default() += 1;
        if agree(our_answer, their_answer) {
            agreeing += 1;
        } else {
            disagreements.push(Disagreement {
                id: case.id.clone(),
                expected: case.expected,
                ours: our_answer,
                ours_context: result_context(&verdict, ""),
                theirs: their_answer,
                theirs_context: their_result.and_then(|result| result.context.clone()),
            });
        }
    }
    let our_ids: HashSet<&str> = cases.iter().map(|case| case.id.as_str()).collect();
    let extra_in_theirs = theirs
        .results
        .iter()
        .filter(|result| !our_ids.contains(result.id.as_str()))
        .count();
    Comparison {
        ours: ours.name.to_string(),
        theirs: theirs.harness.clone(),
        theirs_file: theirs_file.to_path_buf(),
        agree: agreeing,
        disagreements,
        by_pair,
        extra_in_theirs,
        caveat: profile_caveat(ours, &theirs.harness),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::RejectKind;
    use ExpectedResult::{Failure, Success};

    /// Four cases: agree, disagree, missing in theirs, our error; and one extra id of theirs.
    pub fn sample() -> Comparison {
        let cases = vec![
            case("n::a", Success),
            case("n::b", Failure),
            case("n::c", Failure),
            case("n::d", Failure),
        ];
        let verdicts = keyed(
            &cases,
            vec![
                accept(),
                accept(),
                reject(RejectKind::Expired, "CertExpired"),
                Verdict::Error { detail: "x".into() },
            ],
        );
        let result = |id: &str, actual_result, context: Option<&str>| LimboResult {
            id: id.into(),
            actual_result,
            context: context.map(String::from),
        };
        let theirs = LimboResults {
            version: 1,
            harness: "openssl-3.0.19".into(),
            // Not in suite order: matched by id.
            results: vec![
                result("n::d", ActualResult::Failure, None),
                result("n::b", ActualResult::Failure, Some("bad")),
                result("n::a", ActualResult::Success, None),
                result("other::z", ActualResult::Failure, None),
            ],
        };
        let ours = ValidatorVerdicts {
            name: "openssl",
            profile: "",
            verdicts: &verdicts,
        };
        compare(&cases, &ours, &theirs, Path::new("r.json"))
    }

    #[test]
    fn compare_counts_agreement_and_lists_differences_by_id() {
        let comparison = sample();
        assert_eq!(comparison.agree, 1);
        let ids: Vec<&str> = comparison
            .disagreements
            .iter()
            .map(|row| row.id.as_str())
            .collect();
        assert_eq!(ids, ["n::b", "n::c", "n::d"]);
        assert_eq!(
            comparison.disagreements[0].ours,
            OurAnswer::Actual(ActualResult::Success)
        );
        assert_eq!(comparison.disagreements[1].theirs, TheirAnswer::Missing);
        assert_eq!(comparison.disagreements[2].ours, OurAnswer::Error);
        assert_eq!(comparison.extra_in_theirs, 1);
        assert_eq!(
            comparison.by_pair[&(OurAnswer::Error, TheirAnswer::Actual(ActualResult::Failure))],
            1
        );
        assert!(comparison
            .caveat
            .as_deref()
            .unwrap()
            .contains("PARTIAL_CHAIN"));
    }

    #[test]
    fn answers_spell_as_limbo_does_and_only_equal_results_agree() {
        assert_eq!(OurAnswer::Error.to_string(), "ERROR");
        assert_eq!(TheirAnswer::Missing.to_string(), "MISSING");
        assert_eq!(
            TheirAnswer::Actual(ActualResult::Skipped).to_string(),
            "SKIPPED"
        );
        let skipped = ActualResult::Skipped;
        assert!(agree(
            OurAnswer::Actual(skipped),
            TheirAnswer::Actual(skipped)
        ));
        assert!(!agree(OurAnswer::Error, TheirAnswer::Missing));
        assert!(!agree(
            OurAnswer::Actual(ActualResult::Success),
            TheirAnswer::Actual(ActualResult::Failure)
        ));
    }

    #[test]
    fn no_caveat_against_other_libraries() {
        let verdicts = BTreeMap::new();
        let ours = ValidatorVerdicts {
            name: "rustls-webpki",
            profile: "",
            verdicts: &verdicts,
        };
        assert_eq!(profile_caveat(&ours, "rustls-webpki"), None);
    }
}
