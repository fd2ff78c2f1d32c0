//! The limbo JSON reader (`suite::parse_limbo`, with its located diagnostics) and the conversion
//! of each testcase to a validation input (`Testcase::to_input`, PEM, time and peer names) and
//! back (`testcase_from_input`), which must give the same input.
#![no_main]

use anchorsmith_validators::limbo::{testcase_from_input, FEATURE_MULTIPLE_PEER_NAMES};
use anchorsmith_validators::suite::{parse_limbo, PreparedSuite};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("limbo.json");
    match parse_limbo(path, data) {
        Ok(limbo) => {
            for testcase in &limbo.testcases {
                if let Ok(mut input) = testcase.to_input() {
                    // A client case naming several peer names converts lossily (the first name,
                    // flagged): the flag is dropped on the way back, by design.
                    input
                        .features
                        .retain(|feature| feature != FEATURE_MULTIPLE_PEER_NAMES);
                    // What converts, converts back to the same input.
                    let again = testcase_from_input(
                        &input,
                        testcase.expected_result,
                        &testcase.description,
                    );
                    // ValidationInput has no PartialEq: its Debug form shows every field.
                    let again = again.to_input().expect("a converted input converts again");
                    assert_eq!(format!("{again:?}"), format!("{input:?}"));
                }
            }
            let _ = PreparedSuite::prepare(path, &limbo);
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
