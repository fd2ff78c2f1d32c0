//! Runs every case through every validator, in parallel, and never lets one validator stop the
//! run: a panic becomes [`Verdict::Error`] `panic: ...`, a hang becomes `timeout after Ns` (the
//! stuck thread is abandoned, the run goes on).
//!
//! Validators run one after another (so each gets a clean wall time), each over all cases in
//! parallel on rayon's pool. A validator that may hang has each validation run on a long-lived
//! helper thread owned by the rayon worker, which waits for it with a deadline: one channel round
//! trip per case instead of a thread spawn. A validator that declares it cannot hang
//! ([`Validator::cannot_hang`], e.g. rustls-webpki, which budgets its own work) runs directly on
//! the rayon workers, only its panics caught: on the full limbo suite the round trips and the
//! copy of the inputs cost 0.1 s of rustls-webpki's 1.5 s of CPU. Verdicts are keyed by case id
//! ([`ValidationInput::id`]), so results never depend on scheduling and nobody matches them to
//! cases by position.

use std::any::Any;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::limbo::LimboResults;
use crate::{ValidationInput, Validator, Verdict};

/// Progress callback: `(done, total)` over all validator × case pairs.
pub type Progress = Arc<dyn Fn(usize, usize) + Send + Sync>;

#[derive(Clone)]
pub struct RunOptions {
    /// How long one in-process validation may take before it is recorded as an error.
    pub per_case_timeout: Duration,
    pub progress: Option<Progress>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            per_case_timeout: Duration::from_secs(10),
            progress: None,
        }
    }
}

/// One validator's answers.
#[derive(Clone, Debug)]
pub struct ValidatorRun {
    pub name: String,
    pub version: String,
    pub profile: String,
    /// One verdict per input, keyed by the input's id.
    pub verdicts: BTreeMap<String, Verdict>,
    /// Wall time of this validator over all cases (validators run one after another).
    pub wall_time: Duration,
}

impl ValidatorRun {
    /// This run as a limbo results file, results in the order of `ids`: `harness` is the name
    /// and the library version, and the profile is recorded in every context.
    pub fn to_limbo_results<S: AsRef<str>>(&self, ids: &[S]) -> LimboResults {
        let harness = format!("{} {}", self.name, self.version);
        LimboResults::from_verdicts(&harness, &self.profile, ids, &self.verdicts)
    }
}

/// Results of [`run_all`], one entry per validator in the order given.
#[derive(Clone, Debug, Default)]
pub struct RunResults {
    pub runs: Vec<ValidatorRun>,
}

/// Runs every input through every validator. Input ids must be unique: verdicts are keyed by
/// them.
pub fn run_all(
    validators: &[Arc<dyn Validator>],
    inputs: &[ValidationInput],
    options: &RunOptions,
) -> RunResults {
    // One shared copy, made only for validators that run under a deadline: a validation
    // abandoned after a timeout may outlive this call, so the helper threads need owned data.
    let shared_inputs: OnceLock<Arc<Vec<ValidationInput>>> = OnceLock::new();
    let shared = || shared_inputs.get_or_init(|| Arc::new(inputs.to_vec()));
    let total = validators.len() * inputs.len();
    let done = AtomicUsize::new(0);
    let report = |count: usize| {
        let now = done.fetch_add(count, Ordering::Relaxed) + count;
        if let Some(progress) = &options.progress {
            progress(now, total);
        }
    };
    let runs = validators
        .iter()
        .map(|validator| {
            let started = Instant::now();
            let verdicts = match validator.preferred_batch_size() {
                None if validator.cannot_hang() => run_in_place(validator, inputs, &report),
                None => run_per_case(validator, shared(), options.per_case_timeout, &report),
                Some(batch_size) => run_batches(
                    validator,
                    shared(),
                    batch_size.max(1),
                    options.per_case_timeout,
                    &report,
                ),
            };
            ValidatorRun {
                name: validator.name().to_string(),
                version: validator.version(),
                profile: validator.profile(),
                verdicts: by_id(inputs, verdicts),
                wall_time: started.elapsed(),
            }
        })
        .collect();
    RunResults { runs }
}

