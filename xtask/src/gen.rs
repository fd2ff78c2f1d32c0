//! `cargo xtask gen` (stub: being written).

use crate::GenArgs;

pub fn run(_args: GenArgs) -> anyhow::Result<()> {
    anyhow::bail!("not yet implemented")
}
