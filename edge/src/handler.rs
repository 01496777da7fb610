//! One request's pipeline: parse the URL into a typed route, resolve the asset and its
//! protection, build the object, respond, and record metrics.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use bytes::Bytes;
use http::request::Parts;
use http::{Method, Request, Response, Version};
use http_body_util::BodyExt;
use packager::protection::Protection;

use tracing::Instrument;

use crate::access_log;
use crate::body::PartsBody;
use crate::build::{build, known_len, Cacheability};
use crate::keys::policy::{protection_for, EncryptionPolicy};
use crate::live::Live;
use crate::media::cache::fnv1a;
use crate::media::title::Title;
use crate::problem::{Problem, ProblemKind};
use crate::request_series::RequestRecord;
use crate::response::{
    head_response, no_store, not_modified, object_response, plain, preflight, problem_response,
    ObjectMeta,
};
use crate::route::{parse_route, Route, VodObject};
use crate::state::AppState;

/// Largest license request body read.
const MAX_LICENSE_REQUEST_BYTES: usize = 16 * 1024;

/// The address of the client a request came from, set by the listener as an extension.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// The protocol label of a request for metrics and logs.
fn protocol_label(version: Version) -> &'static str {
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

/// Longest request id taken from a client's `X-Request-Id`.
const MAX_REQUEST_ID_LEN: usize = 64;

/// The request's id: the client's `X-Request-Id` when it is short and plain, else a new
/// one, unique within this process and unlikely to repeat across nodes.
fn request_id(headers: &http::HeaderMap) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    if let Some(given) = headers.get(REQUEST_ID).and_then(|v| v.to_str().ok()) {
        let plain = given
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
        if !given.is_empty() && given.len() <= MAX_REQUEST_ID_LEN && plain {
            return given.to_owned();
        }
    }
    // Unique per process start (clock and pid), read once rather than per request.
    static SEED: OnceLock<u64> = OnceLock::new();
    let seed = *SEED.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        now ^ u64::from(std::process::id())
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    hex16(fnv1a(&n.to_be_bytes(), seed), "")
}

/// The request id header, read and echoed.
const REQUEST_ID: &str = "x-request-id";

/// Handles one request. Never fails: every error becomes a problem+json response.
pub async fn handle<B>(live: Arc<Live>, req: Request<B>) -> Response<PartsBody>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let state = live.current();
    let started = Instant::now();
    let protocol = protocol_label(req.version());
    let id = request_id(req.headers());
    state.metrics.in_flight.inc();
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let route = parse_route(&path);
    let kind = route.as_ref().map_or("unknown", Route::kind);
    let span = tracing::info_span!("request", rid = %id, %path);
    let mut response = respond(&live, &state, &parts, body, route)
        .instrument(span)
        .await;
    let status = response.status();
    if let Ok(v) = http::HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    let elapsed = started.elapsed();
    let m = &state.metrics;
    m.in_flight.dec();
    let body_len = http_body::Body::size_hint(response.body()).exact();
    m.request_series.record(
        m,
        &RequestRecord {
            kind,
            status,
            protocol,
            seconds: elapsed.as_secs_f64(),
            body_len,
        },
    );
    if status.is_server_error() {
        tracing::warn!(rid = %id, %path, status = status.as_u16(), "request failed");
    }
    if let Some(log) = &state.access_log {
        let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
        log.record(&access_log::Entry {
            client: parts.extensions.get::<ClientAddr>().map(|c| c.0),
            method: parts.method.as_str(),
            target: parts
                .uri
                .path_and_query()
                .map_or(path.as_str(), |p| p.as_str()),
            version: version_text(parts.version),
            status: status.as_u16(),
            bytes: body_len,
            referer: header(http::header::REFERER),
            user_agent: header(http::header::USER_AGENT),
            request_id: &id,
            protocol,
            duration: elapsed,
        });
    }
    response
}

