//! Fault isolation and confinement of external harnesses: a real fault-injecting harness
//! (`tests/harness/fault_injecting.py`) crashes, hangs, prints invalid JSON, answers for the
//! wrong id or floods stdout on marked cases; a probe harness reports what its process can see.

mod fixtures;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchorsmith_validators::external::{ExternalHarness, KEPT_ENVIRONMENT, MAX_STDOUT_BYTES};
use anchorsmith_validators::limbo::ExpectedResult;
use anchorsmith_validators::runner::{run_all, RunOptions, RunResults};
use anchorsmith_validators::{ValidationInput, Validator, Verdict};
use fixtures::*;

/// The faults of `fault_injecting.py`, each with the start of the detail its case must get.
const FAULTS: [(&str, &str); 6] = [
    ("crash", "killed by signal 11"),
    ("hang", "timeout after"),
    ("garbage", "unparsable results on stdout"),
    ("wrongid", "the harness returned no result for this case"),
    ("dupid", "the harness returned no result for this case"),
    (
        "flood",
        "output over 16 MB on stdout (1 case); process group killed",
    ),
];

/// Where the faulty cases sit among the 24: each in its own piece of 3 when the batch is split
/// (24 / SPLIT_WAYS), so the first retry round also has clean pieces that answer.
const FAULT_POSITIONS: [usize; 6] = [1, 7, 10, 16, 19, 22];

/// The case before `~dupid` in its piece: its id is answered twice (its own result and the
/// `~dupid` case's), so which answer is its own cannot be told. The protocol keys results by id
/// only, so this second error is unavoidable.
const ANSWERED_TWICE: usize = 18;

/// 24 real cases (accept, expired leaf, wrong name, over and over) with unique ids; six of them
/// carry a fault marker.
fn inputs() -> Vec<ValidationInput> {
    let good = build(&Topology::default());
    let expired = build(&Topology {
        leaf_validity: (at(2023, 1, 1), at(2024, 1, 1)),
        ..Topology::default()
    });
    (0..24)
        .map(|i| {
            let (base, pki, name, expected) = match i % 3 {
                0 => ("good", &good, LEAF_NAME, ExpectedResult::Success),
                1 => ("expired", &expired, LEAF_NAME, ExpectedResult::Failure),
                _ => (
                    "wrong-name",
                    &good,
                    "other.anchorsmith.test",
                    ExpectedResult::Failure,
                ),
            };
            let mut id = format!("{base}-{i}");
            if let Some(fault) = FAULT_POSITIONS.iter().position(|&p| p == i) {
                id = format!("{id}~{}", FAULTS[fault].0);
            }
            ValidationInput {
                expected_result: Some(expected),
                ..input(&id, pki, name, mid_2025())
            }
        })
        .collect()
}

/// A fixture harness run without a shell, so a signal that kills it is the process's own, and
/// with Debian's interpreter, not a version manager's slower `python3` shim.
fn harness_script(name: &str) -> Vec<String> {
    vec![
        "/usr/bin/python3".into(),
        format!("{}/tests/harness/{name}", env!("CARGO_MANIFEST_DIR")),
    ]
}

/// Per case; 2 s, not 1, so a clean single case (three processes) never times out on a loaded
/// machine.
const TIMEOUT: Duration = Duration::from_secs(2);

fn run(harness: ExternalHarness, inputs: &[ValidationInput]) -> RunResults {
    let options = RunOptions {
        per_case_timeout: TIMEOUT,
        progress: None,
    };
    let validators: Vec<Arc<dyn Validator>> = vec![Arc::new(harness)];
    run_all(&validators, inputs, &options)
}

/// Peak resident memory of this process so far (`VmHWM`), in bytes.
fn peak_memory() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .expect("VmHWM");
    let kilobytes: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("VmHWM in kB");
    kilobytes * 1024
}

