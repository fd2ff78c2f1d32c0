//! `cargo xtask bench validate` (stub: being written).

pub fn run() -> anyhow::Result<()> {
    anyhow::bail!("not yet implemented")
}
