//! `cargo xtask doctor CHAIN.pem --scenario NAME [--at DATE] [--targets a,b] [--json]`: the
//! arguments, the corpus and the target engines set up, then `anchorsmith_doctor::diagnose`,
//! printed as text or JSON. The doctor itself lives in the `doctor/` crate.
//!
//! Exit status: 0 every judged target accepts, 1 some reject, 2 bad input (no output).

use std::time::Duration;

use time::OffsetDateTime;

use crate::{project_root, BadInput, DoctorArgs};

pub fn run(args: DoctorArgs) -> anyhow::Result<()> {
    if let Some(batch) = &args.batch {
        return crate::doctor_batch::run(batch, &args);
    }
    let (Some(chain_file), Some(scenario_name)) = (&args.chain, &args.scenario) else {
        unreachable!("clap requires CHAIN and --scenario without --batch");
    };
    let chain = anchorsmith_doctor::read_chain(chain_file).map_err(|d| BadInput(d.into()))?;
    let at = match &args.at {
        Some(text) => anchorsmith_bundle::build::parse_instant(text)
            .map_err(|error| BadInput(anyhow::anyhow!("--at: {error}")))?,
        None => OffsetDateTime::now_utc(),
    };
    let corpus = crate::corpus::load(&project_root().join("corpus"), Vec::new())?;
    let scenario = *crate::shared::select_scenarios(&corpus, std::slice::from_ref(scenario_name))?
        .first()
        .expect("one scenario named");
    let targets = crate::shared::select_targets(&corpus, &args.targets)?;
    let (placed, unplaced) = anchorsmith_doctor::placed(scenario, targets);
    let engines = crate::shared::engines(&placed, Duration::from_secs(60))?;
    let diagnosis = anchorsmith_doctor::diagnose(
        scenario,
        &engines,
        &anchorsmith_doctor::dns_name(&corpus.cases, scenario),
        &chain,
        at,
        unplaced.iter().map(|target| target.name.clone()).collect(),
    );
    if args.json {
        let report = anchorsmith_doctor::report::json(&diagnosis);
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!(
            "{}",
            anchorsmith_doctor::report::text(&diagnosis, &chain_file.display().to_string())
        );
    }
    if diagnosis.rejecting() > 0 {
        std::process::exit(1);
    }
    Ok(())
}
