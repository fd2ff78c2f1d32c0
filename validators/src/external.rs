//! An external validator speaking the x509-limbo harness protocol: `sh -c COMMAND` reads a limbo
//! testcase file on stdin and writes a limbo results file on stdout.
//!
//! One process per batch. Whatever goes wrong with the process — non-zero exit, crash,
//! unparsable output, a timeout (the whole process group is killed), a case it did not answer —
//! becomes [`Verdict::Error`] for the cases affected, so the run goes on.
//!
//! A fault costs little time and few verdicts:
//! - A batch gets [`batch_deadline`]: a small multiple of the per-case timeout plus a per-case
//!   allowance, not the per-case timeout times the batch size (which let one hanging case hold a
//!   corpus run for minutes and the limbo suite for hours).
//! - A batch that times out or crashes is split into [`SPLIT_WAYS`] pieces, which are retried
//!   (several at once); pieces that fail again are split again, down to single cases. A hanging
//!   or crashing case thus costs a few deadlines, and every other case still gets its verdict.
//! - A harness that has never answered a batch and has timed out [`HUNG_AFTER`] times is
//!   declared hung: its remaining cases are errors without being run. Likewise it stops being
//!   split after that many crashes, so a harness broken on everything costs few processes.
//! - No batch, split or not, runs past [`batch_budget`], which is never less than the old
//!   per-case timeout times the batch size.
//!
//! A harness is fed hostile bytes by design, so its process is confined (see "Hardening" in
//! `validators/harnesses/README.md`): it runs in a fresh, empty working directory removed
//! afterwards, with only [`KEPT_ENVIRONMENT`] of our environment, sees its batch only on stdin,
//! and may write at most [`MAX_STDOUT_BYTES`] on stdout (its process group is killed past that,
//! so a flood costs neither memory nor time).
//!
//! The protocol requires every testcase to carry `expected_result`; the harness gets the case's
//! own ([`ValidationInput::expected_result`]). A case without one is not sent: it is skipped
//! with the reason, since any value we made up could steer a harness that reads it.

use std::collections::HashMap;
use std::fmt;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::harnesses::kinds::{chain_from_context, is_no_verdict, map_kind, KindRule};
use crate::limbo::{
    testcase_from_input, ActualResult, ExpectedResult, Limbo, LimboResult, LimboResults,
};
use crate::{RejectKind, ValidationInput, Validator, Verdict};

/// Cases handed to one process; large enough that process start-up (a JVM, a Python
/// interpreter) stays negligible. A crash or hang no longer costs the batch: it is split.
pub const BATCH_SIZE: usize = 500;

/// A batch that timed out or crashed is retried as this many pieces: few enough that start-up
/// costs stay small, many enough that a hanging case is isolated in a few rounds (500 cases: 63,
/// 8, then 1; each round costs one deadline, as the pieces of a round run at the same time).
pub const SPLIT_WAYS: usize = 8;

/// A harness that has answered no batch yet is declared hung after this many timeouts. Three,
/// not two: the first piece retried after a timeout may hold the hanging case while its siblings
/// (which would have answered) have not run yet.
pub const HUNG_AFTER: usize = 3;

/// The most a harness may write on stdout for one batch. A results file of 500 cases with native
/// errors and chains is well under a megabyte; past this the output cannot be a results file,
/// and keeping it would let a broken harness exhaust our memory (1 GB was kept whole before).
pub const MAX_STDOUT_BYTES: u64 = 16 << 20;

/// Of stderr only this much is kept (it only feeds the tail shown in a crash's detail); the rest
/// is read and dropped, so a chatty harness never blocks on a full pipe.
const MAX_STDERR_BYTES: u64 = 1 << 20;

/// The environment variables a harness process keeps; everything else is cleared, so nothing
/// of ours (tokens, paths to other runs' files) reaches a third-party program. `PATH` finds
/// `java`, `python3` and a `--validator-cmd`'s programs; the rest are what interpreters and the
/// JVM read to find a home, a locale, a time zone and a temporary directory.
pub const KEPT_ENVIRONMENT: &[&str] = &[
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR",
];