/// One batch of 24 cases, six of them faulty. Each fault is an error for its own case only
/// (the batch is split after a crash, a timeout, garbage or a flood, down to single cases; a
/// wrong id costs only the case not answered, and the case whose id it took); the run finishes in a few deadlines; the 1 GiB
/// flood is cut at the cap, so memory stays bounded; and every other case's result is
/// byte-identical, as a limbo results file, to a clean run of the same real validator.
#[test]
fn each_fault_is_an_error_for_its_case_only_and_the_rest_matches_a_clean_run() {
    let inputs = inputs();
    let clean = run(
        ExternalHarness::from_argv("openssl-cli", harness_script("openssl_verify_harness.py"))
            .with_per_case_timeout(TIMEOUT),
        &inputs,
    );

    let memory_before = peak_memory();
    let started = Instant::now();
    let faulty = run(
        ExternalHarness::from_argv("openssl-cli", harness_script("fault_injecting.py"))
            .with_per_case_timeout(TIMEOUT),
        &inputs,
    );
    let elapsed = started.elapsed();
    let memory_growth = peak_memory().saturating_sub(memory_before);

    let verdicts = &faulty.runs[0].verdicts;
    assert_eq!(verdicts.len(), inputs.len());
    let mut affected = BTreeSet::new();
    for (fault, detail_start) in FAULTS {
        let id = inputs
            .iter()
            .map(|input| &input.id)
            .find(|id| id.ends_with(&format!("~{fault}")))
            .expect("a case per fault");
        match &verdicts[id] {
            Verdict::Error { detail } => {
                assert!(detail.starts_with(detail_start), "{id}: {detail}")
            }
            other => panic!("{id}: {other:?}"),
        }
        affected.insert(id.clone());
    }
    let twice = &inputs[ANSWERED_TWICE].id;
    assert_eq!(
        verdicts[twice],
        Verdict::Error {
            detail: "the harness returned 2 results for this case".into()
        }
    );
    affected.insert(twice.clone());
    let errors: BTreeSet<String> = verdicts
        .iter()
        .filter(|(_, verdict)| matches!(verdict, Verdict::Error { .. }))
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(
        errors,
        affected,
        "errors for exactly the faulty cases: {:?}",
        verdicts
            .iter()
            .filter(|(id, _)| errors.contains(*id) && !affected.contains(*id))
            .collect::<Vec<_>>()
    );

    let others: Vec<&str> = inputs
        .iter()
        .map(|input| input.id.as_str())
        .filter(|id| !affected.contains(*id))
        .collect();
    assert_eq!(others.len(), 17);
    let as_json = |results: &RunResults| {
        serde_json::to_string_pretty(&results.runs[0].to_limbo_results(&others)).unwrap()
    };
    assert!(
        as_json(&clean).contains("\"actual_result\": \"SUCCESS\""),
        "the clean run gives real verdicts"
    );
    assert_eq!(as_json(&faulty), as_json(&clean));

    // The batch, pieces of 3, then single cases: the hang costs the two last rounds' deadlines
    // (about 9 s measured with the clean run on 2 loaded cores); the bound is the batch's budget
    // with the runner's backstop far beyond it.
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
    // The 1 GiB flood was kept whole before (peak growth over 1 GiB).
    assert!(
        memory_growth < 4 * MAX_STDOUT_BYTES + (64 << 20),
        "peak memory grew by {} MB",
        memory_growth >> 20
    );
}

/// A harness process runs in a fresh, empty working directory (removed afterwards), outside
/// ours, with only the kept environment variables: it can see its batch on stdin and nothing
/// else of ours.
#[test]
fn a_harness_sees_only_its_batch_an_empty_directory_and_a_minimal_environment() {
    let probe = r#"
import json, os, sys
cases = json.load(sys.stdin)["testcases"]
seen = {"cwd": os.getcwd(), "files": sorted(os.listdir(".")), "env": sorted(os.environ)}
print(json.dumps({"version": 1, "harness": "probe", "results": [
    {"id": c["id"], "actual_result": "SKIPPED", "context": json.dumps(seen)} for c in cases]}))
"#;
    let harness = ExternalHarness::from_argv(
        "probe",
        // Debian's interpreter itself: a version manager's `python3` shim would add its own variables.
        vec!["/usr/bin/python3".into(), "-c".into(), probe.into()],
    );
    let inputs: Vec<ValidationInput> = inputs().into_iter().take(2).collect();
    // Cargo gives every test this variable; the harness must not inherit it.
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
    for verdict in harness.validate_batch(&inputs) {
        let Verdict::Skip { reason } = verdict else {
            panic!("{verdict:?}")
        };
        let seen: serde_json::Value = serde_json::from_str(&reason).unwrap();
        let cwd = std::path::PathBuf::from(seen["cwd"].as_str().unwrap());
        assert_ne!(cwd, std::env::current_dir().unwrap());
        assert!(cwd.starts_with(std::env::temp_dir()), "{}", cwd.display());
        assert!(!cwd.exists(), "its directory is removed afterwards");
        assert_eq!(seen["files"], serde_json::json!([]), "an empty directory");
        let environment: Vec<&str> = seen["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|name| name.as_str().unwrap())
            .collect();
        assert!(environment.contains(&"PATH"), "{environment:?}");
        for name in &environment {
            // Python itself may add LC_CTYPE when it coerces the C locale.
            assert!(
                KEPT_ENVIRONMENT.contains(name),
                "{name} leaked: {environment:?}"
            );
        }
    }
}