async fn respond<B>(
    live: &Live,
    state: &AppState,
    req: &Parts,
    body: B,
    route: Result<Route, Problem>,
) -> Response<PartsBody>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let method = &req.method;
    let path = req.uri.path();
    if method == Method::OPTIONS {
        return preflight();
    }
    let route = match route {
        Ok(r) => r,
        Err(p) => return problem_response(&p, path, method),
    };
    let posts = matches!(
        route,
        Route::Vod {
            object: VodObject::ClearKeyLicense,
            ..
        }
    );
    let allowed = if posts {
        method == Method::POST
    } else {
        method == Method::GET || method == Method::HEAD
    };
    if !allowed {
        let p = Problem::new(
            ProblemKind::MethodNotAllowed,
            format!(
                "{method} is not served here (use {})",
                if posts { "POST" } else { "GET or HEAD" }
            ),
        );
        return problem_response(&p, path, method);
    }
    match route {
        Route::Health => plain("ok\n".into(), "text/plain", method),
        Route::Ready => {
            let not_ready = |detail: String| {
                problem_response(&Problem::new(ProblemKind::NotReady, detail), path, method)
            };
            if live.is_draining() {
                return not_ready("draining before shutdown".into());
            }
            match state.origins.reachable(&state.config.media_root).await {
                Ok(()) => plain("ready\n".into(), "text/plain", method),
                Err(e) => not_ready(format!("the media root cannot be reached: {e}")),
            }
        }
        Route::Metrics => {
            state.media.update_gauges().await;
            state.responses.update_gauges().await;
            plain(state.metrics.render(), "text/plain; version=0.0.4", method)
        }
        Route::Vod { asset, object } => {
            let result = match object {
                VodObject::ClearKeyLicense => serve_license(state, req, body, &asset).await,
                VodObject::Key(kid) => serve_key(state, req, &asset, kid).await,
                _ => serve_vod(state, req, &asset, &object).await,
            };
            result.unwrap_or_else(|p| problem_response(&p, path, method))
        }
    }
}

/// The policy in force for a title: its asset definition's, else the configured default.
fn policy<'a>(state: &'a AppState, title: &'a Title) -> &'a EncryptionPolicy {
    title.policy.as_ref().unwrap_or(&state.config.encryption)
}

fn host(req: &Parts) -> Option<&str> {
    req.headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri.authority().map(|a| a.as_str()))
}

/// Version of the output format: bump when packaging output changes, so ETags change.
const OUTPUT_VERSION: &str = concat!("edgepack-", env!("CARGO_PKG_VERSION"), "-2");

/// Serves a packaged object. When a source turns out to have changed under a read, the
/// title is looked at again and the request served once more from the new version.
async fn serve_vod(
    state: &AppState,
    req: &Parts,
    asset: &str,
    object: &VodObject,
) -> Result<Response<PartsBody>, Problem> {
    match serve_vod_once(state, req, asset, object).await {
        Err(p) if p.kind == ProblemKind::SourceChanged => {
            tracing::info!(asset, "a source changed during a read; reloading the title");
            state.media.invalidate(asset).await;
            serve_vod_once(state, req, asset, object).await
        }
        result => result,
    }
}

async fn serve_vod_once(
    state: &AppState,
    req: &Parts,
    asset: &str,
    object: &VodObject,
) -> Result<Response<PartsBody>, Problem> {
    // Segments of a title not loaded yet may come from its sources' openings.
    let title = match object {
        VodObject::CmafSegment(_, n) | VodObject::TsSegment(_, n) => {
            let index = (*n as usize).saturating_sub(1);
            state.media.title_for_segment(asset, index).await?
        }
        VodObject::Init(_) => state.media.title_for_segment(asset, 0).await?,
        _ => state.media.title(asset).await?,
    };
    let protection = protection_for(state, asset, policy(state, &title), host(req)).await?;
    let etag = etag(state, req, &title, protection.as_ref());
    let cache = &state.cache_headers;
    let guess = ObjectMeta {
        etag: &etag,
        content_type: "application/octet-stream",
        cacheability: Cacheability::Playlist,
    };
    if let Some(res) = not_modified(&req.headers, &guess, cache) {
        return Ok(res);
    }
    if req.method == Method::HEAD && req.headers.get(http::header::RANGE).is_none() {
        if let (Some(len), VodObject::CmafSegment(id, _)) =
            (known_len(&title, object, protection.as_ref()), object)
        {
            let video = title
                .presentation
                .rendition(id)
                .is_some_and(|r| title.presentation.track(r).is_video());
            let meta = ObjectMeta {
                etag: &etag,
                content_type: if video { "video/mp4" } else { "audio/mp4" },
                cacheability: Cacheability::Segment,
            };
            return Ok(head_response(len, &meta, cache));
        }
    }
    let building = build(state, title, object, protection.as_ref());
    let built = if state.responses.enabled() {
        let key = format!("{etag} {}", req.uri.path());
        // Boxed: the cache's future is large, and requests with the cache off need none.
        Box::pin(state.responses.get_or_build(&key, building)).await?
    } else {
        building.await?
    };
    Ok(object_response(
        built,
        &req.headers,
        &req.method,
        &etag,
        cache,
    ))
}

/// A strong ETag: the same on every node for the same sources, settings and protection.
fn etag(state: &AppState, req: &Parts, title: &Title, protection: Option<&Protection>) -> String {
    let mut h = fnv1a(req.uri.path().as_bytes(), title.fingerprint);
    h = fnv1a(OUTPUT_VERSION.as_bytes(), h);
    h = fnv1a(&state.config.packaging.target_segment_ms.to_be_bytes(), h);
    if let Some(pr) = protection {
        h = fnv1a(pr.method.name().as_bytes(), h);
        h = fnv1a(&pr.key.kid.0, h);
        h = fnv1a(pr.urls.clearkey_license.as_bytes(), h);
        h = fnv1a(pr.urls.fairplay.as_bytes(), h);
        for s in &pr.signalling.systems {
            h = fnv1a(s.system.name().as_bytes(), h);
        }
    }
    hex16(h, "\"")
}

