//! The topology TOML loader (`anchorsmith_generator::parse_topology`) on arbitrary text: it may
//! refuse, with a located diagnostic that renders, but never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match anchorsmith_generator::parse_topology(text, Path::new("topology.toml")) {
        Ok(topology) => {
            for cert in topology.certs() {
                let _ = (cert.subject_dn(), cert.serial_hex(), cert.path_len());
            }
        }
        Err(diagnostic) => {
            let _ = (diagnostic.to_string(), diagnostic.one_line());
        }
    }
});