/// A batch's deadline allows start-up plus one slow case ...
const DEADLINE_TIMEOUTS: u32 = 2;
/// ... plus this fraction of the per-case timeout per case, and at least
/// [`DEADLINE_CASE_FLOOR`]. Measured on 2 cores shared with other work (corpus, 87 cases, and
/// limbo core, 208 cases, in one batch): NSS, which runs a child process per case, 27 ms a case
/// (42 ms when loaded); the node-legacy handshakes 5 to 10 ms a case, with 0.3 s per distinct
/// validation time; the other C harnesses 1 to 4 ms. A fiftieth of the default 10 s timeout is
/// 200 ms a case, several times the slowest; a batch that still runs late is split, not lost.
const DEADLINE_CASES_PER_TIMEOUT: u32 = 50;
/// The least per-case allowance, whatever the timeout: NSS loaded, with room to spare.
const DEADLINE_CASE_FLOOR: Duration = Duration::from_millis(50);

/// How long one process may run on `cases` cases:
/// `2 × timeout + cases × max(timeout / 50, 50 ms)`.
pub fn batch_deadline(per_case_timeout: Duration, cases: usize) -> Duration {
    let per_case = (per_case_timeout / DEADLINE_CASES_PER_TIMEOUT).max(DEADLINE_CASE_FLOOR);
    per_case_timeout.saturating_mul(DEADLINE_TIMEOUTS) + per_case.saturating_mul(cases as u32)
}

/// How long a batch of `cases` cases may take with all its retries: the per-case timeout times
/// the batch size (the old deadline of its one process), and at least [`SPLIT_WAYS`] timeouts,
/// so a small batch can still be split. Pieces not started by then are errors.
pub fn batch_budget(per_case_timeout: Duration, cases: usize) -> Duration {
    per_case_timeout.saturating_mul(cases.max(SPLIT_WAYS) as u32)
}

/// A `NAME=COMMAND` that cannot be used, naming the flag it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--validator-cmd `{spec}`: {message}")]
pub struct ExternalSpecError {
    pub spec: String,
    pub message: String,
}

/// An external limbo harness: a program run with its arguments (a `--validator-cmd` runs as
/// `sh -c COMMAND`; a built-in harness runs its `harness.toml` argv directly).
#[derive(Debug)]
pub struct ExternalHarness {
    pub name: String,
    /// The program and its arguments.
    pub argv: Vec<String>,
    /// How its native errors map onto reject kinds (a built-in harness's table from its
    /// `harness.toml`); empty: [`kind_from_context`]'s wording rules, for any other harness.
    pub reject_kinds: Vec<KindRule>,
    /// Each batch may take this long per case before the process group is killed.
    pub per_case_timeout: Duration,
    /// The `harness` field of the last results file read, reported as the version.
    seen_harness: Mutex<Option<String>>,
    /// How its runs have gone so far (shared by the batches of a run, which run in parallel).
    health: Mutex<Health>,
}

/// What the runs of one harness have shown so far; decides whether a failed batch is split and
/// whether the harness is declared hung. Kept for the life of the [`ExternalHarness`]: a harness
/// declared hung stays so.
#[derive(Debug, Default)]
struct Health {
    /// Some process has answered a non-empty batch.
    answered: bool,
    timeouts: usize,
    /// Crashes and unusable output ([`RunFailure::BadOutput`]): both are faults of one process.
    crashes: usize,
    /// Set once the harness is declared hung: the detail its remaining cases get.
    hung: Option<String>,
}

impl Health {
    /// Records one process's outcome. Only timeouts of retried pieces count towards declaring
    /// the harness hung: the first processes of a run's batches start together (two batches at
    /// once, each maybe slow on a loaded machine), and a slow harness is not a hung one.
    fn record(&mut self, outcome: &Result<LimboResults, RunFailure>, retried_piece: bool) {
        match outcome {
            Ok(_) => self.answered = true,
            Err(RunFailure::Timeout { .. }) if !retried_piece => {}
            Err(RunFailure::Timeout { detail }) => {
                self.timeouts += 1;
                if !self.answered && self.timeouts >= HUNG_AFTER && self.hung.is_none() {
                    self.hung = Some(format!(
                        "harness declared hung after {} timeouts: {detail}",
                        self.timeouts
                    ));
                }
            }
            Err(RunFailure::Crash { .. } | RunFailure::BadOutput { .. }) => self.crashes += 1,
            Err(_) => {}
        }
    }

