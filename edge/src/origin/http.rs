//! HTTP origins: `HEAD` for a source's identity, ranged `GET`s for its bytes, plain `GET`s
//! for small documents. Every exchange (request and whole body) is bounded by
//! `read_timeout_ms` and its body by the size expected; connection failures, timeouts,
//! 408, 429 and 5xx are retried with exponential backoff and jitter, up to `attempts`
//! tries, unless the host's circuit breaker is open. Reads carry the validator of the
//! version being packaged (`If-Match`), so a source replaced mid-way is a 412, not a mix.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::header::{
    CONTENT_LENGTH, CONTENT_RANGE, ETAG, IF_MATCH, IF_UNMODIFIED_SINCE, LAST_MODIFIED, RANGE,
};
use http::{HeaderMap, StatusCode};
use reqwest::Url;

use super::breaker::{Admission, Transition};
use super::config::OriginConfig;
use super::{OriginError, Origins, SourceIdentity, SourceRef, Validator};
use crate::hash::fnv1a;

/// The shared client: rustls on ring with the system's roots, a connect timeout, a pool
/// of kept-alive connections per origin host.
pub(super) fn client(config: &OriginConfig) -> Result<reqwest::Client, String> {
    let tls = crate::outbound_tls::client_config(true).map_err(|e| e.to_string())?;
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .connect_timeout(config.connect_timeout())
        .pool_idle_timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::limited(5))
        .user_agent(concat!("edgepack/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

/// An answer with its body read.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

/// How one attempt ended, before retry decisions.
enum Attempt {
    Answer(Answer),
    Transient(OriginError),
    Final(OriginError),
}

fn is_retryable_status(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
}

fn result_label(outcome: &Result<&Answer, &OriginError>) -> &'static str {
    match outcome {
        Ok(a) if a.status == StatusCode::NOT_FOUND || a.status == StatusCode::GONE => "not_found",
        Ok(a) if a.status == StatusCode::PRECONDITION_FAILED => "changed",
        Ok(a) if a.status.is_success() => "ok",
        Ok(_) => "error",
        Err(OriginError::Timeout { .. }) => "timeout",
        Err(OriginError::CircuitOpen { .. }) => "circuit_open",
        Err(_) => "error",
    }
}

/// Backoff before retry number `retry` (1-based): base × 2^(retry-1), plus up to one base
/// of jitter so that many nodes do not retry in step.
fn backoff(base_ms: u64, retry: u32) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let jitter = u64::from(nanos) % base_ms.max(1);
    Duration::from_millis(base_ms.saturating_mul(1 << (retry - 1).min(10)) + jitter)
}

/// Sends the request `make` builds, reading at most `max_body` bytes of body, with the
/// timeout, retry and breaker rules of the module.
async fn exchange(
    origins: &Origins,
    url: &Url,
    kind: &'static str,
    max_body: u64,
    make: impl Fn() -> reqwest::RequestBuilder,
) -> Result<Answer, OriginError> {
    let source = SourceRef::Url(url.clone());
    let label = source.origin_label();
    let name = source.public_name();
    let config = &origins.config;
    let mut retry = 0;
    loop {
        if let Admission::Refused { retry_in } = origins.breakers.admit(&label, Instant::now()) {
            let e = OriginError::CircuitOpen {
                object: name.clone(),
                retry_in,
            };
            origins.observe(&label, kind, result_label(&Err(&e)), Instant::now(), 0);
            return Err(e);
        }
        let started = Instant::now();
        let attempt =
            match tokio::time::timeout(config.read_timeout(), attempt(make(), &name, max_body))
                .await
            {
                Ok(a) => a,
                Err(_) => Attempt::Transient(OriginError::Timeout {
                    object: name.clone(),
                    after: config.read_timeout(),
                }),
            };
        let (outcome, bytes) = match &attempt {
            Attempt::Answer(a) => (Ok(a), a.body.len()),
            Attempt::Transient(e) | Attempt::Final(e) => (Err(e), 0),
        };
        origins.observe(&label, kind, result_label(&outcome), started, bytes);
        let origin_alive = match &attempt {
            Attempt::Answer(a) => !a.status.is_server_error(),
            Attempt::Transient(_) => false,
            Attempt::Final(_) => true,
        };
        let transition = origins
            .breakers
            .record(&label, origin_alive, Instant::now());
        if transition != Transition::None {
            let open = i64::from(transition == Transition::Opened);
            origins
                .metrics
                .origin_circuit_open
                .with_label_values(&[&label])
                .set(open);
            if open == 1 {
                tracing::warn!(origin = %label, "origin circuit breaker opened");
            } else {
                tracing::info!(origin = %label, "origin circuit breaker closed");
            }
        }
        let error = match attempt {
            Attempt::Answer(a) if !is_retryable_status(a.status) => return Ok(a),
            Attempt::Answer(a) => OriginError::Failed {
                object: name.clone(),
                reason: format!("status {}", a.status.as_u16()),
            },
            Attempt::Transient(e) => e,
            Attempt::Final(e) => return Err(e),
        };
        retry += 1;
        if retry >= config.attempts {
            tracing::warn!(origin = %label, source = %name, error = %error, "origin read failed");
            return Err(error);
        }
        origins
            .metrics
            .origin_retries
            .with_label_values(&[&label])
            .inc();
        tokio::time::sleep(backoff(config.retry_backoff_ms, retry)).await;
    }
}

