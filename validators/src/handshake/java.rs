//! `handshake:java`: a JSSE client (`validators/harnesses/handshake/HandshakeClient.java`,
//! compiled by the harness set-up into `$OUT/classes`): the default `TrustManagerFactory` over a
//! KeyStore of the case's anchors, an `SSLSocket` with SNI and endpoint identification `HTTPS`.
//!
//! A JVM takes ~0.4 s to start, so one JVM serves every case of a batch that shares a validation
//! time: their servers all listen at once, the jobs go to the JVM on stdin (one line each) and
//! the answers come back one line each, by case id. The clock is libfaketime's, frozen with the
//! monotonic clock too (the JVM starts slowly otherwise, as the `java` harness measured); the
//! JVM prints the clock it sees first, and a JVM whose clock is not the case's time gives no
//! verdict.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use super::process::{self, epoch_seconds, Clock};
use super::server::Server;
use super::{skip, tail, Answer, ClientCase, HandshakeValidator, TrustFiles};
use crate::{ValidationInput, Verdict};

/// The JVM: small and quick to start (a short-lived process).
fn java_argv(validator: &HandshakeValidator) -> Vec<String> {
    vec![
        "java".into(),
        "-XX:+UseSerialGC".into(),
        "-XX:TieredStopAtLevel=1".into(),
        "-cp".into(),
        validator
            .out_dir
            .join("classes")
            .to_string_lossy()
            .into_owned(),
        "HandshakeClient".into(),
    ]
}

/// One case alone (a server already listening, for [`HandshakeValidator::validate_against`]).
pub fn handshake_one(
    validator: &HandshakeValidator,
    case: &ClientCase<'_>,
) -> Result<Answer, String> {
    let job = Job {
        id: "case".into(),
        port: case.port,
        host: case.host_text(),
        ca_file: case.trust.ca_file(),
    };
    run_jvm(validator, case.time, &[job])
        .remove("case")
        .unwrap_or_else(|| Err("the JVM gave no answer".into()))
}

struct Job {
    id: String,
    port: u16,
    host: String,
    ca_file: std::path::PathBuf,
}

/// The answers of one JVM at `time` (`None`: the real clock), by job id.
fn run_jvm(
    validator: &HandshakeValidator,
    time: Option<SystemTime>,
    jobs: &[Job],
) -> HashMap<String, Result<Answer, String>> {
    let stdin: String = jobs
        .iter()
        .map(|job| {
            format!(
                "{}\t{}\t{}\t{}\n",
                job.id,
                job.port,
                job.host,
                job.ca_file.display()
            )
        })
        .collect();
    let clock = Clock::at(time, true);
    // Start-up, then each handshake's share; a JVM past that is killed.
    let limit = validator.timeout * 2 + Duration::from_millis(500) * jobs.len() as u32;
    let all = |detail: String| {
        jobs.iter()
            .map(|job| (job.id.clone(), Err(detail.clone())))
            .collect()
    };
    let finished = match process::run(&java_argv(validator), stdin.as_bytes(), clock, limit) {
        Ok(finished) => finished,
        Err(fault) => return all(format!("java: {fault}")),
    };
    let mut lines = finished.stdout.lines();
    let clock_line = lines.next().unwrap_or_default();
    let seen: Option<i64> = clock_line
        .strip_prefix("clock ")
        .and_then(|seconds| seconds.trim().parse().ok());
    match (time, seen) {
        (_, None) => {
            return all(format!(
                "java gave no clock line ({}): {}",
                finished.describe_status(),
                tail(&finished.stderr)
            ))
        }
        (Some(at), Some(seen)) if seen != epoch_seconds(at) => {
            // Never a verdict made at the wrong time.
            return all(format!(
                "libfaketime did not take effect: the JVM's clock read {seen}, not {}",
                epoch_seconds(at)
            ));
        }
        _ => {}
    }
    let mut answers: HashMap<String, Result<Answer, String>> = HashMap::new();
    for line in lines {
        let mut fields = line.splitn(3, '\t');
        let (Some(id), Some(result)) = (fields.next(), fields.next()) else {
            continue;
        };
        let answer = match (result, fields.next()) {
            ("OK", _) => Ok(Answer::Accepted),
            ("FAIL", Some(native)) if is_verdict(native) => Ok(Answer::Rejected {
                native: native.to_string(),
            }),
            ("FAIL", Some(native)) => Err(format!("java: not a verdict on the chain: {native}")),
            _ => Err(format!("java: unreadable answer line: {line}")),
        };
        answers.insert(id.to_string(), answer);
    }
    for job in jobs {
        answers.entry(job.id.clone()).or_insert_with(|| {
            Err(format!(
                "java gave no answer for this case ({}): {}",
                finished.describe_status(),
                tail(&finished.stderr)
            ))
        });
    }
    answers
}

