//! Pieces the `corpus` and `limbo` commands share: choosing the validators, running them with a
//! progress bar, and writing report files atomically.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anchorsmith_corpus::{Corpus, Scenario, Target, TargetEngine};
use anchorsmith_validators::external::ExternalHarness;
use anchorsmith_validators::handshake::{handshake_columns, HandshakeColumn};
use anchorsmith_validators::harnesses::{
    builtin_columns, builtin_names, in_ci, HarnessColumn, SetupMode,
};
use anchorsmith_validators::runner::{run_all, RunOptions, RunResults};
use anchorsmith_validators::{in_process_validators, ValidationInput, Validator};
use anyhow::Context;

use crate::BadInput;

/// Every validator a run uses, filtered by `wanted` names (empty = all): the in-process ones,
/// the built-in harnesses of `validators/harnesses/` (set up on first use, see
/// [`builtin_harnesses`]), then the `--validator-cmd NAME=COMMAND` harnesses. An unknown name or a
/// name used twice is bad input.
pub fn select_validators(
    commands: &[String],
    wanted: &[String],
    timeout: Duration,
) -> anyhow::Result<Vec<Arc<dyn Validator>>> {
    let in_process = in_process_validators();
    let mut external = Vec::new();
    for spec in commands {
        let harness = ExternalHarness::parse(spec).map_err(|error| BadInput(error.into()))?;
        external.push(harness.with_per_case_timeout(timeout));
    }
    // Every name is checked before anything is set up or run.
    let names: Vec<String> = in_process
        .iter()
        .map(|validator| validator.name().to_string())
        .chain(builtin_names().map_err(|diagnostic| BadInput(diagnostic.into()))?)
        .chain(external.iter().map(|harness| harness.name.clone()))
        .collect();
    if let Some(duplicate) = names
        .iter()
        .enumerate()
        .find(|(index, name)| names[..*index].contains(name))
    {
        return Err(BadInput(anyhow::anyhow!(
            "--validator-cmd: validator name `{}` is already taken",
            duplicate.1
        ))
        .into());
    }
    if let Some(unknown) = wanted.iter().find(|name| !names.contains(name)) {
        return Err(BadInput(anyhow::anyhow!(
            "--validator `{unknown}`: no such validator (available: {})",
            names.join(", ")
        ))
        .into());
    }
    let is_wanted = |name: &str| wanted.is_empty() || wanted.iter().any(|wanted| wanted == name);
    let mut selected: Vec<Arc<dyn Validator>> = in_process
        .into_iter()
        .filter(|validator| is_wanted(validator.name()))
        .collect();
    for column in builtin_harnesses(wanted, timeout, SetupMode::Install)? {
        if let HarnessColumn::Unavailable(unavailable) = &column {
            // CI pins every column: a validator that cannot run there is a failure, not a skip.
            if in_ci() && is_wanted(&unavailable.name) {
                anyhow::bail!(
                    "validator `{}` is not available under CI=true: {}\n  to fix: {}",
                    unavailable.name,
                    unavailable.reason,
                    unavailable.hint
                );
            }
        }
        if is_wanted(column.name()) {
            selected.push(column.into_validator());
        }
    }
    selected.extend(
        external
            .into_iter()
            .filter(|harness| is_wanted(&harness.name))
            .map(|harness| Arc::new(harness) as Arc<dyn Validator>),
    );
    Ok(selected)
}

/// The built-in harness columns (see [`anchorsmith_validators::harnesses::builtin_columns`]),
/// set up under `target/harnesses/` with progress on stderr; one that cannot be set up is a
/// warning here (and an error for a run under `CI=true`, see [`select_validators`]).
pub fn builtin_harnesses(
    wanted: &[String],
    timeout: Duration,
    mode: SetupMode,
) -> anyhow::Result<Vec<HarnessColumn>> {
    let log = |line: &str| eprintln!("  {line}");
    let target_dir = crate::project_root().join("target").join("harnesses");
    let columns = builtin_columns(wanted, timeout, mode, &target_dir, &log)
        .map_err(|diagnostic| BadInput(diagnostic.into()))?;
    for column in &columns {
        if let HarnessColumn::Unavailable(unavailable) = column {
            if mode == SetupMode::Install {
                eprintln!(
                    "warning: validator `{}` is not available: {}\n  to fix: {}",
                    unavailable.name, unavailable.reason, unavailable.hint
                );
            }
        }
    }
    Ok(columns)
}

