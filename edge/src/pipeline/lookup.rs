//! The cache phase: the object's identity, a strong ETag that is the same on every node for
//! the same sources, settings and protection; the answers that need no body (304 Not
//! Modified, and HEAD of a clear CMAF segment, whose size the plan gives); and the response
//! cache, whose single flight makes concurrent misses for one object wait for one build.

use std::future::Future;

use http::request::Parts;
use http::{Method, Response};

use crate::built::{Built, Cacheability};
use crate::hash::{fnv1a, hex16};
use crate::http::body::PartsBody;
use crate::http::response::{head_response, not_modified, ObjectMeta};
use crate::media::title::Title;
use crate::pipeline::build::cmaf::clear_segment_len;
use crate::pipeline::protect::ProtectionPlan;
use crate::pipeline::route::VodObject;
use crate::problem::Problem;
use crate::state::AppState;

/// Version of the output format: bump when packaging output changes, so ETags change.
const OUTPUT_VERSION: &str = concat!("edgepack-", env!("CARGO_PKG_VERSION"), "-2");

/// A strong ETag for the object at `path` of `title`: the same on every node for the same
/// sources, settings and protection.
pub fn etag(
    state: &AppState,
    path: &str,
    title: &Title,
    protection: Option<&ProtectionPlan>,
) -> String {
    let mut h = fnv1a(path.as_bytes(), title.fingerprint);
    h = fnv1a(OUTPUT_VERSION.as_bytes(), h);
    h = fnv1a(&state.config.packaging.target_segment_ms.to_be_bytes(), h);
    if let Some(pr) = protection {
        h = fnv1a(pr.method.name().as_bytes(), h);
        h = fnv1a(&pr.kid.0, h);
        h = fnv1a(pr.urls.clearkey_license.as_bytes(), h);
        h = fnv1a(pr.urls.fairplay.as_bytes(), h);
        for s in &pr.signalling.systems {
            h = fnv1a(s.system.name().as_bytes(), h);
        }
    }
    hex16(h, "\"")
}

/// The answer to `req` when it needs no body built: 304 when the client's copy is current,
/// and the headers of a clear CMAF segment for HEAD (its size is known from the plan).
pub fn answer_without_body(
    state: &AppState,
    req: &Parts,
    title: &Title,
    object: &VodObject,
    etag: &str,
    protected: bool,
) -> Option<Response<PartsBody>> {
    let cache = &state.cache_headers;
    let guess = ObjectMeta {
        etag,
        content_type: "application/octet-stream",
        cacheability: Cacheability::Playlist,
    };
    if let Some(res) = not_modified(&req.headers, &guess, cache) {
        return Some(res);
    }
    if req.method != Method::HEAD || req.headers.get(http::header::RANGE).is_some() {
        return None;
    }
    let VodObject::CmafSegment(id, n) = object else {
        return None;
    };
    let p = &title.presentation;
    let len = clear_segment_len(p, id, *n, protected)?;
    let video = p.rendition(id).is_some_and(|r| p.track(r).is_video());
    let meta = ObjectMeta {
        etag,
        content_type: if video { "video/mp4" } else { "audio/mp4" },
        cacheability: Cacheability::Segment,
    };
    Some(head_response(len, &meta, cache))
}

/// The object with `etag` at `path` from the response cache, or built by `building` (once for
/// all concurrent requests) and kept. Only for a cache that is on: with it off the pipeline
/// awaits the build in place, so the build's future is not moved into this one (a copy of a
/// few KiB per request, 4% of the playlist path's throughput).
pub async fn cached(
    state: &AppState,
    etag: &str,
    path: &str,
    building: impl Future<Output = Result<Built, Problem>>,
) -> Result<Built, Problem> {
    let key = format!("{etag} {path}");
    state.responses.get_or_build(&key, building).await
}