/// Whether a JSSE failure is a judgement of the chain (the trust manager's, or the hostname
/// check's), not a connection or protocol failure.
fn is_verdict(native: &str) -> bool {
    native.contains("java.security.cert.") || native.contains("sun.security.validator.")
}

/// JVMs running at once for one batch (one per validation time): measured on the corpus (2
/// cores), one at a time took 6.5 s for its 16 times, three at a time less than half that.
const JVMS_AT_ONCE: usize = 3;

/// The verdicts of the cases of one validation time: their servers all listen while one JVM
/// connects to each in turn.
fn run_group<'a>(
    validator: &HandshakeValidator,
    cases: &[(&'a ValidationInput, skip::Host)],
) -> Vec<(&'a str, Verdict)> {
    let mut verdicts = Vec::new();
    let time = cases[0].0.validation_time;
    // Kept alive until the JVM is done: the servers and the CA files.
    let mut running: Vec<(Server, TrustFiles)> = Vec::new();
    let mut jobs = Vec::new();
    for (input, host) in cases {
        let server = match Server::start(input) {
            Ok(server) => server,
            Err(cannot) => {
                verdicts.push((
                    input.id.as_str(),
                    Verdict::Skip {
                        reason: cannot.to_string(),
                    },
                ));
                continue;
            }
        };
        let trust = match TrustFiles::write(&input.trust_anchors) {
            Ok(trust) => trust,
            Err(detail) => {
                verdicts.push((input.id.as_str(), Verdict::Error { detail }));
                continue;
            }
        };
        jobs.push(Job {
            id: input.id.clone(),
            port: server.port(),
            host: host.text(),
            ca_file: trust.ca_file(),
        });
        running.push((server, trust));
    }
    let mut answers = run_jvm(validator, time, &jobs);
    for (input, _) in cases {
        if let Some(answer) = answers.remove(&input.id) {
            verdicts.push((input.id.as_str(), validator.verdict(answer)));
        }
    }
    drop(running);
    verdicts
}

/// Every case of a batch: the skips first, then one JVM per distinct validation time, with every
/// server of that time listening while it runs.
pub fn validate_batch(validator: &HandshakeValidator, inputs: &[ValidationInput]) -> Vec<Verdict> {
    let mut verdicts: HashMap<&str, Verdict> = HashMap::new();
    // Validation time (whole seconds; None = now) → the cases to run at it.
    let mut groups: BTreeMap<Option<i64>, Vec<(&ValidationInput, skip::Host)>> = BTreeMap::new();
    for input in inputs {
        match skip::host_or_skip(input, validator.client.names()) {
            Ok(host) => groups
                .entry(input.validation_time.map(epoch_seconds))
                .or_default()
                .push((input, host)),
            Err(reason) => {
                verdicts.insert(&input.id, Verdict::Skip { reason });
            }
        }
    }
    // The JVMs of different times run side by side: each mostly waits on start-up and sockets.
    let groups: Vec<&Vec<(&ValidationInput, skip::Host)>> = groups.values().collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let settled = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..JVMS_AT_ONCE.min(groups.len()) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(cases) = groups.get(index) else {
                    break;
                };
                let group = run_group(validator, cases);
                settled
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(group);
            });
        }
    });
    for (id, verdict) in settled.into_inner().unwrap_or_else(|e| e.into_inner()) {
        verdicts.insert(id, verdict);
    }
    inputs
        .iter()
        .map(|input| {
            verdicts
                .remove(input.id.as_str())
                .unwrap_or_else(|| Verdict::Error {
                    detail: "no verdict for this case (is its id used twice?)".into(),
                })
        })
        .collect()
}
