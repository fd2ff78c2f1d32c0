//! `cargo xtask gen TOPOLOGY.toml --out DIR [--emit-keys] [--seed S] [--force]`: generate a
//! deterministic PKI from a topology file (language: `generator/README.md`).
//!
//! A bad topology (or an existing --out without --force) is bad input: exit status 2, and
//! nothing is written. So is a topology with no certificate, and `--emit-keys` into a directory
//! holding a trust bundle.

use std::time::Instant;

use anchorsmith_generator::{
    default_key_cache_dir, generate, load_topology, write_output, GenerateOptions, OutputError,
};

use anchorsmith_diagnostics::{Code, Diagnostic};

use crate::{BadInput, GenArgs};

pub fn run(args: GenArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let topology = load_topology(&args.topology).map_err(|error| BadInput(error.into()))?;
    // The language lets `[[cert]]` be absent (a file of shared keys or instants), but a PKI of
    // nothing is a mistake on the command line (an empty or wrong file): refuse it.
    if topology.certs().is_empty() {
        return Err(BadInput(
            Diagnostic::whole_file(
                Code::Shape,
                &args.topology,
                "the topology declares no certificate: nothing to generate",
            )
            .field("cert")
            .help("declare at least one `[[cert]]` table (language: generator/README.md)")
            .into(),
        )
        .into());
    }
    check_out(&args.out, args.emit_keys).map_err(|message| BadInput(anyhow::anyhow!(message)))?;
    let options = GenerateOptions {
        seed_override: args.seed,
        key_cache_dir: Some(default_key_cache_dir()),
    };
    let pki = generate(&topology, &options)?;
    write_output(&pki, &args.out, args.emit_keys, args.force).map_err(|error| match error {
        OutputError::Exists { .. } => anyhow::Error::new(BadInput(error.into())),
        other => other.into(),
    })?;
    println!(
        "{} certificates written to {}{} in {:.2} s",
        pki.certs.len(),
        args.out.display(),
        if args.emit_keys {
            " (with private keys, mode 0600)"
        } else {
            ""
        },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Refuses, before anything is generated, an `--out` that names no directory of its own (`.`,
/// `..`: the output replaces its whole directory), and with `--emit-keys` one inside or at a
/// trust bundle: private keys never go where a firmware build takes its anchors from.
fn check_out(out: &std::path::Path, emit_keys: bool) -> Result<(), String> {
    let shown = out.display();
    let absolute = std::path::absolute(out).map_err(|error| format!("--out {shown}: {error}"))?;
    if out.file_name().is_none() || absolute.file_name().is_none() {
        return Err(format!(
            "--out {shown} names no directory of its own: name a new one (e.g. {shown}/pki)"
        ));
    }
    if emit_keys {
        if let Some(bundle) = absolute
            .ancestors()
            .find(|dir| crate::bundle::is_bundle_dir(dir))
        {
            return Err(format!(
                "--out {shown}: {} holds a trust bundle (its manifest.json), and private keys are never written into a bundle directory; choose another --out",
                bundle.display()
            ));
        }
    }
    Ok(())
}
