//! The client half of a contract: JSON over HTTP to a remote service (ours, or an
//! operator's own implementation of the same contract), with its problem documents read
//! back into [`Problem`]s, so a caller cannot tell an embedded service from a remote one.

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::problem::{Problem, ProblemDocument, ProblemType};

/// A remote service at a base URL.
#[derive(Debug, Clone)]
pub struct Remote {
    base: String,
    api_key: Option<String>,
    http: reqwest::Client,
}

/// rustls on ring; the system's roots for `https`, none for plain HTTP (reqwest needs a
/// configuration either way, and hosts without a CA bundle must still reach `http://`).
fn tls(https: bool) -> Result<rustls::ClientConfig, rustls::Error> {
    use rustls_platform_verifier::BuilderVerifierExt as _;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?;
    let mut config = if https {
        builder.with_platform_verifier()?.with_no_client_auth()
    } else {
        builder
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn upstream(detail: String) -> Problem {
    Problem::new(ProblemType::UpstreamFailed, detail)
}

impl Remote {
    /// A client of the service at `base` (`http://host:port`, no trailing `/v1`), sending
    /// `api_key` as a bearer token; each call may take `timeout`.
    pub fn new(base: &str, api_key: Option<String>, timeout: Duration) -> Result<Remote, String> {
        let https = base.starts_with("https://");
        if !https && !base.starts_with("http://") {
            return Err(format!("{base:?}: an http:// or https:// URL"));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(2)))
            .pool_max_idle_per_host(64)
            .tls_backend_preconfigured(tls(https).map_err(|e| e.to_string())?)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Remote {
            base: base.trim_end_matches('/').to_owned(),
            api_key,
            http,
        })
    }

    /// The underlying HTTP client, for calls outside a contract (the edge's admin API).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends a request and reads a JSON answer (`None` for 204).
    pub async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&B>,
        headers: &[(&str, &str)],
    ) -> Result<Option<T>, Problem> {
        self.exchange(method, path_and_query, body, headers)
            .await
            .map(|(_, v)| v)
    }

    /// A create-or-replace: the answer, and whether it was a creation (201).
    pub async fn put<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<(T, bool), Problem> {
        match self.exchange(Method::PUT, path, Some(body), &[]).await? {
            (status, Some(v)) => Ok((v, status == http::StatusCode::CREATED)),
            (_, None) => Err(upstream(format!("PUT {path}: 204 where a body was due"))),
        }
    }

    /// Sends a request: the status and the JSON answer (`None` for 204), or the problem.
    pub async fn exchange<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&B>,
        headers: &[(&str, &str)],
    ) -> Result<(http::StatusCode, Option<T>), Problem> {
        let bytes = match body {
            Some(b) => Some(
                serde_json::to_vec(b)
                    .map_err(|e| Problem::new(ProblemType::Internal, e.to_string()))?,
            ),
            None => None,
        };
        self.exchange_bytes(method, path_and_query, bytes, headers)
            .await
    }

    /// [`Remote::exchange`] with a JSON body sent byte for byte (a signed webhook).
    pub async fn exchange_bytes<T: DeserializeOwned>(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Result<(http::StatusCode, Option<T>), Problem> {
        let url = format!("{}{path_and_query}", self.base);
        let mut req = self.http.request(method.clone(), &url);
        if let Some(key) = &self.api_key {
            req = req.bearer_auth(key);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(bytes) = body {
            req = req
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(bytes);
        }
        let response = req
            .send()
            .await
            .map_err(|e| upstream(format!("{method} {url}: {e}")))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| upstream(format!("{method} {url}: reading the answer: {e}")))?;
        if status == http::StatusCode::NO_CONTENT {
            return Ok((status, None));
        }
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map(|v| (status, Some(v)))
                .map_err(|e| {
                    upstream(format!(
                        "{method} {url}: the answer is not the contract's: {e}"
                    ))
                });
        }
        match serde_json::from_slice::<ProblemDocument>(&bytes) {
            Ok(doc) => Err(doc.into()),
            Err(_) => Err(upstream(format!(
                "{method} {url}: {status} without a problem document"
            ))),
        }
    }

    /// [`Remote::call`] for an operation that always answers a body.
    pub async fn json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&B>,
    ) -> Result<T, Problem> {
        let url = format!("{}{path_and_query}", self.base);
        self.call(method.clone(), path_and_query, body, &[])
            .await?
            .ok_or_else(|| upstream(format!("{method} {url}: 204 where a body was due")))
    }
}

/// Percent-encodes one path segment or query value.
pub fn encode(s: &str) -> String {
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
    fn documents_come_back_as_our_kinds() {
        let ours = Problem::not_found("asset", "x").document();
        assert_eq!(Problem::from(ours).kind, ProblemType::NotFound);
        let theirs = ProblemDocument {
            type_uri: "https://crm.example/errors/nope".into(),
            title: "Nope".into(),
            status: 418,
            detail: None,
            instance: None,
            reasons: vec![],
        };
        let p = Problem::from(theirs);
        assert_eq!(p.kind, ProblemType::UpstreamFailed);
        assert!(p.detail.contains("crm.example"));
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(encode("stripe:sub 1/x"), "stripe%3Asub%201%2Fx");
    }

    #[test]
    fn only_http_urls() {
        assert!(Remote::new("ftp://x", None, Duration::from_secs(1)).is_err());
        assert!(Remote::new("http://127.0.0.1:1/", None, Duration::from_secs(1)).is_ok());
    }
}
