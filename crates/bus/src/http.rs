//! The one HTTPS client of patrolchat, over `reqwest` (rustls, HTTP/1.1):
//!
//! - [`WikiClient`] for the wikis: OAuth token exchange, profile, and
//!   actions taken for a person. Every request's URL is checked against
//!   the wiki allow-list before any connection is made
//!   ([`WikiHosts::check`]): `https` only, host and port on the list. The
//!   client then sends exactly the checked, normalised URL. It speaks
//!   nothing but https, and it follows no redirect: a `3xx` comes back to
//!   the caller as an answer like any other, so a wiki on the list cannot
//!   send a person's grant elsewhere.
//! - [`Client`] for services called without a person's credentials (Lift
//!   Wing), at the URL an operator configured.
//!
//! Both trust the webpki roots, send patrolchat's `User-Agent` and give up
//! after their timeout.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use patrolchat_model::wikis::{NotAllowed, WikiHosts, WikiUrl};
use reqwest::header::{self, HeaderMap};
use reqwest::redirect::Policy;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

pub use reqwest::Certificate;

/// The `User-Agent` of every call.
pub const USER_AGENT: &str = concat!(
    "patrolchat/",
    env!("CARGO_PKG_VERSION"),
    " (https://github.com/patrolchat/patrolchat)"
);

/// Why a request failed.
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

impl From<reqwest::Error> for HttpError {
    fn from(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            Self::TimedOut
        } else {
            Self::Request(error_chain(&e))
        }
    }
}

/// Why a client cannot be built.
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
    /// The TLS configuration is refused.
    #[error("TLS: {0}")]
    Config(String),
}

/// An answer: status, headers and body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

/// What every client shares: rustls with the webpki roots and
/// `extra_roots`, HTTP/1.1, no redirects, no proxy, the timeout.
fn builder(timeout: Duration, extra_roots: Vec<Certificate>) -> reqwest::ClientBuilder {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .http1_only()
        .redirect(Policy::none())
        .no_proxy()
        .timeout(timeout)
        .user_agent(USER_AGENT);
    for root in extra_roots {
        b = b.add_root_certificate(root);
    }
    b
}

async fn answer(res: reqwest::Response) -> Result<Answer, HttpError> {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.bytes().await?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// The client for the wikis, shared by every request.
#[derive(Clone)]
pub struct WikiClient {
    client: reqwest::Client,
    hosts: Arc<WikiHosts>,
}

impl std::fmt::Debug for WikiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WikiClient")
            .field("hosts", &self.hosts.to_string())
            .finish_non_exhaustive()
    }
}

impl WikiClient {
    /// A client for the wikis on `hosts`, trusting the webpki roots and
    /// `extra_roots`.
    ///
    /// # Errors
    /// [`TlsError`] when the TLS configuration is refused.
    pub fn new(
        timeout: Duration,
        hosts: WikiHosts,
        extra_roots: Vec<Certificate>,
    ) -> Result<Self, TlsError> {
        let client = builder(timeout, extra_roots)
            .https_only(true)
            .build()
            .map_err(|e| TlsError::Config(error_chain(&e)))?;
        Ok(Self {
            client,
            hosts: Arc::new(hosts),
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
        let a = self
            .send(reqwest::Method::GET, url, bearer, HeaderMap::new(), None)
            .await?;
        Ok((a.status, a.body))
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
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let a = self
            .send(
                reqwest::Method::POST,
                url,
                bearer,
                headers,
                Some(form_encode(form).into_bytes()),
            )
            .await?;
        Ok((a.status, a.body))
    }

    /// Any request (for an OAuth library's HTTP client): the URL is checked
    /// as for [`WikiClient::get`], and `headers` are sent as given.
    ///
    /// # Errors
    /// [`HttpError`] when the URL is refused or there is no answer.
    pub async fn execute(
        &self,
        method: reqwest::Method,
        url: &str,
        headers: HeaderMap,
        body: Vec<u8>,
    ) -> Result<Answer, HttpError> {
        let body = (!body.is_empty()).then_some(body);
        self.send(method, url, None, headers, body).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        bearer: Option<&str>,
        mut headers: HeaderMap,
        body: Option<Vec<u8>>,
    ) -> Result<Answer, HttpError> {
        let target = self.check(url)?;
        let url = reqwest::Url::parse(&target.to_string())
            .map_err(|_| HttpError::Url(target.to_string()))?;
        headers
            .entry(header::ACCEPT)
            .or_insert(header::HeaderValue::from_static("application/json"));
        let mut req = self.client.request(method, url).headers(headers);
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        if let Some(body) = body {
            req = req.body(body);
        }
        answer(req.send().await?).await
    }
}

/// The client for services called without a person's credentials, at an
/// operator's URL (`http` or `https`).
#[derive(Debug, Clone)]
pub struct Client {
    client: reqwest::Client,
}

impl Client {
    /// A client giving up after `timeout`.
    ///
    /// # Errors
    /// [`TlsError`] when the TLS configuration is refused.
    pub fn new(timeout: Duration) -> Result<Self, TlsError> {
        let client = builder(timeout, Vec::new())
            .build()
            .map_err(|e| TlsError::Config(error_chain(&e)))?;
        Ok(Self { client })
    }

    /// A JSON POST; returns the status and body.
    ///
    /// # Errors
    /// [`HttpError`] when there is no answer in time.
    pub async fn post_json(
        &self,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<(u16, Bytes), HttpError> {
        let req = self
            .client
            .post(url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        let a = answer(req.send().await?).await?;
        Ok((a.status, a.body))
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
pub fn load_roots(path: &Path) -> Result<Vec<Certificate>, TlsError> {
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
    certs
        .iter()
        .map(|c| Certificate::from_der(c).map_err(|e| bad(error_chain(&e))))
        .collect()
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
        let client = WikiClient::new(Duration::from_secs(2), hosts, Vec::new()).expect("client");
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
            let e = client
                .execute(
                    reqwest::Method::POST,
                    &url,
                    HeaderMap::new(),
                    b"a=b".to_vec(),
                )
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

    #[test]
    fn the_test_ca_is_read() {
        let ca = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tls/ca.pem");
        assert_eq!(load_roots(&ca).expect("roots").len(), 1);
    }
}
