//! The worker port of `c['protocols']['pb']`: a plain port, or TLS with a certificate and key.

use starlark::values::Value;

use super::{entries, port, string};
use crate::types::WorkerTlsConfig;

/// Where the worker port listens and whether it speaks TLS (`c['protocols']['pb']`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WorkerEndpoint {
    pub port: u16,
    pub interface: Option<String>,
    pub tls: Option<WorkerTlsConfig>,
}

/// The worker port: what [`port`] accepts, or Twisted's
/// `ssl:PORT[:interface=ADDR]:privateKey=KEY.pem[:certKey=CERT.pem]` (without `certKey` the
/// key file must hold the certificate too, as in Twisted).
pub(super) fn worker_endpoint(v: Value, what: &str) -> Result<WorkerEndpoint, String> {
    let Some(rest) = v
        .unpack_str()
        .and_then(|s| s.strip_prefix("ssl:").or_else(|| s.strip_prefix("SSL:")))
    else {
        let (port, interface) = port(v, what)?;
        return Ok(WorkerEndpoint {
            port,
            interface,
            tls: None,
        });
    };
    let mut port_text = None;
    let (mut interface, mut key, mut cert) = (None, None, None);
    for (i, part) in rest.split(':').enumerate() {
        match part.split_once('=') {
            Some(("port", p)) => port_text = Some(p),
            Some(("interface", a)) => interface = Some(a.to_owned()),
            Some(("privateKey", k)) => key = Some(k.to_owned()),
            Some(("certKey", c)) => cert = Some(c.to_owned()),
            Some((other, _)) => {
                return Err(format!(
                    "{what}: option {other:?} of the 'ssl:' string is not supported \
                     (use port, interface, privateKey, certKey)"
                ));
            }
            None if i == 0 => port_text = Some(part),
            None => return Err(format!("{what}: {part:?} is not NAME=VALUE")),
        }
    }
    let port = port_text
        .and_then(|p| p.parse::<u16>().ok())
        .ok_or_else(|| format!("{what}: the 'ssl:' string needs a port, as 'ssl:9989:...'"))?;
    let private_key = key.ok_or_else(|| {
        format!("{what}: the 'ssl:' string needs privateKey=FILE (and certKey=FILE)")
    })?;
    let certificate = cert.unwrap_or_else(|| private_key.clone());
    Ok(WorkerEndpoint {
        port,
        interface,
        tls: Some(WorkerTlsConfig {
            certificate,
            private_key,
        }),
    })
}

/// `{'certificate': 'cert.pem', 'private_key': 'key.pem'}`.
pub(super) fn tls_dict(v: Value, what: &str) -> Result<WorkerTlsConfig, String> {
    let (mut certificate, mut private_key) = (None, None);
    for (key, val) in entries(v, what)? {
        match key.as_str() {
            "certificate" => certificate = Some(string(val, &format!("{what}['certificate']"))?),
            "private_key" => private_key = Some(string(val, &format!("{what}['private_key']"))?),
            other => {
                return Err(format!(
                    "unknown key {what}['{other}'] (use 'certificate' and 'private_key')"
                ));
            }
        }
    }
    match (certificate, private_key) {
        (Some(certificate), Some(private_key)) => Ok(WorkerTlsConfig {
            certificate,
            private_key,
        }),
        _ => Err(format!("{what} needs both 'certificate' and 'private_key'")),
    }
}
