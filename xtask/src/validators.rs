//! `cargo xtask validators`: every validator, whether it is available here, its real version, and
//! how to get it.
//!
//! The version of a harness is what the harness itself reports: it is run on an empty limbo file
//! and answers with its `harness` field (the library and version it really runs).

use std::time::Duration;

use anchorsmith_validators::in_process_validators;

use anchorsmith_validators::harnesses::{HarnessColumn, SetupMode};

use anchorsmith_validators::handshake::HandshakeColumn;
use anchorsmith_validators::Validator;

use crate::shared::{builtin_harnesses, handshake_clients};
use crate::ValidatorsArgs;

pub fn run(args: ValidatorsArgs) -> anyhow::Result<()> {
    let mode = if args.no_setup {
        SetupMode::ReportOnly
    } else {
        SetupMode::Install
    };
    let mut rows: Vec<Row> = in_process_validators()
        .iter()
        .map(|validator| Row {
            name: validator.name().to_string(),
            status: format!("available: {} (in process)", validator.version()),
            how: None,
        })
        .collect();
    for column in builtin_harnesses(&[], Duration::from_secs(30), mode)? {
        rows.push(match column {
            HarnessColumn::Ready(harness) => Row {
                status: match harness.probe_version() {
                    Ok(version) => format!("available: {version}"),
                    Err(error) => format!("broken: {error}"),
                },
                name: harness.name,
                how: None,
            },
            HarnessColumn::Unavailable(unavailable) => Row {
                name: unavailable.name,
                status: format!("missing: {}", unavailable.reason),
                how: Some(unavailable.hint),
            },
        });
    }
    for column in handshake_clients(&[], Duration::from_secs(30), mode)? {
        rows.push(match column {
            HandshakeColumn::Ready(validator) => Row {
                name: validator.name().to_string(),
                status: format!("available: {} (real TLS handshakes)", validator.version()),
                how: None,
            },
            HandshakeColumn::Unavailable(unavailable) => Row {
                name: unavailable.name,
                status: format!("missing: {}", unavailable.reason),
                how: Some(unavailable.hint),
            },
        });
    }
    let width = rows.iter().map(|row| row.name.len()).max().unwrap_or(0);
    for row in &rows {
        println!("{:<width$}  {}", row.name, row.status);
        if let Some(how) = &row.how {
            println!("{:<width$}  to get it: {how}", "");
        }
    }
    let available = rows
        .iter()
        .filter(|row| row.status.starts_with("available"))
        .count();
    println!(
        "\n{} validators: {available} available, {} not",
        rows.len(),
        rows.len() - available
    );
    Ok(())
}

struct Row {
    name: String,
    status: String,
    how: Option<String>,
}
