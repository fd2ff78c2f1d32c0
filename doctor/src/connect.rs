//! `--connect HOST:PORT`: the chain a server presents in a real TLS handshake (rustls). The
//! client's verifier records the certificates and trusts nothing: it fails the handshake on
//! purpose once it holds them, since the doctor judges the chain itself, target by target.
//!
//! Every failure is a located `Diagnostic` whose source text is the `--connect` argument.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anchorsmith_diagnostics::{Code, Diagnostic};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::chain::{ChainError, ServedChain};

/// Where to connect, as the user wrote it.
pub struct ConnectSpec<'a> {
    /// `HOST:PORT` (an IPv6 host in brackets).
    pub address: &'a str,
    /// The name sent in SNI; the host when `None`.
    pub servername: Option<&'a str>,
    /// For the TCP connection and for each read or write of the handshake.
    pub timeout: Duration,
}

/// The error's pseudo file: the argument it is about.
const CONNECT: &str = "--connect";

fn at(spec: &str, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
    Diagnostic::at(Code::InvalidValue, Path::new(CONNECT), spec, span, message)
}

/// `HOST:PORT` split, with the host's and the port's spans for errors.
fn split(address: &str) -> Result<(&str, u16), Diagnostic> {
    let Some((host, port)) = address.rsplit_once(':') else {
        return Err(at(
            address,
            0..address.len(),
            "expected HOST:PORT, with no port",
        )
        .help("for example --connect example.test:443"));
    };
    let port_span = host.len() + 1..address.len();
    let port = port.parse::<u16>().map_err(|_| {
        at(address, port_span, format!("`{port}` is not a port number"))
            .help("a port is a number from 1 to 65535")
    })?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(at(address, 0..1, "no host before the port"));
    }
    Ok((host, port))
}

/// The first of `sockets` (in resolver order) that accepts a TCP connection: a name often
/// resolves to an IPv6 and an IPv4 address, and only one of them may be served. `Err`: the last
/// failure (`None` when there is no address at all).
fn connect_any(
    sockets: &[SocketAddr],
    timeout: Duration,
) -> Result<(SocketAddr, TcpStream), Option<(SocketAddr, std::io::Error)>> {
    let mut last = None;
    for &socket in sockets {
        match TcpStream::connect_timeout(&socket, timeout) {
            Ok(stream) => return Ok((socket, stream)),
            Err(error) => last = Some((socket, error)),
        }
    }
    Err(last)
}

