//! Runs a program as a child process and measures what it cost: wall time and CPU time
//! (user + system, summed over all its threads), as the kernel accounts them to the child.
//!
//! The CPU figure is the difference of `getrusage(RUSAGE_CHILDREN)` around one child's life:
//! the kernel adds a child's usage there when it is reaped, so with one child at a time the
//! difference is exactly that child's (and its own reaped children's) usage.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// What one run cost: of a child process, or of a stretch of this one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cost {
    pub wall: Duration,
    /// User + system CPU time of the child, all threads.
    pub cpu: Duration,
}

/// Where a child's standard streams go: stdin from a file (or nothing), stdout and stderr to
/// files, so a run's output can be read afterwards and never interleaves with ours.
pub struct Streams<'a> {
    pub stdin: Option<&'a Path>,
    pub stdout: &'a Path,
    pub stderr: &'a Path,
}

/// Runs `command` to completion and returns its cost; a non-zero exit is an error that quotes
/// the end of its stderr.
pub fn run_measured(command: &mut Command, streams: &Streams) -> anyhow::Result<Cost> {
    let open =
        |path: &Path| File::create(path).with_context(|| format!("creating {}", path.display()));
    let stdin = match streams.stdin {
        Some(path) => {
            Stdio::from(File::open(path).with_context(|| format!("opening {}", path.display()))?)
        }
        None => Stdio::null(),
    };
    command
        .stdin(stdin)
        .stdout(open(streams.stdout)?)
        .stderr(open(streams.stderr)?);
    let before = cpu_time(libc::RUSAGE_CHILDREN)?;
    let started = Instant::now();
    let status = command
        .status()
        .with_context(|| format!("starting {:?}", command.get_program()))?;
    let wall = started.elapsed();
    let cpu = cpu_time(libc::RUSAGE_CHILDREN)?.saturating_sub(before);
    if !status.success() {
        let stderr = std::fs::read_to_string(streams.stderr).unwrap_or_default();
        let tail: Vec<&str> = stderr.lines().rev().take(10).collect();
        bail!(
            "{command:?} failed ({status}); its stderr ends:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    Ok(Cost { wall, cpu })
}

/// User + system time so far of `who`: `RUSAGE_SELF` (this process, all threads) or
/// `RUSAGE_CHILDREN` (all reaped children).
pub fn cpu_time(who: libc::c_int) -> anyhow::Result<Duration> {
    // SAFETY: getrusage only writes the struct we pass; zeroed is a valid `rusage`.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut usage) } != 0 {
        bail!("getrusage: {}", std::io::Error::last_os_error());
    }
    Ok(timeval(usage.ru_utime) + timeval(usage.ru_stime))
}

fn timeval(value: libc::timeval) -> Duration {
    Duration::from_secs(value.tv_sec as u64) + Duration::from_micros(value.tv_usec as u64)
}

/// The median of some durations (the mean of the middle two for an even count); zero when empty.
pub fn median(values: &[Duration]) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    match sorted.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let ms = Duration::from_millis;
        assert_eq!(median(&[ms(5), ms(1), ms(3)]), ms(3));
        assert_eq!(
            median(&[ms(4), ms(1), ms(3), ms(2)]),
            Duration::from_micros(2_500)
        );
        assert_eq!(median(&[]), Duration::ZERO);
    }

    #[test]
    fn measures_a_busy_child_and_its_output() {
        let directory = tempfile::tempdir().unwrap();
        let stdout = directory.path().join("out");
        let stderr = directory.path().join("err");
        // A shell loop that burns some CPU, then prints.
        let cost = run_measured(
            Command::new("sh").args([
                "-c",
                "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo done",
            ]),
            &Streams {
                stdin: None,
                stdout: &stdout,
                stderr: &stderr,
            },
        )
        .unwrap();
        assert_eq!(std::fs::read_to_string(&stdout).unwrap(), "done\n");
        assert!(cost.cpu > Duration::from_millis(20), "{cost:?}");
        assert!(cost.wall >= cost.cpu / 2, "one thread: {cost:?}");
    }

    #[test]
    fn a_failing_child_is_an_error_quoting_its_stderr() {
        let directory = tempfile::tempdir().unwrap();
        let error = run_measured(
            Command::new("sh").args(["-c", "echo broken >&2; exit 3"]),
            &Streams {
                stdin: None,
                stdout: &directory.path().join("out"),
                stderr: &directory.path().join("err"),
            },
        )
        .unwrap_err();
        assert!(error.to_string().contains("broken"), "{error}");
    }
}
