//! `cargo xtask bench limbo`: our rustls-webpki adapter beside x509-limbo's own rustls-webpki
//! harness on the full limbo suite (9,780 cases), both as whole processes, in the same run.
//!
//! What is compared, and why it is fair:
//! - limbo's harness is built here from its source (`shared/limbo/harness/`, see [`super::peer`])
//!   in release mode, exactly as upstream wrote it: one thread, limbo JSON on stdin, results JSON
//!   on stdout (redirected to a file).
//! - ours is this very binary (a release build) run as `xtask limbo --suite <file> --validator
//!   rustls-webpki --out <dir>`: the command a user runs. It does more than the harness: it also
//!   tallies agreement per namespace and writes `differences.md` and `agreement.txt` beside the
//!   results file. It uses every core.
//! - Both read the same file: the suite is gunzipped once into `target/peer/limbo-full.json`, so
//!   neither pays for gzip. Both start cold from the same page cache (one untimed warm-up run
//!   each), and the order within each pair alternates so that drift on a shared machine hits
//!   both sides alike.
//! - Wall time is measured around the child; CPU time is the child's user + system time over all
//!   its threads, from the kernel (see [`super::child`]). Medians over the paired runs.
//! - On a busy machine wall times say more about the other load than about either program;
//!   `--realtime` (root) runs both at real-time priority, as on an idle machine.
//!
//! The two result files are then compared case by case (by id), so a speed-up that changed
//! verdicts would show.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anchorsmith_validators::limbo::LimboResults;
use anchorsmith_validators::suite::{self, SuiteSpec};
use anchorsmith_validators::Validator;
use anyhow::Context;

use super::child::{cpu_time, median, run_measured, Cost, Streams};
use super::peer::PeerBuild;

/// The targets: ours / limbo's harness, in one run.
const WALL_RATIO_TARGET: f64 = 0.4;
const CPU_RATIO_TARGET: f64 = 0.6;

/// SCHED_FIFO priority for `--realtime` runs: low among real-time priorities (1 to 99), so kernel
/// threads that use real-time priorities still preempt the benchmark.
const REALTIME_PRIORITY: &str = "10";

/// The one validator both programs run.
const VALIDATOR: &str = "rustls-webpki";

/// How the comparison runs.
pub struct LimboBenchOptions {
    /// Paired runs the medians are taken over.
    pub runs: usize,
    /// Run both programs at real-time priority (`chrt --fifo`), see [`Contestant::run`].
    pub realtime: bool,
}

pub fn run(options: LimboBenchOptions) -> anyhow::Result<()> {
    let LimboBenchOptions { runs, realtime } = options;
    let root = crate::project_root();
    let peer = PeerBuild::new(&root);
    eprintln!(
        "building limbo's rustls-webpki harness under {} ...",
        peer.peer_dir.display()
    );
    let theirs_binary = peer.build()?;
    let suite_json = unpack_suite(&SuiteSpec::Full.resolve(&root), &peer.peer_dir)?;
    let ours_binary = std::env::current_exe().context("locating this xtask binary")?;
    let contestants = [
        Contestant::theirs(&theirs_binary, &suite_json, &peer.peer_dir),
        Contestant::ours(&ours_binary, &suite_json, &peer.peer_dir),
    ];

    let load_before = load_average();
    eprintln!("warm-up run of each ...");
    for contestant in &contestants {
        contestant.run(realtime)?;
    }
    let mut costs: [Vec<Cost>; 2] = [Vec::new(), Vec::new()];
    for pair in 0..runs {
        // Alternate who goes first, so drift on a shared machine hits both sides alike.
        let order: [usize; 2] = if pair % 2 == 0 { [0, 1] } else { [1, 0] };
        for index in order {
            costs[index].push(contestants[index].run(realtime)?);
        }
        eprintln!(
            "pair {}/{runs}: theirs {}, ours {}",
            pair + 1,
            describe(costs[0][pair]),
            describe(costs[1][pair])
        );
    }
    let load_after = load_average();
    let check = compare_results(&contestants[0].results, &contestants[1].results)?;
    let report = Report {
        cases: check.cases,
        suite: format!(
            "{} (plain JSON, {:.1} MB)",
            suite_json.display(),
            std::fs::metadata(&suite_json)?.len() as f64 / 1e6
        ),
        runs,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        realtime,
        load_average: [load_before, load_after],
        theirs_command: format!(
            "x509-limbo's rust-rustls harness (rustls-webpki {}), one thread: `{} < {} > {}`",
            peer.webpki_version().unwrap_or_else(|| "?".into()),
            short(&theirs_binary, &root),
            short(&suite_json, &root),
            short(&contestants[0].results, &root),
        ),
        ours_command: format!(
            "{}, all cores: `xtask {}` (also tallies agreement, writes differences.md)",
            anchorsmith_validators::webpki_validator::RustlsWebpki.version(),
            contestants[1].args.join(" ")
        ),
        theirs: Medians::of(&costs[0]),
        ours: Medians::of(&costs[1]),
        our_loading: measure_our_loading(&suite_json)?,
        differing: check.differing,
    };
    print!("{}", report.render());
    Ok(())
}

