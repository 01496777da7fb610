//! The personalize phase for ad sessions (decision 0015). The first manifest of an asset with
//! ads starts a session and is redirected into it (`/vod/{asset}/s/{session}/...`), so every
//! relative URL after it keeps the session. Below that path:
//! - a manifest gets the session's plan (decided once) and the titles of its ads, for the
//!   write-out to stitch them in;
//! - an ad's segment is built from the ad's title (shared by every session: the cache key
//!   leaves the session out) and fires the beacons its fetch stands for;
//! - `blank.vtt` is the empty subtitle document played during ads;
//! - everything else is the content's, shared.

use std::sync::Arc;

use http::request::Parts;
use http::{header, HeaderValue, Response, StatusCode};

use crate::ads::config::AdRules;
use crate::ads::session::Opening;
use crate::ads::stitch::{self, LoadedAd, LoadedBreak, SessionView};
use crate::ads::Ads;
use crate::built::{Built, Cacheability};
use crate::http::body::PartsBody;
use crate::media::title::Title;
use crate::pipeline::authorize::Identity;
use crate::pipeline::protect;
use crate::pipeline::resolve::Resolved;
use crate::pipeline::route::{VodObject, VodRequest};
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;

/// What an ad session asks of a request.
pub enum AdPart {
    /// Nothing: the shared object.
    Shared,
    /// A manifest of the session, with what stitching needs.
    Manifest(Box<SessionView>),
    /// An object of an ad's title.
    AdTitle(Arc<Title>),
    /// The empty subtitle document.
    Blank,
    /// A guided session's asset list (JSON).
    AssetList(String),
}

/// The ads of `vod`'s asset and their rules, when it has any (its definition file's, or a
/// configured policy's).
fn ads_of<'a>(
    state: &'a AppState,
    vod: &VodRequest,
    title: &'a Title,
) -> Option<(&'a Ads, &'a AdRules)> {
    let ads = state.ads.as_ref();
    ads.rules(&vod.asset, title).map(|r| (ads, r))
}

/// The viewer's address for the ad server: the socket's peer is not known here, so the
/// first `X-Forwarded-For` hop when a proxy in front sets it.
fn device_ip(req: &Parts) -> Option<String> {
    req.headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|ip| ip.trim().to_owned())
        .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
}

fn opening(req: &Parts, identity: &Identity) -> Opening {
    let mut opening = Opening::from_request(
        req.uri.query(),
        device_ip(req),
        req.headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
    );
    opening.account = identity
        .viewer()
        .and_then(|v| v.account.as_deref())
        .map(str::to_owned);
    opening
}

/// The answer to an asset's first manifest when the asset has ads: a new session, and a
/// redirect into it (the query kept). `None` for every other request.
pub fn entry(
    state: &AppState,
    req: &Parts,
    vod: &VodRequest,
    resolved: &Resolved,
    identity: &Identity,
) -> Option<Result<Response<PartsBody>, Problem>> {
    if vod.session.is_some() || !matches!(vod.object, VodObject::Multivariant(_) | VodObject::Mpd) {
        return None;
    }
    let (ads, _) = ads_of(state, vod, &resolved.title)?;
    let session = match ads.sessions.start(&vod.asset, opening(req, identity)) {
        Ok(s) => s,
        Err(why) => return Some(Err(Problem::new(ProblemKind::Internal, why))),
    };
    ads.metrics.sessions.inc();
    ads.events.publish(
        "ads.session.started",
        &session.id,
        session.event_key(),
        serde_json::json!({
            "session": session.id, "asset": session.asset,
            "account": session.opening.account, "params": session.opening.params.len(),
        }),
    );
    let mut location = format!(
        "/vod/{}/s/{}/{}",
        vod.asset,
        session.id,
        vod.object.relative_path()
    );
    if let Some(q) = req.uri.query() {
        location.push('?');
        location.push_str(q);
    }
    let mut res = Response::new(PartsBody::empty());
    *res.status_mut() = StatusCode::FOUND;
    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    Some(Ok(res))
}

