//! `cargo xtask limbo` (stub: being written).

use crate::LimboArgs;

pub fn run(_args: LimboArgs) -> anyhow::Result<()> {
    anyhow::bail!("not yet implemented")
}
