//! `handshake:chromium`: headless Chromium loading `https://H:P/` through
//! `validators/harnesses/handshake/browser_client.py` (a fresh NSS database holding only the
//! case's anchors, H mapped to 127.0.0.1 and every other name to nowhere, the verdict read from
//! Chromium's net log: the end of the TLS handshake with the server's port). The script runs
//! Chromium under libfaketime frozen at the case's time (`--at`) and checks the browser's own
//! clock against it. Its last stdout line is `SUCCESS`, `FAILURE: net::ERR_...` or
//! `SKIPPED: <why>`; any other ending is a fault.
//!
//! Only `net::ERR_CERT_*` is a verdict on the chain; another net error (a protocol error, a reset)
//! is not, and gives no verdict, as curl's exit 35 does not.

use std::path::PathBuf;
use std::time::Duration;

use super::process::{self, faketime_spec, Clock};
use super::{tail, Answer, ClientCase};
use crate::harnesses::harnesses_dir;

/// Chromium's certificate errors all start so (its `net_error_list.h` range -200 to -299).
const CERT_ERROR: &str = "net::ERR_CERT_";

/// The browser client, beside the handshake harness's manifest.
pub fn script() -> PathBuf {
    harnesses_dir().join("handshake").join("browser_client.py")
}

/// `YYYY-MM-DDThh:mm:ssZ`: the case's time, whole seconds, as the script's `--at` takes it.
fn rfc3339(at: std::time::SystemTime) -> String {
    format!("{}Z", faketime_spec(at).replace(' ', "T"))
}

pub fn argv(case: &ClientCase<'_>) -> Vec<String> {
    let mut argv = vec![
        "python3".to_string(),
        script().to_string_lossy().into_owned(),
        "--browser".into(),
        "chromium".into(),
        "--cafile".into(),
        case.trust.ca_file().to_string_lossy().into_owned(),
        "--host".into(),
        case.host_text(),
        "--port".into(),
        case.port.to_string(),
        "--timeout".into(),
        case.timeout.as_secs_f64().max(1.0).to_string(),
    ];
    if let Some(at) = case.time {
        argv.extend(["--at".to_string(), rfc3339(at)]);
    }
    argv
}

pub fn handshake(case: &ClientCase<'_>) -> Result<Answer, String> {
    // The script bounds the browser itself (its own process group, killed at `--timeout`); this
    // bound is for the script, with room for the NSS database and the net log.
    let finished = process::run(
        &argv(case),
        b"",
        Clock::Real,
        case.timeout + Duration::from_secs(10),
    )
    .map_err(|fault| fault.to_string())?;
    read_verdict(&finished.stdout).map_err(|why| {
        format!(
            "browser_client.py gave no verdict ({}; {why}): {}",
            finished.describe_status(),
            tail(&finished.stderr)
        )
    })
}

/// The answer in the script's last stdout line, or why there is none.
pub fn read_verdict(stdout: &str) -> Result<Answer, String> {
    let last = stdout
        .lines()
        .map(str::trim)
        .rfind(|line| !line.is_empty())
        .unwrap_or_default();
    if last == "SUCCESS" {
        return Ok(Answer::Accepted);
    }
    if let Some(native) = last.strip_prefix("FAILURE: ") {
        if native.starts_with(CERT_ERROR) {
            return Ok(Answer::Rejected {
                native: native.to_string(),
            });
        }
        return Err(format!("not a verdict on the chain: {native}"));
    }
    if let Some(why) = last.strip_prefix("SKIPPED: ") {
        // Set-up checked the browser and faketime; a skip here is a fault of this machine.
        return Err(format!("skipped: {why}"));
    }
    Err(format!("last line {last:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_certificate_errors_are_verdicts() {
        assert_eq!(read_verdict("x\nSUCCESS\n"), Ok(Answer::Accepted));
        assert_eq!(
            read_verdict("FAILURE: net::ERR_CERT_DATE_INVALID\n"),
            Ok(Answer::Rejected {
                native: "net::ERR_CERT_DATE_INVALID".into()
            })
        );
        assert!(read_verdict("FAILURE: net::ERR_SSL_PROTOCOL_ERROR").is_err());
        assert!(read_verdict("SKIPPED: chromium not installed").is_err());
        assert!(read_verdict("").is_err());
    }

    #[test]
    fn the_time_is_rfc3339_utc() {
        let at = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_633_046_400);
        assert_eq!(rfc3339(at), "2021-10-01T00:00:00Z");
    }

    #[test]
    fn the_script_is_where_the_harness_is() {
        assert!(script().is_file(), "{}", script().display());
    }
}
