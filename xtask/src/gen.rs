//! `cargo xtask gen TOPOLOGY.toml --out DIR [--emit-keys] [--seed S] [--force]`: generate a
//! deterministic PKI from a topology file (language: `generator/README.md`).
//!
//! A bad topology (or an existing --out without --force) is bad input: exit status 2, and
//! nothing is written.

use std::time::Instant;

use anchorsmith_generator::{
    default_key_cache_dir, generate, load_topology, write_output, GenerateOptions, OutputError,
};

use crate::{BadInput, GenArgs};

pub fn run(args: GenArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let topology = load_topology(&args.topology).map_err(|error| BadInput(error.into()))?;
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
