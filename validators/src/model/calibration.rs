//! Calibration: the model with an engine's knobs beside the real engine, case by case.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;

use super::{ClientModel, EngineModel};
use crate::runner::{run_all, RunOptions};
use crate::{Outcome, RejectKind, ValidationInput, Validator, Verdict};

/// What the real engine was given, as the model must see it to be compared fairly: every
/// in-process adapter and every harness receives the client's cache as extra untrusted
/// certificates after the served ones (`webpki_validator.rs`, `openssl_validator.rs`,
/// `limbo::testcase_from_input`), and none of them fetches through AIA. So the cache becomes
/// served certificates, in that order, and the AIA repository is dropped.
pub fn as_engines_see_it(input: &ValidationInput) -> ValidationInput {
    let mut seen = input.clone();
    seen.served_chain.append(&mut seen.cached);
    seen.aia_repository.clear();
    seen
}

/// One engine's calibration over a set of cases.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Calibration {
    pub engine: String,
    /// Cases both decided (accept or reject), and of those the ones with the same outcome.
    pub compared: usize,
    pub agree: usize,
    /// Cases where either side skipped or failed to run.
    pub undecided: usize,
    /// Cases both rejected where the engine names a specific reason (not `other`, a native
    /// error its table does not map), and of those the ones where the model names the same.
    pub reasons_compared: usize,
    pub same_reason: usize,
    /// By case id: (the engine's label, the model's label).
    pub disagreements: BTreeMap<String, (String, String)>,
}

fn decided(verdict: &Verdict) -> bool {
    matches!(verdict.outcome(), Outcome::Accept | Outcome::Reject)
}

/// Compare `engine`'s verdicts with the model's, by case id (ids missing on either side count
/// as undecided).
pub fn calibrate(
    engine: &str,
    ids: &[&str],
    engine_verdicts: &BTreeMap<String, Verdict>,
    model_verdicts: &BTreeMap<String, Verdict>,
) -> Calibration {
    let mut calibration = Calibration {
        engine: engine.to_string(),
        ..Calibration::default()
    };
    for &id in ids {
        match (engine_verdicts.get(id), model_verdicts.get(id)) {
            (Some(real), Some(model)) if decided(real) && decided(model) => {
                calibration.compared += 1;
                if real.outcome() == model.outcome() {
                    calibration.agree += 1;
                    if let (
                        Verdict::Reject {
                            kind: real_kind, ..
                        },
                        Verdict::Reject {
                            kind: model_kind, ..
                        },
                    ) = (real, model)
                    {
                        if *real_kind != RejectKind::Other {
                            calibration.reasons_compared += 1;
                            calibration.same_reason += usize::from(real_kind == model_kind);
                        }
                    }
                } else {
                    calibration
                        .disagreements
                        .insert(id.to_string(), (real.label(), model.label()));
                }
            }
            _ => calibration.undecided += 1,
        }
    }
    calibration
}

/// Run every engine of `engines` that has a model in `models` on `inputs`, and the model with
/// its knobs on what that engine saw ([`as_engines_see_it`]); one calibration per engine, in
/// the order of `engines`. Engines without a model are left out.
pub fn calibrate_engines(
    engines: &[Arc<dyn Validator>],
    models: &BTreeMap<String, EngineModel>,
    inputs: &[ValidationInput],
    options: &RunOptions,
) -> Vec<Calibration> {
    let engines: Vec<Arc<dyn Validator>> = engines
        .iter()
        .filter(|engine| models.contains_key(engine.name()))
        .cloned()
        .collect();
    let model_columns: Vec<Arc<dyn Validator>> = engines
        .iter()
        .map(|engine| {
            let knobs = models[engine.name()].knobs.clone();
            Arc::new(ClientModel::new(engine.name(), knobs)) as Arc<dyn Validator>
        })
        .collect();
    let seen: Vec<ValidationInput> = inputs.iter().map(as_engines_see_it).collect();
    let real = run_all(&engines, inputs, options);
    let modelled = run_all(&model_columns, &seen, options);
    let ids: Vec<&str> = inputs.iter().map(|input| input.id.as_str()).collect();
    real.runs
        .iter()
        .zip(&modelled.runs)
        .map(|(real, model)| calibrate(&real.name, &ids, &real.verdicts, &model.verdicts))
        .collect()
}

/// The snapshot text: one line per engine with its figures, then every disagreement.
pub fn render_calibrations(calibrations: &[Calibration]) -> String {
    let mut out = String::new();
    for calibration in calibrations {
        let _ = writeln!(
            out,
            "{}: agree {}/{} ({} undecided); same reason on {}/{} rejections with a mapped reason",
            calibration.engine,
            calibration.agree,
            calibration.compared,
            calibration.undecided,
            calibration.same_reason,
            calibration.reasons_compared
        );
        for (id, (real, model)) in &calibration.disagreements {
            let _ = writeln!(out, "  {id}: engine {real}, model {model}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cases_both_sides_decided_are_compared() {
        let accept = Verdict::Accept {
            chain_built: Vec::new(),
        };
        let reject = Verdict::Reject {
            kind: RejectKind::Expired,
            detail: String::new(),
        };
        let skip = Verdict::Skip {
            reason: String::new(),
        };
        let real = BTreeMap::from([
            ("a".to_string(), accept.clone()),
            ("b".to_string(), accept.clone()),
            ("c".to_string(), skip),
        ]);
        let model = BTreeMap::from([
            ("a".to_string(), accept.clone()),
            ("b".to_string(), reject),
            ("c".to_string(), accept),
        ]);
        let calibration = calibrate("e", &["a", "b", "c", "d"], &real, &model);
        assert_eq!((calibration.compared, calibration.agree), (2, 1));
        assert_eq!(calibration.undecided, 2);
        assert_eq!(
            render_calibrations(&[calibration]),
            "e: agree 1/2 (2 undecided); same reason on 0/0 rejections with a mapped reason\n  \
             b: engine accept, model reject:expired\n"
        );
    }

    #[test]
    fn reasons_are_compared_only_where_both_reject_and_the_engine_maps_its_error() {
        let reject = |kind| Verdict::Reject {
            kind,
            detail: String::new(),
        };
        let real = BTreeMap::from([
            ("same".to_string(), reject(RejectKind::Expired)),
            ("other".to_string(), reject(RejectKind::UnknownIssuer)),
            ("unmapped".to_string(), reject(RejectKind::Other)),
        ]);
        let model = BTreeMap::from([
            ("same".to_string(), reject(RejectKind::Expired)),
            ("other".to_string(), reject(RejectKind::Expired)),
            ("unmapped".to_string(), reject(RejectKind::Expired)),
        ]);
        let calibration = calibrate("e", &["same", "other", "unmapped"], &real, &model);
        assert_eq!(calibration.agree, 3);
        assert_eq!(
            (calibration.same_reason, calibration.reasons_compared),
            (1, 2)
        );
    }

    #[test]
    fn the_cache_reaches_the_model_as_served_extras() {
        let input = ValidationInput {
            served_chain: vec![vec![1]],
            cached: vec![vec![2]],
            aia_repository: vec![("u".into(), vec![3])],
            ..ValidationInput::default()
        };
        let seen = as_engines_see_it(&input);
        assert_eq!(seen.served_chain, vec![vec![1], vec![2]]);
        assert!(seen.cached.is_empty() && seen.aia_repository.is_empty());
    }
}
