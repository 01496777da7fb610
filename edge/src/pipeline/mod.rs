//! One request's way through the daemon: a pipeline of phases, each a small function with a
//! typed input and output, in this order (docs/architecture.md draws it):
//!
//! 1. [`route`]: the path parsed into a [`Route`], and the method checked against it;
//! 2. [`authorize`]: who asks ([`Identity`]) and whether their token lets them (playback
//!    access; renewal of a token near its end);
//! 3. [`resolve`]: the asset's title and encryption policy ([`Resolved`]);
//! 4. [`personalize`]: what the viewer's session changes ([`Session`]: the token in the URLs
//!    of manifests);
//! 5. [`lookup`]: the object's ETag, 304 and HEAD answered without a body, the response
//!    cache and its single flight;
//! 6. [`protect`]: the content key for the asset's protection (only when building);
//! 7. [`build`]: the manifest, segment, subtitle, key or license;
//! 8. respond: [`crate::http::response`] turns the object or the problem into a response;
//! 9. [`record`]: metrics, request id and access log, for every request.
//!
//! A phase that refuses returns a [`Problem`]; the record phase still runs. A feature fills
//! the phase it belongs to and leaves the others alone.

pub mod ad_session;
pub mod authorize;
pub mod build;
pub mod lookup;
pub mod operational;
pub mod personalize;
pub mod protect;
pub mod record;
pub mod request_id;
pub mod resolve;
pub mod route;

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::request::Parts;
use http::{header, HeaderValue, Method, Request, Response};
use tracing::Instrument;

use crate::access::renew::{self, Renewed};
use crate::daemon::Daemon;
use crate::http::body::PartsBody;
use crate::http::response::{object_response, preflight, problem_response};
use crate::pipeline::ad_session::AdPart;
use crate::pipeline::authorize::{authorize, authorize_title, Identity};
use crate::pipeline::personalize::{manifest_syntax, personalize, write_out, Session};
use crate::pipeline::protect::host;
use crate::pipeline::record::Started;
use crate::pipeline::resolve::resolve;
use crate::pipeline::route::{parse_route, Route, VodObject, VodRequest};
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;

/// Handles one request. Never fails: every error becomes a problem+json response.
pub async fn handle<B>(daemon: Arc<Daemon>, req: Request<B>) -> Response<PartsBody>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let state = daemon.current();
    let at = Instant::now();
    let id = request_id::request_id(req.headers());
    state.metrics.in_flight.inc();
    let (parts, body) = req.into_parts();
    let route = parse_route(parts.uri.path());
    let started = Started {
        id,
        at,
        kind: route.as_ref().map_or("unknown", Route::kind),
    };
    let span = tracing::info_span!(
        "request",
        rid = request_id::as_text(&started.id),
        path = %parts.uri.path()
    );
    let mut response = serve(&daemon, &state, &parts, body, route)
        .instrument(span)
        .await;
    record::record(&state, &started, &parts, &mut response);
    response
}

/// Phases 1 to 8: from the parsed route to the response.
async fn serve<B>(
    daemon: &Daemon,
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
    if !route.allows(method) {
        let allow = route.allowed_methods();
        let p = Problem::new(
            ProblemKind::MethodNotAllowed,
            format!("{method} is not served here (allowed: {allow})"),
        );
        let mut response = problem_response(&p, path, method);
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allow));
        return response;
    }
    match route {
        Route::Health => operational::health(method),
        Route::Ready => operational::ready(daemon, state, path, method).await,
        Route::Metrics => operational::metrics(state, req, path, method).await,
        Route::Revocations => {
            match crate::access::admin::revoke(state.access.as_deref(), req, body).await {
                Ok(json) => {
                    let mut res = crate::http::response::no_store(json, "application/json", method);
                    *res.status_mut() = http::StatusCode::CREATED;
                    res
                }
                Err(p) => problem_response(&p, path, method),
            }
        }
        Route::Vod(vod) => serve_vod(state, req, body, &vod)
            .await
            .unwrap_or_else(|p| problem_response(&p, path, method)),
    }
}

/// Phases 2 to 8 for an object of an asset.
async fn serve_vod<B>(
    state: &AppState,
    req: &Parts,
    body: B,
    vod: &VodRequest,
) -> Result<Response<PartsBody>, Problem>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let identity = authorize(state, req).await?;
    match &vod.object {
        VodObject::Key(kid) => {
            let resolved = resolve(state, vod).await?;
            authorize_title(state, req, &resolved.title, &identity).await?;
            build::keys::key(state, req, &vod.asset, &resolved, *kid).await
        }
        VodObject::ClearKeyLicense => {
            let request = build::keys::read_license_request(body).await?;
            let resolved = resolve(state, vod).await?;
            authorize_title(state, req, &resolved.title, &identity).await?;
            build::keys::license(state, req, &vod.asset, &resolved, &request).await
        }
        VodObject::Steering(syntax) => {
            let resolved = resolve(state, vod).await?;
            let checked = authorize_title(state, req, &resolved.title, &identity).await?;
            let identity = checked.as_ref().unwrap_or(&identity);
            let ctx = personalize::session_context(state, req, identity, &resolved, vod);
            let json =
                crate::delivery::steer::answer(state.delivery.as_deref(), req, &ctx, *syntax)?;
            Ok(crate::http::response::no_store(
                json.into_bytes(),
                "application/json",
                &req.method,
            ))
        }
        _ => serve_packaged(state, req, vod, identity).await,
    }
}

