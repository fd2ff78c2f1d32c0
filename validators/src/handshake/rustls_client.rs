//! `handshake:rustls`: a rustls client in this process (ring's provider), over a real TCP
//! connection to the server. Its root store is the case's anchors; its clock is the case's
//! time, through the `TimeProvider` rustls takes when the configuration is built (the verifier
//! itself is rustls's own, unwrapped). A rejection is the `rustls::Error` rustls returns, as its
//! `Debug` text (`InvalidCertificate(UnknownIssuer)`), which names the variant.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::SystemTime;

use rustls::client::ClientConfig;
use rustls::time_provider::TimeProvider;
use rustls::{ClientConnection, RootCertStore, StreamOwned};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use super::skip::Host;
use super::{Answer, ClientCase};

/// The rustls crate this column links (Cargo.lock; checked by a test).
pub const RUSTLS_VERSION: &str = "0.23.46";

/// A clock that always reads the case's time.
#[derive(Debug)]
struct FixedTime(SystemTime);

impl TimeProvider for FixedTime {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(
            self.0
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default(),
        ))
    }
}

fn config(case: &ClientCase<'_>, anchors: &[crate::CertDer]) -> Result<ClientConfig, String> {
    let mut roots = RootCertStore::empty();
    // An anchor rustls cannot read is left out, as it would be from a trust store.
    for der in anchors {
        let _ = roots.add(CertificateDer::from(der.clone()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = match case.time {
        Some(at) => ClientConfig::builder_with_details(provider, Arc::new(FixedTime(at))),
        None => ClientConfig::builder_with_provider(provider),
    };
    Ok(builder
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|error| format!("rustls configuration: {error}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

pub fn handshake(case: &ClientCase<'_>, anchors: &[crate::CertDer]) -> Result<Answer, String> {
    let config = Arc::new(config(case, anchors)?);
    let name = match case.host {
        Host::Dns(name) => ServerName::try_from(name.clone())
            .map_err(|error| format!("server name `{name}`: {error}"))?,
        Host::Ip(address) => ServerName::IpAddress((*address).into()),
        Host::Unchecked => return Err("rustls always checks a server name".into()),
    };
    let socket = TcpStream::connect(("127.0.0.1", case.port))
        .map_err(|error| format!("cannot connect to 127.0.0.1:{}: {error}", case.port))?;
    socket
        .set_read_timeout(Some(case.timeout))
        .and_then(|()| socket.set_write_timeout(Some(case.timeout)))
        .map_err(|error| format!("socket timeouts: {error}"))?;
    let connection =
        ClientConnection::new(config, name).map_err(|error| format!("rustls client: {error}"))?;
    let mut tls = StreamOwned::new(connection, socket);
    let outcome = tls
        .write_all(b"GET / HTTP/1.0\r\n\r\n")
        .and_then(|()| tls.flush())
        .and_then(|()| {
            let mut reply = Vec::new();
            tls.read_to_end(&mut reply).map(|_| reply)
        });
    match outcome {
        Ok(reply) if reply.starts_with(b"HTTP/1.0 200") => Ok(Answer::Accepted),
        Ok(reply) => Err(format!(
            "handshake completed but the reply is not the server's: {:?}",
            String::from_utf8_lossy(&reply[..reply.len().min(80)])
        )),
        Err(error) => match error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            Some(rustls_error @ rustls::Error::InvalidCertificate(_)) => Ok(Answer::Rejected {
                native: format!("{rustls_error:?}"),
            }),
            _ => Err(format!("rustls client: {error}")),
        },
    }
}