    /// Whether a failed batch of several cases is retried in pieces: after a timeout or a crash,
    /// unless the harness has never answered and failed that way too often already.
    fn splits(&self, failure: &RunFailure) -> bool {
        match failure {
            RunFailure::Timeout { .. } => self.hung.is_none(),
            // Garbage or a flood on stdout may come from one case, as a crash may: split alike.
            RunFailure::Crash { .. } | RunFailure::BadOutput { .. } => {
                self.answered || self.crashes < HUNG_AFTER
            }
            RunFailure::Unusable { .. } | RunFailure::NotRun { .. } => false,
        }
    }
}

/// Why a process gave no results.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RunFailure {
    /// It ran past its deadline; its process group was killed.
    Timeout { detail: String },
    /// It exited non-zero or was killed by a signal.
    Crash { detail: String },
    /// Its stdout is not a results file, or is over [`MAX_STDOUT_BYTES`] (then its process
    /// group was killed).
    BadOutput { detail: String },
    /// It could not start, or its input could not be encoded: retrying pieces would fail alike.
    Unusable { detail: String },
    /// It was not run, or not to its end: the harness is declared hung, or the batch's budget
    /// is spent.
    NotRun { detail: String },
}

impl fmt::Display for RunFailure {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunFailure::Timeout { detail }
            | RunFailure::Crash { detail }
            | RunFailure::BadOutput { detail }
            | RunFailure::Unusable { detail }
            | RunFailure::NotRun { detail } => formatter.write_str(detail),
        }
    }
}

/// A case sent to the harness, with the expected result the protocol requires.
type Sendable<'a> = (&'a ValidationInput, ExpectedResult);

impl ExternalHarness {
    /// A harness run as `sh -c command`.
    pub fn new(name: impl Into<String>, command: impl Into<String>) -> Self {
        let argv = vec!["sh".to_string(), "-c".to_string(), command.into()];
        ExternalHarness::from_argv(name, argv)
    }

    /// A harness run as `argv[0] argv[1..]`, without a shell.
    pub fn from_argv(name: impl Into<String>, argv: Vec<String>) -> Self {
        ExternalHarness {
            name: name.into(),
            argv,
            reject_kinds: Vec::new(),
            per_case_timeout: Duration::from_secs(10),
            seen_harness: Mutex::new(None),
            health: Mutex::new(Health::default()),
        }
    }