/// A packaged object. When a source turns out to have changed under a read, the title is
/// looked at again and the request served once more from the new version.
async fn serve_packaged(
    state: &AppState,
    req: &Parts,
    vod: &VodRequest,
    identity: Identity,
) -> Result<Response<PartsBody>, Problem> {
    match serve_packaged_once(state, req, vod, &identity).await {
        Err(p) if p.kind == ProblemKind::SourceChanged => {
            tracing::info!(asset = %vod.asset, "a source changed during a read; reloading the title");
            state.media.invalidate(&vod.asset).await;
            serve_packaged_once(state, req, vod, &identity).await
        }
        result => result,
    }
}

async fn serve_packaged_once(
    state: &AppState,
    req: &Parts,
    vod: &VodRequest,
    identity: &Identity,
) -> Result<Response<PartsBody>, Problem> {
    let resolved = resolve(state, vod).await?;
    let checked = authorize_title(state, req, &resolved.title, identity).await?;
    let identity = checked.as_ref().unwrap_or(identity);
    let renewal = match (identity.viewer(), state.access.as_deref()) {
        (Some(viewer), Some(access)) => renew::due(
            access,
            viewer,
            req,
            manifest_syntax(&vod.object).is_some(),
            state.config.tls.enabled(),
        ),
        _ => None,
    };
    if let Some(Renewed::Redirect(status, location)) = renewal {
        return Ok(renew::redirect(status, location));
    }
    if let Some(entered) = ad_session::entry(state, req, vod, &resolved, identity) {
        return entered;
    }
    // Only a path below an ad session has anything to prepare (the route takes ad objects
    // nowhere else); boxed, as the preparation's future is large.
    let ad_part = match vod.session {
        None => AdPart::Shared,
        Some(_) => Box::pin(ad_session::prepare(state, req, vod, &resolved, identity)).await?,
    };
    let (view, ad_title) = match ad_part {
        AdPart::Shared => (None, None),
        AdPart::Manifest(view) => (Some(view), None),
        AdPart::AdTitle(title) => (None, Some(title)),
        AdPart::AssetList(json) => {
            return Ok(crate::http::response::no_store(
                json.into_bytes(),
                "application/json",
                &req.method,
            ));
        }
        AdPart::Blank => {
            let etag = "\"blank-vtt\"";
            return Ok(object_response(
                ad_session::blank(),
                &req.headers,
                &req.method,
                etag,
                &state.cache_headers,
            ));
        }
    };
    let session = personalize(state, identity, &resolved, vod, view)?;
    // The title and object built: an ad's, for an ad's segment; else the asset's.
    let (title, object) = match (&ad_title, &vod.object) {
        (Some(t), VodObject::Ad(ad)) => (t, ad.object.as_ref()),
        _ => (&resolved.title, &vod.object),
    };
    let planned = protect::plan(state, &vod.asset, resolved.policy(state), host(req));
    // Below an ad session, what is built is shared by every session.
    let shared_path;
    let path = if vod.session.is_some() {
        shared_path = vod.shared_path();
        shared_path.as_str()
    } else {
        req.uri.path()
    };
    let shared_etag = lookup::etag(state, path, title, planned.as_ref());
    // A session's manifest has its own ETag: the shared object's and the session's ads.
    let etag = match &session {
        Session::Ads(view, ..) => ad_session::view_etag(&shared_etag, view),
        _ => shared_etag.clone(),
    };
    // A HEAD of a manifest that gets a token spliced in must count the token's bytes too.
    let spliced_head = session.is_personal() && req.method == Method::HEAD;
    if !spliced_head {
        if let Some(res) =
            lookup::answer_without_body(state, req, title, object, &etag, planned.is_some())
        {
            return Ok(res);
        }
    }
    let building = async {
        let protection = match planned {
            Some(plan) => Some(protect::protect(state, &vod.asset, plan).await?),
            None => None,
        };
        build::build(state, title, object, protection.as_ref()).await
    };
    let built = if state.responses.enabled() {
        // Boxed: the cache's future is large, and requests with the cache off need none.
        Box::pin(lookup::cached(state, &shared_etag, path, building)).await?
    } else {
        building.await?
    };
    let built = write_out(state, req, &session, &resolved, vod, built);
    let mut response = object_response(
        built,
        &req.headers,
        &req.method,
        &etag,
        &state.cache_headers,
    );
    if session.is_personal() {
        personalize::keep_private(&mut response);
    }
    if let Some(Renewed::Header(name, value)) = renewal {
        renew::decorate(&mut response, name, value);
    }
    if let Some(ad) = &ad_title {
        if req.method == Method::GET && response.status().is_success() {
            ad_session::fetched(state, vod, ad);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod future_sizes {
    use super::*;

    /// hyper moves every request's future into place, so its size is copied per request:
    /// a title load or a cache insertion held inline made it 14 KiB. Those are boxed and
    /// made only on a miss; this keeps it that way.
    #[test]
    fn a_request_future_stays_small() {
        let daemon = Daemon::new(crate::Config::default()).unwrap();
        let request = handle(daemon, Request::new(http_body_util::Empty::<Bytes>::new()));
        let size = std::mem::size_of_val(&request);
        assert!(size <= 6 * 1024, "a request's future is {size} bytes");
    }
}
