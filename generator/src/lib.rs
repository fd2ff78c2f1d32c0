//! Topology language → deterministic PKI.
