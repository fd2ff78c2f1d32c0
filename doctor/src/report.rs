//! A `Diagnosis` for people (text) and for machines (JSON, schema `doctor/doctor.schema.json`).

use std::fmt::Write;

use anchorsmith_validators::{Outcome, RejectKind, Verdict};
use serde::Serialize;
use time::OffsetDateTime;

use crate::fix::{tradeoff_needed, Candidate, Change, TargetStore};
use crate::verdicts::{accepted, TargetVerdict};
use crate::{Diagnosis, FindingCode};

/// The calendar date of `at`, as the report shows every date.
pub fn date(at: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        at.year(),
        u8::from(at.month()),
        at.day()
    )
}

/// The validation instant as the report shows it: the date when it is midnight UTC, the full
/// RFC 3339 instant otherwise (a time of day given with `--at` is never dropped).
pub fn instant(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    if at.time() == time::Time::MIDNIGHT {
        date(at)
    } else {
        at.format(&time::format_description::well_known::Rfc3339)
            .expect("a UTC instant formats as RFC 3339")
    }
}

/// One certificate as PEM, with Unix line endings (the `pem` crate writes CRLF by default).
pub fn to_pem(der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new("CERTIFICATE", der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// The path an engine built, or that it does not say (a harness that reports no path).
fn path_text(chain_built: &[String]) -> String {
    if chain_built.is_empty() {
        "path: not reported by this engine".to_string()
    } else {
        format!("path: {}", chain_built.join(" -> "))
    }
}

/// One verdict as a line of text: who, the outcome, and the path built or the reason.
fn verdict_line(verdict: &TargetVerdict) -> String {
    let who = verdict.who().to_string();
    match &verdict.verdict {
        Verdict::Accept { chain_built } if verdict.only_through_cache_or_aia => format!(
            "{who}: accept, only through its intermediate cache or AIA fetching (an online checker calls this chain incomplete); {}",
            path_text(chain_built)
        ),
        Verdict::Accept { chain_built } => format!("{who}: accept; {}", path_text(chain_built)),
        Verdict::Reject { kind, detail } => format!("{who}: reject ({kind}): {detail}"),
        Verdict::Skip { reason } => format!("{who}: skipped: {reason}"),
        Verdict::Error { detail } => format!("{who}: error: {detail}"),
    }
}

/// The text report; `label` names the chain (its file).
pub fn text(diagnosis: &Diagnosis, label: &str) -> String {
    let mut out = String::new();
    let d = diagnosis;
    let tally = d.tally();
    let undecided = match tally.not_decided() {
        0 => String::new(),
        n => format!(
            " ({n} not decided: {} skipped, {} error)",
            tally.skip, tally.error
        ),
    };
    let _ = writeln!(
        out,
        "{label}: {} finding(s); {} of {} decided target(s) accept at {}{undecided}",
        d.findings.len(),
        tally.accept,
        tally.decided(),
        instant(d.at)
    );
    out.push_str("\nFindings:\n");
    if d.findings.is_empty() {
        out.push_str("  none\n");
    }
    for finding in &d.findings {
        let _ = writeln!(out, "  [{}] {}", finding.code, finding.message);
    }
    let judged_by = match &d.scenario {
        Some(scenario) => format!("scenario `{scenario}`"),
        None => "no corpus scenario knows this leaf: real validators, real stores".to_string(),
    };
    let _ = writeln!(out, "\nVerdicts ({}, {judged_by}):", instant(d.at));
    for verdict in &d.verdicts {
        let _ = writeln!(out, "  {}", verdict_line(verdict));
    }
    // One line: a scenario places a few of many targets, and a line each buried the verdicts.
    if !d.not_judged.is_empty() {
        let _ = writeln!(
            out,
            "  not judged ({} target(s) not placed in scenario `{}`): {}",
            d.not_judged.len(),
            d.scenario.as_deref().unwrap_or_default(),
            d.not_judged.join(", ")
        );
    }
    out.push_str(&fix_text(d));
    out
}

/// The fix: the chain to serve as PEM, what it wins and loses, and the trade-off table.
fn fix_text(d: &Diagnosis) -> String {
    let mut out = String::new();
    let Some(fix) = &d.fix else {
        let _ = match &d.scenario {
            Some(scenario) => writeln!(
                out,
                "\nThe fix: no chain of scenario `{scenario}` starts with this leaf."
            ),
            None => writeln!(
                out,
                "\nThe fix: none offered: no corpus scenario knows this leaf, so there are no candidate chains to compare; act on the findings above."
            ),
        };
        return out;
    };
    let best = d.fix_chain().expect("a fix has its chain");
    if fix.already_served {
        let _ = writeln!(
            out,
            "\nThe fix: none to make: the chain served is already the best candidate, `{}` ({} of {} accept).",
            best.name,
            accepted(&best.verdicts),
            best.verdicts.len()
        );
    } else {
        let _ = writeln!(
            out,
            "\nThe fix: serve `{}` ({} of {} accept):",
            best.name,
            accepted(&best.verdicts),
            best.verdicts.len()
        );
        for (change, who) in &fix.changes {
            let word = match change {
                Change::Wins => "wins ",
                Change::Loses => "loses",
            };
            let _ = writeln!(out, "  {word} {who}");
        }
        for der in best.chain.certs() {
            out.push_str(&to_pem(der));
        }
    }
    if tradeoff_needed(&d.candidates, fix) {
        out.push_str("\nNo single chain serves every target. Trade-off:\n");
        let seats: Vec<TargetStore> = d.verdicts.iter().map(TargetVerdict::who).collect();
        out.push_str(&tradeoff_table(&seats, &d.candidates));
    }
    out
}

/// Rows: candidate chains; columns: the panel's seats (target and store); cells: each
/// candidate's verdict for that seat, looked up by seat (never by position): accept, reject,
/// skip or error, `-` when the candidate has no verdict for the seat.
pub fn tradeoff_table(seats: &[TargetStore], candidates: &[Candidate]) -> String {
    let mut table = String::from("| chain |");
    for seat in seats {
        let _ = write!(table, " {} ({}) |", seat.target, seat.store);
    }
    let _ = writeln!(table, "\n|---|{}", "---|".repeat(seats.len()));
    for candidate in candidates {
        let _ = write!(table, "| {} |", candidate.name);
        for seat in seats {
            let cell = candidate
                .verdicts
                .iter()
                .find(|verdict| verdict.who() == *seat)
                .map_or("-", |verdict| verdict.verdict.outcome().into());
            let _ = write!(table, " {cell} |");
        }
        table.push('\n');
    }
    table
}

/// One verdict in the `--json` document (`$defs/verdict` of `doctor/doctor.schema.json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerdictJson {
    pub target: String,
    pub store: String,
    pub outcome: Outcome,
    /// The normalized reject kind; null unless the outcome is reject.
    pub kind: Option<RejectKind>,
    /// The engine's own message (reject, error) or why it was skipped; null on accept.
    pub reason: Option<String>,
    /// The path built, on accept.
    pub path: Vec<String>,
    pub only_through_cache_or_aia: bool,
}

impl VerdictJson {
    pub fn of(verdict: &TargetVerdict) -> VerdictJson {
        let (kind, reason, path) = match &verdict.verdict {
            Verdict::Accept { chain_built } => (None, None, chain_built.clone()),
            Verdict::Reject { kind, detail } => (Some(*kind), Some(detail.clone()), Vec::new()),
            Verdict::Skip { reason } => (None, Some(reason.clone()), Vec::new()),
            Verdict::Error { detail } => (None, Some(detail.clone()), Vec::new()),
        };
        VerdictJson {
            target: verdict.who.target.clone(),
            store: verdict.who.store.clone(),
            outcome: verdict.verdict.outcome(),
            kind,
            reason,
            path,
            only_through_cache_or_aia: verdict.only_through_cache_or_aia,
        }
    }
}

/// A target × store the fix wins or loses.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SubjectJson {
    pub target: String,
    pub store: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TallyJson {
    pub accept: usize,
    pub reject: usize,
    pub skip: usize,
    pub error: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FindingJson {
    pub code: FindingCode,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FixJson {
    /// The scenario's chain to serve.
    pub chain: String,
    pub pem: String,
    pub wins: Vec<SubjectJson>,
    pub loses: Vec<SubjectJson>,
}

/// One candidate chain and its verdicts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CandidateJson {
    pub chain: String,
    pub verdicts: Vec<VerdictJson>,
}

/// What every JSON document of the doctor says of a chain: the `--json` document
/// ([`Report`]) and each `--batch` result line ([`crate::batch::ResultLine`]) begin with it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Judgement {
    pub scenario: Option<String>,
    /// A date when it is midnight UTC, else the RFC 3339 instant.
    pub at: String,
    pub tally: TallyJson,
    pub findings: Vec<FindingJson>,
    pub verdicts: Vec<VerdictJson>,
    pub not_judged: Vec<String>,
}

impl Judgement {
    pub fn of(d: &Diagnosis) -> Judgement {
        let tally = d.tally();
        Judgement {
            scenario: d.scenario.clone(),
            at: instant(d.at),
            tally: TallyJson {
                accept: tally.accept,
                reject: tally.reject,
                skip: tally.skip,
                error: tally.error,
            },
            findings: d
                .findings
                .iter()
                .map(|f| FindingJson {
                    code: f.code,
                    message: f.message.clone(),
                })
                .collect(),
            verdicts: d.verdicts.iter().map(VerdictJson::of).collect(),
            not_judged: d.not_judged.clone(),
        }
    }
}

/// The `--json` document (schema: `doctor/doctor.schema.json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    #[serde(flatten)]
    pub judgement: Judgement,
    pub fix: Option<FixJson>,
    pub tradeoff: Vec<CandidateJson>,
}

