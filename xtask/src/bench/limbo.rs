//! `cargo xtask bench limbo` (stub: being written).

pub fn run() -> anyhow::Result<()> {
    anyhow::bail!("not yet implemented")
}
