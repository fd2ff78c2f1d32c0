//! `handshake:curl`: `curl https://H:P/` resolved to 127.0.0.1 (`--resolve`), trusting only the
//! case's CA file (`--cacert`, and an empty `--capath` so the built-in path adds nothing), under
//! libfaketime frozen at the case's time. `-q` first: no `.curlrc` is read. A rejection is the
//! `curl: (60) ...` line (exit status 60, the peer's certificate could not be verified).

use super::process::{self, Clock};
use super::{tail, Answer, ClientCase};

/// curl's exit status when the peer certificate cannot be authenticated.
const PEER_FAILED_VERIFICATION: i32 = 60;

pub fn argv(case: &ClientCase<'_>) -> Vec<String> {
    let host = case.host_text();
    [
        "curl",
        "-q",
        "--silent",
        "--show-error",
        "--output",
        "/dev/null",
        "--max-time",
        &case.timeout.as_secs().max(1).to_string(),
        "--cacert",
        &case.trust.ca_file().to_string_lossy(),
        "--capath",
        &case.trust.empty_dir().to_string_lossy(),
        "--resolve",
        &format!("{host}:{}:127.0.0.1", case.port),
        &format!("https://{host}:{}/", case.port),
    ]
    .map(String::from)
    .to_vec()
}

pub fn handshake(case: &ClientCase<'_>) -> Result<Answer, String> {
    // curl and gnutls-cli need their monotonic clock running for their own timers.
    let clock = Clock::at(case.time, false);
    let finished = process::run(
        &argv(case),
        b"",
        clock,
        case.timeout + std::time::Duration::from_secs(2),
    )
    .map_err(|fault| fault.to_string())?;
    if finished.status.success() {
        return Ok(Answer::Accepted);
    }
    if finished.status.code() == Some(PEER_FAILED_VERIFICATION) {
        let native = process::line_with(&finished.stderr, "curl: (60)")
            .unwrap_or("curl: (60)")
            .to_string();
        return Ok(Answer::Rejected { native });
    }
    Err(format!(
        "curl gave no verdict ({}): {}",
        finished.describe_status(),
        tail(&finished.stderr)
    ))
}