/// For a validator that cannot hang ([`Validator::cannot_hang`]): every case runs directly on a
/// rayon worker, its panic caught. No helper thread, no channel round trip (two thread wake-ups)
/// and no copy of the inputs.
fn run_in_place(
    validator: &Arc<dyn Validator>,
    inputs: &[ValidationInput],
    report: &(dyn Fn(usize) + Sync),
) -> Vec<Verdict> {
    inputs
        .par_iter()
        .map(|input| {
            let verdict = catch_unwind(AssertUnwindSafe(|| validator.validate(input)))
                .unwrap_or_else(|payload| Verdict::Error {
                    detail: format!("panic: {}", panic_message(&*payload)),
                });
            report(1);
            verdict
        })
        .collect()
}

fn run_per_case(
    validator: &Arc<dyn Validator>,
    inputs: &Arc<Vec<ValidationInput>>,
    timeout: Duration,
    report: &(dyn Fn(usize) + Sync),
) -> Vec<Verdict> {
    (0..inputs.len())
        .into_par_iter()
        .map(|index| {
            let validator = Arc::clone(validator);
            let inputs = Arc::clone(inputs);
            let verdicts = run_with_deadline(
                Box::new(move || vec![validator.validate(&inputs[index])]),
                1,
                timeout,
            );
            report(1);
            verdicts.into_iter().next().expect("one verdict per case")
        })
        .collect()
}

fn run_batches(
    validator: &Arc<dyn Validator>,
    inputs: &Arc<Vec<ValidationInput>>,
    batch_size: usize,
    per_case_timeout: Duration,
    report: &(dyn Fn(usize) + Sync),
) -> Vec<Verdict> {
    let ranges: Vec<(usize, usize)> = (0..inputs.len())
        .step_by(batch_size)
        .map(|start| (start, (start + batch_size).min(inputs.len())))
        .collect();
    let batches: Vec<Vec<Verdict>> = ranges
        .into_par_iter()
        .map(|(start, end)| {
            let validator = Arc::clone(validator);
            let inputs = Arc::clone(inputs);
            // The validator enforces its own deadlines (an external harness: its batch budget,
            // retries included); this one only backs them up, should a validator ignore them.
            let backstop = crate::external::batch_budget(per_case_timeout, end - start)
                + Duration::from_secs(30);
            let verdicts = run_with_deadline(
                Box::new(move || validator.validate_batch(&inputs[start..end])),
                end - start,
                backstop,
            );
            report(end - start);
            verdicts
        })
        .collect();
    batches.into_iter().flatten().collect()
}

type Job = Box<dyn FnOnce() -> Vec<Verdict> + Send>;

/// A long-lived thread that runs jobs for one rayon worker.
struct Helper {
    jobs: Sender<Job>,
    results: Receiver<std::thread::Result<Vec<Verdict>>>,
}

