//! Agreement of each verdict with the case's `expected_result`: counted per namespace, and the
//! unexpected results grouped by reason. Verdicts are looked up by case id.

use std::collections::BTreeMap;

use super::{verdict_for, SuiteCase};
use crate::health::{column_health, ColumnHealth};
use crate::limbo::ExpectedResult;
use crate::Verdict;

/// How one verdict relates to the expected result.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, strum::Display, strum::IntoStaticStr,
)]
pub enum Agreement {
    #[strum(serialize = "match")]
    Match,
    #[strum(serialize = "unexpected SUCCESS")]
    UnexpectedSuccess,
    #[strum(serialize = "unexpected FAILURE")]
    UnexpectedFailure,
    #[strum(serialize = "SKIPPED")]
    Skipped,
    #[strum(serialize = "error")]
    Error,
}

pub fn classify(expected: ExpectedResult, verdict: &Verdict) -> Agreement {
    match (verdict, expected) {
        (Verdict::Accept { .. }, ExpectedResult::Success)
        | (Verdict::Reject { .. }, ExpectedResult::Failure) => Agreement::Match,
        (Verdict::Accept { .. }, ExpectedResult::Failure) => Agreement::UnexpectedSuccess,
        (Verdict::Reject { .. }, ExpectedResult::Success) => Agreement::UnexpectedFailure,
        (Verdict::Skip { .. }, _) => Agreement::Skipped,
        (Verdict::Error { .. }, _) => Agreement::Error,
    }
}

/// Counts of agreements.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub matches: usize,
    pub unexpected_success: usize,
    pub unexpected_failure: usize,
    pub skipped: usize,
    pub errors: usize,
}

