//! Topology language → deterministic PKI. The language, the output and the error format are
//! documented in `generator/README.md`, included below so its example is also checked as a doc.
#![doc = include_str!("../README.md")]

mod atomic;
mod der;
mod extensions;
mod generate;
mod instant;
mod keys;
mod name;
mod output;
mod topology;

pub use atomic::{replace_dir, write_file_atomically};
pub use generate::{
    default_key_cache_dir, generate, GenerateError, GenerateOptions, GeneratedCert, Pki,
};
pub use keys::KeyError;
pub use name::{Name, NameAttribute};
pub use output::{write_output, OutputError};
pub use topology::{
    load_topology, parse_topology, BasicConstraints, CertSpec, ExtKeyUsageExtension,
    ExtendedKeyUsage, Extensions, IpSubnet, KeyAlgorithm, KeyIdentifier, KeyUsage,
    KeyUsageExtension, NameConstraints, SignatureAlgorithm, SignatureHash, SubjectAltName,
    Topology, TopologyError, DEFAULT_SEED,
};

/// Test material shared by the tests of every crate, so each fixture is written once.
#[doc(hidden)]
pub mod fixtures {
    /// `generator/tests/fixtures/small-pki.toml`: a valid root → intermediate → leaf topology
    /// that tests break one line at a time.
    pub const SMALL_PKI: &str = include_str!("../tests/fixtures/small-pki.toml");
}
