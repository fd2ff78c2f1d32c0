//! Reports of a corpus run: the matrix (cases × validators, with the documented expectations
//! beside them), the differences (validators disagreeing with each other or with a documented
//! expectation), a self-contained HTML page, a summary table, and the snapshot text that pins
//! every verdict in CI.
//!
//! Data flows one way: the corpus and `questions.toml` make a [`RunPlan`] (checked before any
//! validator runs); the plan and the verdicts make a [`RunReport`]; every rendering is a pure
//! function of the report, so the same run renders the same bytes. Versions and timings live only
//! in the header lines, never in the snapshot. Nothing here reads or writes a file.
//!
//! - [`model`]: the plan, the report, and lookups by case id and validator name;
//! - [`questions`]: parsing and checking `questions.toml`;
//! - [`differences`], [`summary`]: what the run shows, as data: outcome differences apart from
//!   reason differences, and columns that decided no case (broken, unavailable) named once;
//! - [`handshakes`]: where a real handshake and the same library's verification API disagree;
//! - [`markdown`], [`html`], [`snapshot`]: renderings; [`wording`]: the words they share.

pub mod differences;
pub mod handshakes;
pub mod html;
pub mod markdown;
pub mod model;
pub mod questions;
pub mod snapshot;
pub mod summary;
pub mod targets;
pub mod wording;

pub use differences::{
    differences, differences_by_class, CaseDifferences, DifferenceClass, DifferenceReason,
    RejectedBy,
};
pub use handshakes::{
    handshake_findings, handshake_summary_line, render_handshakes_md, HandshakeDifference,
    HandshakeFinding,
};
pub use html::render_html;
pub use markdown::{render_differences_md, render_matrix_md};
pub use model::{
    judge, CaseRow, Contradiction, Judgement, RunPlan, RunReport, ScenarioView, ValidatorColumn,
};
pub use questions::{parse_questions, Question};
pub use snapshot::{render_snapshot, render_target_snapshot};
pub use summary::{
    bundle_costs, render_difference_counts, render_expectation_counts, render_summary_table,
    target_scores, validator_totals, BundleCost, ExpectationScore, OutcomeCounts, TargetScores,
    ValidatorTotals,
};
pub use targets::{render_targets_md, targets_html, BundleLegend, TargetColumn};
