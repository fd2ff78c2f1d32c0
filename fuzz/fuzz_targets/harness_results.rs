//! An external harness's results JSON as `external.rs` reads it from the harness's stdout
//! (`serde_json` into `LimboResults`), each result's verdict (`verdict_from_result`, including the
//! reject-kind reading of its context), and the located diagnostic of a results file.
#![no_main]

use anchorsmith_validators::external::{kind_from_context, verdict_from_result};
use anchorsmith_validators::limbo::LimboResults;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    match serde_json::from_slice::<LimboResults>(data) {
        Ok(results) => {
            for result in &results.results {
                let _ = verdict_from_result(result, &[]);
                if let Some(context) = &result.context {
                    let _ = kind_from_context(context);
                }
            }
        }
        Err(_) => {
            let text = String::from_utf8_lossy(data);
            let path = Path::new("results.json");
            if let Err(diagnostic) =
                anchorsmith_diagnostics::parse_json::<LimboResults>(path, &text)
            {
                let _ = diagnostic.to_string();
            }
        }
    }
});
