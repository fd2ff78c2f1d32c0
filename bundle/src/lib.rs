//! The trust-bundle builder (issue 11): the fewest trust anchors that keep every endpoint of a
//! device working until a horizon, proved with the device's own verifier, and written in the
//! formats firmware uses.
//!
//! - [`encode`]: the output formats (PEM, DER, C header, ESP-IDF bundle, BearSSL trust anchors,
//!   Rust source), pure functions of the chosen anchors.
//! - [`load`]: endpoint chains and candidate anchors (PEM files, the Mozilla store), refusing
//!   leaves, keys and garbage with located errors.
//! - [`certdata`]: Mozilla's NSS `certdata.txt`, as candidates and their trust metadata.
//! - [`coverage`]: whether an anchor keeps an endpoint working to the horizon under the device's
//!   verifier (the client model), checked at every validity boundary.
//! - [`policy`]: the device's trust policy over the reach matrix: distrusted anchors,
//!   distrust-after dates (compared with the leaf's notBefore), the key types it supports.
//! - [`select`]: the fewest anchors giving each endpoint its backups (exact or greedy).
//! - [`lint`]: findings with a severity and a sentence.
//! - [`proof`]: the whole bundle validated at every checkpoint before anything is written.
//! - [`build`]: the pipeline and the output files (`bundle.pem`, `manifest.json`, `report.md`,
//!   `report.html`).
//! - [`diff`]: what a new bundle changes per endpoint against a previous manifest.
//! - [`html`]: `report.html`, one self-contained page with a timeline picture.
//!
//! README.md beside this crate explains how coverage and selection decide.

pub mod build;
pub mod certdata;
pub mod coverage;
pub mod diff;
pub mod encode;
pub mod html;
pub mod lint;
pub mod load;
pub mod policy;
pub mod proof;
pub mod select;

/// One chosen trust anchor: a CA certificate, never a key or a leaf (the loader refuses those).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// A human name (the subject's CN, else the whole subject), for comments and identifiers.
    pub name: String,
    /// The certificate, DER.
    pub der: Vec<u8>,
}
