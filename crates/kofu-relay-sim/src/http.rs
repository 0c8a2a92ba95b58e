//! A small HTTP/1.1 keep-alive client for the LGWAN protocol: JSON over plain TCP
//! (development, loopback) or over TLS with the center's client certificate. It
//! speaks only what the protocol needs: `POST` and `GET` with `Content-Length`.

use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{
    AsyncBufReadExt as _, AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, BufReader,
};
use tokio::net::TcpStream;

use crate::SimError;

/// The largest answer accepted (ten copies of a multi-page certificate fit easily).
const MAX_ANSWER: usize = 64 << 20;

/// Where the town's server is and how to reach it.
#[derive(Clone)]
pub struct Endpoint {
    host: String,
    port: u16,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}://{}:{}",
            if self.tls.is_some() { "https" } else { "http" },
            self.host,
            self.port
        )
    }
}

/// The center's TLS material: its client certificate and the CA it trusts for the
/// town's server.
#[derive(Clone, Debug)]
pub struct CenterTls<'a> {
    /// The CA that signed the town server's certificate.
    pub ca_cert: &'a Path,
    /// The center's client certificate chain.
    pub client_cert: &'a Path,
    /// Its key.
    pub client_key: &'a Path,
}

fn tls_error(path: &Path, e: impl std::fmt::Display) -> SimError {
    SimError::Tls(format!("{}: {e}", path.display()))
}

impl Endpoint {
    /// Parses `http://HOST:PORT` (plain, for loopback development servers) or
    /// `https://HOST:PORT` (mutual TLS, which needs `tls`).
    pub fn parse(url: &str, tls: Option<CenterTls<'_>>) -> Result<Endpoint, SimError> {
        let bad = || SimError::Url(url.to_owned());
        let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
        let authority = rest.trim_end_matches('/');
        let (host, port) = authority.rsplit_once(':').ok_or_else(bad)?;
        let port: u16 = port.parse().map_err(|_| bad())?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if host.is_empty() {
            return Err(bad());
        }
        let tls = match (scheme, tls) {
            ("http", _) => None,
            ("https", Some(files)) => Some(Arc::new(client_config(&files)?)),
            ("https", None) => {
                return Err(SimError::Tls(
                    "https needs the center's certificate, key and CA (--tls-dir)".into(),
                ));
            }
            _ => return Err(bad()),
        };
        Ok(Endpoint { host, port, tls })
    }

    /// Opens a keep-alive connection.
    pub async fn connect(&self) -> Result<Connection, SimError> {
        let conn = |e: std::io::Error| SimError::Connection(format!("{self:?}: {e}"));
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(conn)?;
        tcp.set_nodelay(true).map_err(conn)?;
        let stream: Box<dyn Stream> = match &self.tls {
            None => Box::new(tcp),
            Some(config) => {
                let name = ServerName::try_from(self.host.clone())
                    .map_err(|e| SimError::Tls(format!("{}: {e}", self.host)))?;
                let tls = tokio_rustls::TlsConnector::from(config.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(conn)?;
                Box::new(tls)
            }
        };
        Ok(Connection {
            stream: BufReader::new(stream),
            host: self.host.clone(),
        })
    }

    /// The socket address, when the host is an IP literal.
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        format!("{}:{}", self.host, self.port).parse().ok()
    }
}

fn client_config(files: &CenterTls<'_>) -> Result<rustls::ClientConfig, SimError> {
    let mut roots = rustls::RootCertStore::empty();
    for ca in
        CertificateDer::pem_file_iter(files.ca_cert).map_err(|e| tls_error(files.ca_cert, e))?
    {
        let ca = ca.map_err(|e| tls_error(files.ca_cert, e))?;
        roots.add(ca).map_err(|e| tls_error(files.ca_cert, e))?;
    }
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(files.client_cert)
        .map_err(|e| tls_error(files.client_cert, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| tls_error(files.client_cert, e))?;
    let key = PrivateKeyDer::from_pem_file(files.client_key)
        .map_err(|e| tls_error(files.client_key, e))?;
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| SimError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| SimError::Tls(e.to_string()))
}

trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// One keep-alive connection to the town's server.
pub struct Connection {
    stream: BufReader<Box<dyn Stream>>,
    host: String,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("host", &self.host)
            .finish()
    }
}

/// An answer: status and JSON body (`Null` when the body is empty).
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body as JSON.
    pub body: serde_json::Value,
}

impl Connection {
    /// Posts a JSON body and reads the whole answer.
    pub async fn post(&mut self, path: &str, body: &serde_json::Value) -> Result<Answer, SimError> {
        let body = body.to_string();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        );
        self.send(head, body.as_bytes()).await
    }

    /// Sends a `GET` and reads the whole answer.
    pub async fn get(&mut self, path: &str) -> Result<Answer, SimError> {
        let head = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.host);
        self.send(head, &[]).await
    }

    async fn send(&mut self, head: String, body: &[u8]) -> Result<Answer, SimError> {
        let io = |e: std::io::Error| SimError::Connection(e.to_string());
        let s = Pin::new(self.stream.get_mut());
        let s = s.get_mut();
        s.write_all(head.as_bytes()).await.map_err(io)?;
        s.write_all(body).await.map_err(io)?;
        s.flush().await.map_err(io)?;
        let mut line = String::new();
        if self.stream.read_line(&mut line).await.map_err(io)? == 0 {
            return Err(SimError::Connection("closed by the server".into()));
        }
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| SimError::Protocol(format!("bad status line {line:?}")))?;
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await.map_err(io)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((name, value)) = l.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value
                    .trim()
                    .parse()
                    .map_err(|_| SimError::Protocol(format!("bad content-length {value:?}")))?;
            }
        }
        if length > MAX_ANSWER {
            return Err(SimError::Protocol(format!("answer of {length} bytes")));
        }
        let mut bytes = vec![0; length];
        self.stream.read_exact(&mut bytes).await.map_err(io)?;
        let body = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| SimError::Protocol(format!("answer is not JSON: {e}")))?
        };
        Ok(Answer { status, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let ok = |u: &str, expected: &str| {
            let e = Endpoint::parse(u, None);
            assert_eq!(
                e.map(|e| format!("{e:?}")).ok().as_deref(),
                Some(expected),
                "{u}"
            );
        };
        ok("http://127.0.0.1:8443", "http://127.0.0.1:8443");
        ok("http://localhost:80/", "http://localhost:80");
        ok("http://[::1]:8443", "http://::1:8443");
        for bad in [
            "127.0.0.1:8443",
            "ftp://x:1",
            "http://x",
            "http://:80",
            "http://x:port",
        ] {
            assert!(
                matches!(Endpoint::parse(bad, None), Err(SimError::Url(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            Endpoint::parse("https://localhost:8443", None),
            Err(SimError::Tls(_))
        ));
    }
}
