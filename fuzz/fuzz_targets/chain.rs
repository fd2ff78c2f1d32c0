//! The PEM/DER chain reader: the bundle's certificate reader (`load::certificates`, every
//! `bundle` input file), the doctor's chain file (`parse_chain`, which adds its own checks on
//! top) and the served chain built from DER (`ServedChain::new`, as a batch line or a handshake
//! gives it), with the end-entity search the findings run on it.
#![no_main]

use anchorsmith_doctor::{parse_chain, ServedChain};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let file = Path::new("chain.pem");
        if let Err(diagnostic) = anchorsmith_bundle::load::certificates(file, text) {
            let _ = diagnostic.to_string();
        }
        match parse_chain(file, text) {
            Ok(chain) => {
                let _ = chain.end_entity();
            }
            Err(diagnostic) => {
                let _ = diagnostic.to_string();
            }
        }
    }
    // The bytes as DER: one certificate, or two when the input splits in half.
    let half = data.len() / 2;
    for certs in [
        vec![data.to_vec()],
        vec![data[..half].to_vec(), data[half..].to_vec()],
    ] {
        match ServedChain::new(certs) {
            Ok(chain) => {
                let _ = chain.end_entity();
                let _ = anchorsmith_bundle::load::is_ca(chain.leaf());
                let _ = anchorsmith_bundle::load::can_anchor(chain.leaf());
            }
            Err(error) => {
                let _ = error.to_string();
            }
        }
    }
});
