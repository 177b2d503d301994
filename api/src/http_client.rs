//! A small HTTPS client for the wiki: OAuth token exchange, profile, and
//! actions taken for a person.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// Why a request to the wiki failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
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

/// The client, shared by every request.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<Https, Full<Bytes>>,
    timeout: Duration,
    user_agent: String,
}

impl HttpClient {
    /// A client that speaks HTTP and HTTPS (webpki roots).
    pub fn new(timeout: Duration) -> Self {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .build();
        Self {
            client: Client::builder(TokioExecutor::new()).build(https),
            timeout,
            user_agent: format!(
                "patrolchat/{} (https://github.com/patrolchat/patrolchat)",
                env!("CARGO_PKG_VERSION")
            ),
        }
    }

    /// A GET; returns the status and body.
    ///
    /// # Errors
    /// [`HttpError`] when there is no answer.
    pub async fn get(&self, url: &str, bearer: Option<&str>) -> Result<(u16, Bytes), HttpError> {
        self.send("GET", url, bearer, None).await
    }

    /// A form POST; returns the status and body.
    ///
    /// # Errors
    /// [`HttpError`] when there is no answer.
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
        let uri: hyper::Uri = url.parse().map_err(|_| HttpError::Url(url.to_owned()))?;
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
                .map_err(|e| HttpError::Request(e.to_string()))?;
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
}
