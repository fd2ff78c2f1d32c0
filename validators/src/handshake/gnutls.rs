//! `handshake:gnutls`: `gnutls-cli` trusting only the case's CA file (`--x509cafile`, which
//! replaces the system trust), sending the name as SNI and checking it (`--verify-hostname`),
//! under libfaketime frozen at the case's time. A rejection is its `- Status: The certificate is
//! NOT trusted. ...` line, which names the causes; or, where GnuTLS stops before it has a status
//! (a path search past its limits, a peer certificate whose key usage forbids signing), its
//! `Could not verify certificate` line or its fatal key-usage error.

use super::process::{self, Clock};
use super::{tail, Answer, ClientCase};

pub fn argv(case: &ClientCase<'_>) -> Vec<String> {
    let host = case.host_text();
    vec![
        "gnutls-cli".into(),
        format!("--x509cafile={}", case.trust.ca_file().display()),
        format!("--sni-hostname={host}"),
        format!("--verify-hostname={host}"),
        format!("--port={}", case.port),
        "127.0.0.1".into(),
    ]
}

pub fn handshake(case: &ClientCase<'_>) -> Result<Answer, String> {
    // curl and gnutls-cli need their monotonic clock running for their own timers.
    let clock = Clock::at(case.time, false);
    let finished = process::run(&argv(case), b"GET / HTTP/1.0\r\n\r\n", clock, case.timeout)
        .map_err(|fault| fault.to_string())?;
    if let Some(line) =
        process::line_with(&finished.stdout, "- Status: The certificate is NOT trusted")
    {
        return Ok(Answer::Rejected {
            native: line.trim_start_matches("- ").to_string(),
        });
    }
    let output = format!("{}\n{}", finished.stdout, finished.stderr);
    if output.contains("*** PKI verification of server certificate failed") {
        if let Some(line) = process::line_with(&output, "Could not verify certificate") {
            return Ok(Answer::Rejected {
                native: line.trim_start_matches("- ").to_string(),
            });
        }
    }
    if let Some(line) = process::line_with(&output, "*** Fatal error: Key usage violation") {
        return Ok(Answer::Rejected {
            native: line.trim_start_matches("*** ").to_string(),
        });
    }
    if finished.status.success() && finished.stdout.contains("- Handshake was completed") {
        return Ok(Answer::Accepted);
    }
    Err(format!(
        "gnutls-cli gave no verdict ({}): {}",
        finished.describe_status(),
        tail(&format!("{}\n{}", finished.stdout, finished.stderr))
    ))
}
