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
    // `--force` may replace a directory, but private keys never go where a firmware build
    // takes its trust anchors from.
    if args.emit_keys && crate::bundle::is_bundle_dir(&args.out) {
        return Err(BadInput(anyhow::anyhow!(
            "--out {} holds a trust bundle (its manifest.json): private keys are never written into a bundle directory; choose another --out",
            args.out.display()
        ))
        .into());
    }
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
