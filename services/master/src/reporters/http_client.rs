//! The status pushes' HTTP client: one JSON POST per request over hyper, through rustls (ring)
//! for `https://` URLs. It is the reporters' own so that their TLS settings (the trusted CAs
//! of [`super::tls`], `verify=False`) touch no other HTTP client of the process.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;

use super::tls;

/// A JSON-POSTing client.
#[derive(Clone)]
pub struct HttpClient {
    tls: TlsConnector,
    timeout: Duration,
}

/// The answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The body, as text.
    pub body: String,
}

impl HttpClient {
    /// A client trusting the system's CAs plus those of the PEM file `ca_file`; with
    /// `verify == false` no server certificate is checked (Buildbot's `verify=False`).
    pub fn new(
        verify: bool,
        ca_file: Option<&std::path::Path>,
        timeout: Duration,
    ) -> Result<HttpClient, tls::Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| tls::Error::Setup(e.to_string()))?;
        let mut config = if verify {
            let mut roots = RootCertStore::empty();
            roots.add_parsable_certificates(tls::system_roots());
            if let Some(path) = ca_file {
                for certificate in tls::read_ca_file(path)? {
                    roots.add(certificate).map_err(|e| tls::Error::CaFile {
                        path: path.to_owned(),
                        detail: e.to_string(),
                    })?;
                }
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
                .with_no_client_auth()
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(HttpClient {
            tls: TlsConnector::from(Arc::new(config)),
            timeout,
        })
    }

    /// POSTs `body` as JSON to `url` with `headers` (and HTTP basic `auth`), within the
    /// client's timeout. An `Err` names the URL and what failed; any status is an `Ok`.
    pub async fn post_json(
        &self,
        url: &str,
        body: &serde_json::Value,
        headers: &[(String, String)],
        auth: Option<(&str, &str)>,
    ) -> Result<Response, String> {
        tokio::time::timeout(self.timeout, self.post(url, body, headers, auth))
            .await
            .map_err(|_| format!("{url}: no answer within {:?}", self.timeout))?
            .map_err(|e| format!("{url}: {e}"))
    }

    async fn post(
        &self,
        url: &str,
        body: &serde_json::Value,
        headers: &[(String, String)],
        auth: Option<(&str, &str)>,
    ) -> Result<Response, String> {
        let uri: Uri = url.parse().map_err(|e| format!("not a URL: {e}"))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err("only http:// and https:// URLs can be posted to".into()),
        };
        let host = uri.host().ok_or("the URL has no host")?;
        let bare_host = host.trim_start_matches('[').trim_end_matches(']');
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let stream = tokio::net::TcpStream::connect((bare_host, port))
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        let authority = uri.authority().map_or(host, |a| a.as_str()).to_owned();
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let mut request = Request::post(path)
            .header(hyper::header::HOST, authority)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(
                hyper::header::USER_AGENT,
                concat!("Ferrobot/", env!("CARGO_PKG_VERSION")),
            );
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if let Some((user, password)) = auth {
            let credentials = base64(format!("{user}:{password}").as_bytes());
            request = request.header(hyper::header::AUTHORIZATION, format!("Basic {credentials}"));
        }
        let json = serde_json::to_vec(body).map_err(|e| format!("body not serialisable: {e}"))?;
        let request = request
            .body(Full::new(Bytes::from(json)))
            .map_err(|e| format!("bad request: {e}"))?;
        if https {
            let name = ServerName::try_from(bare_host.to_owned())
                .map_err(|e| format!("bad TLS server name: {e}"))?;
            let stream = self
                .tls
                .connect(name, stream)
                .await
                .map_err(|e| format!("TLS handshake failed: {e}"))?;
            exchange(stream, request).await
        } else {
            exchange(stream, request).await
        }
    }
}

/// Sends `request` over `stream` (HTTP/1.1) and reads the whole answer.
async fn exchange<S>(stream: S, request: Request<Full<Bytes>>) -> Result<Response, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP handshake failed: {e}"))?;
    let driver = tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("request failed: {e}"));
    let result = match response {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("answer not read: {e}"))?
                .to_bytes();
            Ok(Response {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            })
        }
        Err(error) => Err(error),
    };
    driver.abort();
    result
}

/// Standard base64 with padding (RFC 4648), for the basic credentials.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let bytes = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(bytes[0]) << 16) | (u32::from(bytes[1]) << 8) | u32::from(bytes[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `verify=False`: any certificate is taken, but the handshake's signatures are still checked.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
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
            &self.0.signature_verification_algorithms,
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
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_pads_like_rfc_4648() {
        assert_eq!(base64(b"ci:pw"), "Y2k6cHc=");
        assert_eq!(
            base64(b"Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(base64(b"abc"), "YWJj");
    }
}
