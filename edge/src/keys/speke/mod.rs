//! The SPEKE v2 key source: asks a key server for an asset's content key with a DASH-IF CPIX
//! 2.3 document (`POST`, `Content-Type: application/xml`, `X-Speke-Version: 2.0`) and reads
//! the key from the `pskc:PlainValue` of the answer (the documents are [`drm::cpix`]).
//!
//! Answers are cached for `cache_seconds` per (content id, kid), and concurrent requests for
//! the same key share one key server exchange (moka's `try_get_with`); failures are not
//! cached. Every exchange is bounded in time (`timeout_ms`, connection included) and in size
//! (1 MiB of response body). Redirects are not followed.
//!
//! Failures map onto [`KeyError`]: a 422 or any other answer we cannot use (4xx, a document
//! without the key asked for, malformed XML) is `Refused`; no answer in time, a connection
//! failure, 408, 429 and 5xx are `Unavailable` (a retry may help). Neither content keys nor
//! the configured header values (they carry credentials) ever reach a log line, an error or
//! a `Debug` output.
//!
//! HTTPS uses rustls on ring with the operating system's trust roots.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use drm::cenc::Scheme;
use drm::cpix;
use drm::{ContentKeyPair, DrmSystem, KeyId, SystemId};
use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use http::StatusCode;
use moka::future::Cache;
use serde::{Deserialize, Deserializer};

use super::{KeyError, KeyFuture, KeyRequest, KeySource};

/// The SPEKE version header every request carries.
pub const SPEKE_VERSION_HEADER: &str = "x-speke-version";
/// The SPEKE version this client speaks (CPIX 2.3).
pub const SPEKE_VERSION: &str = "2.0";
/// Largest key server response body read.
pub const MAX_RESPONSE_BYTES: usize = cpix::MAX_RESPONSE_BYTES;

/// Most (content id, kid) answers kept at once.
const MAX_CACHED_KEYS: u64 = 100_000;
/// Longest error body read for its message, and the longest message kept from it.
const MAX_ERROR_BODY_BYTES: usize = 4096;
const MAX_MESSAGE_CHARS: usize = 200;
/// Bounds of `timeout_ms` and `cache_seconds`.
const MAX_TIMEOUT_MS: u64 = 600_000;
const MAX_CACHE_SECONDS: u64 = 365 * 86_400;
/// Headers the client sets itself, which the configuration may not override.
const RESERVED_HEADERS: [&str; 5] = [
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
    SPEKE_VERSION_HEADER,
];

/// How to reach the SPEKE v2 key server (`[keys.speke]` in the configuration).
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpekeConfig {
    /// The key server endpoint, `https://...` (or `http://` on a trusted network).
    pub url: String,
    /// Time allowed for one exchange, connection included, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// How long an answer is reused for the same content id and kid; 0 keeps only the
    /// sharing of one exchange among concurrent requests.
    #[serde(default = "default_cache_seconds")]
    pub cache_seconds: u64,
    /// Extra request headers, typically authentication (`Authorization`, `X-Api-Key`).
    /// The values are credentials: they are never logged or shown.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The protection scheme the key is for (`ContentKey@commonEncryptionScheme`).
    #[serde(default = "default_scheme", deserialize_with = "deserialize_scheme")]
    pub scheme: Scheme,
    /// DRM systems whose signalling is asked for (`DRMSystemList`): `widevine`,
    /// `playready`, `fairplay`, `clearkey` (the W3C common system id).
    #[serde(default = "default_systems")]
    pub systems: Vec<DrmSystem>,
}

fn default_timeout_ms() -> u64 {
    2000
}

fn default_cache_seconds() -> u64 {
    300
}

fn default_scheme() -> Scheme {
    Scheme::Cbcs
}

fn default_systems() -> Vec<DrmSystem> {
    vec![
        DrmSystem::Widevine,
        DrmSystem::PlayReady,
        DrmSystem::FairPlay,
    ]
}

fn deserialize_scheme<'de, D: Deserializer<'de>>(d: D) -> Result<Scheme, D::Error> {
    let name = String::deserialize(d)?;
    match name.as_str() {
        "cenc" => Ok(Scheme::Cenc),
        "cbcs" => Ok(Scheme::Cbcs),
        other => Err(serde::de::Error::custom(format!(
            "unknown scheme {other:?}, expected \"cenc\" or \"cbcs\""
        ))),
    }
}

impl SpekeConfig {
    /// A configuration for `url` with every other field at its default.
    pub fn new(url: impl Into<String>) -> Self {
        SpekeConfig {
            url: url.into(),
            timeout_ms: default_timeout_ms(),
            cache_seconds: default_cache_seconds(),
            headers: BTreeMap::new(),
            scheme: default_scheme(),
            systems: default_systems(),
        }
    }
}

