//! The TLS client settings for `--use-tls` / `tls:` connection strings: rustls with the system's
//! trust roots plus those of `--ca-certs` (or `trustRoots=`), a PEM file or a directory of them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::error::{Error, Result};

/// A client configuration trusting the system's roots and those found at `extra`.
pub(crate) fn client_config(extra: Option<&Path>) -> Result<Arc<rustls::ClientConfig>> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (system_added, _) = roots.add_parsable_certificates(native.certs);
    if !native.errors.is_empty() {
        tracing::debug!(errors = ?native.errors, "some system trust roots could not be read");
    }
    if let Some(path) = extra {
        let certs = read_roots(path)?;
        let (added, ignored) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(Error::TrustRoots {
                path: path.to_path_buf(),
                reason: format!("no usable CA certificate in it ({ignored} unusable)"),
            });
        }
        tracing::info!(path = %path.display(), certificates = added, "extra TLS trust roots loaded");
    }
    if roots.is_empty() {
        return Err(Error::TrustRoots {
            path: PathBuf::from("the system certificate store"),
            reason: "it holds no certificate; give the master's CA with --ca-certs".into(),
        });
    }
    tracing::debug!(
        system = system_added,
        total = roots.len(),
        "TLS trust roots"
    );
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::TrustRoots {
            path: PathBuf::from("rustls"),
            reason: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    // gRPC is HTTP/2.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// Every PEM certificate in `path`, or in each file of the directory `path`.
fn read_roots(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let bad = |reason: String| Error::TrustRoots {
        path: path.to_path_buf(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
    let files: Vec<PathBuf> = if meta.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| bad(e.to_string()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_path_buf()]
    };
    let mut certs = Vec::new();
    for file in files {
        let pem = std::fs::read(&file).map_err(|e| bad(format!("{}: {e}", file.display())))?;
        // A directory may hold other files (a README, keys); only certificates count.
        for cert in CertificateDer::pem_slice_iter(&pem) {
            match cert {
                Ok(cert) => certs.push(cert),
                Err(e) => return Err(bad(format!("{}: {e}", file.display()))),
            }
        }
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_path_without_certificates_is_refused_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("README"), "no certificates here\n").expect("write");
        let error = client_config(Some(dir.path())).expect_err("no CA");
        let text = error.to_string();
        assert!(text.contains(&dir.path().display().to_string()), "{text}");
        assert!(text.contains("no usable CA certificate"), "{text}");
        let missing = dir.path().join("missing.pem");
        let text = client_config(Some(&missing))
            .expect_err("missing")
            .to_string();
        assert!(text.contains("missing.pem"), "{text}");
    }
}
