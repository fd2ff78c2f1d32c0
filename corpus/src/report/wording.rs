//! The words every rendering shares, so matrix.md, differences.md and report.html say the same
//! thing the same way.

use anchorsmith_validators::health::ColumnHealth;
use anchorsmith_validators::{RejectKind, Verdict};

use super::differences::DifferenceClass;
use super::model::ValidatorColumn;
use crate::{Expectation, ReferenceVerdict};

/// `accept; stated` or `reject:unknown-issuer; hedged`: what an expectation expects (the reason
/// when it names one) and how strongly its seed sentence says so.
pub fn expectation_label(expectation: &Expectation) -> String {
    format!("{}; {}", expectation.outcome_label(), expectation.strength)
}

/// `expired`, `unknown-issuer`, ….
pub fn reject_kind_label(kind: RejectKind) -> &'static str {
    kind.into()
}

/// `accept` or `reject`: the reference verdict's outcome.
pub fn reference_label(reference: &ReferenceVerdict) -> &'static str {
    reference.label()
}

/// Why the reference verdict is what it is: the path found, or the reason there is none.
pub fn reference_detail(reference: &ReferenceVerdict) -> String {
    match reference {
        ReferenceVerdict::Accept { path } => format!("path: {}", path.join(" → ")),
        ReferenceVerdict::Reject { reason } => reason.clone(),
    }
}

/// A verdict with the validator's native message: shown on hover and in differences.md.
pub fn verdict_detail(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Accept { chain_built } if chain_built.is_empty() => "accept".into(),
        Verdict::Accept { chain_built } => {
            format!("accept, chain built: {}", chain_built.join(" → "))
        }
        Verdict::Reject { kind, detail } => {
            format!("reject ({}): {}", reject_kind_label(*kind), detail)
        }
        Verdict::Skip { reason } => format!("skip: {reason}"),
        Verdict::Error { detail } => format!("error: {detail}"),
    }
}

/// A column that decided no case, named once: `broken: `x` failed on all 87 cases: …`.
/// Empty for a working column.
pub fn idle_column_line(column: &ValidatorColumn, health: &ColumnHealth) -> String {
    match (health.label(), health.describe()) {
        (Some(label), Some(description)) => format!("{label}: `{}` {description}", column.name),
        _ => String::new(),
    }
}

/// A column's name in a table header, marked when it decided no case: `x (broken)`.
pub fn column_heading(column: &ValidatorColumn, health: &ColumnHealth) -> String {
    match health.label() {
        Some(label) => format!("{} ({label})", column.name),
        None => column.name.clone(),
    }
}

/// The heading of a class's section in differences.md and report.html.
pub fn difference_class_title(class: DifferenceClass) -> &'static str {
    match class {
        DifferenceClass::Outcome => "Outcome differences",
        DifferenceClass::Reason => "Reason differences",
        DifferenceClass::UnmappedReason => "Unmapped reasons only",
        DifferenceClass::Failure => "Failures",
        DifferenceClass::Derived => "Derived predictions contradicted",
    }
}

/// The sentence under that heading.
pub fn difference_class_intro(class: DifferenceClass) -> &'static str {
    match class {
        DifferenceClass::Outcome => {
            "Validators disagree on accept or reject, or a target contradicts a documented \
             expectation of a client it claims to be."
        }
        DifferenceClass::Reason => {
            "Every deciding validator has the same outcome, but they reject for different \
             reasons, or a target rejects for another reason than the one a document gives for \
             a client it claims to be."
        }
        DifferenceClass::UnmappedReason => {
            "Every deciding validator rejects and the named reasons agree; some validators report \
             kind `other`, a native error their table does not map yet (the native message is \
             given)."
        }
        DifferenceClass::Failure => {
            "A validator failed on the case (crash, hang or garbage output); the others agree."
        }
        DifferenceClass::Derived => {
            "A target contradicts a derived prediction of a client it claims to be: a prediction \
             the seed does not make, kept apart from the documented expectations. Nothing \
             documented is contradicted here."
        }
    }
}

/// `003_4218de98dea6ef17.txt` → `seed 003`.
pub fn short_seed(seed_file: &str) -> String {
    format!("seed {}", seed_file.split('_').next().unwrap_or(seed_file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_named_by_number() {
        assert_eq!(short_seed("003_4218de98dea6ef17.txt"), "seed 003");
    }

    #[test]
    fn details_carry_the_native_message() {
        let verdict = Verdict::Reject {
            kind: RejectKind::Expired,
            detail: "certificate has expired".into(),
        };
        assert_eq!(
            verdict_detail(&verdict),
            "reject (expired): certificate has expired"
        );
        let reference = ReferenceVerdict::Accept {
            path: vec!["leaf".into(), "root".into()],
        };
        assert_eq!(reference_detail(&reference), "path: leaf → root");
    }
}
