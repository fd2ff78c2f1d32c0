//! `cargo xtask doctor (CHAIN.pem | --connect HOST:PORT) [--scenario NAME] [--at DATE]
//! [--targets a,b] [--json] [--out DIR]`: the arguments, the chain read or captured, the
//! scenario chosen (or inferred from the leaf), the panel of judges set up, then
//! `anchorsmith_doctor::diagnose`, printed as text or JSON. The doctor itself lives in the
//! `doctor/` crate; `--batch FILE.jsonl` is handed to `doctor_batch`.
//!
//! Exit status: 0 some target accepts, every decided target accepts and no engine failed; 1 some
//! reject, an engine failed or nothing accepted (every seat skipped); 2 bad input (no output,
//! nothing written), among it a --targets no seat of the scenario is left for.

use std::path::Path;
use std::time::Duration;

use anchorsmith_corpus::{Corpus, Scenario};
use anchorsmith_diagnostics::{Code, Diagnostic};
use anchorsmith_doctor::{Panel, ServedChain};

use crate::{BadInput, DoctorArgs};

pub(crate) fn bad(diagnostic: Diagnostic) -> anyhow::Error {
    BadInput(diagnostic.into()).into()
}

/// A bad value of a command-line option, located on the value (the option is its "file").
pub(crate) use anchorsmith_doctor::setup::argument_error;

/// The chain, read from the file or captured from the server, and how the report names it.
fn served_chain(args: &DoctorArgs) -> anyhow::Result<(ServedChain, String)> {
    if let Some(file) = &args.chain {
        let chain = anchorsmith_doctor::read_chain(file).map_err(bad)?;
        return Ok((chain, file.display().to_string()));
    }
    let address = args
        .connect
        .as_deref()
        .expect("clap requires CHAIN, --connect or --batch");
    if !(args.connect_timeout.is_finite() && args.connect_timeout > 0.0) {
        let text = args.connect_timeout.to_string();
        return Err(bad(argument_error(
            "--connect-timeout",
            &text,
            "expected a positive number of seconds".into(),
        )));
    }
    let spec = anchorsmith_doctor::ConnectSpec {
        address,
        servername: args.servername.as_deref(),
        timeout: Duration::from_secs_f64(args.connect_timeout),
    };
    let chain = anchorsmith_doctor::capture(&spec).map_err(bad)?;
    Ok((chain, address.to_string()))
}

/// The scenario named by --scenario, else the one that made the leaf
/// (`anchorsmith_doctor::infer_scenario`); `None` when no scenario made it (a real server's
/// chain: a scenario that only shares its intermediates has no candidate chain starting with
/// this leaf); several is bad input (which one is meant?).
fn scenario<'c>(
    corpus: &'c Corpus,
    args: &DoctorArgs,
    chain: &ServedChain,
    label: &str,
) -> anyhow::Result<Option<&'c Scenario>> {
    use anchorsmith_doctor::{Inferred, NoScenario};
    if let Some(name) = &args.scenario {
        let named =
            crate::shared::select_scenarios(corpus, "--scenario", std::slice::from_ref(name))?;
        return Ok(Some(named[0]));
    }
    match anchorsmith_doctor::infer_scenario(&corpus.scenarios, chain) {
        Ok(Inferred::Leaf(scenario)) => Ok(Some(scenario)),
        Err(NoScenario::LeafInSeveral(names)) => {
            let help = format!("pass --scenario {} (or another of them)", names[0]);
            let message = NoScenario::LeafInSeveral(names).to_string();
            Err(bad(Diagnostic::whole_file(
                Code::InvalidValue,
                Path::new(label),
                message,
            )
            .help(help)))
        }
        Ok(Inferred::Related(_)) | Err(NoScenario::Unknown | NoScenario::RelatedToSeveral(_)) => {
            Ok(None)
        }
    }
}

