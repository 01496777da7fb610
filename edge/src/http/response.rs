//! Turning a built object or a problem into an HTTP response: caching headers, ETag and
//! If-None-Match, CORS, HEAD, and single byte ranges.

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode};

use crate::built::{Built, Cacheability};
use crate::config::CacheConfig;
use crate::http::body::{parts_len, slice_parts, PartsBody};
use crate::problem::Problem;

/// Headers that browser players on another origin need to read.
const EXPOSED: &str = "Content-Length, Content-Range, ETag, Accept-Ranges, Date";

fn add_cors(headers: &mut HeaderMap) {
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED),
    );
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// The answer to a CORS preflight.
pub fn preflight() -> Response<PartsBody> {
    let mut res = Response::new(PartsBody::empty());
    *res.status_mut() = StatusCode::NO_CONTENT;
    let h = res.headers_mut();
    add_cors(h);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Range, If-None-Match, Origin, Accept, Content-Type"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    res
}

/// A body that no cache may store: problems, keys, licenses, metrics, health. `cors`
/// adds the CORS headers players need (operational endpoints go without).
fn uncached(
    body: Bytes,
    content_type: &'static str,
    method: &Method,
    cors: bool,
) -> Response<PartsBody> {
    let len = body.len();
    let mut res = Response::new(if method == Method::HEAD {
        PartsBody::empty()
    } else {
        PartsBody::new(vec![body])
    });
    let h = res.headers_mut();
    if cors {
        add_cors(h);
    }
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A problem+json response. (A 405 gets its `Allow` header from the route phase, which
/// knows the methods of the route.)
pub fn problem_response(problem: &Problem, instance: &str, method: &Method) -> Response<PartsBody> {
    let body = Bytes::from(problem.to_json(instance));
    let mut res = uncached(body, "application/problem+json", method, true);
    *res.status_mut() = problem.kind.status();
    res
}

/// A response holding key material (a raw key, a license): never stored by any cache.
pub fn no_store(body: Vec<u8>, content_type: &'static str, method: &Method) -> Response<PartsBody> {
    uncached(Bytes::from(body), content_type, method, true)
}

/// A plain response for operational endpoints (metrics, health).
pub fn plain(text: String, content_type: &'static str, method: &Method) -> Response<PartsBody> {
    uncached(Bytes::from(text), content_type, method, false)
}

/// A parsed `Range: bytes=...` header: one range, resolved against the length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    None,
    Satisfiable(u64, u64),
    Unsatisfiable,
}

/// Resolves a Range header against a body of `len` bytes. Multiple ranges and malformed
/// headers are ignored (the whole body is sent), as RFC 9110 allows.
pub fn parse_range(value: Option<&HeaderValue>, len: u64) -> RangeRequest {
    let Some(spec) = value
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("bytes="))
    else {
        return RangeRequest::None;
    };
    if spec.contains(',') {
        return RangeRequest::None;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return RangeRequest::None;
    };
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.is_empty(), b.is_empty()) {
        (true, false) => match b.parse::<u64>() {
            Ok(0) => return RangeRequest::Unsatisfiable,
            Ok(n) => (len.saturating_sub(n), len),
            Err(_) => return RangeRequest::None,
        },
        (false, _) => {
            let Ok(start) = a.parse::<u64>() else {
                return RangeRequest::None;
            };
            let end = if b.is_empty() {
                len
            } else {
                match b.parse::<u64>() {
                    Ok(e) if e >= start => e.saturating_add(1).min(len),
                    _ => return RangeRequest::None,
                }
            };
            if start >= len {
                return RangeRequest::Unsatisfiable;
            }
            (start, end)
        }
        (true, true) => return RangeRequest::None,
    };
    RangeRequest::Satisfiable(range.0, range.1)
}

/// Whether an If-None-Match header matches `etag`.
fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

/// What the response needs to know about the object, built or not.
pub struct ObjectMeta<'a> {
    pub etag: &'a str,
    pub content_type: &'static str,
    pub cacheability: Cacheability,
}

/// The `Cache-Control` value of each kind of object, made once per configuration rather
/// than formatted per response.
#[derive(Debug, Clone)]
pub struct CacheHeaders {
    segment: HeaderValue,
    playlist: HeaderValue,
}