/// What the ad session of `vod` asks of this request.
pub async fn prepare(
    state: &AppState,
    req: &Parts,
    vod: &VodRequest,
    resolved: &Resolved,
    identity: &Identity,
) -> Result<AdPart, Problem> {
    let (Some(id), Some((ads, rules))) =
        (vod.session.as_deref(), ads_of(state, vod, &resolved.title))
    else {
        return match vod.object {
            VodObject::Ad(_) | VodObject::BlankSubtitle | VodObject::AssetList(_) => {
                Err(Problem::new(
                    ProblemKind::NotFound,
                    format!("'{}' has no ad sessions", vod.asset),
                ))
            }
            _ => Ok(AdPart::Shared),
        };
    };
    let Some(session) = ads
        .sessions
        .get_or_resume(id, &vod.asset, || opening(req, identity))
    else {
        return Err(Problem::new(ProblemKind::NotFound, "not an ad session"));
    };
    match &vod.object {
        VodObject::BlankSubtitle => Ok(AdPart::Blank),
        VodObject::Ad(ad) => {
            let title = ads.media.title(&ad.title).await.map_err(|_| {
                Problem::new(ProblemKind::NotFound, format!("no ad '{}'", ad.title))
            })?;
            Ok(AdPart::AdTitle(title))
        }
        VodObject::Multivariant(_)
        | VodObject::MediaPlaylist(..)
        | VodObject::SubtitlePlaylist(..)
        | VodObject::Mpd
        | VodObject::AssetList(_) => {
            let plan = crate::ads::planner::plan_of(ads, &session, &resolved.title, rules).await;
            let mut breaks = Vec::new();
            for (number, b) in (1u32..).zip(plan.filled()) {
                let mut loaded = Vec::new();
                for ad in &b.ads {
                    match ads.media.title(&ad.title).await {
                        Ok(title)
                            if stitch::fits(&resolved.title.presentation, &title.presentation) =>
                        {
                            loaded.push(LoadedAd {
                                slot: ad.slot.clone(),
                                title_name: ad.title.clone(),
                                title,
                            });
                        }
                        Ok(_) => {
                            tracing::warn!(ad = %ad.title, "a conditioned ad lacks the content's audio or video")
                        }
                        Err(p) => {
                            tracing::warn!(ad = %ad.title, error = %p.detail, "a conditioned ad does not load")
                        }
                    }
                }
                if !loaded.is_empty() {
                    breaks.push(LoadedBreak {
                        number,
                        before_segment: b.placement.before_segment,
                        at_ms: b.placement.at_ms,
                        ads: loaded,
                    });
                }
            }
            let mode = rules.mode;
            if let VodObject::AssetList(n) = vod.object {
                let view = SessionView {
                    session,
                    mode,
                    plan,
                    breaks,
                    ad_mpds: Vec::new(),
                };
                let session_root = match protect::host(req) {
                    Some(host) => format!("{}://{host}/vod/{}/s/{id}/", state.scheme(), vod.asset),
                    None => format!("/vod/{}/s/{id}/", vod.asset),
                };
                return stitch::asset_list(&view, n, &session_root, req.uri.query())
                    .map(AdPart::AssetList)
                    .ok_or_else(|| {
                        Problem::new(
                            ProblemKind::NotFound,
                            format!("no break {n} in this session"),
                        )
                    });
            }
            if breaks.is_empty() {
                // No ad plays in this session: its manifests are the shared ones.
                return Ok(AdPart::Shared);
            }
            let ad_mpds = if vod.object == VodObject::Mpd {
                ad_mpds(state, req, vod, resolved, &breaks).await?
            } else {
                Vec::new()
            };
            Ok(AdPart::Manifest(Box::new(SessionView {
                session,
                mode,
                plan,
                breaks,
                ad_mpds,
            })))
        }
        _ => Ok(AdPart::Shared),
    }
}

/// Each ad's own MPD, under the content's protection (so the ads' periods signal the same
/// key), by slot.
async fn ad_mpds(
    state: &AppState,
    req: &Parts,
    vod: &VodRequest,
    resolved: &Resolved,
    breaks: &[LoadedBreak],
) -> Result<Vec<(String, String)>, Problem> {
    let planned = protect::plan(
        state,
        &vod.asset,
        resolved.policy(state),
        protect::host(req),
    );
    let protection = match planned {
        Some(plan) => Some(protect::protect(state, &vod.asset, plan).await?),
        None => None,
    };
    let mut out = Vec::new();
    for ad in breaks.iter().flat_map(|b| &b.ads) {
        let (_, built) = crate::pipeline::build::manifests::build(
            &ad.title.presentation,
            &VodObject::Mpd,
            protection.as_ref(),
        )?;
        let text = String::from_utf8_lossy(&built.parts.concat()).into_owned();
        out.push((ad.slot.clone(), text));
    }
    Ok(out)
}

/// The empty subtitle document.
pub fn blank() -> Built {
    Built {
        parts: vec![bytes::Bytes::from_static(stitch::BLANK_VTT.as_bytes())],
        content_type: "text/vtt",
        cacheability: Cacheability::Segment,
    }
}

/// The ETag of a session's manifest: the shared object's, and the ads its plan put in.
pub fn view_etag(shared: &str, view: &SessionView) -> String {
    let mut h = crate::hash::fnv1a(shared.as_bytes(), 0);
    for b in &view.breaks {
        h = crate::hash::fnv1a(&(b.before_segment as u64).to_be_bytes(), h);
        for ad in &b.ads {
            h = crate::hash::fnv1a(ad.slot.as_bytes(), h);
            h = crate::hash::fnv1a(ad.title_name.as_bytes(), h);
        }
    }
    crate::hash::hex16(h, "\"")
}

/// After an ad's segment went out: the beacons its fetch stands for.
pub fn fetched(state: &AppState, vod: &VodRequest, ad_title: &Title) {
    let (Some(id), VodObject::Ad(ad)) = (vod.session.as_deref(), &vod.object) else {
        return;
    };
    if let VodObject::CmafSegment(_, n) | VodObject::TsSegment(_, n) = *ad.object {
        state.ads.on_ad_segment(id, &ad.slot, ad_title, n);
    }
}
