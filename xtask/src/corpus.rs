//! `cargo xtask corpus` (stub: being written).

use crate::CorpusArgs;

pub fn run(_args: CorpusArgs) -> anyhow::Result<()> {
    anyhow::bail!("not yet implemented")
}