/// Everything the benchmark prints, measured; [`Report::render`] lays it out.
struct Report {
    cases: usize,
    /// The input file as shown: path and size.
    suite: String,
    runs: usize,
    cores: usize,
    realtime: bool,
    /// 1-minute load average before and after the runs.
    load_average: [Option<f64>; 2],
    theirs_command: String,
    ours_command: String,
    theirs: Medians,
    ours: Medians,
    /// Our loading of the suite, measured apart in this process.
    our_loading: Cost,
    /// Ids of the cases whose results differ.
    differing: Vec<String>,
}

impl Report {
    fn render(&self) -> String {
        let mut lines = vec![format!(
            "limbo-full: {} cases, read from {} by both; {} paired runs, {} cores",
            self.cases, self.suite, self.runs, self.cores
        )];
        if self.realtime {
            lines.push(format!(
                "both run at real-time priority (chrt --fifo {REALTIME_PRIORITY}): other load \
                 does not skew wall times"
            ));
        }
        let [before, after] = self
            .load_average
            .map(|load| load.map_or("?".to_string(), |load| format!("{load:.1}")));
        lines.push(format!(
            "1-minute load average: {before} before, {after} after"
        ));
        lines.push(format!("theirs: {}", self.theirs_command));
        lines.push(format!("ours:   {}", self.ours_command));
        lines.push(String::new());
        let wall_ratio = secs(self.ours.wall) / secs(self.theirs.wall);
        let cpu_ratio = secs(self.ours.cpu) / secs(self.theirs.cpu);
        lines.push(format!("{:<18} {:>8} {:>8}", "median", "wall s", "CPU s"));
        for (name, medians) in [("theirs", &self.theirs), ("ours", &self.ours)] {
            lines.push(format!(
                "{name:<18} {:>8.3} {:>8.3}",
                secs(medians.wall),
                secs(medians.cpu)
            ));
        }
        lines.push(format!(
            "{:<18} {wall_ratio:>8.2} {cpu_ratio:>8.2}",
            "ours / theirs"
        ));
        lines.push(format!(
            "{:<18} {:>8} {:>8}",
            "target",
            format!("≤ {WALL_RATIO_TARGET:.2}"),
            format!("≤ {CPU_RATIO_TARGET:.2}")
        ));
        lines.push(String::new());
        lines.push(format!(
            "wall ratio {} ({wall_ratio:.2} vs ≤ {WALL_RATIO_TARGET}), CPU ratio {} \
             ({cpu_ratio:.2} vs ≤ {CPU_RATIO_TARGET})",
            verdict(wall_ratio <= WALL_RATIO_TARGET),
            verdict(cpu_ratio <= CPU_RATIO_TARGET),
        ));
        let busiest = self.load_average.into_iter().flatten().fold(0.0, f64::max);
        if busiest > self.cores as f64 * 0.75 && !self.realtime {
            lines.push(format!(
                "caution: the machine was busy (1-minute load average up to {busiest:.1} on {} \
                 cores): CPU times hold, wall times and their ratio do not (a CPU-bound process \
                 gets a share of a core, and the scheduler favours threads that often sleep); \
                 as root, `--realtime` measures as on an idle machine",
                self.cores
            ));
        }
        lines.push(format!(
            "of ours, loading the suite (read, parse, convert; measured apart in this process): \
             {:.3} s wall, {:.3} s CPU",
            secs(self.our_loading.wall),
            secs(self.our_loading.cpu)
        ));
        lines.push(format!(
            "verdicts: same actual_result on {} of {} cases{}",
            self.cases - self.differing.len(),
            self.cases,
            differing_summary(&self.differing)
        ));
        lines.iter().map(|line| format!("{line}\n")).collect()
    }
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

fn secs(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

fn describe(cost: Cost) -> String {
    format!("{:.3} s wall {:.3} s CPU", secs(cost.wall), secs(cost.cpu))
}

fn short(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Medians of wall and CPU time, each on its own.
struct Medians {
    wall: Duration,
    cpu: Duration,
}

impl Medians {
    fn of(costs: &[Cost]) -> Medians {
        let walls: Vec<Duration> = costs.iter().map(|cost| cost.wall).collect();
        let cpus: Vec<Duration> = costs.iter().map(|cost| cost.cpu).collect();
        Medians {
            wall: median(&walls),
            cpu: median(&cpus),
        }
    }
}

/// One side of the comparison: a program, its arguments, where its streams go and where it
/// leaves its limbo results file.
struct Contestant {
    program: PathBuf,
    args: Vec<String>,
    stdin: Option<PathBuf>,
    stdout: PathBuf,
    stderr: PathBuf,
    results: PathBuf,
}

impl Contestant {
    fn theirs(binary: &Path, suite_json: &Path, peer_dir: &Path) -> Contestant {
        let results = peer_dir.join("theirs-results.json");
        Contestant {
            program: binary.to_path_buf(),
            args: Vec::new(),
            stdin: Some(suite_json.to_path_buf()),
            stdout: results.clone(),
            stderr: peer_dir.join("theirs-stderr.txt"),
            results,
        }
    }

    fn ours(binary: &Path, suite_json: &Path, peer_dir: &Path) -> Contestant {
        let out = peer_dir.join("ours");
        let args = vec![
            "limbo".to_string(),
            "--suite".to_string(),
            suite_json.display().to_string(),
            "--validator".to_string(),
            VALIDATOR.to_string(),
            "--out".to_string(),
            out.display().to_string(),
        ];
        Contestant {
            program: binary.to_path_buf(),
            args,
            stdin: None,
            stdout: peer_dir.join("ours-stdout.txt"),
            stderr: peer_dir.join("ours-stderr.txt"),
            results: out.join("results").join(format!("{VALIDATOR}.json")),
        }
    }

    /// One measured run. `realtime` starts the program through `chrt --fifo` (SCHED_FIFO; needs
    /// root): on a shared machine the scheduler otherwise hands CPU-bound threads a varying share
    /// of a core, which skews wall times whatever the program does. Other processes wait
    /// meanwhile. CPU times are the same either way.
    fn run(&self, realtime: bool) -> anyhow::Result<Cost> {
        let mut command = if realtime {
            let mut chrt = Command::new("chrt");
            chrt.args(["--fifo", REALTIME_PRIORITY]).arg(&self.program);
            chrt
        } else {
            Command::new(&self.program)
        };
        run_measured(
            command.args(&self.args),
            &Streams {
                stdin: self.stdin.as_deref(),
                stdout: &self.stdout,
                stderr: &self.stderr,
            },
        )
    }
}

/// Gunzips the suite once into `dir/limbo-full.json` (kept while it is newer than the archive),
/// so both programs read the same plain JSON and neither pays for gzip.
fn unpack_suite(gzipped: &Path, dir: &Path) -> anyhow::Result<PathBuf> {
    let plain = dir.join("limbo-full.json");
    let modified = |path: &Path| {
        std::fs::metadata(path)
            .and_then(|meta| meta.modified())
            .ok()
    };
    let fresh = matches!(
        (modified(&plain), modified(gzipped)),
        (Some(plain_time), Some(gzipped_time)) if plain_time >= gzipped_time
    );
    if !fresh {
        let bytes = suite::read_maybe_gzipped(gzipped)?;
        anchorsmith_generator::write_file_atomically(&plain, &bytes, 0o644)
            .with_context(|| format!("writing {}", plain.display()))?;
    }
    Ok(plain)
}

/// How far the two results files agree.
struct ResultsCheck {
    cases: usize,
    /// Ids of the cases whose `actual_result` differs, in our file's order.
    differing: Vec<String>,
}

/// `; differing: a, b` (the first few), or nothing when all agree.
fn differing_summary(ids: &[String]) -> String {
    const SHOWN: usize = 5;
    match ids.len() {
        0 => String::new(),
        n if n <= SHOWN => format!("; differing: {}", ids.join(", ")),
        n => format!(
            "; differing: {}, and {} more",
            ids[..SHOWN].join(", "),
            n - SHOWN
        ),
    }
}

/// Both files must cover the same cases; finds the cases whose `actual_result` differs.
fn compare_results(theirs: &Path, ours: &Path) -> anyhow::Result<ResultsCheck> {
    let theirs = suite::load_results(theirs)?;
    let ours = suite::load_results(ours)?;
    agreement(&theirs, &ours)
}

fn agreement(theirs: &LimboResults, ours: &LimboResults) -> anyhow::Result<ResultsCheck> {
    let by_id: HashMap<&str, _> = theirs
        .results
        .iter()
        .map(|result| (result.id.as_str(), &result.actual_result))
        .collect();
    anyhow::ensure!(
        by_id.len() == ours.results.len(),
        "theirs has {} results, ours {}",
        by_id.len(),
        ours.results.len()
    );
    let mut differing = Vec::new();
    for result in &ours.results {
        let their_result = by_id.get(result.id.as_str()).with_context(|| {
            format!("case {} is missing from limbo's harness results", result.id)
        })?;
        if **their_result != result.actual_result {
            differing.push(result.id.clone());
        }
    }
    Ok(ResultsCheck {
        cases: ours.results.len(),
        differing,
    })
}

/// Our loading of the plain JSON (read, parse, convert to inputs), in this process: wall time
/// and this process's CPU time over it (all threads).
fn measure_our_loading(suite_json: &Path) -> anyhow::Result<Cost> {
    let cpu_before = own_cpu_time()?;
    let started = Instant::now();
    let loaded = suite::load_suite(suite_json)?;
    let wall = started.elapsed();
    let cpu = own_cpu_time()?.saturating_sub(cpu_before);
    drop(loaded);
    Ok(Cost { wall, cpu })
}

fn own_cpu_time() -> anyhow::Result<Duration> {
    cpu_time(libc::RUSAGE_SELF)
}

/// The 1-minute load average (Linux `/proc/loadavg`), to tell whether wall times can be trusted.
fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    parse_load_average(&text)
}

fn parse_load_average(text: &str) -> Option<f64> {
    text.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchorsmith_validators::limbo::LimboResult;

    fn results(entries: &[(&str, &str)]) -> LimboResults {
        LimboResults {
            version: 1,
            harness: "test".into(),
            results: entries
                .iter()
                .map(|(id, actual)| LimboResult {
                    id: id.to_string(),
                    actual_result: serde_json::from_value(serde_json::json!(actual))
                        .expect("a limbo actual_result spelling"),
                    context: None,
                })
                .collect(),
        }
    }

    #[test]
    fn agreement_is_counted_by_id_not_position() {
        let theirs = results(&[("a", "SUCCESS"), ("b", "FAILURE"), ("c", "SKIPPED")]);
        let ours = results(&[("c", "FAILURE"), ("a", "SUCCESS"), ("b", "FAILURE")]);
        let check = agreement(&theirs, &ours).unwrap();
        assert_eq!((check.cases, check.differing), (3, vec!["c".to_string()]));
    }

    #[test]
    fn a_missing_case_is_an_error() {
        let theirs = results(&[("a", "SUCCESS"), ("b", "FAILURE")]);
        let ours = results(&[("a", "SUCCESS"), ("x", "FAILURE")]);
        let error = agreement(&theirs, &ours).err().unwrap();
        assert!(error.to_string().contains('x'), "{error}");
        assert!(agreement(&theirs, &results(&[("a", "SUCCESS")])).is_err());
    }

    #[test]
    fn names_the_first_differing_cases() {
        let ids: Vec<String> = (1..=7).map(|n| format!("c{n}")).collect();
        assert_eq!(differing_summary(&[]), "");
        assert_eq!(differing_summary(&ids[..2]), "; differing: c1, c2");
        assert_eq!(
            differing_summary(&ids),
            "; differing: c1, c2, c3, c4, c5, and 2 more"
        );
    }

    fn report(ours_wall_ms: u64, load: f64, realtime: bool) -> Report {
        let ms = Duration::from_millis;
        Report {
            cases: 3,
            suite: "s.json".into(),
            runs: 5,
            cores: 2,
            realtime,
            load_average: [Some(load), None],
            theirs_command: "t".into(),
            ours_command: "o".into(),
            theirs: Medians {
                wall: ms(2000),
                cpu: ms(2000),
            },
            ours: Medians {
                wall: ms(ours_wall_ms),
                cpu: ms(1400),
            },
            our_loading: Cost {
                wall: ms(100),
                cpu: ms(200),
            },
            differing: vec!["c".into()],
        }
    }

    #[test]
    fn the_report_gives_ratios_and_judges_them_against_the_targets() {
        let text = report(760, 0.5, false).render();
        assert!(
            text.contains("ours / theirs          0.38     0.70\n"),
            "{text}"
        );
        assert!(
            text.contains("wall ratio met (0.38 vs ≤ 0.4), CPU ratio MISSED (0.70 vs ≤ 0.6)"),
            "{text}"
        );
        assert!(
            text.contains("1-minute load average: 0.5 before, ? after"),
            "{text}"
        );
        assert!(
            text.contains("same actual_result on 2 of 3 cases; differing: c"),
            "{text}"
        );
        assert!(!text.contains("caution"), "{text}");
        assert!(report(900, 0.5, false)
            .render()
            .contains("wall ratio MISSED (0.45"));
    }

    #[test]
    fn a_busy_machine_gets_a_caution_unless_realtime() {
        assert!(report(760, 3.0, false)
            .render()
            .contains("caution: the machine was busy"));
        let realtime = report(760, 3.0, true).render();
        assert!(!realtime.contains("caution"), "{realtime}");
        assert!(realtime.contains("real-time priority"), "{realtime}");
    }

    #[test]
    fn reads_the_load_average() {
        assert_eq!(
            parse_load_average("7.45 10.78 13.36 3/512 4242\n"),
            Some(7.45)
        );
        assert_eq!(parse_load_average(""), None);
    }
}
