//! Running one client program: a cleared environment (no proxy, CA or SSL variable can leak in),
//! optionally under libfaketime with the clock frozen at the case's time, its own process group
//! killed when it runs past its timeout. What it printed and how it ended come back as data; the
//! client decides what that means.

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{mpsc, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

/// How the clock of a client process is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// The real clock (the case has no validation time, or the client takes the time itself).
    Real,
    /// libfaketime, frozen at this instant (whole seconds, UTC). `monotonic`: whether the
    /// monotonic clock is frozen too (the JVM starts fast only with it frozen; curl and
    /// gnutls-cli need theirs running for their own timers).
    Frozen { at: SystemTime, monotonic: bool },
}

impl Clock {
    /// Frozen at the case's validation time when it has one, else the real clock.
    pub fn at(time: Option<SystemTime>, monotonic: bool) -> Clock {
        time.map_or(Clock::Real, |at| Clock::Frozen { at, monotonic })
    }
}

/// What a finished client process left.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// How it ended, for messages: `exit status 1`, `killed by signal 11`.
    pub fn describe_status(&self) -> String {
        match (self.status.code(), self.status.signal()) {
            (Some(code), _) => format!("exit status {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            (None, None) => "ended without a status".into(),
        }
    }
}

/// Why a client process gave no usable answer: the case's verdict is an error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Fault {
    #[error("cannot start `{program}`: {error}")]
    CannotStart { program: String, error: String },
    #[error("timeout after {seconds:.1} s; process group killed")]
    Timeout { seconds: f64 },
}

/// libfaketime's absolute format, `YYYY-MM-DD hh:mm:ss` (read in `TZ=UTC`): without `@` the
/// clock stands still, so a handshake never crosses a one-second boundary while it runs.
pub fn faketime_spec(at: SystemTime) -> String {
    let moment = time::OffsetDateTime::from(at);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        moment.year(),
        u8::from(moment.month()),
        moment.day(),
        moment.hour(),
        moment.minute(),
        moment.second()
    )
}

/// Debian's libfaketime (package `libfaketime`, pulled in by `faketime`), found once: it lives
/// under the multiarch directory, `/usr/lib/<triplet>/faketime/libfaketime.so.1`.
pub fn faketime_library() -> Result<&'static Path, String> {
    static LIBRARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    LIBRARY
        .get_or_init(|| {
            let found = std::fs::read_dir("/usr/lib")
                .into_iter()
                .flatten()
                .flatten()
                .map(|entry| entry.path().join("faketime/libfaketime.so.1"))
                .filter(|path| path.is_file())
                .min();
            found.ok_or_else(|| {
                "libfaketime not found at /usr/lib/<triplet>/faketime/libfaketime.so.1 \
                 (Debian package libfaketime)"
                    .to_string()
            })
        })
        .as_deref()
        .map_err(Clone::clone)
}

/// Whole seconds since the epoch (what `-attime` and a frozen clock read).
pub fn epoch_seconds(at: SystemTime) -> i64 {
    match at.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => after.as_secs() as i64,
        Err(before) => -(before.duration().as_secs_f64().ceil() as i64),
    }
}

/// Runs `argv` with `stdin` written to it, under `clock`, for at most `timeout`.
pub fn run(
    argv: &[String],
    stdin: &[u8],
    clock: Clock,
    timeout: Duration,
) -> Result<Finished, Fault> {
    let (program, arguments) = argv.split_first().expect("a program");
    let mut command = Command::new(program);
    command
        .args(arguments)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        // libfaketime reads its time in local time.
        .env("TZ", "UTC")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: a client may fork (curl's resolver, the JVM's helpers), so a
        // timeout kills the group.
        .process_group(0);
    if let Clock::Frozen { at, monotonic } = clock {
        let library = faketime_library().map_err(|error| Fault::CannotStart {
            program: program.clone(),
            error,
        })?;
        // libfaketime preloaded directly, not through the `faketime` wrapper: the wrapper makes a
        // named semaphore and shared memory keyed by its PID and cannot remove them when a
        // timeout kills it, so a later wrapper that gets the same PID fails with
        // `sem_open: File exists` — a case lost for nothing, seen under load.
        command
            .env("LD_PRELOAD", library)
            .env("FAKETIME", faketime_spec(at));
        if !monotonic {
            command.env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
        }
    }
    let mut child = command.spawn().map_err(|error| Fault::CannotStart {
        program: program.clone(),
        error: error.to_string(),
    })?;
    let mut input = child.stdin.take().expect("stdin is piped");
    let stdin = stdin.to_vec();
    // A client that never reads its input must not block us.
    thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let stdout = read_on_thread(child.stdout.take().expect("stdout is piped"));
    let stderr = read_on_thread(child.stderr.take().expect("stderr is piped"));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < timeout => thread::sleep(Duration::from_millis(5)),
            _ => {
                // SAFETY: kill has no memory effects; a negative pid names the process group
                // that `process_group(0)` made for this child.
                unsafe {
                    libc::kill(-(child.id() as i32), libc::SIGKILL);
                }
                let _ = child.wait();
                return Err(Fault::Timeout {
                    seconds: timeout.as_secs_f64(),
                });
            }
        }
    };
    let grace = Duration::from_secs(5);
    Ok(Finished {
        status,
        stdout: String::from_utf8_lossy(&stdout.recv_timeout(grace).unwrap_or_default())
            .into_owned(),
        stderr: String::from_utf8_lossy(&stderr.recv_timeout(grace).unwrap_or_default())
            .into_owned(),
    })
}

fn read_on_thread(mut pipe: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        let _ = sender.send(bytes);
    });
    receiver
}

/// The first line of `text` that contains `needle`, trimmed.
pub fn line_with<'a>(text: &'a str, needle: &str) -> Option<&'a str> {
    text.lines()
        .find(|line| line.contains(needle))
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faketime_spec_is_utc_whole_seconds() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_633_046_400_900);
        assert_eq!(faketime_spec(at), "2021-10-01 00:00:00");
        assert_eq!(epoch_seconds(at), 1_633_046_400);
    }

    #[test]
    fn a_process_past_its_timeout_is_killed_with_its_group() {
        let started = Instant::now();
        let argv = ["sh", "-c", "sleep 30 & sleep 30"].map(String::from);
        let fault = run(&argv, b"", Clock::Real, Duration::from_millis(300)).unwrap_err();
        assert!(matches!(fault, Fault::Timeout { .. }), "{fault:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_crash_is_told_by_its_signal() {
        let argv = ["sh", "-c", "kill -SEGV $$"].map(String::from);
        let finished = run(&argv, b"", Clock::Real, Duration::from_secs(10)).unwrap();
        assert_eq!(finished.describe_status(), "killed by signal 11");
    }

    #[test]
    fn the_environment_is_cleared() {
        std::env::set_var("ANCHORSMITH_LEAK_TEST", "leaked");
        let argv = ["sh", "-c", "echo \"[$ANCHORSMITH_LEAK_TEST][$TZ]\""].map(String::from);
        let finished = run(&argv, b"", Clock::Real, Duration::from_secs(10)).unwrap();
        assert_eq!(finished.stdout.trim(), "[][UTC]");
    }
}
