//! Which certificate authorities the reporters trust: the system's (through
//! `rustls-native-certs`, which honours the standard `SSL_CERT_FILE` and `SSL_CERT_DIR`
//! variables), plus the PEM file a reporter names (`smtpCaFile=` on MailNotifier, `verify=` as
//! a path on the status pushes), for a private CA or a self-signed relay.

use std::path::{Path, PathBuf};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Why a reporter's TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The CA file could not be read or holds no certificate.
    #[error("CA file {path}: {detail}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// The TLS library refused the settings.
    #[error("TLS set-up failed: {0}")]
    Setup(String),
}

/// `ca_file` resolved against the master directory `basedir`.
pub fn ca_path(ca_file: &str, basedir: &Path) -> PathBuf {
    let path = Path::new(ca_file);
    if path.is_absolute() {
        path.to_owned()
    } else {
        basedir.join(path)
    }
}

/// The certificates of the PEM file `path` (at least one).
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let ca_error = |detail: String| Error::CaFile {
        path: path.to_owned(),
        detail,
    };
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|e| ca_error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ca_error(e.to_string()))?;
    if certificates.is_empty() {
        return Err(ca_error("holds no PEM certificate".into()));
    }
    Ok(certificates)
}

/// The system's trusted certificates; empty when none can be found.
pub fn system_roots() -> Vec<CertificateDer<'static>> {
    let found = rustls_native_certs::load_native_certs();
    for error in &found.errors {
        tracing::debug!(%error, "a system CA certificate was not loaded");
    }
    found.certs
}