/// Every handshake column for a corpus run (after all the other columns), set up on first use:
/// one that cannot run is a warning and a column of skips, and an error under `CI=true`. Not
/// part of [`select_validators`]: a limbo suite is thousands of cases, a handshake each.
pub fn handshake_validators(timeout: Duration) -> anyhow::Result<Vec<Arc<dyn Validator>>> {
    let mut selected = Vec::new();
    for column in handshake_clients(&[], timeout, SetupMode::Install)? {
        if let HandshakeColumn::Unavailable(unavailable) = &column {
            if in_ci() {
                anyhow::bail!(
                    "validator `{}` is not available under CI=true: {}\n  to fix: {}",
                    unavailable.name,
                    unavailable.reason,
                    unavailable.hint
                );
            }
        }
        selected.push(column.into_validator());
    }
    Ok(selected)
}

/// The handshake columns (see [`anchorsmith_validators::handshake::handshake_columns`]), set up
/// under `target/harnesses/handshake/` like the harnesses; one that cannot run is a warning here.
pub fn handshake_clients(
    wanted: &[String],
    timeout: Duration,
    mode: SetupMode,
) -> anyhow::Result<Vec<HandshakeColumn>> {
    let log = |line: &str| eprintln!("  {line}");
    let target_dir = crate::project_root().join("target").join("harnesses");
    let columns = handshake_columns(wanted, timeout, mode, &target_dir, &log)
        .map_err(|diagnostic| BadInput(diagnostic.into()))?;
    for column in &columns {
        if let HandshakeColumn::Unavailable(unavailable) = column {
            if mode == SetupMode::Install {
                eprintln!(
                    "warning: validator `{}` is not available: {}\n  to fix: {}",
                    unavailable.name, unavailable.reason, unavailable.hint
                );
            }
        }
    }
    Ok(columns)
}

/// Runs every input through every validator with a progress bar on stderr (hidden when stderr
/// is not a terminal, so CI logs stay readable).
pub fn run_with_progress(
    validators: &[Arc<dyn Validator>],
    inputs: &[ValidationInput],
    timeout: Duration,
) -> RunResults {
    let total = (validators.len() * inputs.len()) as u64;
    let bar = indicatif::ProgressBar::new(total).with_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} validations ({per_sec})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let progress_bar = bar.clone();
    let options = RunOptions {
        per_case_timeout: timeout,
        progress: Some(Arc::new(move |done, _total| {
            progress_bar.set_position(done as u64)
        })),
    };
    let results = run_all(validators, inputs, &options);
    bar.finish_and_clear();
    results
}

/// Writes each report file atomically (see `anchorsmith_generator::write_file_atomically`), so a
/// reader never sees a half-written report.
pub fn write_files(out: &Path, files: &[(PathBuf, String)]) -> anyhow::Result<()> {
    for (relative, _) in files {
        check_inside(out, relative)?;
    }
    for (relative, contents) in files {
        write_one(out, relative, contents.as_bytes())?;
    }
    Ok(())
}

/// Makes directory `out` hold exactly `files` (binary: the ESP-IDF bundle, DER files), through
/// [`anchorsmith_generator::replace_dir`]: written beside it and swapped into place, so a reader
/// (a firmware build) sees the previous set or the new one, never a mix, and no file of an
/// earlier run stays behind. The names are checked first; a link planted in `out` is replaced
/// with it, never written through (the files go into a new directory).
pub fn replace_with_files(out: &Path, files: &[(PathBuf, Vec<u8>)]) -> anyhow::Result<()> {
    for (relative, _) in files {
        check_name(out, relative)?;
    }
    anchorsmith_generator::replace_dir(
        out,
        0o755,
        |path, error| anyhow::anyhow!("writing {}: {error}", path.display()),
        |staging| {
            files
                .iter()
                .try_for_each(|(relative, contents)| write_one(staging, relative, contents))
        },
    )
}

/// Refuses, before anything is written, a file that would land outside `out`: a name that is
/// absolute or climbs (`..`), or a symbolic link planted inside `out` on the way to the file
/// (`out/der -> /elsewhere`), which writing would follow. A link planted at the file's own
/// place needs no check: the atomic write renames over the link, never through it.
fn check_inside(out: &Path, relative: &Path) -> anyhow::Result<()> {
    check_name(out, relative)?;
    let mut directory = out.to_path_buf();
    for component in relative.parent().into_iter().flat_map(Path::components) {
        directory.push(component);
        if directory
            .symlink_metadata()
            .is_ok_and(|metadata| metadata.file_type().is_symlink())
        {
            anyhow::bail!(
                "refusing to write {}: {} is a symbolic link, which would take the file out of {}",
                out.join(relative).display(),
                directory.display(),
                out.display()
            );
        }
    }
    Ok(())
}

