//! Where the master is: `HOST:PORT` with `--use-tls`, or a Twisted client endpoint string
//! (`--connection-string`), and the HTTP proxy to go through (`--proxy-connection-string`).
//!
//! Accepted subset of Twisted's `clientFromString`: `tcp:` and `tls:` (any case), positional
//! `HOST:PORT` or `host=`/`port=`, `\:` to escape a colon (IPv6 addresses), and for `tls:` also
//! `trustRoots=PATH` (a PEM file or a directory of PEM files). Anything else (`unix:`, `ssl:`,
//! client certificates, `bindAddress=`, `timeout=`) is refused with the accepted forms.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// The master to dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterEndpoint {
    /// Host name or IP address (also the name the master's certificate must carry).
    pub host: String,
    /// The worker port.
    pub port: u16,
    /// Speak TLS and check the master's certificate.
    pub tls: bool,
    /// Extra trust roots (PEM file or directory) besides the system's.
    pub trust_roots: Option<PathBuf>,
}

impl MasterEndpoint {
    /// `HOST:PORT`, with brackets around an IPv6 address.
    pub fn address(&self) -> String {
        host_port(&self.host, self.port)
    }
}

/// An HTTP proxy that tunnels the connection with `CONNECT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyEndpoint {
    /// The proxy's host.
    pub host: String,
    /// The proxy's port.
    pub port: u16,
}

impl ProxyEndpoint {
    /// `HOST:PORT` of the proxy.
    pub fn address(&self) -> String {
        host_port(&self.host, self.port)
    }
}

fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

const MASTER_FORMS: &str =
    "accepted forms: tcp:HOST:PORT, tcp:host=HOST:port=PORT, tls:HOST:PORT[:trustRoots=PATH]";
const PROXY_FORMS: &str = "accepted forms: tcp:HOST:PORT, tcp:host=HOST:port=PORT, HOST:PORT";

/// Parses `--connection-string`.
pub fn parse_connection_string(text: &str) -> Result<MasterEndpoint> {
    let bad = |reason: String| Error::BadConnectionString {
        option: "--connection-string",
        value: text.to_owned(),
        reason: format!("{reason}; {MASTER_FORMS}"),
    };
    let parts = split_escaped(text);
    let (kind, rest) = parts
        .split_first()
        .ok_or_else(|| bad("it is empty".into()))?;
    let tls = match kind.to_ascii_lowercase().as_str() {
        "tcp" => false,
        "tls" => true,
        other => return Err(bad(format!("endpoint type {other:?} is not supported"))),
    };
    let mut fields = Fields::default();
    for (i, part) in rest.iter().enumerate() {
        match part.split_once('=') {
            Some(("trustRoots", path)) if tls => fields.trust_roots = Some(PathBuf::from(path)),
            Some((key, value)) => fields.keyword(key, value).map_err(&bad)?,
            None => fields.positional(i, part).map_err(&bad)?,
        }
    }
    let (host, port) = fields.host_and_port().map_err(bad)?;
    Ok(MasterEndpoint {
        host,
        port,
        tls,
        trust_roots: fields.trust_roots,
    })
}

/// Parses `--proxy-connection-string` (a `tcp:` endpoint, or plain `HOST:PORT`).
pub fn parse_proxy_connection_string(text: &str) -> Result<ProxyEndpoint> {
    let bad = |reason: String| Error::BadConnectionString {
        option: "--proxy-connection-string",
        value: text.to_owned(),
        reason: format!("{reason}; {PROXY_FORMS}"),
    };
    let mut parts = split_escaped(text);
    match parts.first().map(|k| k.to_ascii_lowercase()) {
        Some(kind) if kind == "tcp" => {
            parts.remove(0);
        }
        Some(kind) if parts.len() > 2 || kind.contains('=') => {
            return Err(bad(format!("endpoint type {kind:?} is not supported")));
        }
        _ => {}
    }
    let mut fields = Fields::default();
    for (i, part) in parts.iter().enumerate() {
        match part.split_once('=') {
            Some((key, value)) => fields.keyword(key, value).map_err(&bad)?,
            None => fields.positional(i, part).map_err(&bad)?,
        }
    }
    let (host, port) = fields.host_and_port().map_err(bad)?;
    Ok(ProxyEndpoint { host, port })
}