/// Header values are credentials: `Debug` shows their names only (and the URL without user
/// information or query).
impl fmt::Debug for SpekeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Redacted<'a>(&'a BTreeMap<String, String>);
        impl fmt::Debug for Redacted<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map()
                    .entries(self.0.keys().map(|name| (name, "<redacted>")))
                    .finish()
            }
        }
        f.debug_struct("SpekeConfig")
            .field("url", &redacted_url(&self.url))
            .field("timeout_ms", &self.timeout_ms)
            .field("cache_seconds", &self.cache_seconds)
            .field("headers", &Redacted(&self.headers))
            .field("scheme", &self.scheme)
            .field("systems", &self.systems)
            .finish()
    }
}

/// Why a [`SpekeConfig`] cannot be used. Never carries a header value. The messages name
/// fields relative to the section (`url`, `headers`), for the caller to prefix.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SpekeConfigError {
    #[error("url is not an absolute http or https URL: {0}")]
    Url(String),
    #[error("headers: {0:?} is not a valid header name")]
    HeaderName(String),
    #[error("headers: {0:?} is set by the client itself")]
    ReservedHeader(String),
    #[error("headers: the value of {0:?} is not a valid header value")]
    HeaderValue(String),
    #[error("timeout_ms must be between 1 and {MAX_TIMEOUT_MS}")]
    Timeout,
    #[error("cache_seconds must be at most {MAX_CACHE_SECONDS}")]
    CacheSeconds,
    #[error("systems is empty")]
    NoSystems,
    #[error("FairPlay needs scheme \"cbcs\"")]
    FairPlayNeedsCbcs,
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// A [`KeySource`] backed by a SPEKE v2 key server.
pub struct SpekeKeySource {
    client: reqwest::Client,
    url: reqwest::Url,
    timeout: Duration,
    scheme: Scheme,
    systems: Vec<SystemId>,
    cache: Cache<(String, KeyId), ContentKeyPair>,
}

impl fmt::Debug for SpekeKeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpekeKeySource")
            .field("url", &redacted_url(self.url.as_str()))
            .field("timeout", &self.timeout)
            .field("scheme", &self.scheme)
            .field("systems", &self.systems)
            .field("cached_keys", &self.cache.entry_count())
            .finish_non_exhaustive()
    }
}

impl SpekeKeySource {
    /// Checks `config` and builds the HTTP client. Loads the system's trust roots when the
    /// URL is `https`.
    pub fn new(config: &SpekeConfig) -> Result<Self, SpekeConfigError> {
        let url =
            reqwest::Url::parse(&config.url).map_err(|e| SpekeConfigError::Url(e.to_string()))?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            other => return Err(SpekeConfigError::Url(format!("scheme {other:?}"))),
        };
        if url.host().is_none() {
            return Err(SpekeConfigError::Url("no host".into()));
        }
        if config.timeout_ms == 0 || config.timeout_ms > MAX_TIMEOUT_MS {
            return Err(SpekeConfigError::Timeout);
        }
        if config.cache_seconds > MAX_CACHE_SECONDS {
            return Err(SpekeConfigError::CacheSeconds);
        }
        if config.systems.is_empty() {
            return Err(SpekeConfigError::NoSystems);
        }
        if config.systems.contains(&DrmSystem::FairPlay) && config.scheme != Scheme::Cbcs {
            return Err(SpekeConfigError::FairPlayNeedsCbcs);
        }
        let headers = auth_headers(&config.headers)?;
        if !https && !is_loopback(&url) {
            tracing::warn!(
                host = url.host_str().unwrap_or_default(),
                "SPEKE key server over plain HTTP: content keys travel unencrypted"
            );
        }

        let timeout = Duration::from_millis(config.timeout_ms);
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config(https)?)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .timeout(timeout)
            .user_agent(concat!("edgepack/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .build()
            .map_err(|e| SpekeConfigError::Client(error_chain(&e)))?;
        let cache = Cache::builder()
            .max_capacity(MAX_CACHED_KEYS)
            .time_to_live(Duration::from_secs(config.cache_seconds))
            .build();
        Ok(SpekeKeySource {
            client,
            url,
            timeout,
            scheme: config.scheme,
            systems: config.systems.iter().map(|s| s.system_id()).collect(),
            cache,
        })
    }

    /// One exchange with the key server, bounded by the timeout as a whole.
    async fn fetch(&self, content_id: &str, kid: KeyId) -> Result<ContentKeyPair, KeyError> {
        let body = cpix::request_document(content_id, kid, self.scheme, &self.systems)
            .map_err(|e| KeyError::Refused(format!("cannot ask for this content id: {e}")))?;
        let (status, body) = tokio::time::timeout(self.timeout, self.exchange(body))
            .await
            .map_err(|_| {
                KeyError::Unavailable(format!(
                    "no answer from the key server within {} ms",
                    self.timeout.as_millis()
                ))
            })??;
        if !status.is_success() {
            return Err(status_error(status, &body));
        }
        let key = cpix::content_key_from_response(&body, kid)
            .map_err(|e| KeyError::Refused(format!("unusable answer: {e}")))?;
        Ok(ContentKeyPair { kid, key })
    }

    /// Sends the request and reads the answer: the whole body (at most
    /// [`MAX_RESPONSE_BYTES`]) on success, the start of it otherwise.
    async fn exchange(&self, body: String) -> Result<(StatusCode, Vec<u8>), KeyError> {
        let response = self
            .client
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/xml")
            .header(SPEKE_VERSION_HEADER, SPEKE_VERSION)
            .body(body)
            .send()
            .await
            .map_err(|e| KeyError::Unavailable(error_chain(&e)))?;
        let status = response.status();
        let body = if status.is_success() {
            if response
                .content_length()
                .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
            {
                return Err(too_large());
            }
            read_body(response, MAX_RESPONSE_BYTES)
                .await?
                .ok_or_else(too_large)?
        } else {
            read_prefix(response, MAX_ERROR_BODY_BYTES).await
        };
        Ok((status, body))
    }
}