/// Refuses a file name that is absolute or climbs (`..`): it would land outside `out`.
fn check_name(out: &Path, relative: &Path) -> anyhow::Result<()> {
    use std::path::Component;
    if !relative
        .components()
        .all(|component| matches!(component, Component::Normal(_)))
    {
        anyhow::bail!(
            "refusing to write {}: output file names must stay inside {}",
            relative.display(),
            out.display()
        );
    }
    Ok(())
}

fn write_one(out: &Path, relative: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let destination = out.join(relative);
    anchorsmith_generator::write_file_atomically(&destination, contents, 0o644)
        .with_context(|| format!("writing {}", destination.display()))
}

/// Removes the files of `out/<directory>/` that `files` does not write, so results of a
/// validator left out of this run do not pass for current ones.
pub fn remove_stale(
    out: &Path,
    directory: &str,
    files: &[(PathBuf, String)],
) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(out.join(directory)) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry?.path();
        let relative = Path::new(directory).join(path.file_name().unwrap_or_default());
        if path.is_file() && !files.iter().any(|(written, _)| *written == relative) {
            std::fs::remove_file(&path)
                .with_context(|| format!("removing stale {}", path.display()))?;
        }
    }
    Ok(())
}

/// Each target's engine as a validator: its client model, or the validator column it names,
/// looked up in `columns` (the validators of the run). A target whose column is not there is
/// left out, with a warning: its cells say the engine was not part of the run.
pub fn target_engines<'a>(
    targets: impl IntoIterator<Item = &'a Target>,
    columns: &[Arc<dyn Validator>],
) -> Vec<(&'a Target, Arc<dyn Validator>)> {
    let mut engines = Vec::new();
    for target in targets {
        let engine = match &target.engine {
            TargetEngine::Validator { name } => {
                columns.iter().find(|column| column.name() == name).cloned()
            }
            TargetEngine::Model { .. } => target.model_validator(),
        };
        match engine {
            Some(engine) => engines.push((target, engine)),
            None => eprintln!(
                "warning: target `{}`: its engine {} is not part of this run",
                target.name,
                target.engine.label()
            ),
        }
    }
    engines
}

/// The scenarios named by `option` (`--scenario`; all without one), in corpus order; an
/// unknown name is bad input located on the name, listing the known ones.
pub fn select_scenarios<'a>(
    corpus: &'a Corpus,
    option: &str,
    names: &[String],
) -> anyhow::Result<Vec<&'a Scenario>> {
    corpus
        .scenarios_named(names)
        .map_err(|unknown| unknown_name(option, "no such scenario", unknown))
}

/// The targets named by `option` (`--target` or `--targets`; all without one), in target
/// order; an unknown name is bad input located on the name, listing the known ones.
pub fn select_targets<'a>(
    corpus: &'a Corpus,
    option: &str,
    names: &[String],
) -> anyhow::Result<Vec<&'a Target>> {
    corpus
        .targets_named(names)
        .map_err(|unknown| unknown_name(option, "no such target in corpus/targets/", unknown))
}

/// An unknown name given to `option`, located on the name, with the known ones as help.
fn unknown_name(
    option: &str,
    what: &str,
    unknown: anchorsmith_corpus::select::UnknownName,
) -> anyhow::Error {
    crate::doctor::bad(
        crate::doctor::argument_error(option, &unknown.name, format!("{what}: `{}`", unknown.name))
            .help(format!("known: {}", unknown.known.join(", "))),
    )
}

/// Each chosen target's engine: the client model, or its real validator column, set up on
/// first use (only the columns these targets need).
pub fn engines<'a>(
    targets: &[&'a Target],
    timeout: Duration,
) -> anyhow::Result<Vec<(&'a Target, Arc<dyn Validator>)>> {
    let needed: Vec<String> = targets
        .iter()
        .filter_map(|target| match &target.engine {
            TargetEngine::Validator { name } => Some(name.clone()),
            TargetEngine::Model { .. } => None,
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // An empty `wanted` list would select every validator: ask only when one is needed.
    let columns = if needed.is_empty() {
        Vec::new()
    } else {
        select_validators(&[], &needed, timeout)?
    };
    Ok(target_engines(targets.iter().copied(), &columns))
}
