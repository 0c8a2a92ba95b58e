//! A simulated relay center (J-LIS 証明書交付センター) and its convenience-store kiosks.
//!
//! It is the other side of `../shared/interfaces/lgwan-protocol.md`: it checks a card's
//! PIN and revocation itself, as the real center does, then asks the town's server
//! (inquiry, issuance, outcome notice) over mutual TLS, or plain HTTP on loopback in
//! development. It knows nothing of kofu's internals: only the wire protocol.
//!
//! - [`pki`]: a development CA and certificates for both sides;
//! - [`cards`]: the center's card file and PIN/lock state;
//! - [`http`]: a small HTTP/1.1 keep-alive client over TCP or TLS;
//! - [`kiosk`]: one kiosk session, from card and PIN to outcome notice;
//! - [`layer`]: the kiosk security layer put on every printed certificate (the one
//!   place the simulator uses kofu code: `kofu_render::kiosk`, which `kofu
//!   verify-scan` checks against);
//! - [`load`]: steady load at a rate, with throughput and latency percentiles.

pub mod cards;
pub mod http;
pub mod kiosk;
pub mod layer;
pub mod load;
pub mod pki;

/// What can go wrong in the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line of the card file is wrong.
    #[error("{path}:{line}: {field}: {reason}")]
    CardFile {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// The column.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The server address is not `http://HOST:PORT` or `https://HOST:PORT`.
    #[error("bad server URL {0:?}: expected http://HOST:PORT or https://HOST:PORT")]
    Url(String),
    /// Talking to the server failed.
    #[error("connection to the town's server: {0}")]
    Connection(String),
    /// The server answered something the protocol does not allow.
    #[error("protocol violation: {0}")]
    Protocol(String),
    /// TLS material is unusable.
    #[error("TLS: {0}")]
    Tls(String),
    /// Certificates could not be generated.
    #[error("certificate generation: {0}")]
    Pki(String),
    /// The kiosk security layer could not be applied.
    #[error("kiosk layer: {0}")]
    Layer(String),
}

impl SimError {
    pub(crate) fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> SimError {
        SimError::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}
