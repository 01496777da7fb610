//! The record phase, run for every request whatever its outcome: the request id echoed on
//! the response, the request metrics (count by kind, status and protocol; latency; bytes),
//! a warning for server errors, and the access log line.

use std::time::Instant;

use http::request::Parts;
use http::{HeaderValue, Response, Version};

use crate::http::body::PartsBody;
use crate::http::ClientAddr;
use crate::ops::access_log;
use crate::ops::request_metrics::RequestRecord;
use crate::pipeline::request_id::{as_text, REQUEST_ID};
use crate::state::AppState;

/// What is known of a request from its start, for the record phase.
pub struct Started {
    pub id: HeaderValue,
    pub at: Instant,
    /// The route kind label (`cmaf_segment`, `mpd`, ..., `unknown`).
    pub kind: &'static str,
}

/// The protocol label of a request for metrics and logs.
pub fn protocol_label(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "http/0.9",
        Version::HTTP_10 => "http/1.0",
        Version::HTTP_2 => "h2",
        Version::HTTP_3 => "h3",
        _ => "http/1.1",
    }
}

fn version_text(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// Records the request `req`, answered with `response`.
pub fn record(
    state: &AppState,
    started: &Started,
    req: &Parts,
    response: &mut Response<PartsBody>,
) {
    let status = response.status();
    response
        .headers_mut()
        .insert(&REQUEST_ID, started.id.clone());
    let elapsed = started.at.elapsed();
    let protocol = protocol_label(req.version);
    let m = &state.metrics;
    m.in_flight.dec();
    let body_len = http_body::Body::size_hint(response.body()).exact();
    m.requests.record(&RequestRecord {
        kind: started.kind,
        status,
        protocol,
        seconds: elapsed.as_secs_f64(),
        body_len,
    });
    let path = req.uri.path();
    if status.is_server_error() {
        tracing::warn!(rid = as_text(&started.id), %path, status = status.as_u16(), "request failed");
    }
    if let Some(log) = &state.access_log {
        let header = |name| req.headers.get(name).and_then(|v| v.to_str().ok());
        log.record(&access_log::Entry {
            client: req.extensions.get::<ClientAddr>().map(|c| c.0),
            method: req.method.as_str(),
            target: req.uri.path_and_query().map_or(path, |p| p.as_str()),
            version: version_text(req.version),
            status: status.as_u16(),
            bytes: body_len,
            referer: header(http::header::REFERER),
            user_agent: header(http::header::USER_AGENT),
            request_id: as_text(&started.id),
            protocol,
            duration: elapsed,
        });
    }
}
