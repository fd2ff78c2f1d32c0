//! Whether a validator's column says anything about the cases at all.
//!
//! A validator that failed on every case (a bad command, a harness that crashes on start) or
//! skipped every case (a harness that is not available here) tells nothing about any one case.
//! Reports name such a column once, with its reason, instead of listing the same failure under
//! every case. The corpus report and the limbo suite's `differences.md` share this one rule.

use std::collections::BTreeMap;

use crate::Verdict;

/// What a whole column of verdicts amounts to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnHealth {
    /// At least one case was decided (accepted or rejected), or there were no cases.
    Working,
    /// No case was decided, and errors outnumber skips: the validator does not run here.
    Broken(ColumnFault),
    /// No case was decided, and skips are at least as many as errors, as with a harness that is
    /// not available here (`harnesses::Unavailable` skips every case: "not available here (…);
    /// to get it: …"). Errors may remain where a case could not even be handed to it (a limbo
    /// testcase that does not convert is an error for every validator).
    Unavailable(ColumnFault),
}

/// Why a column decided nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnFault {
    /// The most frequent error detail (for [`ColumnHealth::Broken`]) or skip reason (for
    /// [`ColumnHealth::Unavailable`]); the first in case order among equally frequent ones.
    pub reason: String,
    /// How many different messages of that sort the column gave (1 when every case failed the
    /// same way).
    pub distinct_reasons: usize,
    /// How many cases it failed on (`Error`).
    pub errors: usize,
    /// How many cases it skipped.
    pub skips: usize,
}

impl ColumnHealth {
    /// Whether the column decided at least one case, so its verdicts can be compared case by case.
    pub fn is_working(&self) -> bool {
        matches!(self, ColumnHealth::Working)
    }

    /// `broken` or `unavailable`; `None` for a working column.
    pub fn label(&self) -> Option<&'static str> {
        match self {
            ColumnHealth::Working => None,
            ColumnHealth::Broken(_) => Some("broken"),
            ColumnHealth::Unavailable(_) => Some("unavailable"),
        }
    }

    /// One line for a person, without the validator's name: `failed on all 87 cases: …`.
    /// `None` for a working column.
    pub fn describe(&self) -> Option<String> {
        let (fault, all) = match self {
            ColumnHealth::Working => return None,
            ColumnHealth::Broken(fault) => (fault, "failed on"),
            ColumnHealth::Unavailable(fault) => (fault, "skipped"),
        };
        let cases = fault.errors + fault.skips;
        let what = if fault.errors == 0 || fault.skips == 0 {
            format!("{all} all {cases} cases")
        } else {
            format!(
                "decided none of {cases} cases ({} failed, {} skipped)",
                fault.errors, fault.skips
            )
        };
        let others = match fault.distinct_reasons {
            0 | 1 => String::new(),
            2 => " (and 1 other message)".to_string(),
            n => format!(" (and {} other messages)", n - 1),
        };
        Some(format!("{what}: {}{others}", fault.reason))
    }
}

/// The health of a column given all its verdicts.
pub fn column_health<'a>(verdicts: impl IntoIterator<Item = &'a Verdict>) -> ColumnHealth {
    let mut errors: Vec<&str> = Vec::new();
    let mut skips: Vec<&str> = Vec::new();
    for verdict in verdicts {
        match verdict {
            Verdict::Accept { .. } | Verdict::Reject { .. } => return ColumnHealth::Working,
            Verdict::Error { detail } => errors.push(detail),
            Verdict::Skip { reason } => skips.push(reason),
        }
    }
    let (errors_count, skips_count) = (errors.len(), skips.len());
    let fault = |messages: &[&str]| {
        let (reason, distinct_reasons) = most_frequent(messages);
        ColumnFault {
            reason,
            distinct_reasons,
            errors: errors_count,
            skips: skips_count,
        }
    };
    if errors_count == 0 && skips_count == 0 {
        ColumnHealth::Working
    } else if errors_count > skips_count {
        ColumnHealth::Broken(fault(&errors))
    } else {
        ColumnHealth::Unavailable(fault(&skips))
    }
}

/// The most frequent of `messages` (the earliest among ties) and how many distinct ones there are.
fn most_frequent(messages: &[&str]) -> (String, usize) {
    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (position, message) in messages.iter().enumerate() {
        counts.entry(message).or_insert((0, position)).0 += 1;
    }
    let reason = counts
        .iter()
        .max_by(|(_, (count_a, first_a)), (_, (count_b, first_b))| {
            count_a.cmp(count_b).then(first_b.cmp(first_a))
        })
        .map(|(message, _)| message.to_string())
        .unwrap_or_default();
    (reason, counts.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RejectKind;

    fn error(detail: &str) -> Verdict {
        Verdict::Error {
            detail: detail.into(),
        }
    }

    fn skip(reason: &str) -> Verdict {
        Verdict::Skip {
            reason: reason.into(),
        }
    }

    #[test]
    fn one_decided_case_makes_a_column_work() {
        let verdicts = [
            error("exit status 3"),
            Verdict::Reject {
                kind: RejectKind::Other,
                detail: "x".into(),
            },
            skip("feature"),
        ];
        assert_eq!(column_health(&verdicts), ColumnHealth::Working);
        assert_eq!(column_health(&[] as &[Verdict]), ColumnHealth::Working);
    }

    #[test]
    fn a_column_of_errors_is_broken_with_its_most_frequent_message() {
        let verdicts = [
            error("timed out"),
            error("exit status 3"),
            error("exit status 3"),
        ];
        let health = column_health(&verdicts);
        assert_eq!(
            health,
            ColumnHealth::Broken(ColumnFault {
                reason: "exit status 3".into(),
                distinct_reasons: 2,
                errors: 3,
                skips: 0,
            })
        );
        assert_eq!(
            health.describe().unwrap(),
            "failed on all 3 cases: exit status 3 (and 1 other message)"
        );
        assert_eq!(health.label(), Some("broken"));
    }

    #[test]
    fn a_column_of_skips_is_unavailable() {
        let reason = "not available here (no cc); to get it: apt-get install gcc";
        let health = column_health(&[skip(reason), skip(reason)]);
        assert_eq!(
            health.describe().unwrap(),
            format!("skipped all 2 cases: {reason}")
        );
        assert_eq!(health.label(), Some("unavailable"));
        assert!(!health.is_working());
    }

    #[test]
    fn the_more_frequent_of_errors_and_skips_names_the_fault() {
        let unavailable = "not available here (no cc); to get it: apt-get install gcc";
        // A limbo testcase that does not convert is an error for every validator: that does not
        // make an unavailable harness broken.
        let health = column_health(&[skip(unavailable), error("unconvertible"), skip(unavailable)]);
        assert_eq!(health.label(), Some("unavailable"));
        assert_eq!(
            health.describe().unwrap(),
            format!("decided none of 3 cases (1 failed, 2 skipped): {unavailable}")
        );
        let health = column_health(&[
            skip("feature"),
            error("exit status 3"),
            error("exit status 3"),
        ]);
        assert_eq!(
            health.describe().unwrap(),
            "decided none of 3 cases (2 failed, 1 skipped): exit status 3"
        );
    }

    #[test]
    fn ties_go_to_the_earliest_message() {
        let health = column_health(&[error("b"), error("a")]);
        assert!(matches!(health, ColumnHealth::Broken(fault) if fault.reason == "b"));
    }
}