    /// Parses `NAME=COMMAND` (the `--validator-cmd` flag).
    pub fn parse(spec: &str) -> Result<Self, ExternalSpecError> {
        let error = |message: &str| ExternalSpecError {
            spec: spec.to_string(),
            message: message.to_string(),
        };
        let (name, command) = spec
            .split_once('=')
            .ok_or_else(|| error("expected NAME=COMMAND"))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(error("the NAME before `=` is empty"));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(error(
                "NAME may only contain letters, digits, `-`, `_` and `.` (it names a results file)",
            ));
        }
        if command.trim().is_empty() {
            return Err(error("the COMMAND after `=` is empty"));
        }
        Ok(ExternalHarness::new(name, command))
    }

    /// The command as a person would type it (for messages): a `--validator-cmd` as given,
    /// without the `sh -c` that [`ExternalHarness::new`] puts before it.
    pub fn command_line(&self) -> String {
        match self.argv.as_slice() {
            [shell, flag, command] if shell == "sh" && flag == "-c" => command.clone(),
            argv => argv.join(" "),
        }
    }

    /// The same harness, mapping its native errors with `rules`.
    pub fn with_reject_kinds(mut self, rules: Vec<KindRule>) -> Self {
        self.reject_kinds = rules;
        self
    }

    pub fn with_per_case_timeout(mut self, timeout: Duration) -> Self {
        self.per_case_timeout = timeout;
        self
    }

    /// Runs the harness on an empty limbo file: its `harness` field names the library and the
    /// version it really runs.
    pub fn probe_version(&self) -> Result<String, String> {
        self.run_process(&[], batch_deadline(self.per_case_timeout, 0))
            .map(|results| results.harness)
            .map_err(|failure| failure.to_string())
    }

    /// Verdicts for `cases` by case id: runs them as one process, and splits a batch that times
    /// out or crashes into pieces retried together, round after round, until every case has a
    /// verdict or the budget is spent.
    fn run_cases(&self, cases: &[Sendable<'_>]) -> HashMap<String, Verdict> {
        let budget_end = Instant::now() + batch_budget(self.per_case_timeout, cases.len());
        let mut verdicts = HashMap::new();
        let mut round: Vec<&[Sendable<'_>]> = vec![cases];
        let mut retrying = false;
        while !round.is_empty() {
            let outcomes = self.run_round(&round, budget_end, retrying);
            let mut next = Vec::new();
            for (piece, outcome) in round.into_iter().zip(outcomes) {
                let failure = match outcome {
                    Ok(results) => {
                        let mut by_id = by_id(results.results);
                        for (input, _) in piece {
                            let verdict = match by_id.remove(&input.id).as_deref() {
                                None | Some([]) => Verdict::Error {
                                    detail: "the harness returned no result for this case".into(),
                                },
                                Some([result]) => verdict_from_result(result, &self.reject_kinds),
                                // Which one is its answer? Another case's may carry this id.
                                Some(several) => Verdict::Error {
                                    detail: format!(
                                        "the harness returned {} results for this case",
                                        several.len()
                                    ),
                                },
                            };
                            verdicts.insert(input.id.clone(), verdict);
                        }
                        continue;
                    }
                    Err(failure) => failure,
                };
                let health = self.health.lock().unwrap_or_else(|e| e.into_inner());
                if piece.len() > 1 && health.splits(&failure) {
                    next.extend(piece.chunks(piece.len().div_ceil(SPLIT_WAYS)));
                    continue;
                }
                // A timed-out piece of a harness since declared hung says so, like the rest.
                let detail = match (&failure, &health.hung) {
                    (RunFailure::Timeout { .. }, Some(hung)) => hung.clone(),
                    _ => failure.to_string(),
                };
                for (input, _) in piece {
                    verdicts.insert(
                        input.id.clone(),
                        Verdict::Error {
                            detail: detail.clone(),
                        },
                    );
                }
            }
            round = next;
            retrying = true;
        }
        verdicts
    }

    /// Runs each piece of a round as its own process, as many at once as there are cores (the
    /// processes mostly wait, and a hanging one must not hold its siblings), in order otherwise.
    fn run_round(
        &self,
        pieces: &[&[Sendable<'_>]],
        budget_end: Instant,
        retrying: bool,
    ) -> Vec<Result<LimboResults, RunFailure>> {
        let workers = thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(2)
            .max(2)
            .min(pieces.len());
        if workers <= 1 {
            return pieces
                .iter()
                .map(|piece| self.run_piece(piece, budget_end, retrying))
                .collect();
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        let outcomes: Vec<Mutex<Option<Result<LimboResults, RunFailure>>>> =
            pieces.iter().map(|_| Mutex::new(None)).collect();
        thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(piece) = pieces.get(index) else {
                        break;
                    };
                    let outcome = self.run_piece(piece, budget_end, retrying);
                    *outcomes[index].lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
                });
            }
        });
        outcomes
            .into_iter()
            .map(|slot| {
                slot.into_inner()
                    .unwrap_or_else(|e| e.into_inner())
                    .unwrap_or_else(|| {
                        Err(RunFailure::NotRun {
                            detail: "the piece was not run".into(),
                        })
                    })
            })
            .collect()
    }

    /// The detail of a harness declared hung, which its remaining cases get.
    fn declared_hung(&self) -> Option<String> {
        self.health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .hung
            .clone()
    }

    /// One process on `piece`, unless the harness is declared hung or the budget is spent; its
    /// outcome is recorded in the harness's health.
    fn run_piece(
        &self,
        piece: &[Sendable<'_>],
        budget_end: Instant,
        retrying: bool,
    ) -> Result<LimboResults, RunFailure> {
        if let Some(hung) = self.declared_hung() {
            return Err(RunFailure::NotRun { detail: hung });
        }
        let remaining = budget_end.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(RunFailure::NotRun {
                detail: "not run: retrying its batch after timeouts or crashes used up the \
                         batch's time (the per-case timeout times the batch size)"
                    .into(),
            });
        }
        let deadline = batch_deadline(self.per_case_timeout, piece.len()).min(remaining);
        let outcome = self.run_process(piece, deadline);
        if let Ok(results) = &outcome {
            if let Ok(mut seen) = self.seen_harness.lock() {
                *seen = Some(results.harness.clone());
            }
        }
        self.health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(&outcome, retrying);
        outcome
    }

    fn run_process(
        &self,
        cases: &[Sendable<'_>],
        timeout: Duration,
    ) -> Result<LimboResults, RunFailure> {
        let unusable = |detail: String| RunFailure::Unusable { detail };
        let limbo = Limbo {
            version: 1,
            testcases: cases
                .iter()
                .map(|(input, expected)| testcase_from_input(input, *expected, "anchorsmith case"))
                .collect(),
        };
        let stdin_bytes = serde_json::to_vec(&limbo)
            .map_err(|e| unusable(format!("cannot encode testcases: {e}")))?;

        let (program, arguments) = self
            .argv
            .split_first()
            .ok_or_else(|| unusable("the harness command is empty".into()))?;
        // A fresh empty directory: the harness sees no file of ours, only its batch on stdin.
        let workdir = tempfile::Builder::new()
            .prefix("anchorsmith-harness-")
            .tempdir()
            .map_err(|e| unusable(format!("cannot create a working directory: {e}")))?;
        let mut child = Command::new(program)
            .args(arguments)
            .current_dir(workdir.path())
            .env_clear()
            .envs(
                KEPT_ENVIRONMENT
                    .iter()
                    .filter_map(|name| std::env::var_os(name).map(|value| (name, value))),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so a timeout kills the command and everything it started.
            .process_group(0)
            .spawn()
            .map_err(|e| unusable(format!("cannot start `{}`: {e}", self.command_line())))?;

        let mut stdin = child.stdin.take().expect("stdin is piped");
        // A harness that never reads its input must not block us: write on a thread.
        thread::spawn(move || {
            let _ = stdin.write_all(&stdin_bytes);
        });
        let flooded = Arc::new(AtomicBool::new(false));
        let stdout = read_on_thread(
            child.stdout.take().expect("stdout is piped"),
            MAX_STDOUT_BYTES,
            Some(Arc::clone(&flooded)),
        );
        let stderr = read_on_thread(
            child.stderr.take().expect("stderr is piped"),
            MAX_STDERR_BYTES,
            None,
        );
        let flood = || RunFailure::BadOutput {
            detail: format!(
                "output over {} MB on stdout ({} {}); process group killed",
                MAX_STDOUT_BYTES >> 20,
                cases.len(),
                if cases.len() == 1 { "case" } else { "cases" }
            ),
        };

        let status = match wait_with_timeout(&mut child, timeout, || {
            flooded.load(Ordering::Relaxed) || self.declared_hung().is_some()
        }) {
            Waited::Exited(status) => status,
            Waited::TimedOut => {
                kill_group(&child);
                let _ = child.wait();
                return Err(RunFailure::Timeout {
                    detail: format!(
                        "timeout after {} ({} {}); process group killed",
                        seconds(timeout),
                        cases.len(),
                        if cases.len() == 1 { "case" } else { "cases" }
                    ),
                });
            }
            // Declared hung while this one ran (a sibling's timeout): waiting on is useless.
            Waited::GaveUp => {
                kill_group(&child);
                let _ = child.wait();
                if flooded.load(Ordering::Relaxed) {
                    return Err(flood());
                }
                return Err(RunFailure::NotRun {
                    detail: self.declared_hung().unwrap_or_default(),
                });
            }
        };
        // The pipes close when the process exits, unless it left children holding them.
        let grace = Duration::from_secs(5);
        let stdout = stdout.recv_timeout(grace).unwrap_or_default();
        let stderr = stderr.recv_timeout(grace).unwrap_or_default();
        if flooded.load(Ordering::Relaxed) {
            return Err(flood());
        }
        if !status.success() {
            return Err(RunFailure::Crash {
                detail: format!(
                    "{}; stderr: {}",
                    describe_exit(status),
                    tail(&String::from_utf8_lossy(&stderr))
                ),
            });
        }
        serde_json::from_slice::<LimboResults>(&stdout).map_err(|e| RunFailure::BadOutput {
            detail: format!(
                "unparsable results on stdout ({e}); stdout begins: {}",
                head(&String::from_utf8_lossy(&stdout))
            ),
        })
    }
}

impl std::str::FromStr for ExternalHarness {
    type Err = ExternalSpecError;
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        ExternalHarness::parse(spec)
    }
}

