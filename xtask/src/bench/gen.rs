//! `cargo xtask bench gen` (stub: being written).

pub fn run() -> anyhow::Result<()> {
    anyhow::bail!("not yet implemented")
}