/// One try: send, and read the body of a success within `max_body` bytes.
async fn attempt(request: reqwest::RequestBuilder, name: &str, max_body: u64) -> Attempt {
    let failed = |e: reqwest::Error| {
        Attempt::Transient(OriginError::Failed {
            object: name.to_owned(),
            reason: without_url(&e),
        })
    };
    let mut response = match request.send().await {
        Ok(r) => r,
        Err(e) => return failed(e),
    };
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    if !status.is_success() {
        return Attempt::Answer(Answer {
            status,
            headers,
            body: Bytes::new(),
        });
    }
    if let Some(len) = response.content_length() {
        if len > max_body {
            return Attempt::Final(OriginError::Unreadable {
                object: name.to_owned(),
                reason: format!(
                    "the origin sent {len} bytes where at most {max_body} were asked for"
                ),
            });
        }
    }
    let mut body = BytesMut::with_capacity(response.content_length().unwrap_or(0) as usize);
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() as u64 + chunk.len() as u64 > max_body {
                    return Attempt::Final(OriginError::Unreadable {
                        object: name.to_owned(),
                        reason: format!("the origin sent more than the {max_body} bytes asked for"),
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return failed(e),
        }
    }
    Attempt::Answer(Answer {
        status,
        headers,
        body: body.freeze(),
    })
}

/// A reqwest error's message without the URL (which names the origin host).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = String::from(if e.is_connect() {
        "connection failed"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_body() {
        "reading the body failed"
    } else {
        "request failed"
    });
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn header(headers: &HeaderMap, name: http::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn status_error(name: &str, status: StatusCode) -> OriginError {
    match status {
        StatusCode::NOT_FOUND | StatusCode::GONE => OriginError::NotFound {
            object: name.to_owned(),
        },
        StatusCode::PRECONDITION_FAILED | StatusCode::RANGE_NOT_SATISFIABLE => {
            OriginError::Changed {
                object: name.to_owned(),
            }
        }
        s => OriginError::Failed {
            object: name.to_owned(),
            reason: format!("status {}", s.as_u16()),
        },
    }
}

pub(super) async fn identify(origins: &Origins, url: &Url) -> Result<SourceIdentity, OriginError> {
    let name = url.path().to_owned();
    let client = &origins.client;
    let answer = exchange(origins, url, "head", 0, || client.head(url.clone())).await?;
    if !answer.status.is_success() {
        return Err(status_error(&name, answer.status));
    }
    let len = header(&answer.headers, CONTENT_LENGTH)
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| OriginError::Unreadable {
            object: name.clone(),
            reason: "the origin gave no Content-Length".into(),
        })?;
    let etag = header(&answer.headers, ETAG);
    let modified = header(&answer.headers, LAST_MODIFIED);
    let validator = match (etag, modified) {
        (Some(e), _) if !e.starts_with("W/") => Some(Validator::ETag(e.to_owned())),
        (_, Some(m)) => Some(Validator::LastModified(m.to_owned())),
        _ => None,
    };
    let version = fnv1a(etag.or(modified).unwrap_or_default().as_bytes(), len);
    Ok(SourceIdentity {
        len,
        version,
        validator,
    })
}