impl CacheHeaders {
    pub fn new(cache: &CacheConfig) -> Self {
        CacheHeaders {
            segment: header_value(&format!(
                "public, max-age={}, immutable",
                cache.segment_max_age_seconds
            )),
            playlist: header_value(&format!(
                "public, max-age={}",
                cache.playlist_max_age_seconds
            )),
        }
    }
}

fn object_headers(h: &mut HeaderMap, meta: &ObjectMeta<'_>, cache: &CacheHeaders) {
    add_cors(h);
    h.insert(header::ETAG, header_value(meta.etag));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let cc = match meta.cacheability {
        Cacheability::Segment => &cache.segment,
        Cacheability::Playlist => &cache.playlist,
    };
    h.insert(header::CACHE_CONTROL, cc.clone());
}

/// 304 when the client's copy is current, else `None`.
pub fn not_modified(
    request: &HeaderMap,
    meta: &ObjectMeta<'_>,
    cache: &CacheHeaders,
) -> Option<Response<PartsBody>> {
    if !none_match(request, meta.etag) {
        return None;
    }
    let mut res = Response::new(PartsBody::empty());
    *res.status_mut() = StatusCode::NOT_MODIFIED;
    object_headers(res.headers_mut(), meta, cache);
    Some(res)
}

/// The response to HEAD when the length is known without building.
pub fn head_response(len: u64, meta: &ObjectMeta<'_>, cache: &CacheHeaders) -> Response<PartsBody> {
    let mut res = Response::new(PartsBody::empty());
    let h = res.headers_mut();
    object_headers(h, meta, cache);
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(meta.content_type),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    res
}

/// The response for a built object, honouring Range and HEAD.
pub fn object_response(
    built: Built,
    request: &HeaderMap,
    method: &Method,
    etag: &str,
    cache: &CacheHeaders,
) -> Response<PartsBody> {
    let meta = ObjectMeta {
        etag,
        content_type: built.content_type,
        cacheability: built.cacheability,
    };
    let len = parts_len(&built.parts);
    let head = method == Method::HEAD;
    let mut res = Response::new(PartsBody::empty());
    // Room for every header an object response gets (about ten), made once rather than
    // grown as they are added.
    *res.headers_mut() = HeaderMap::with_capacity(16);
    let (status, parts, content_range) = match parse_range(request.get(header::RANGE), len) {
        RangeRequest::None => (StatusCode::OK, built.parts, None),
        RangeRequest::Satisfiable(start, end) => (
            StatusCode::PARTIAL_CONTENT,
            slice_parts(&built.parts, start, end),
            Some(format!("bytes {start}-{}/{len}", end - 1)),
        ),
        RangeRequest::Unsatisfiable => (
            StatusCode::RANGE_NOT_SATISFIABLE,
            Vec::new(),
            Some(format!("bytes */{len}")),
        ),
    };
    let body_len = parts_len(&parts);
    if !head {
        *res.body_mut() = PartsBody::new(parts);
    }
    *res.status_mut() = status;
    let h = res.headers_mut();
    object_headers(h, &meta, cache);
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(meta.content_type),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(body_len));
    if let Some(cr) = content_range {
        h.insert(header::CONTENT_RANGE, header_value(&cr));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(s: &str, len: u64) -> RangeRequest {
        parse_range(Some(&HeaderValue::from_str(s).unwrap()), len)
    }

    #[test]
    fn parses_single_ranges() {
        assert_eq!(range("bytes=0-9", 100), RangeRequest::Satisfiable(0, 10));
        assert_eq!(range("bytes=90-", 100), RangeRequest::Satisfiable(90, 100));
        assert_eq!(range("bytes=-10", 100), RangeRequest::Satisfiable(90, 100));
        assert_eq!(
            range("bytes=50-500", 100),
            RangeRequest::Satisfiable(50, 100)
        );
        assert_eq!(range("bytes=100-", 100), RangeRequest::Unsatisfiable);
        assert_eq!(range("bytes=0-1,5-6", 100), RangeRequest::None);
        assert_eq!(range("bytes=9-1", 100), RangeRequest::None);
        assert_eq!(range("items=0-1", 100), RangeRequest::None);
        assert_eq!(parse_range(None, 100), RangeRequest::None);
    }
}
