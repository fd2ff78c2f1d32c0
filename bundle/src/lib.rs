//! The trust-bundle builder (issue 11): the fewest trust anchors that keep every endpoint of a
//! device working until a horizon, proved with the device's own verifier, and written in the
//! formats firmware uses.
//!
//! - [`encode`]: the output formats (PEM, DER, C header, ESP-IDF bundle, BearSSL trust anchors,
//!   Rust source), pure functions of the chosen anchors.

pub mod encode;

/// One chosen trust anchor: a CA certificate, never a key or a leaf (the loader refuses those).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// A human name (the subject's CN, else the whole subject), for comments and identifiers.
    pub name: String,
    /// The certificate, DER.
    pub der: Vec<u8>,
}
