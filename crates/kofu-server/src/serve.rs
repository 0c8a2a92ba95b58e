//! `kofu serve`: binds the LGWAN listener, with mutual TLS (only clients whose
//! certificate chains to the configured relay-center CA get past the handshake), and
//! the counter listener with TLS (staff authenticate in the API itself); or, in
//! development, either as plain HTTP on a loopback address.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

/// Why the listener could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Plain HTTP asked for on an address that is not loopback.
    #[error("--insecure-loopback serves plain HTTP only on a loopback address, not {0}")]
    NotLoopback(SocketAddr),
    /// Neither TLS material nor the development flag.
    #[error("give --tls-cert, --tls-key and --relay-ca (mutual TLS), or --insecure-loopback")]
    NoTls,
    /// A PEM file could not be read.
    #[error("{path}: {reason}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// The client verifier could not be built from the CA.
    #[error("relay-center CA: {0}")]
    Verifier(String),
    /// Binding or serving failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The TLS material of the LGWAN listener.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The server's certificate chain (PEM).
    pub cert: PathBuf,
    /// The server's private key (PEM).
    pub key: PathBuf,
    /// The relay-center CA that client certificates must chain to (PEM).
    pub relay_ca: PathBuf,
}

fn pem_error(path: &Path, reason: impl std::fmt::Display) -> ServeError {
    ServeError::Pem {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

/// The server's certificate chain and key.
fn server_identity(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), ServeError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| pem_error(cert, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| pem_error(cert, e))?;
    if certs.is_empty() {
        return Err(pem_error(cert, "no certificate in the file"));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| pem_error(key, e))?;
    Ok((certs, key))
}

/// The rustls server configuration of the counter listener: our certificate, no
/// client certificate (staff log in with password and TOTP).
pub fn tls_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, ServeError> {
    let (certs, key) = server_identity(cert, key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?)
}

/// The rustls server configuration: our certificate, and client certificates
/// required and verified against the relay-center CA.
pub fn mtls_config(files: &TlsFiles) -> Result<rustls::ServerConfig, ServeError> {
    let (certs, key) = server_identity(&files.cert, &files.key)?;
    let mut roots = rustls::RootCertStore::empty();
    for ca in
        CertificateDer::pem_file_iter(&files.relay_ca).map_err(|e| pem_error(&files.relay_ca, e))?
    {
        let ca = ca.map_err(|e| pem_error(&files.relay_ca, e))?;
        roots.add(ca).map_err(|e| pem_error(&files.relay_ca, e))?;
    }
    if roots.is_empty() {
        return Err(pem_error(&files.relay_ca, "no CA certificate in the file"));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| ServeError::Verifier(e.to_string()))?;
    Ok(rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)?)
}

/// How a listener is secured.
#[derive(Clone, Debug)]
pub enum Security {
    /// Mutual TLS (LGWAN).
    Mtls(Arc<rustls::ServerConfig>),
    /// TLS without client certificates (counter).
    Tls(Arc<rustls::ServerConfig>),
    /// Plain HTTP on loopback (development and tests).
    InsecureLoopback,
}

/// A bound listener, ready to serve.
pub struct Listener {
    listener: std::net::TcpListener,
    security: Security,
}

impl Listener {
    /// Binds `addr` with `security` (refusing plain HTTP off loopback).
    pub fn bind(addr: SocketAddr, security: Security) -> Result<Listener, ServeError> {
        if matches!(security, Security::InsecureLoopback) && !addr.ip().is_loopback() {
            return Err(ServeError::NotLoopback(addr));
        }
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        Ok(Listener { listener, security })
    }

    /// The address actually bound (port 0 picks one).
    pub fn local_addr(&self) -> Result<SocketAddr, ServeError> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves `router` until the process ends or `shutdown` resolves.
    pub async fn serve(
        self,
        router: axum::Router,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let handle = axum_server::Handle::new();
        let h = handle.clone();
        tokio::spawn(async move {
            shutdown.await;
            h.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
        });
        // The peer's address reaches the handlers (login attempts are counted per source).
        let app = router.into_make_service_with_connect_info::<SocketAddr>();
        match self.security {
            Security::InsecureLoopback => {
                axum_server::from_tcp(self.listener)?
                    .handle(handle)
                    .serve(app)
                    .await?
            }
            Security::Mtls(config) | Security::Tls(config) => {
                let tls = axum_server::tls_rustls::RustlsConfig::from_config(config);
                axum_server::from_tcp_rustls(self.listener, tls)?
                    .handle(handle)
                    .serve(app)
                    .await?
            }
        }
        Ok(())
    }
}
