//! `cargo xtask bench <gen|validate|limbo|corpus|bundle|doctor>`: benchmarks, always measured in a release build.
//!
//! A debug build re-runs itself as `cargo run --release` first, so a user cannot benchmark an
//! unoptimised binary by accident. Figures are reported beside a reference measured in the same
//! run (`openssl speed`), because absolute numbers on shared machines are noise.

mod bundle;
mod child;
mod corpus;
mod doctor;
mod gen;
mod limbo;
pub mod openssl_speed;
mod peer;
mod validate;

use crate::{BenchArgs, BenchTarget};

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        let sh = xshell::Shell::new()?;
        sh.change_dir(crate::project_root());
        let target = format!("{:?}", args.target).to_lowercase();
        let runs = args.runs.to_string();
        let realtime = args.realtime.then_some("--realtime");
        let chains = args.chains.to_string();
        xshell::cmd!(
            sh,
            "cargo run --quiet --release --package xtask -- bench {target} --runs {runs} --chains {chains} {realtime...}"
        )
        .run()?;
        return Ok(());
    }
    match args.target {
        BenchTarget::Gen => gen::run(),
        BenchTarget::Corpus => corpus::run(args.runs as usize),
        BenchTarget::Validate => validate::run(),
        BenchTarget::Bundle => bundle::run(),
        BenchTarget::Doctor => doctor::run(args.chains as usize),
        BenchTarget::Limbo => limbo::run(limbo::LimboBenchOptions {
            runs: args.runs as usize,
            realtime: args.realtime,
        }),
    }
}
