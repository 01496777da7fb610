//! One request's pipeline: parse the URL into a typed route, resolve the asset, build the
//! object, respond, and record metrics.

use std::sync::Arc;
use std::time::Instant;

use http::{Method, Request, Response};

use crate::body::PartsBody;
use crate::build::{build, known_len, Cacheability};
use crate::media::cache::fnv1a;
use crate::problem::{Problem, ProblemKind};
use crate::response::{
    head_response, not_modified, object_response, plain, preflight, problem_response, ObjectMeta,
};
use crate::route::{parse_route, Route, VodObject};
use crate::state::AppState;

/// Handles one request. Never fails: every error becomes a problem+json response.
pub async fn handle<B>(state: Arc<AppState>, req: Request<B>) -> Response<PartsBody> {
    let started = Instant::now();
    state.metrics.in_flight.inc();
    let path = req.uri().path().to_owned();
    let route = parse_route(&path);
    let kind = route.as_ref().map_or("unknown", Route::kind);
    let response = respond(&state, &req, route).await;
    let status = response.status();
    state.metrics.in_flight.dec();
    state
        .metrics
        .requests
        .with_label_values(&[kind, status.as_str()])
        .inc();
    state
        .metrics
        .request_duration
        .with_label_values(&[kind])
        .observe(started.elapsed().as_secs_f64());
    if let Some(len) = http_body::Body::size_hint(response.body()).exact() {
        state
            .metrics
            .response_bytes
            .with_label_values(&[kind])
            .inc_by(len);
    }
    if status.is_server_error() {
        tracing::warn!(%path, status = status.as_u16(), "request failed");
    }
    response
}

async fn respond<B>(
    state: &AppState,
    req: &Request<B>,
    route: Result<Route, Problem>,
) -> Response<PartsBody> {
    let method = req.method();
    let path = req.uri().path();
    if method == Method::OPTIONS {
        return preflight();
    }
    if method != Method::GET && method != Method::HEAD {
        let p = Problem::new(
            ProblemKind::MethodNotAllowed,
            format!("{method} is not served"),
        );
        return problem_response(&p, path, method);
    }
    let route = match route {
        Ok(r) => r,
        Err(p) => return problem_response(&p, path, method),
    };
    match route {
        Route::Health => plain("ok\n".into(), "text/plain", method),
        Route::Ready => {
            if state.config.media_root.is_dir() {
                plain("ready\n".into(), "text/plain", method)
            } else {
                let p = Problem::new(
                    ProblemKind::SourceUnreadable,
                    "the media root is not a readable directory",
                );
                problem_response(&p, path, method)
            }
        }
        Route::Metrics => plain(state.metrics.render(), "text/plain; version=0.0.4", method),
        Route::Vod { asset, object } => match serve_vod(state, req, &asset, &object).await {
            Ok(res) => res,
            Err(p) => problem_response(&p, path, method),
        },
    }
}

/// Version of the output format: bump when packaging output changes, so ETags change.
const OUTPUT_VERSION: &str = concat!("edgepack-", env!("CARGO_PKG_VERSION"), "-1");

async fn serve_vod<B>(
    state: &AppState,
    req: &Request<B>,
    asset: &str,
    object: &VodObject,
) -> Result<Response<PartsBody>, Problem> {
    let title = state.media.title(asset).await?;
    let mut h = fnv1a(req.uri().path().as_bytes(), title.fingerprint);
    h = fnv1a(OUTPUT_VERSION.as_bytes(), h);
    h = fnv1a(&state.config.packaging.target_segment_ms.to_be_bytes(), h);
    let etag = format!("\"{h:016x}\"");
    let cache = &state.config.cache;
    let guess = ObjectMeta {
        etag: &etag,
        content_type: "application/octet-stream",
        cacheability: Cacheability::Playlist,
    };
    if let Some(res) = not_modified(req.headers(), &guess, cache) {
        return Ok(res);
    }
    if req.method() == Method::HEAD && req.headers().get(http::header::RANGE).is_none() {
        if let (Some(len), VodObject::CmafSegment(id, _)) = (known_len(&title, object), object) {
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
    let built = build(state, title, object).await?;
    Ok(object_response(
        built,
        req.headers(),
        req.method(),
        &etag,
        cache,
    ))
}