/// What `doctor --json` prints: the document and, with --out and a trade-off, the file the
/// trade-off picture was written to (else null).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Output {
    #[serde(flatten)]
    pub report: Report,
    pub tradeoff_picture: Option<String>,
}

/// The `--json` document of `d`.
pub fn json(d: &Diagnosis) -> Report {
    let fix = d.fix.as_ref().zip(d.fix_chain()).map(|(fix, best)| {
        let changed = |way| -> Vec<SubjectJson> {
            fix.changed(way)
                .map(|who| SubjectJson {
                    target: who.target.clone(),
                    store: who.store.clone(),
                })
                .collect()
        };
        FixJson {
            chain: best.name.clone(),
            pem: best.chain.certs().iter().map(|der| to_pem(der)).collect(),
            wins: changed(Change::Wins),
            loses: changed(Change::Loses),
        }
    });
    Report {
        judgement: Judgement::of(d),
        fix,
        tradeoff: d
            .candidates
            .iter()
            .map(|c| CandidateJson {
                chain: c.name.clone(),
                verdicts: c.verdicts.iter().map(VerdictJson::of).collect(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testpki::{accept, healthy, reject, target_verdict};
    use anchorsmith_validators::RejectKind;

    #[test]
    fn the_tradeoff_table_has_a_row_per_chain_and_a_column_per_seat_by_name() {
        let verdict = |target: &str, verdict: Verdict| target_verdict(target, "s", verdict);
        let expired = || reject(RejectKind::Expired);
        let seat = |target: &str| TargetStore {
            target: target.into(),
            store: "s".into(),
        };
        let candidates = [
            Candidate {
                name: "long".into(),
                chain: crate::ServedChain::new(vec![healthy().leaf]).unwrap(),
                verdicts: vec![
                    verdict("old", accept()),
                    verdict("new", expired()),
                    verdict(
                        "harness",
                        Verdict::Skip {
                            reason: "not installed".into(),
                        },
                    ),
                ],
            },
            Candidate {
                name: "short".into(),
                chain: crate::ServedChain::new(vec![healthy().leaf]).unwrap(),
                // Another order, and no verdict for one seat: cells follow the seat's name.
                verdicts: vec![
                    verdict("new", accept()),
                    verdict(
                        "old",
                        Verdict::Error {
                            detail: "crashed".into(),
                        },
                    ),
                ],
            },
        ];
        assert_eq!(
            tradeoff_table(&[seat("old"), seat("new"), seat("harness")], &candidates),
            "| chain | old (s) | new (s) | harness (s) |\n|---|---|---|---|\n| long | accept | reject | skip |\n| short | error | accept | - |\n"
        );
    }

    #[test]
    fn a_reject_gives_its_kind_and_its_message_apart() {
        let verdict = target_verdict(
            "t",
            "s",
            Verdict::Reject {
                kind: RejectKind::UnknownIssuer,
                detail: "no issuer for R3".to_string(),
            },
        );
        assert_eq!(
            serde_json::to_value(VerdictJson::of(&verdict)).unwrap(),
            serde_json::json!({
                "target": "t", "store": "s", "outcome": "reject", "kind": "unknown-issuer",
                "reason": "no issuer for R3", "path": [], "only_through_cache_or_aia": false,
            })
        );
    }

    #[test]
    fn an_instant_keeps_its_time_of_day_and_midnight_is_a_date() {
        assert_eq!(
            instant(time::macros::datetime!(2021-10-01 00:00 UTC)),
            "2021-10-01"
        );
        assert_eq!(
            instant(time::macros::datetime!(2021-09-30 14:01:15 UTC)),
            "2021-09-30T14:01:15Z"
        );
    }

    #[test]
    fn pem_round_trips_with_unix_line_endings() {
        let der = healthy().leaf;
        let text = to_pem(&der);
        assert!(!text.contains('\r'));
        assert_eq!(pem::parse(&text).unwrap().contents(), &der[..]);
    }
}