/// With a trade-off (no candidate serves every target), its picture over time written to
/// `out/tradeoff.svg`; the file, or `None` when there is no trade-off to draw.
fn tradeoff_picture(
    out: &Path,
    scenario: &Scenario,
    panel: &Panel,
    diagnosis: &anchorsmith_doctor::Diagnosis,
) -> anyhow::Result<Option<std::path::PathBuf>> {
    let Some(fix) = &diagnosis.fix else {
        return Ok(None);
    };
    if !anchorsmith_doctor::fix::tradeoff_needed(&diagnosis.candidates, fix) {
        return Ok(None);
    }
    let timeline = anchorsmith_doctor::picture::tradeoff_timeline(
        scenario,
        panel,
        &diagnosis.candidates,
        diagnosis.at,
    )?;
    let out = crate::resolve_from_root(out);
    let name = std::path::PathBuf::from("tradeoff.svg");
    crate::shared::write_files(
        &out,
        &[(
            name.clone(),
            anchorsmith_doctor::picture::tradeoff_svg(&timeline),
        )],
    )?;
    Ok(Some(out.join(name)))
}

pub fn run(args: DoctorArgs) -> anyhow::Result<()> {
    if let Some(batch) = &args.batch {
        return crate::doctor_batch::run(batch, &args);
    }
    // Every argument is checked before a connection is made.
    let at = anchorsmith_doctor::setup::at(args.at.as_deref()).map_err(bad)?;
    let (chain, label) = served_chain(&args)?;
    let corpus = crate::corpus::load(&args.corpus.dir(), Vec::new())?;
    let scenario = scenario(&corpus, &args, &chain, &label)?;
    let panel = match scenario {
        Some(scenario) => {
            let targets = crate::shared::select_targets(&corpus, "--targets", &args.targets)?;
            let (placed, unplaced) = anchorsmith_doctor::placed(scenario, targets);
            let engines: Vec<anchorsmith_doctor::Engine> =
                crate::shared::engines(&placed, Duration::from_secs(60))?
                    .into_iter()
                    .map(Into::into)
                    .collect();
            let panel = Panel::of_scenario(
                scenario,
                &engines,
                &anchorsmith_doctor::dns_name(&corpus.cases, scenario),
                unplaced.iter().map(|target| target.name.clone()).collect(),
            );
            panel
                .require_seats(scenario, &corpus.targets)
                .map_err(|empty| {
                    bad(
                        argument_error("--targets", &args.targets.join(","), empty.to_string())
                            .help("pass some of the targets placed there, or drop --targets"),
                    )
                })?;
            panel
        }
        None => {
            if !args.targets.is_empty() {
                return Err(bad(argument_error(
                    "--targets",
                    &args.targets.join(","),
                    "no corpus scenario knows this leaf, so no target is placed; the real validators judge it against Mozilla's roots and the system store".into(),
                )
                .help("drop --targets, or pass --scenario")));
            }
            let dns_name = args
                .servername
                .clone()
                .unwrap_or_else(|| anchorsmith_doctor::cert::leaf_dns_name(chain.leaf()));
            Panel::real(anchorsmith_doctor::setup::real_stores(), &dns_name)
        }
    };
    let diagnosis = anchorsmith_doctor::diagnose(scenario, &panel, &chain, at);
    let picture = match (&args.out, scenario) {
        (Some(out), Some(scenario)) => tradeoff_picture(out, scenario, &panel, &diagnosis)?,
        _ => None,
    };
    if args.json {
        let output = anchorsmith_doctor::report::Output {
            report: anchorsmith_doctor::report::json(&diagnosis),
            tradeoff_picture: picture.as_ref().map(|p| p.display().to_string()),
        };
        println!("{}", serde_json::to_string_pretty(&output)?);
    } else {
        print!("{}", anchorsmith_doctor::report::text(&diagnosis, &label));
        match (&picture, &args.out) {
            (Some(file), _) => println!("\nThe trade-off over time: {}", file.display()),
            (None, Some(_)) => println!("\n--out: no trade-off to draw, nothing written."),
            (None, None) => {}
        }
    }
    if !diagnosis.tally().all_good() {
        std::process::exit(1);
    }
    Ok(())
}