impl Tally {
    pub fn add(&mut self, agreement: Agreement) {
        match agreement {
            Agreement::Match => self.matches += 1,
            Agreement::UnexpectedSuccess => self.unexpected_success += 1,
            Agreement::UnexpectedFailure => self.unexpected_failure += 1,
            Agreement::Skipped => self.skipped += 1,
            Agreement::Error => self.errors += 1,
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

/// Agreement counts per namespace (sorted) for one validator's verdicts (keyed by case id).
pub fn tally_by_namespace(
    cases: &[SuiteCase],
    verdicts: &BTreeMap<String, Verdict>,
) -> BTreeMap<String, Tally> {
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for case in cases {
        tallies
            .entry(case.namespace.clone())
            .or_default()
            .add(classify(case.expected, &verdict_for(verdicts, &case.id)));
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

/// A group of unexpected results of one validator that share an agreement and a reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DifferenceGroup {
    pub agreement: Agreement,
    pub reason: String,
    pub ids: Vec<String>,
}

/// One validator's unexpected results, and whether it decided any case at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorDifferences {
    /// A broken or unavailable validator is reported once, by its health, not case by case.
    pub health: ColumnHealth,
    pub groups: Vec<DifferenceGroup>,
}

/// Every unexpected result (not a match) of one validator, grouped by (agreement, reason);
/// groups ordered by agreement, then size (largest first), then reason; ids in suite order.
pub fn group_differences(
    cases: &[SuiteCase],
    verdicts: &BTreeMap<String, Verdict>,
) -> ValidatorDifferences {
    let column: Vec<_> = cases
        .iter()
        .map(|case| verdict_for(verdicts, &case.id))
        .collect();
    let health = column_health(column.iter().map(|verdict| verdict.as_ref()));
    let mut groups: BTreeMap<(Agreement, String), Vec<String>> = BTreeMap::new();
    for (case, verdict) in cases.iter().zip(&column) {
        let agreement = classify(case.expected, verdict);
        if agreement != Agreement::Match {
            groups
                .entry((agreement, reason(verdict)))
                .or_default()
                .push(case.id.clone());
        }
    }
    let mut groups: Vec<DifferenceGroup> = groups
        .into_iter()
        .map(|((agreement, reason), ids)| DifferenceGroup {
            agreement,
            reason,
            ids,
        })
        .collect();
    groups.sort_by(|a, b| {
        a.agreement
            .cmp(&b.agreement)
            .then(b.ids.len().cmp(&a.ids.len()))
            .then_with(|| a.reason.cmp(&b.reason))
    });
    ValidatorDifferences { health, groups }
}

/// The reason an unexpected result happened, for grouping: the reject kind with the native
/// error's name, the skip reason, or the error. Case-specific tails (names, depths, subjects) are
/// cut so equal causes fall into one group.
pub fn reason(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Accept { .. } => "accepted".to_string(),
        Verdict::Reject { kind, detail } => format!("{kind}: {}", native_head(detail)),
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

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::RejectKind;
    use ExpectedResult::{Failure, Success};

    #[test]
    fn classify_covers_every_combination() {
        assert_eq!(classify(Success, &accept()), Agreement::Match);
        assert_eq!(
            classify(Failure, &reject(RejectKind::Expired, "")),
            Agreement::Match
        );
        assert_eq!(classify(Failure, &accept()), Agreement::UnexpectedSuccess);
        assert_eq!(
            classify(Success, &reject(RejectKind::Other, "")),
            Agreement::UnexpectedFailure
        );
        assert_eq!(
            classify(Success, &Verdict::Skip { reason: "x".into() }),
            Agreement::Skipped
        );
        assert_eq!(
            classify(Failure, &Verdict::Error { detail: "x".into() }),
            Agreement::Error
        );
    }

    #[test]
    fn tallies_count_per_namespace_by_id() {
        let cases = vec![
            case("a::one", Success),
            case("a::two", Failure),
            case("b::c::three", Failure),
            case("b::c::four", Success),
        ];
        let mut verdicts = keyed(
            &cases,
            vec![
                accept(),
                accept(),
                reject(RejectKind::UnknownIssuer, "UnknownIssuer"),
                accept(),
            ],
        );
        // A case without a verdict counts as an error.
        verdicts.remove("b::c::four");
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
    }

    #[test]
    fn differences_group_by_agreement_and_reason() {
        let cases = vec![
            case("n::a", Success),
            case("n::b", Success),
            case("n::c", Success),
            case("n::d", Failure),
            case("n::e", Failure),
            case("n::f", Failure),
        ];
        let verdicts = keyed(
            &cases,
            vec![
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
            ],
        );
        let differences = group_differences(&cases, &verdicts);
        assert!(differences.health.is_working());
        assert_eq!(
            differences.groups,
            vec![
                DifferenceGroup {
                    agreement: Agreement::UnexpectedSuccess,
                    reason: "accepted".into(),
                    ids: vec!["n::d".into()]
                },
                DifferenceGroup {
                    agreement: Agreement::UnexpectedFailure,
                    reason: "unknown-issuer: UnknownIssuer".into(),
                    ids: vec!["n::a".into(), "n::c".into()]
                },
                DifferenceGroup {
                    agreement: Agreement::UnexpectedFailure,
                    reason: "name-mismatch: CertNotValidForName".into(),
                    ids: vec!["n::b".into()]
                },
                DifferenceGroup {
                    agreement: Agreement::Skipped,
                    reason: "skip: CRLs unsupported".into(),
                    ids: vec!["n::e".into()]
                },
            ]
        );
    }

    #[test]
    fn a_validator_that_decided_nothing_carries_its_health() {
        let cases = vec![case("n::a", Success), case("n::b", Failure)];
        let failed = || Verdict::Error {
            detail: "exit status 3".into(),
        };
        let differences = group_differences(&cases, &keyed(&cases, vec![failed(), failed()]));
        assert_eq!(
            differences.health.describe().unwrap(),
            "failed on all 2 cases: exit status 3"
        );
        assert_eq!(differences.groups[0].ids.len(), 2);
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
}