impl Validator for ExternalHarness {
    fn name(&self) -> &str {
        &self.name
    }

    fn version(&self) -> String {
        self.seen_harness
            .lock()
            .ok()
            .and_then(|seen| seen.clone())
            .unwrap_or_else(|| self.command_line())
    }

    fn validate(&self, input: &ValidationInput) -> Verdict {
        self.validate_batch(std::slice::from_ref(input))
            .pop()
            .expect("one verdict per case")
    }

    fn validate_batch(&self, inputs: &[ValidationInput]) -> Vec<Verdict> {
        let sendable: Vec<Sendable<'_>> = inputs
            .iter()
            .filter_map(|input| input.expected_result.map(|expected| (input, expected)))
            .collect();
        let mut verdicts = if sendable.is_empty() {
            HashMap::new()
        } else {
            self.run_cases(&sendable)
        };
        inputs
            .iter()
            .map(|input| match input.expected_result {
                None => Verdict::Skip {
                    reason: NO_EXPECTED_RESULT.into(),
                },
                Some(_) => verdicts
                    .remove(&input.id)
                    .unwrap_or_else(|| Verdict::Error {
                        detail: "no verdict for this case (is its id used twice?)".into(),
                    }),
            })
            .collect()
    }

    fn preferred_batch_size(&self) -> Option<usize> {
        Some(BATCH_SIZE)
    }
}

