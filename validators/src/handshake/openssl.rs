//! `handshake:openssl`: `openssl s_client -verify_return_error`, at the case's time through its
//! own `-attime`, trusting only the case's CA file (`-no-CApath -no-CAstore`), checking the name
//! with `-verify_hostname` (or `-verify_ip`). A rejection is the `verify error:num=N:text` line.

use super::process::{self, epoch_seconds, Clock};
use super::skip::Host;
use super::{tail, Answer, ClientCase};

pub fn argv(case: &ClientCase<'_>) -> Vec<String> {
    let mut argv: Vec<String> = [
        "openssl",
        "s_client",
        "-connect",
        &format!("127.0.0.1:{}", case.port),
        "-verify_return_error",
        "-CAfile",
        &case.trust.ca_file().to_string_lossy(),
        "-no-CApath",
        "-no-CAstore",
        "-brief",
    ]
    .map(String::from)
    .to_vec();
    match case.host {
        Host::Dns(name) => {
            argv.extend(["-servername", name, "-verify_hostname", name].map(String::from))
        }
        Host::Ip(address) => argv.extend([
            "-noservername".into(),
            "-verify_ip".into(),
            address.to_string(),
        ]),
        Host::Unchecked => argv.push("-noservername".into()),
    }
    if let Some(at) = case.time {
        argv.extend(["-attime".into(), epoch_seconds(at).to_string()]);
    }
    argv
}

pub fn handshake(case: &ClientCase<'_>) -> Result<Answer, String> {
    let finished = process::run(
        &argv(case),
        b"GET / HTTP/1.0\r\n\r\n",
        Clock::Real,
        case.timeout,
    )
    .map_err(|fault| fault.to_string())?;
    let output = format!("{}\n{}", finished.stdout, finished.stderr);
    if finished.status.success() && output.contains("Verification: OK") {
        return Ok(Answer::Accepted);
    }
    if let Some(line) = process::line_with(&output, "verify error:") {
        return Ok(Answer::Rejected {
            native: line.to_string(),
        });
    }
    Err(format!(
        "openssl s_client gave no verdict ({}): {}",
        finished.describe_status(),
        tail(&finished.stderr)
    ))
}
