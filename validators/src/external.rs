//! An external validator speaking the x509-limbo harness protocol: `sh -c COMMAND` reads a limbo
//! testcase file on stdin and writes a limbo results file on stdout.
//!
//! One process per batch. Whatever goes wrong with the process — non-zero exit, crash,
//! unparsable output, a timeout (the whole process group is killed), a case it did not answer —
//! becomes [`Verdict::Error`] for the cases affected, so the run goes on.
//!
//! The protocol requires every testcase to carry `expected_result`; the harness gets the case's
//! own ([`ValidationInput::expected_result`]). A case without one is not sent: it is skipped
//! with the reason, since any value we made up could steer a harness that reads it.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use crate::limbo::{
    testcase_from_input, ActualResult, ExpectedResult, Limbo, LimboResult, LimboResults,
};
use crate::{RejectKind, ValidationInput, Validator, Verdict};

/// Cases handed to one process; small enough that a crash loses little, large enough that
/// process start-up (a JVM, a Python interpreter) stays negligible.
pub const BATCH_SIZE: usize = 500;

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
    /// Each batch may take this long per case before the process group is killed.
    pub per_case_timeout: Duration,
    /// The `harness` field of the last results file read, reported as the version.
    seen_harness: Mutex<Option<String>>,
}

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
            per_case_timeout: Duration::from_secs(10),
            seen_harness: Mutex::new(None),
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

    /// The command as a person would type it (for messages).
    pub fn command_line(&self) -> String {
        self.argv.join(" ")
    }

    pub fn with_per_case_timeout(mut self, timeout: Duration) -> Self {
        self.per_case_timeout = timeout;
        self
    }

    /// Runs the harness on `cases`: each input with its expected result.
    /// Runs the harness on an empty limbo file: its `harness` field names the library and the
    /// version it really runs.
    pub fn probe_version(&self) -> Result<String, String> {
        self.run_process(&[]).map(|results| results.harness)
    }

    fn run_process(
        &self,
        cases: &[(&ValidationInput, ExpectedResult)],
    ) -> Result<LimboResults, String> {
        let limbo = Limbo {
            version: 1,
            testcases: cases
                .iter()
                .map(|(input, expected)| testcase_from_input(input, *expected, "anchorsmith case"))
                .collect(),
        };
        let stdin_bytes =
            serde_json::to_vec(&limbo).map_err(|e| format!("cannot encode testcases: {e}"))?;
        let timeout = self
            .per_case_timeout
            .saturating_mul(cases.len().max(1) as u32);

        let (program, arguments) = self
            .argv
            .split_first()
            .ok_or_else(|| "the harness command is empty".to_string())?;
        let mut child = Command::new(program)
            .args(arguments)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so a timeout kills the command and everything it started.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start `{}`: {e}", self.command_line()))?;

        let mut stdin = child.stdin.take().expect("stdin is piped");
        // A harness that never reads its input must not block us: write on a thread.
        thread::spawn(move || {
            let _ = stdin.write_all(&stdin_bytes);
        });
        let stdout = read_on_thread(child.stdout.take().expect("stdout is piped"));
        let stderr = read_on_thread(child.stderr.take().expect("stderr is piped"));

        let status = wait_with_timeout(&mut child, timeout);
        let Some(status) = status else {
            kill_group(&child);
            let _ = child.wait();
            return Err(format!(
                "timeout after {}s ({} cases); process group killed",
                timeout.as_secs(),
                cases.len()
            ));
        };
        // The pipes close when the process exits, unless it left children holding them.
        let grace = Duration::from_secs(5);
        let stdout = stdout.recv_timeout(grace).unwrap_or_default();
        let stderr = stderr.recv_timeout(grace).unwrap_or_default();
        if !status.success() {
            return Err(format!(
                "{}; stderr: {}",
                describe_exit(status),
                tail(&String::from_utf8_lossy(&stderr))
            ));
        }
        serde_json::from_slice::<LimboResults>(&stdout).map_err(|e| {
            format!(
                "unparsable results on stdout ({e}); stdout begins: {}",
                head(&String::from_utf8_lossy(&stdout))
            )
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
        let sendable: Vec<(&ValidationInput, ExpectedResult)> = inputs
            .iter()
            .filter_map(|input| input.expected_result.map(|expected| (input, expected)))
            .collect();
        let mut results = if sendable.is_empty() {
            Ok(HashMap::new())
        } else {
            self.run_process(&sendable).map(|results| {
                if let Ok(mut seen) = self.seen_harness.lock() {
                    *seen = Some(results.harness.clone());
                }
                by_id(results.results)
            })
        };
        inputs
            .iter()
            .map(|input| match (input.expected_result, &mut results) {
                (None, _) => Verdict::Skip {
                    reason: NO_EXPECTED_RESULT.into(),
                },
                (Some(_), Err(detail)) => Verdict::Error {
                    detail: detail.clone(),
                },
                (Some(_), Ok(by_id)) => match by_id.remove(&input.id) {
                    None => Verdict::Error {
                        detail: "the harness returned no result for this case".into(),
                    },
                    Some(result) => verdict_from_result(&result),
                },
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

/// Results by case id, so they are matched to inputs by id, never by position.
fn by_id(results: Vec<LimboResult>) -> HashMap<String, LimboResult> {
    results
        .into_iter()
        .map(|result| (result.id.clone(), result))
        .collect()
}

/// One limbo result as a verdict.
pub fn verdict_from_result(result: &LimboResult) -> Verdict {
    let context = result.context.clone().unwrap_or_default();
    match result.actual_result {
        ActualResult::Success => Verdict::Accept {
            chain_built: Vec::new(),
        },
        ActualResult::Failure => Verdict::Reject {
            kind: kind_from_context(&context),
            detail: context,
        },
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

fn read_on_thread(mut source: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = source.read_to_end(&mut bytes);
        let _ = sender.send(bytes);
    });
    receiver
}

/// The exit status, or `None` on timeout. Polls: a harness run lasts seconds, a few ms of
/// latency are irrelevant.
fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() >= deadline => return None,
            Ok(None) => {
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(_) => return None,
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
    fn result_mapping() {
        use ActualResult::*;
        let result = |actual_result: ActualResult, context: Option<&str>| LimboResult {
            id: "x".into(),
            actual_result,
            context: context.map(String::from),
        };
        assert_eq!(
            verdict_from_result(&result(Success, None)),
            Verdict::Accept {
                chain_built: vec![]
            }
        );
        assert_eq!(
            verdict_from_result(&result(Failure, Some("certificate has expired"))).label(),
            "reject:expired"
        );
        assert_eq!(
            verdict_from_result(&result(Failure, Some("BadDer"))).label(),
            "reject:other"
        );
        assert_eq!(verdict_from_result(&result(Skipped, None)).label(), "skip");
        assert_eq!(
            verdict_from_result(&result(Hang, Some("testcase timed out"))),
            Verdict::Error {
                detail: "the harness reports a hang: testcase timed out".into()
            }
        );
    }
}