/// The skip reason of a case that has no expected result to send.
const NO_EXPECTED_RESULT: &str =
    "no expected_result: the limbo harness protocol requires one, and this case has none";

/// Results by case id, so they are matched to inputs by id, never by position; every result a
/// harness gave under one id, so an id answered twice is noticed rather than one answer kept.
fn by_id(results: Vec<LimboResult>) -> HashMap<String, Vec<LimboResult>> {
    let mut by_id: HashMap<String, Vec<LimboResult>> = HashMap::new();
    for result in results {
        by_id.entry(result.id.clone()).or_default().push(result);
    }
    by_id
}

/// One limbo result as a verdict.
pub fn verdict_from_result(result: &LimboResult, reject_kinds: &[KindRule]) -> Verdict {
    let context = result.context.clone().unwrap_or_default();
    match result.actual_result {
        ActualResult::Success => Verdict::Accept {
            chain_built: chain_from_context(&context),
        },
        ActualResult::Failure => Verdict::Reject {
            kind: if reject_kinds.is_empty() {
                kind_from_context(&context)
            } else {
                map_kind(reject_kinds, &context)
            },
            detail: context,
        },
        // Our harnesses' extension of the protocol: a case the library never finished.
        ActualResult::Skipped if is_no_verdict(&context) => Verdict::Error { detail: context },
        ActualResult::Skipped => Verdict::Skip {
            reason: if context.is_empty() {
                "skipped by the harness".into()
            } else {
                context
            },
        },
        ActualResult::Hang => Verdict::Error {
            detail: format!("the harness reports a hang: {context}"),
        },
    }
}

/// The kind, when a harness's context says it unambiguously (OpenSSL, webpki, Go and
/// cryptography wordings); otherwise `Other`.
pub fn kind_from_context(context: &str) -> RejectKind {
    let text = context.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
    if has(&["not yet valid", "notvalidyet", "not_yet_valid"]) {
        RejectKind::NotYetValid
    } else if has(&[
        "has expired",
        "certexpired",
        "certificate expired",
        "cert_has_expired",
    ]) {
        RejectKind::Expired
    } else if has(&[
        "unable to get local issuer",
        "unable to get issuer",
        "unknownissuer",
        "unknown authority",
        "self-signed certificate in certificate chain",
    ]) {
        RejectKind::UnknownIssuer
    } else if has(&[
        "hostname mismatch",
        "certnotvalidforname",
        "subject name validation failed",
    ]) {
        RejectKind::NameMismatch
    } else if has(&["signature failure", "invalidsignatureforpublickey"]) {
        RejectKind::BadSignature
    } else if has(&["path length", "pathlenconstraint"]) {
        RejectKind::PathTooLong
    } else if has(&[
        "name constraint",
        "nameconstraintviolation",
        "permitted subtree",
        "excluded subtree",
    ]) {
        RejectKind::ConstraintViolation
    } else {
        RejectKind::Other
    }
}