#[derive(Default)]
struct Fields {
    host: Option<String>,
    port: Option<String>,
    trust_roots: Option<PathBuf>,
}

impl Fields {
    fn keyword(&mut self, key: &str, value: &str) -> std::result::Result<(), String> {
        match key {
            "host" => self.host = Some(value.to_owned()),
            "port" => self.port = Some(value.to_owned()),
            other => return Err(format!("option {other:?} is not supported")),
        }
        Ok(())
    }

    fn positional(&mut self, index: usize, value: &str) -> std::result::Result<(), String> {
        match index {
            0 => self.host = Some(value.to_owned()),
            1 => self.port = Some(value.to_owned()),
            _ => return Err(format!("unexpected part {value:?}")),
        }
        Ok(())
    }

    fn host_and_port(&self) -> std::result::Result<(String, u16), String> {
        let host = self
            .host
            .clone()
            .filter(|h| !h.is_empty())
            .ok_or("no host")?;
        let port = self.port.as_deref().ok_or("no port")?;
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("port {port:?} is not a number from 1 to 65535"))?;
        Ok((host, port))
    }
}

/// Splits on `:` except where escaped as `\:` (Twisted's rule); `\\` is a backslash.
fn split_escaped(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next()
                    && let Some(last) = parts.last_mut()
                {
                    last.push(next);
                }
            }
            ':' => parts.push(String::new()),
            c => {
                if let Some(last) = parts.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master(text: &str) -> MasterEndpoint {
        parse_connection_string(text).expect("valid connection string")
    }

    #[test]
    fn tcp_and_tls_strings_in_positional_and_keyword_form() {
        let plain = master("tcp:host=master.example:port=9989");
        assert_eq!(plain.address(), "master.example:9989");
        assert!(!plain.tls);
        let tls = master("TLS:buildbot-master.com:9989:trustRoots=/dir-with-ca-certs");
        assert_eq!(tls.address(), "buildbot-master.com:9989");
        assert!(tls.tls);
        assert_eq!(tls.trust_roots, Some(PathBuf::from("/dir-with-ca-certs")));
        assert_eq!(master(r"tcp:host=\:\:1:port=9989").address(), "[::1]:9989");
    }

    #[test]
    fn anything_outside_the_subset_is_refused_naming_the_part() {
        for (text, part) in [
            ("unix:/tmp/sock", "\"unix\""),
            (
                "tcp:host=m:port=9989:bindAddress=1.2.3.4",
                "\"bindAddress\"",
            ),
            ("tcp:host=m:port=9989:trustRoots=/x", "\"trustRoots\""),
            ("tls:m:9989:certificate=c.pem", "\"certificate\""),
            ("tcp:m", "no port"),
            ("tcp:m:99999", "\"99999\""),
        ] {
            let error = parse_connection_string(text).expect_err(text).to_string();
            assert!(error.contains(part), "{text}: {error}");
            assert!(error.contains("--connection-string"), "{error}");
            assert!(error.contains("tls:HOST:PORT"), "{error}");
        }
    }

    #[test]
    fn proxy_strings() {
        let proxy = |t: &str| parse_proxy_connection_string(t).expect(t).address();
        assert_eq!(
            proxy("tcp:host=proxy.example:port=3128"),
            "proxy.example:3128"
        );
        assert_eq!(proxy("tcp:proxy.example:3128"), "proxy.example:3128");
        assert_eq!(proxy("127.0.0.1:3128"), "127.0.0.1:3128");
        let error = parse_proxy_connection_string("tls:p:3128:x=1").expect_err("tls proxy");
        assert!(error.to_string().contains("not supported"), "{error}");
    }
}
