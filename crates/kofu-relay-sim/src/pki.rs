//! A development PKI: one CA that signs the town server's certificate and the relay
//! center's client certificate, so that both ends of the mutual TLS can be tried out
//! without a real J-LIS hierarchy. Never for production.

use std::path::{Path, PathBuf};

use crate::SimError;

/// The files [`generate`] writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevPki {
    /// The CA certificate: `kofu serve --relay-ca`, and the center's trust anchor.
    pub ca_cert: PathBuf,
    /// The town server's certificate chain: `kofu serve --tls-cert`.
    pub server_cert: PathBuf,
    /// Its key: `kofu serve --tls-key`.
    pub server_key: PathBuf,
    /// The relay center's client certificate.
    pub center_cert: PathBuf,
    /// Its key.
    pub center_key: PathBuf,
}

impl DevPki {
    /// The file names inside `dir`, whether or not they exist yet.
    pub fn in_dir(dir: &Path) -> DevPki {
        DevPki {
            ca_cert: dir.join("ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server-key.pem"),
            center_cert: dir.join("center.pem"),
            center_key: dir.join("center-key.pem"),
        }
    }
}

fn pki(e: impl std::fmt::Display) -> SimError {
    SimError::Pki(e.to_string())
}

/// Generates a CA, a server certificate valid for `server_names` (DNS names or IP
/// addresses) and a center client certificate, written as PEM files into `dir`.
pub fn generate(dir: &Path, server_names: &[String]) -> Result<DevPki, SimError> {
    std::fs::create_dir_all(dir).map_err(|e| SimError::io(dir, e))?;
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(pki)?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(
        rcgen::DnType::CommonName,
        "kofu development relay-center CA",
    );
    let ca_key = rcgen::KeyPair::generate().map_err(pki)?;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(pki)?;
    let issuer = rcgen::Issuer::new(ca_params, ca_key);

    let leaf = |names: Vec<String>, cn: &str| -> Result<(String, String), SimError> {
        let mut params = rcgen::CertificateParams::new(names).map_err(pki)?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        let key = rcgen::KeyPair::generate().map_err(pki)?;
        let cert = params.signed_by(&key, &issuer).map_err(pki)?;
        Ok((cert.pem(), key.serialize_pem()))
    };
    let (server_pem, server_key) = leaf(server_names.to_vec(), "kofu town issuance server")?;
    let (center_pem, center_key) = leaf(
        vec!["relay-center.invalid".to_owned()],
        "kofu simulated relay center",
    )?;
    let files = DevPki::in_dir(dir);
    for (path, text) in [
        (&files.ca_cert, ca_cert.pem()),
        (&files.server_cert, server_pem),
        (&files.server_key, server_key),
        (&files.center_cert, center_pem),
        (&files.center_key, center_key),
    ] {
        std::fs::write(path, text).map_err(|e| SimError::io(path, e))?;
    }
    Ok(files)
}