/// Parses `bytes START-END/TOTAL`.
fn content_range(value: &str) -> Option<(u64, u64, u64)> {
    let rest = value.strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    Some((start.parse().ok()?, end.parse().ok()?, total.parse().ok()?))
}

pub(super) async fn read_range(
    origins: &Origins,
    url: &Url,
    id: &SourceIdentity,
    kind: &'static str,
    offset: u64,
    len: u64,
) -> Result<Bytes, OriginError> {
    let name = url.path().to_owned();
    let last = offset + len - 1;
    if last >= id.len {
        return Err(OriginError::Unreadable {
            object: name,
            reason: format!("read past the end ({} bytes)", id.len),
        });
    }
    let client = &origins.client;
    let validator = id.validator.clone();
    let answer = exchange(origins, url, kind, len, || {
        let request = client
            .get(url.clone())
            .header(RANGE, format!("bytes={offset}-{last}"));
        match &validator {
            Some(Validator::ETag(e)) => request.header(IF_MATCH, e.as_str()),
            Some(Validator::LastModified(m)) => request.header(IF_UNMODIFIED_SINCE, m.as_str()),
            None => request,
        }
    })
    .await?;
    let unreadable = |reason: String| OriginError::Unreadable {
        object: name.clone(),
        reason,
    };
    match answer.status {
        StatusCode::PARTIAL_CONTENT => {
            let range = header(&answer.headers, CONTENT_RANGE).and_then(content_range);
            match range {
                Some((s, e, total)) if s == offset && e == last && total == id.len => {}
                Some((_, _, total)) if total != id.len => {
                    return Err(OriginError::Changed { object: name })
                }
                _ => return Err(unreadable("the origin answered another byte range".into())),
            }
        }
        StatusCode::OK if offset == 0 && len == id.len => {}
        StatusCode::OK => {
            return Err(unreadable(
                "the origin does not support range requests".into(),
            ))
        }
        s => return Err(status_error(&name, s)),
    }
    if let (Some(Validator::ETag(ours)), Some(theirs)) =
        (&id.validator, header(&answer.headers, ETAG))
    {
        if ours != theirs {
            return Err(OriginError::Changed { object: name });
        }
    }
    if answer.body.len() as u64 != len {
        return Err(unreadable(format!(
            "the origin sent {} of {len} bytes",
            answer.body.len()
        )));
    }
    Ok(answer.body)
}

pub(super) async fn read_document(
    origins: &Origins,
    url: &Url,
    max: u64,
) -> Result<Option<Bytes>, OriginError> {
    let name = url.path().to_owned();
    let client = &origins.client;
    let answer = exchange(origins, url, "document", max, || client.get(url.clone())).await?;
    match answer.status {
        s if s.is_success() => Ok(Some(answer.body)),
        StatusCode::NOT_FOUND | StatusCode::GONE => Ok(None),
        s => Err(status_error(&name, s)),
    }
}

/// Whether the origin answers at all (any status counts), within the connect timeout
/// plus one read timeout, without retries. An open breaker answers for it.
pub(super) async fn probe(origins: &Origins, url: &Url) -> Result<(), OriginError> {
    let source = SourceRef::Url(url.clone());
    let label = source.origin_label();
    if let Admission::Refused { retry_in } = origins.breakers.admit(&label, Instant::now()) {
        return Err(OriginError::CircuitOpen {
            object: source.public_name(),
            retry_in,
        });
    }
    let config = &origins.config;
    let request = origins.client.head(url.clone()).send();
    let result = match tokio::time::timeout(config.read_timeout(), request).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(OriginError::Failed {
            object: source.public_name(),
            reason: without_url(&e),
        }),
        Err(_) => Err(OriginError::Timeout {
            object: source.public_name(),
            after: config.read_timeout(),
        }),
    };
    origins
        .breakers
        .record(&label, result.is_ok(), Instant::now());
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_parses() {
        assert_eq!(content_range("bytes 0-99/1000"), Some((0, 99, 1000)));
        assert_eq!(content_range("bytes */1000"), None);
        assert_eq!(content_range("items 0-1/2"), None);
    }

    #[test]
    fn backoff_doubles() {
        let b1 = backoff(100, 1).as_millis();
        let b3 = backoff(100, 3).as_millis();
        assert!((100..200).contains(&b1), "{b1}");
        assert!((400..500).contains(&b3), "{b3}");
    }
}