/// The chain the server at `spec.address` sends, leaf first, exactly as sent.
pub fn capture(spec: &ConnectSpec) -> Result<ServedChain, Diagnostic> {
    let address = spec.address;
    let whole = 0..address.len();
    let (host, port) = split(address)?;
    let name_text = spec.servername.unwrap_or(host);
    let server_name = ServerName::try_from(name_text.to_string()).map_err(|error| {
        Diagnostic::at(
            Code::InvalidValue,
            Path::new("--servername"),
            name_text,
            0..name_text.len(),
            format!("not a server name: {error}"),
        )
    })?;
    let sockets: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|error| {
            at(
                address,
                0..host.len(),
                format!("cannot resolve `{host}`: {error}"),
            )
        })?
        .collect();
    let seconds = spec.timeout.as_secs_f64();
    let (socket, mut stream) = connect_any(&sockets, spec.timeout).map_err(|failure| {
        let message = match failure {
            None => format!("`{host}` has no address"),
            Some((socket, error)) => match error.kind() {
                ErrorKind::ConnectionRefused => {
                    format!("connection refused by {socket}: nothing listens there")
                }
                ErrorKind::TimedOut | ErrorKind::WouldBlock => {
                    format!("connection to {socket} timed out after {seconds} s")
                }
                _ => format!("cannot connect to {socket}: {error}"),
            },
        };
        at(address, whole.clone(), message)
            .help("check the host and port, and that the server is up and reachable from here")
    })?;
    let io_setup = |error: std::io::Error| at(address, whole.clone(), error.to_string());
    stream
        .set_read_timeout(Some(spec.timeout))
        .map_err(io_setup)?;
    stream
        .set_write_timeout(Some(spec.timeout))
        .map_err(io_setup)?;

    let recorder = Arc::new(Recorder::new());
    let config = rustls::ClientConfig::builder_with_provider(recorder.provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default versions")
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let mut connection = rustls::ClientConnection::new(Arc::new(config), server_name)
        .map_err(|error| at(address, whole.clone(), format!("TLS set-up: {error}")))?;
    // Drive the handshake until the verifier has the chain (it then fails it) or it ends.
    let outcome = loop {
        match connection.complete_io(&mut stream) {
            Ok(_) if connection.is_handshaking() => continue,
            Ok(_) => break Ok(()),
            Err(error) => break Err(error),
        }
    };
    match recorder.take() {
        Some(Ok(chain)) => return Ok(chain),
        Some(Err(error)) => {
            return Err(at(
                address,
                whole,
                format!("{socket} sent a chain that cannot be judged: {error}"),
            )
            .help("the server sends something other than X.509 certificates: check its certificate configuration"))
        }
        None => {}
    }
    let message = match outcome {
        Err(error) if matches!(error.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {
            format!("the TLS handshake with {socket} timed out after {seconds} s")
        }
        Err(error) => format!("the TLS handshake with {socket} failed: {error}"),
        Ok(()) => format!("{socket} completed a handshake without sending a certificate"),
    };
    Err(at(address, whole, message).help("is this port a TLS server?"))
}

/// A verifier that keeps the presented chain and accepts nothing.
#[derive(Debug)]
struct Recorder {
    provider: Arc<CryptoProvider>,
    /// The chain presented, or why the certificates presented are not one.
    chain: Mutex<Option<Result<ServedChain, ChainError>>>,
}

impl Recorder {
    fn new() -> Self {
        Recorder {
            provider: Arc::new(rustls::crypto::ring::default_provider()),
            chain: Mutex::new(None),
        }
    }

    fn take(&self) -> Option<Result<ServedChain, ChainError>> {
        self.chain.lock().expect("not poisoned").take()
    }
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let ders = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|der| der.as_ref().to_vec())
            .collect();
        *self.chain.lock().expect("not poisoned") = Some(ServedChain::new(ders));
        // Trust nothing: the chain is what the doctor wanted, the connection is not.
        Err(rustls::Error::General("chain captured; not trusted".into()))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_without_a_port_is_located_on_the_argument() {
        let error = split("example.test").unwrap_err();
        assert_eq!(error.file, Path::new(CONNECT));
        assert!(error.message.contains("HOST:PORT"));
        let error = split("example.test:https").unwrap_err();
        assert_eq!(error.column, "example.test:".len() + 1);
        assert_eq!(split("[::1]:8443").unwrap(), ("::1", 8443));
    }

    #[test]
    fn a_refused_connection_is_a_located_error() {
        // A port just released by the OS: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("127.0.0.1:{port}");
        let error = capture(&ConnectSpec {
            address: &address,
            servername: Some("example.test"),
            timeout: Duration::from_secs(5),
        })
        .unwrap_err();
        assert!(error.message.contains("connection refused"), "{error}");
        assert_eq!((error.line, error.column), (1, 1));
    }

    #[test]
    fn a_refused_address_is_passed_over_for_the_next() {
        let refused = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        let (socket, _) = connect_any(&[refused, open], Duration::from_secs(5)).unwrap();
        assert_eq!(socket, open);
        let (socket, error) = connect_any(&[refused], Duration::from_secs(5))
            .unwrap_err()
            .unwrap();
        assert_eq!(
            (socket, error.kind()),
            (refused, ErrorKind::ConnectionRefused)
        );
        assert!(connect_any(&[], Duration::from_secs(5))
            .unwrap_err()
            .is_none());
    }

    /// A server that presents whatever `certificates` are, signing with a real key (rustls
    /// checks nothing it sends): what a misconfigured server can do.
    #[derive(Debug)]
    struct Presents(Arc<rustls::sign::CertifiedKey>);

    impl rustls::server::ResolvesServerCert for Presents {
        fn resolve(
            &self,
            _hello: rustls::server::ClientHello<'_>,
        ) -> Option<Arc<rustls::sign::CertifiedKey>> {
            Some(self.0.clone())
        }
    }

    #[test]
    fn a_server_sending_something_other_than_x509_is_a_located_error() {
        use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
        let key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["example.test".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let signer = provider
            .key_provider
            .load_private_key(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
                key.serialize_der(),
            )))
            .unwrap();
        let presented = vec![
            leaf.der().clone(),
            CertificateDer::from(b"not a certificate".to_vec()),
        ];
        let certified = rustls::sign::CertifiedKey::new(presented, signer);
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Presents(Arc::new(certified))));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut connection = rustls::ServerConnection::new(Arc::new(config)).unwrap();
            // The client aborts once it holds the chain: the error is expected.
            while connection.is_handshaking() && connection.complete_io(&mut stream).is_ok() {}
        });
        let error = capture(&ConnectSpec {
            address: &address,
            servername: Some("example.test"),
            timeout: Duration::from_secs(5),
        })
        .unwrap_err();
        server.join().unwrap();
        assert_eq!(error.file, Path::new(CONNECT));
        assert!(
            error.message.contains("certificate 2 is not X.509"),
            "{error}"
        );
    }
}