/// `{quote}{h:016x}{quote}` without the formatting machinery (ETags and request ids are
/// made for every request).
fn hex16(h: u64, quote: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(16 + 2 * quote.len());
    s.push_str(quote);
    for k in (0..16).rev() {
        s.push(char::from(HEX[(h >> (4 * k)) as usize & 0xf]));
    }
    s.push_str(quote);
    s
}

/// The raw key, for players that fetch it themselves (AES-128, SAMPLE-AES, ClearKey).
async fn serve_key(
    state: &AppState,
    req: &Parts,
    asset: &str,
    kid: drm::KeyId,
) -> Result<Response<PartsBody>, Problem> {
    let title = state.media.title(asset).await?;
    let policy = policy(state, &title);
    if !policy.delivers_raw_key() {
        return Err(key_not_delivered(asset, policy));
    }
    let protection = protection_for(state, asset, policy, host(req))
        .await?
        .ok_or_else(|| key_not_delivered(asset, policy))?;
    if protection.key.kid != kid {
        return Err(Problem::new(
            ProblemKind::RenditionNotFound,
            format!("'{asset}' has no key with id {kid}"),
        ));
    }
    let key = protection.key.key.bytes().to_vec();
    Ok(no_store(key, "application/octet-stream", &req.method))
}

fn key_not_delivered(asset: &str, policy: &EncryptionPolicy) -> Problem {
    Problem::new(
        ProblemKind::KeyNotDelivered,
        format!(
            "'{asset}' is {} without ClearKey: its key is not handed out",
            match policy.method {
                drm::Method::None => "not encrypted",
                m => m.name(),
            }
        ),
    )
}

/// The W3C ClearKey license endpoint: a JSON request for key ids, a JSON Web Key Set back.
async fn serve_license<B>(
    state: &AppState,
    req: &Parts,
    body: B,
    asset: &str,
) -> Result<Response<PartsBody>, Problem>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let invalid = |detail: String| Problem::new(ProblemKind::LicenseRequestInvalid, detail);
    let body = http_body_util::Limited::new(body, MAX_LICENSE_REQUEST_BYTES)
        .collect()
        .await
        .map_err(|e| {
            invalid(format!(
                "cannot read the request body (at most {MAX_LICENSE_REQUEST_BYTES} bytes): {e}"
            ))
        })?
        .to_bytes();
    let request = drm::clearkey::parse_request(&body).map_err(|e| invalid(e.to_string()))?;
    let title = state.media.title(asset).await?;
    let policy = policy(state, &title);
    if !policy.signals_clearkey() {
        return Err(key_not_delivered(asset, policy));
    }
    let protection = protection_for(state, asset, policy, host(req))
        .await?
        .ok_or_else(|| key_not_delivered(asset, policy))?;
    if !request.kids.contains(&protection.key.kid) {
        return Err(invalid(format!(
            "none of the requested key ids belongs to '{asset}'"
        )));
    }
    let answer = drm::clearkey::license_response(&request, std::slice::from_ref(&protection.key));
    Ok(no_store(answer, "application/json", &req.method))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_and_ids_are_sixteen_hex_digits() {
        for h in [0, 1, 0xabc, u64::MAX, 0x0123_4567_89ab_cdef] {
            assert_eq!(hex16(h, "\""), format!("\"{h:016x}\""));
            assert_eq!(hex16(h, ""), format!("{h:016x}"));
        }
    }

    #[test]
    fn request_ids_differ_and_given_ones_are_kept() {
        let none = http::HeaderMap::new();
        let (a, b) = (request_id(&none), request_id(&none));
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        let mut given = http::HeaderMap::new();
        given.insert(REQUEST_ID, http::HeaderValue::from_static("abc-1"));
        assert_eq!(request_id(&given), "abc-1");
    }
}

#[cfg(test)]
mod future_sizes {
    use super::*;

    /// hyper moves every request's future into place, so its size is copied per request:
    /// a title load or a cache insertion held inline made it 14 KiB. Those are boxed and
    /// made only on a miss; this keeps it that way.
    #[test]
    fn a_request_future_stays_small() {
        let live = Live::new(crate::Config::default()).unwrap();
        let request = handle(live, Request::new(http_body_util::Empty::<Bytes>::new()));
        let size = std::mem::size_of_val(&request);
        assert!(size <= 6 * 1024, "a request's future is {size} bytes");
    }
}