/// Reads `source` to its end on a thread, keeping at most `cap` bytes. What comes after is read
/// and dropped (so the writer never blocks on a full pipe), and sets `overflow` as soon as the
/// first byte past the cap arrives, so the caller can kill the writer rather than wait for it.
fn read_on_thread(
    mut source: impl Read + Send + 'static,
    cap: u64,
    overflow: Option<Arc<AtomicBool>>,
) -> mpsc::Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = (&mut source).take(cap).read_to_end(&mut bytes);
        let mut probe = [0u8; 1];
        if matches!(source.read(&mut probe), Ok(1..)) {
            if let Some(overflow) = &overflow {
                overflow.store(true, Ordering::Relaxed);
            }
            let _ = std::io::copy(&mut source, &mut std::io::sink());
        }
        let _ = sender.send(bytes);
    });
    receiver
}

/// How waiting for a process ended.
enum Waited {
    Exited(ExitStatus),
    TimedOut,
    /// `give_up` said to stop waiting.
    GaveUp,
}

/// Waits for the process until `timeout`, or until `give_up` says so. Polls: a harness run
/// lasts seconds, a few ms of latency are irrelevant.
fn wait_with_timeout(child: &mut Child, timeout: Duration, give_up: impl Fn() -> bool) -> Waited {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Waited::Exited(status),
            Ok(None) if Instant::now() >= deadline => return Waited::TimedOut,
            Ok(None) if give_up() => return Waited::GaveUp,
            Ok(None) => {
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(_) => return Waited::TimedOut,
        }
    }
}

fn kill_group(child: &Child) {
    // The child leads its own group (process_group(0)), so its pid is the group id.
    let group = child.id() as libc::pid_t;
    // SAFETY: kill(2) with a negative pid signals that process group; no memory is involved.
    unsafe {
        libc::kill(-group, libc::SIGKILL);
    }
}

/// `2s`, `2.5s`, `0.06s`: short and exact enough for a message.
fn seconds(duration: Duration) -> String {
    let text = format!("{:.2}", duration.as_secs_f64());
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}s")
}

fn describe_exit(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => "abnormal exit".into(),
    }
}

fn tail(text: &str) -> String {
    let trimmed = text.trim();
    let start = trimmed
        .char_indices()
        .rev()
        .nth(399)
        .map(|(i, _)| i)
        .unwrap_or(0);
    trimmed[start..].to_string()
}

