//! The one HTTPS client of the api for the wikis: OAuth token exchange,
//! profile, and actions taken for a person.
//!
//! Every request's URL is checked against the wiki allow-list before any
//! connection is made ([`WikiHosts::check`]): `https` only, host and port
//! on the list. The client then sends exactly the checked, normalised
//! URL. It speaks nothing but https, and it follows no redirect: a `3xx`
//! comes back to the caller as an answer like any other, so a wiki on the
//! list cannot send a person's grant elsewhere.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use patrolchat_model::wikis::{NotAllowed, WikiHosts, WikiUrl};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// Why a request to the wiki failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL may not be called with a person's credentials; nothing was
    /// sent.
    #[error(transparent)]
    NotAllowed(#[from] NotAllowed),
    /// The URL is not valid.
    #[error("invalid URL {0}")]
    Url(String),
    /// No answer in time.
    #[error("timed out")]
    TimedOut,
    /// The connection or request failed.
    #[error("{0}")]
    Request(String),
}

/// Why the client cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The extra trust anchors cannot be read.
    #[error("{path}: {why}")]
    Roots {
        /// The file.
        path: String,
        /// What is wrong with it.
        why: String,
    },
    /// rustls refused the configuration.
    #[error("TLS: {0}")]
    Config(String),
}

/// The client, shared by every request.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<Https, Full<Bytes>>,
    hosts: Arc<WikiHosts>,
    timeout: Duration,
    user_agent: String,
}

impl HttpClient {
    /// A client for the wikis on `hosts`, trusting the webpki roots and
    /// `extra_roots`.
    ///
    /// # Errors
    /// [`TlsError`] when a trust anchor is refused.
    pub fn new(
        timeout: Duration,
        hosts: WikiHosts,
        extra_roots: Vec<CertificateDer<'static>>,
    ) -> Result<Self, TlsError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for cert in extra_roots {
            roots
                .add(cert)
                .map_err(|e| TlsError::Config(format!("a trust anchor is refused: {e}")))?;
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .build();
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(https),
            hosts: Arc::new(hosts),
            timeout,
            user_agent: format!(
                "patrolchat/{} (https://github.com/patrolchat/patrolchat)",
                env!("CARGO_PKG_VERSION")
            ),
        })
    }

    /// The wiki allow-list.
    pub fn hosts(&self) -> &WikiHosts {
        &self.hosts
    }

    /// Whether `url` may be called; the URL that would be.
    ///
    /// # Errors
    /// [`HttpError::NotAllowed`] when it may not.
    pub fn check(&self, url: &str) -> Result<WikiUrl, HttpError> {
        self.hosts.check(url).map_err(|e| {
            let shown: String = url.chars().take(200).collect();
            tracing::warn!(url = %shown, error = %e, "wiki call refused before any request");
            HttpError::NotAllowed(e)
        })
    }

    /// A GET; returns the status and body.
    ///
    /// # Errors
    /// [`HttpError`] when the URL is refused or there is no answer.
    pub async fn get(&self, url: &str, bearer: Option<&str>) -> Result<(u16, Bytes), HttpError> {
        self.send("GET", url, bearer, None).await
    }

    /// A form POST; returns the status and body.
    ///
    /// # Errors
    /// [`HttpError`] when the URL is refused or there is no answer.
    pub async fn post_form(
        &self,
        url: &str,
        bearer: Option<&str>,
        form: &[(&str, &str)],
    ) -> Result<(u16, Bytes), HttpError> {
        self.send("POST", url, bearer, Some(form_encode(form)))
            .await
    }

    async fn send(
        &self,
        method: &str,
        url: &str,
        bearer: Option<&str>,
        form: Option<String>,
    ) -> Result<(u16, Bytes), HttpError> {
        let target = self.check(url)?;
        let uri = hyper::Uri::builder()
            .scheme(hyper::http::uri::Scheme::HTTPS)
            .authority(target.authority())
            .path_and_query(target.path_and_query())
            .build()
            .map_err(|_| HttpError::Url(target.to_string()))?;
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(uri)
            .header(header::USER_AGENT, &self.user_agent)
            .header(header::ACCEPT, "application/json");
        if let Some(b) = bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {b}"));
        }
        let body = match form {
            Some(f) => {
                req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Full::new(Bytes::from(f))
            }
            None => Full::new(Bytes::new()),
        };
        let req = req
            .body(body)
            .map_err(|e| HttpError::Request(e.to_string()))?;
        let fut = async {
            let res = self
                .client
                .request(req)
                .await
                .map_err(|e| HttpError::Request(error_chain(&e)))?;
            let status = res.status().as_u16();
            let body = res
                .into_body()
                .collect()
                .await
                .map_err(|e| HttpError::Request(e.to_string()))?
                .to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| HttpError::TimedOut)?
    }
}

/// An error and its sources, for a message that says what failed (a
/// certificate, a refused connection).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// The certificates of a PEM file, as extra trust anchors
/// (`PATROLCHAT_WIKI_CA_FILE`).
///
/// # Errors
/// [`TlsError::Roots`] when the file cannot be read or holds no
/// certificate.
pub fn load_roots(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bad = |why: String| TlsError::Roots {
        path: path.display().to_string(),
        why,
    };
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(bad("no certificate in the file".into()));
    }
    Ok(certs)
}

/// `application/x-www-form-urlencoded` (also right for query strings).
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_encode_reserved_characters() {
        assert_eq!(
            form_encode(&[("a b", "x&y=z/é"), ("t", "+\\")]),
            "a%20b=x%26y%3Dz%2F%C3%A9&t=%2B%5C"
        );
    }

    /// A listener that counts connections, to show a refused call makes
    /// none.
    async fn counting_listener() -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                drop(socket);
            }
        });
        (port, count)
    }

    #[tokio::test]
    async fn a_url_off_the_list_is_refused_without_a_connection() {
        let (port, count) = counting_listener().await;
        let hosts: WikiHosts = format!("127.0.0.1:{port}").parse().expect("hosts");
        let client = HttpClient::new(Duration::from_secs(2), hosts, Vec::new()).expect("client");
        for url in [
            format!("http://127.0.0.1:{port}/w/api.php"),
            format!("https://localhost:{port}/w/api.php"),
            format!("https://127.0.0.1:{port}@127.0.0.1:{port}/w/api.php"),
            format!(
                "https://127.0.0.1:{}/w/api.php",
                port.wrapping_add(1).max(1)
            ),
        ] {
            let e = client
                .post_form(&url, Some("secret"), &[("a", "b")])
                .await
                .expect_err("refused");
            assert!(matches!(e, HttpError::NotAllowed(_)), "{url}: {e}");
        }
        assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 0);
        // On the list: a connection is made (and fails the TLS handshake).
        let e = client
            .get(&format!("https://127.0.0.1:{port}/w/api.php"), None)
            .await
            .expect_err("no TLS there");
        assert!(!matches!(e, HttpError::NotAllowed(_)), "{e}");
        assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let dir = std::env::temp_dir().join(format!("patrolchat-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        assert!(load_roots(&empty).is_err());
        assert!(load_roots(&dir.join("missing.pem")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
