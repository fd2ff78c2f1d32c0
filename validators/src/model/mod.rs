//! The client model: a path builder whose quirks are explicit [`Knobs`], for clients that cannot
//! be run for real (old Android's expiry rule, a browser's intermediate cache, Windows' AIA
//! fetching, ESP-IDF's bundle lookup). Calibrated against the real engines it claims to describe
//! (`validators/engine-models.toml`, `validators/tests/calibration.rs`).

mod knobs;

pub use knobs::{AlternateChains, AnchorExpiry, Knobs};