impl KeySource for SpekeKeySource {
    fn content_key<'a>(&'a self, request: &'a KeyRequest) -> KeyFuture<'a> {
        Box::pin(async move {
            let cache_key = (request.content_id.clone(), request.kid);
            let answer = self
                .cache
                .try_get_with(cache_key, async {
                    let answer = self.fetch(&request.content_id, request.kid).await;
                    match &answer {
                        Ok(_) => tracing::debug!(
                            content_id = %request.content_id,
                            kid = %request.kid,
                            "content key from the SPEKE key server"
                        ),
                        Err(error) => tracing::warn!(
                            content_id = %request.content_id,
                            kid = %request.kid,
                            %error,
                            "SPEKE key request failed"
                        ),
                    }
                    answer
                })
                .await;
            answer.map_err(|shared: Arc<KeyError>| KeyError::clone(&shared))
        })
    }
}

/// The configured headers as a map of sensitive values, checked.
fn auth_headers(headers: &BTreeMap<String, String>) -> Result<HeaderMap, SpekeConfigError> {
    let mut map = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| SpekeConfigError::HeaderName(name.clone()))?;
        if RESERVED_HEADERS.contains(&header.as_str()) {
            return Err(SpekeConfigError::ReservedHeader(name.clone()));
        }
        let mut value = HeaderValue::from_str(value)
            .map_err(|_| SpekeConfigError::HeaderValue(name.clone()))?;
        // Keeps the value out of HPACK tables and prints it as `Sensitive`.
        value.set_sensitive(true);
        map.append(header, value);
    }
    Ok(map)
}

/// rustls on ring. Plain-HTTP URLs get a configuration with no trust roots: it is never
/// used (redirects are off), and the host needs no CA bundle.
fn tls_config(https: bool) -> Result<rustls::ClientConfig, SpekeConfigError> {
    crate::outbound_tls::client_config(https).map_err(|e| SpekeConfigError::Tls(e.to_string()))
}

/// The URL without what may be a credential: user information and the query.
fn redacted_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(url) => {
            let mut text = format!("{}{}", url.origin().ascii_serialization(), url.path());
            if url.query().is_some() {
                text.push_str("?<redacted>");
            }
            text
        }
        Err(_) => "<not a URL>".into(),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Reads the body up to `limit` bytes; `None` when it is longer.
async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Option<Vec<u8>>, KeyError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| KeyError::Unavailable(error_chain(&e)))?
    {
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// The first `limit` bytes of an error body, whatever happens after them.
async fn read_prefix(mut response: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    body
}

fn too_large() -> KeyError {
    KeyError::Refused(format!("answer larger than {MAX_RESPONSE_BYTES} bytes"))
}

/// A non-success answer as a [`KeyError`], with the start of its body as the message.
fn status_error(status: StatusCode, body: &[u8]) -> KeyError {
    let message = short_message(body);
    let text = if message.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {message}")
    };
    match status {
        StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS => KeyError::Unavailable(text),
        s if s.is_server_error() => KeyError::Unavailable(text),
        _ => KeyError::Refused(text),
    }
}

/// An error body made fit for a log line: text, whitespace collapsed, control characters
/// dropped, at most [`MAX_MESSAGE_CHARS`] characters.
fn short_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let words = text.split(|c: char| c.is_whitespace() || c.is_control());
    let mut out = String::new();
    let mut chars = 0;
    for word in words.filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
            chars += 1;
        }
        for c in word.chars() {
            if chars >= MAX_MESSAGE_CHARS {
                out.push('…');
                return out;
            }
            out.push(c);
            chars += 1;
        }
    }
    out
}

/// An HTTP client error with its causes ("error sending request: connection refused"),
/// without the URL (it may carry credentials in its query).
fn error_chain(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_string()
    } else if error.is_connect() {
        "cannot connect to the key server".to_string()
    } else {
        "HTTP exchange failed".to_string()
    };
    let mut source = std::error::Error::source(error);
    let mut depth = 0;
    while let Some(cause) = source {
        if depth == 4 {
            break;
        }
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
        depth += 1;
    }
    short_message(text.as_bytes())
}

#[cfg(test)]
mod tests;