fn head(text: &str) -> String {
    text.trim().chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_spec() {
        let harness = ExternalHarness::parse("go=/opt/harness --flag=x").unwrap();
        assert_eq!(harness.name, "go");
        assert_eq!(harness.argv, ["sh", "-c", "/opt/harness --flag=x"]);
        let error = ExternalHarness::parse("no-equals").unwrap_err();
        assert!(
            error.to_string().starts_with("--validator-cmd `no-equals`"),
            "{error}"
        );
        assert!(ExternalHarness::parse("=cmd").is_err());
        assert!(ExternalHarness::parse("x=  ").is_err());
        assert!(ExternalHarness::parse("a/b=cmd").is_err());
    }

    #[test]
    fn deadlines_grow_with_the_timeout_and_slowly_with_the_batch() {
        let second = Duration::from_secs(1);
        assert_eq!(batch_deadline(second, 0), Duration::from_secs(2));
        assert_eq!(batch_deadline(second, 87), Duration::from_millis(6350));
        assert_eq!(
            batch_deadline(Duration::from_secs(5), 10),
            Duration::from_millis(11000)
        );
        // The default timeout on a full batch: 2 minutes, where it was 5,000 s.
        assert_eq!(
            batch_deadline(Duration::from_secs(10), BATCH_SIZE),
            Duration::from_secs(120)
        );
        // Never less than the old single deadline, and room to split a small batch.
        assert_eq!(batch_budget(second, 87), Duration::from_secs(87));
        assert_eq!(batch_budget(second, 1), Duration::from_secs(8));
    }

    #[test]
    fn a_harness_that_never_answered_is_hung_after_three_timeouts() {
        let timeout = || {
            Err(RunFailure::Timeout {
                detail: "timeout after 2s (11 cases); process group killed".into(),
            })
        };
        let mut health = Health::default();
        health.record(&timeout(), true);
        health.record(&timeout(), true);
        assert_eq!(health.hung, None);
        assert!(health.splits(&RunFailure::Timeout {
            detail: String::new()
        }));
        health.record(&timeout(), true);
        assert_eq!(
            health.hung.as_deref(),
            Some(
                "harness declared hung after 3 timeouts: \
                 timeout after 2s (11 cases); process group killed"
            )
        );
        assert!(!health.splits(&RunFailure::Timeout {
            detail: String::new()
        }));

        // The first processes of a run's batches time out together on a loaded machine: slow,
        // not hung. Only retried pieces count.
        let mut slow = Health::default();
        for _ in 0..5 {
            slow.record(&timeout(), false);
        }
        assert_eq!(slow.hung, None);

        // One that answered once only hangs on some cases: it is never declared hung.
        let mut answered = Health::default();
        answered.record(
            &Ok(LimboResults {
                version: 1,
                harness: "h".into(),
                results: vec![],
            }),
            false,
        );
        for _ in 0..10 {
            answered.record(&timeout(), true);
        }
        assert_eq!(answered.hung, None);
    }

    #[test]
    fn crashes_are_split_unless_the_harness_never_answered_and_crashed_thrice() {
        let crash = RunFailure::Crash {
            detail: "exit status 1".into(),
        };
        let mut health = Health::default();
        for _ in 0..HUNG_AFTER - 1 {
            health.record(&Err(crash.clone()), true);
        }
        assert!(health.splits(&crash));
        health.record(&Err(crash.clone()), true);
        assert!(!health.splits(&crash));
        health.answered = true;
        assert!(health.splits(&crash));
        // A program that cannot start would fail alike in every piece.
        assert!(!health.splits(&RunFailure::Unusable {
            detail: "cannot start".into()
        }));
        // Garbage or a flood may come from one case: split like a crash, and counted with them.
        let garbage = RunFailure::BadOutput {
            detail: "unparsable".into(),
        };
        assert!(health.splits(&garbage));
        let mut fresh = Health::default();
        for _ in 0..HUNG_AFTER {
            fresh.record(&Err(garbage.clone()), true);
        }
        assert!(!fresh.splits(&garbage));
    }

    #[test]
    fn seconds_are_short() {
        assert_eq!(seconds(Duration::from_secs(2)), "2s");
        assert_eq!(seconds(Duration::from_millis(2220)), "2.22s");
        assert_eq!(seconds(Duration::from_millis(600)), "0.6s");
    }

    fn verdict_from_result_plain(result: &LimboResult) -> Verdict {
        verdict_from_result(result, &[])
    }

    #[test]
    fn result_mapping() {
        use ActualResult::*;
        let result = |actual_result: ActualResult, context: Option<&str>| LimboResult {
            id: "x".into(),
            actual_result,
            context: context.map(String::from),
        };
        assert_eq!(
            verdict_from_result_plain(&result(Success, None)),
            Verdict::Accept {
                chain_built: vec![]
            }
        );
        assert_eq!(
            verdict_from_result_plain(&result(Failure, Some("certificate has expired"))).label(),
            "reject:expired"
        );
        assert_eq!(
            verdict_from_result_plain(&result(Failure, Some("BadDer"))).label(),
            "reject:other"
        );
        assert_eq!(
            verdict_from_result_plain(&result(Skipped, None)).label(),
            "skip"
        );
        assert_eq!(
            verdict_from_result_plain(&result(Hang, Some("testcase timed out"))),
            Verdict::Error {
                detail: "the harness reports a hang: testcase timed out".into()
            }
        );
    }

    #[test]
    fn a_harness_table_chains_and_unfinished_cases_shape_the_verdict() {
        use crate::harnesses::kinds::NativePattern;
        use ActualResult::*;
        let result = |actual_result: ActualResult, context: &str| LimboResult {
            id: "x".into(),
            actual_result,
            context: Some(context.into()),
        };
        let table = vec![KindRule {
            native: NativePattern::try_from("SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE".to_string())
                .unwrap(),
            kind: RejectKind::Expired,
        }];
        let native = "SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE (-8162): issuer expired";
        assert_eq!(
            verdict_from_result(&result(Failure, native), &table).label(),
            "reject:expired"
        );
        // The wording rules alone would not know NSS's code.
        assert_eq!(
            verdict_from_result(&result(Failure, native), &[]).label(),
            "reject:other"
        );
        assert_eq!(
            verdict_from_result(
                &result(Success, "chain: leaf <- R3 <- ISRG Root X1"),
                &table
            ),
            Verdict::Accept {
                chain_built: vec!["leaf".into(), "R3".into(), "ISRG Root X1".into()]
            }
        );
        assert_eq!(
            verdict_from_result(&result(Skipped, "timeout: no answer in 5 s"), &table).label(),
            "error"
        );
    }
}
