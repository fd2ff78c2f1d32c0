//! The finding "handshake vs verification API": for each handshake column (a real client in a
//! real TLS handshake, `handshake:<client>`) and the verification-API column of the same library
//! (`validators::handshake::Client::api_column`), every case where one accepts and the other
//! rejects, or both reject for different reasons. Cases either column skipped or failed to run
//! are not compared (and counted apart).

use std::fmt::Write as _;

use anchorsmith_validators::handshake::ApiPair;
use anchorsmith_validators::{Outcome, Verdict};

use super::model::RunReport;

/// One pair's comparison over the run.
#[derive(Clone, Debug)]
pub struct HandshakeFinding<'a> {
    pub pair: &'a ApiPair,
    /// Cases both columns decided (accepted or rejected).
    pub compared: usize,
    /// Cases at least one of them skipped or failed to run.
    pub not_compared: usize,
    pub differences: Vec<HandshakeDifference<'a>>,
}

impl HandshakeFinding<'_> {
    pub fn agree(&self) -> usize {
        self.compared - self.differences.len()
    }

    /// One line: `handshake:curl vs openssl-partial-chain: agree on 87 cases` or `... differ on
    /// 2 of 87 cases`.
    pub fn line(&self) -> String {
        let head = format!("`{}` vs `{}`", self.pair.handshake, self.pair.api);
        let skipped = if self.not_compared == 0 {
            String::new()
        } else {
            format!(" ({} not compared: skipped or failed)", self.not_compared)
        };
        let cases = if self.compared == 1 { "case" } else { "cases" };
        if self.differences.is_empty() {
            format!("{head}: agree on {} {cases}{skipped}", self.compared)
        } else {
            format!(
                "{head}: differ on {} of {} {cases}{skipped}",
                self.differences.len(),
                self.compared
            )
        }
    }
}

/// A case where the handshake and the API of one library decide differently.
#[derive(Clone, Debug)]
pub struct HandshakeDifference<'a> {
    pub case_id: &'a str,
    pub handshake: &'a Verdict,
    pub api: &'a Verdict,
}

/// Every pair of the report, in the order of its handshake columns.
pub fn handshake_findings(report: &RunReport) -> Vec<HandshakeFinding<'_>> {
    report
        .api_pairs
        .iter()
        .map(|pair| {
            let mut finding = HandshakeFinding {
                pair,
                compared: 0,
                not_compared: 0,
                differences: Vec::new(),
            };
            for row in &report.rows {
                let handshake = report.verdict(&row.id, &pair.handshake);
                let api = report.verdict(&row.id, &pair.api);
                if !decided(handshake) || !decided(api) {
                    finding.not_compared += 1;
                    continue;
                }
                finding.compared += 1;
                if handshake.label() != api.label() {
                    finding.differences.push(HandshakeDifference {
                        case_id: &row.id,
                        handshake,
                        api,
                    });
                }
            }
            finding
        })
        .collect()
}

fn decided(verdict: &Verdict) -> bool {
    matches!(verdict.outcome(), Outcome::Accept | Outcome::Reject)
}

/// The summary's line: how many cases the pairs differ on in all, or that they agree.
pub fn handshake_summary_line(report: &RunReport) -> Option<String> {
    let findings = handshake_findings(report);
    if findings.is_empty() {
        return None;
    }
    let differing: usize = findings.iter().map(|f| f.differences.len()).sum();
    if differing == 0 {
        let compared: Vec<String> = findings
            .iter()
            .map(|f| format!("{} {}", f.pair.handshake, f.compared))
            .collect();
        return Some(format!(
            "handshake vs verification API: agree on every case both decided ({}; see matrix.md)",
            compared.join(", ")
        ));
    }
    let parts: Vec<String> = findings
        .iter()
        .map(|f| format!("{} {}", f.pair.handshake, f.differences.len()))
        .collect();
    Some(format!(
        "handshake vs verification API: {differing} differences ({}; see matrix.md)",
        parts.join(", ")
    ))
}

/// The section of `matrix.md`.
pub fn render_handshakes_md(report: &RunReport) -> String {
    let findings = handshake_findings(report);
    if findings.is_empty() {
        return String::new();
    }
    let mut text = String::from(
        "\n## Handshake vs verification API\n\nEach handshake column is a real client in a real \
         TLS handshake against the chain as served; beside it, the verification API of the same \
         library. Where they decide a case differently, the handshake shows what that API alone \
         does not.\n\n",
    );
    for finding in &findings {
        writeln!(text, "- {}", finding.line()).unwrap();
    }
    for finding in findings.iter().filter(|f| !f.differences.is_empty()) {
        writeln!(
            text,
            "\n### `{}` vs `{}`\n\n| case | {} | {} |\n|---|---|---|",
            finding.pair.handshake, finding.pair.api, finding.pair.handshake, finding.pair.api
        )
        .unwrap();
        for difference in &finding.differences {
            writeln!(
                text,
                "| `{}` | {} | {} |",
                difference.case_id,
                difference.handshake.label(),
                difference.api.label()
            )
            .unwrap();
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::fixture::{accept, matrix, reject};
    use anchorsmith_validators::RejectKind;

    fn pair() -> ApiPair {
        ApiPair {
            handshake: "handshake:x".into(),
            api: "x".into(),
        }
    }

    #[test]
    fn outcome_and_kind_differences_are_listed_and_skips_not_compared() {
        let report = matrix(
            &["a", "b", "c", "d"],
            &[
                (
                    "x",
                    vec![
                        accept(),
                        reject(RejectKind::Expired),
                        reject(RejectKind::Expired),
                        accept(),
                    ],
                ),
                (
                    "handshake:x",
                    vec![
                        accept(),
                        accept(),
                        reject(RejectKind::UnknownIssuer),
                        crate::report::model::fixture::skip("no key"),
                    ],
                ),
            ],
        )
        .with_api_pairs(vec![pair()]);
        let findings = handshake_findings(&report);
        assert_eq!(findings.len(), 1);
        let ids: Vec<&str> = findings[0].differences.iter().map(|d| d.case_id).collect();
        assert_eq!(ids, ["s::b", "s::c"]);
        assert_eq!(
            findings[0].line(),
            "`handshake:x` vs `x`: differ on 2 of 3 cases (1 not compared: skipped or failed)"
        );
        let md = render_handshakes_md(&report);
        assert!(md.contains("| `s::b` | accept | reject:expired |"), "{md}");
        assert_eq!(
            handshake_summary_line(&report).unwrap(),
            "handshake vs verification API: 2 differences (handshake:x 2; see matrix.md)"
        );
    }

    #[test]
    fn agreement_is_said_and_a_pair_missing_a_column_is_left_out() {
        let report = matrix(
            &["a"],
            &[("x", vec![accept()]), ("handshake:x", vec![accept()])],
        );
        let with = report.clone().with_api_pairs(vec![pair()]);
        assert_eq!(
            handshake_findings(&with)[0].line(),
            "`handshake:x` vs `x`: agree on 1 case"
        );
        assert_eq!(
            handshake_summary_line(&with).unwrap(),
            "handshake vs verification API: agree on every case both decided (handshake:x 1; \
             see matrix.md)"
        );
        let without = report.with_api_pairs(vec![ApiPair {
            handshake: "handshake:x".into(),
            api: "absent".into(),
        }]);
        assert!(handshake_findings(&without).is_empty());
        assert_eq!(render_handshakes_md(&without), "");
    }
}
