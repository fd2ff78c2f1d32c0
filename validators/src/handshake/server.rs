//! The TLS server every handshake client connects to: rustls on 127.0.0.1 (an ephemeral port,
//! one thread), serving the case's chain exactly as given — the peer certificate, then the served
//! untrusted certificates in order, nothing added, nothing reordered — with the peer's key held in
//! memory (never written to a file). It answers any SNI, verifies nothing about the client, and
//! replies a minimal `HTTP/1.0 200` to whatever request arrives, so an HTTP client (curl) sees a
//! complete, successful exchange when it accepts the chain.

use std::fmt;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::ValidationInput;

/// The reply to any request: enough for curl to report success.
const RESPONSE: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";

/// How long one connection may sit idle before the server drops it (a client that stopped
/// talking must not keep a thread forever; the client's own timeout is what judges the case).
const CONNECTION_IDLE: Duration = Duration::from_secs(30);

/// The chain and key of one case, always the same whatever the client says in its hello.
#[derive(Debug)]
struct FixedChain(Arc<CertifiedKey>);

impl ResolvesServerCert for FixedChain {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }
}

/// Why the server cannot serve a case: the case is skipped with this reason (the client never
/// saw a chain, so there is no verdict to give).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the TLS server cannot serve this case: {0}")]
pub struct CannotServe(pub String);

/// A running server. Dropping it stops the accept loop.
pub struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server").field("port", &self.port).finish()
    }
}

impl Server {
    /// Starts a server for `input`'s chain and key.
    pub fn start(input: &ValidationInput) -> Result<Server, CannotServe> {
        let config = server_config(input)?;
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .map_err(|error| CannotServe(format!("cannot listen on 127.0.0.1: {error}")))?;
        let port = listener
            .local_addr()
            .map_err(|error| CannotServe(format!("no local address: {error}")))?
            .port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        std::thread::Builder::new()
            .name(format!("tls-server-{port}"))
            .spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let config = Arc::clone(&config);
                    // One thread per connection: a client that stalls holds only its own.
                    let _ = std::thread::Builder::new()
                        .name("tls-connection".into())
                        .spawn(move || serve_one(stream, config));
                }
            })
            .map_err(|error| CannotServe(format!("cannot start the server thread: {error}")))?;
        Ok(Server { port, stop })
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so the loop sees the flag and ends, closing the listener. Not
        // joined: should the wake-up connection fail, a leaked thread is better than a hung run.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// The rustls configuration serving exactly `input`'s chain with its key (ring's provider).
fn server_config(input: &ValidationInput) -> Result<Arc<ServerConfig>, CannotServe> {
    let key_pem = input
        .peer_key_pem
        .as_deref()
        .ok_or_else(|| CannotServe("no peer key".into()))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|error| CannotServe(format!("peer key: {error}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|error| CannotServe(format!("peer key: {error}")))?;
    let chain: Vec<CertificateDer<'static>> = std::iter::once(&input.peer)
        .chain(&input.served_chain)
        .map(|der| CertificateDer::from(der.clone()))
        .collect();
    let certified = Arc::new(CertifiedKey::new(chain, signing_key));
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|error| CannotServe(format!("TLS versions: {error}")))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(FixedChain(certified)));
    Ok(Arc::new(config))
}

/// One connection: the handshake, then read the request (up to its blank line, or whatever
/// arrives) and answer it. Errors end the connection; the client reports what it saw.
fn serve_one(stream: TcpStream, config: Arc<ServerConfig>) {
    let _ = stream.set_read_timeout(Some(CONNECTION_IDLE));
    let _ = stream.set_write_timeout(Some(CONNECTION_IDLE));
    let Ok(connection) = ServerConnection::new(config) else {
        return;
    };
    let mut tls = StreamOwned::new(connection, stream);
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    while !request.windows(4).any(|window| window == b"\r\n\r\n") && request.len() < 65536 {
        match tls.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => request.extend_from_slice(&buffer[..read]),
        }
    }
    if !tls.conn.is_handshaking() {
        let _ = tls.write_all(RESPONSE);
        tls.conn.send_close_notify();
        let _ = tls.flush();
    }
    let _ = tls.sock.shutdown(Shutdown::Both);
}