impl Helper {
    fn spawn() -> std::io::Result<Helper> {
        let (job_sender, job_receiver) = mpsc::channel::<Job>();
        let (result_sender, result_receiver) = mpsc::channel();
        std::thread::Builder::new()
            .name("anchorsmith-validation".into())
            .spawn(move || {
                // Ends when the owner drops the sender (it abandoned us, or its thread ended).
                for job in job_receiver {
                    let outcome = catch_unwind(AssertUnwindSafe(job));
                    if result_sender.send(outcome).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Helper {
            jobs: job_sender,
            results: result_receiver,
        })
    }
}

thread_local! {
    static HELPER: RefCell<Option<Helper>> = const { RefCell::new(None) };
}

/// Runs `job` on this thread's helper and waits at most `timeout`; `expected` verdicts are
/// returned in every case (errors fill them when the job panics, hangs or miscounts).
fn run_with_deadline(job: Job, expected: usize, timeout: Duration) -> Vec<Verdict> {
    let errors = |detail: String| vec![Verdict::Error { detail }; expected];
    let helper = match HELPER.with(|slot| slot.borrow_mut().take()) {
        Some(helper) => helper,
        None => match Helper::spawn() {
            Ok(helper) => helper,
            Err(error) => return errors(format!("cannot start a validation thread: {error}")),
        },
    };
    if helper.jobs.send(job).is_err() {
        return errors("validation thread ended unexpectedly".into());
    }
    match helper.results.recv_timeout(timeout) {
        Ok(outcome) => {
            HELPER.with(|slot| *slot.borrow_mut() = Some(helper));
            match outcome {
                Ok(verdicts) if verdicts.len() == expected => verdicts,
                Ok(verdicts) => errors(format!(
                    "validator returned {} verdicts for {expected} cases",
                    verdicts.len()
                )),
                Err(payload) => errors(format!("panic: {}", panic_message(&*payload))),
            }
        }
        // The helper stays stuck in the job; dropping our ends lets it exit if it ever returns.
        Err(RecvTimeoutError::Timeout) => errors(format!("timeout after {}", seconds(timeout))),
        Err(RecvTimeoutError::Disconnected) => {
            errors("validation thread ended unexpectedly".into())
        }
    }
}

fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0}s")
    } else {
        format!("{secs}s")
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(non-string panic payload)".into()
    }
}

/// `verdicts` (one per input, in input order) keyed by the inputs' ids.
fn by_id(inputs: &[ValidationInput], verdicts: Vec<Verdict>) -> BTreeMap<String, Verdict> {
    debug_assert_eq!(inputs.len(), verdicts.len(), "one verdict per input");
    let keyed: BTreeMap<String, Verdict> = inputs
        .iter()
        .map(|input| input.id.clone())
        .zip(verdicts)
        .collect();
    debug_assert_eq!(keyed.len(), inputs.len(), "input ids are unique");
    keyed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test-only validator that declares it cannot hang, and panics on ids starting with `p`.
    struct PanicsInPlace;
    impl Validator for PanicsInPlace {
        fn name(&self) -> &str {
            "panics-in-place"
        }
        fn version(&self) -> String {
            "test".into()
        }
        fn cannot_hang(&self) -> bool {
            true
        }
        fn validate(&self, input: &ValidationInput) -> Verdict {
            if input.id.starts_with('p') {
                panic!("boom on {}", input.id);
            }
            Verdict::Skip {
                reason: input.id.clone(),
            }
        }
    }

    #[test]
    fn in_place_runs_keep_order_catch_panics_and_report_progress() {
        let ids: Vec<String> = (0..200)
            .map(|index| {
                let prefix = if index % 7 == 3 { "p" } else { "c" };
                format!("{prefix}{index}")
            })
            .collect();
        let inputs: Vec<ValidationInput> = ids
            .iter()
            .map(|id| ValidationInput {
                id: id.clone(),
                ..ValidationInput::default()
            })
            .collect();
        let reported = Arc::new(AtomicUsize::new(0));
        let options = RunOptions {
            progress: Some({
                let reported = Arc::clone(&reported);
                Arc::new(move |done, _total| {
                    reported.fetch_max(done, Ordering::Relaxed);
                })
            }),
            ..RunOptions::default()
        };
        let validator: Arc<dyn Validator> = Arc::new(PanicsInPlace);
        let results = run_all(&[validator], &inputs, &options);
        let verdicts = &results.runs[0].verdicts;
        assert_eq!(verdicts.len(), ids.len());
        for id in &ids {
            let verdict = &verdicts[id];
            let expected = if id.starts_with('p') {
                Verdict::Error {
                    detail: format!("panic: boom on {id}"),
                }
            } else {
                Verdict::Skip { reason: id.clone() }
            };
            assert_eq!(*verdict, expected);
        }
        assert_eq!(reported.load(Ordering::Relaxed), ids.len());
    }
}
