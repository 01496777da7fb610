//! The personalize phase: what this viewer's session changes in what they are sent: the
//! access token in the URLs of manifests, when the token came in the query (so players need
//! no configuration), and, for an asset delivered through several CDNs, a multivariant
//! playlist or MPD that names every CDN and the session's steering URL; and, in an ad session
//! ([`ad_session`](crate::pipeline::ad_session)), the session's ads stitched into its
//! playlists and MPD. Whatever a session adds is written on the way out ([`write_out`]) and
//! never enters a cache key, so segments and manifests stay built and cached once.

use http::request::Parts;
use packager::url_query::ManifestSyntax;

use crate::access::extract::Carrier;
use crate::access::gate::Viewer;
use crate::access::manifest_tokens;
use crate::ads::stitch::{self, Playlist, SessionView};
use crate::built::Built;
use crate::delivery::{self, manifests::SessionContext};
use crate::pipeline::authorize::Identity;
use crate::pipeline::protect::host;
use crate::pipeline::resolve::Resolved;
use crate::pipeline::route::{VodObject, VodRequest};
use crate::problem::Problem;
use crate::state::AppState;

/// A viewer's playback session, as far as it shapes a response.
#[derive(Debug, Clone, Default)]
pub enum Session<'a> {
    /// The shared object as it is.
    #[default]
    Shared,
    /// A manifest whose URLs carry this viewer's token.
    Tokens(&'a Viewer, ManifestSyntax),
    /// A multivariant playlist or MPD that starts a steered session across the CDNs (with
    /// the viewer's token, if any, in its URLs).
    Steered(Option<&'a Viewer>, ManifestSyntax),
    /// A manifest of an ad session, with its ads stitched in (and the viewer's token, when it
    /// came in the query).
    Ads(Box<SessionView>, Option<&'a Viewer>, ManifestSyntax),
}

impl Session<'_> {
    /// Whether the response is this viewer's own (and no shared cache may keep it).
    pub fn is_personal(&self) -> bool {
        !matches!(self, Session::Shared)
    }
}

/// Marks a personal response so that only the viewer's own cache keeps it: a CDN that left
/// the token out of its cache key must not hand one viewer's token to another. The ETag
/// stays the shared one (the token never enters it).
pub fn keep_private(response: &mut http::Response<crate::http::body::PartsBody>) {
    let headers = response.headers_mut();
    let value = headers
        .get(http::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.replace("public", "private"))
        .filter(|v| v.contains("private"))
        .unwrap_or_else(|| "private, no-cache".to_owned());
    if let Ok(v) = http::HeaderValue::from_str(&value) {
        headers.insert(http::header::CACHE_CONTROL, v);
    }
}

/// The syntax of a manifest object; `None` for media and keys.
pub fn manifest_syntax(object: &VodObject) -> Option<ManifestSyntax> {
    match object {
        VodObject::Mpd => Some(ManifestSyntax::Dash),
        VodObject::Multivariant(_)
        | VodObject::MediaPlaylist(..)
        | VodObject::IframePlaylist(_)
        | VodObject::SubtitlePlaylist(..) => Some(ManifestSyntax::Hls),
        _ => None,
    }
}

/// The session a request belongs to and what it asks of the response. `ads` is the ad
/// session's view, for a manifest of one.
pub fn personalize<'a>(
    state: &AppState,
    identity: &'a Identity,
    _resolved: &Resolved,
    vod: &VodRequest,
    ads: Option<Box<SessionView>>,
) -> Result<Session<'a>, Problem> {
    if let (Some(view), Some(syntax)) = (ads, manifest_syntax(&vod.object)) {
        return Ok(Session::Ads(view, identity.viewer(), syntax));
    }
    // A multivariant playlist or MPD starts a session; segments never look at delivery.
    let starts_a_session = match vod.object {
        VodObject::Multivariant(_) => Some(ManifestSyntax::Hls),
        VodObject::Mpd => Some(ManifestSyntax::Dash),
        _ => None,
    };
    if let Some(syntax) = starts_a_session {
        if state
            .delivery
            .as_ref()
            .is_some_and(|d| d.config.covers(&vod.asset))
        {
            return Ok(Session::Steered(identity.viewer(), syntax));
        }
    }
    let (Some(viewer), Some(syntax)) = (identity.viewer(), manifest_syntax(&vod.object)) else {
        return Ok(Session::Shared);
    };
    Ok(match viewer.carrier {
        Carrier::Query(_) => Session::Tokens(viewer, syntax),
        _ => Session::Shared,
    })
}

/// Who asks for `vod`, as multi-CDN delivery needs to know.
pub fn session_context<'a>(
    state: &'a AppState,
    req: &'a Parts,
    identity: &'a Identity,
    resolved: &Resolved,
    vod: &'a VodRequest,
) -> SessionContext<'a> {
    SessionContext {
        asset: &vod.asset,
        duration_s: resolved.title.presentation.duration_seconds(),
        viewer: identity.viewer(),
        access: state.access.as_deref(),
        scheme: state.scheme(),
        host: host(req),
    }
}

/// The object as this session gets it.
pub fn write_out(
    state: &AppState,
    req: &Parts,
    session: &Session<'_>,
    resolved: &Resolved,
    vod: &VodRequest,
    built: Built,
) -> Built {
    let duration_s = resolved.title.presentation.duration_seconds();
    match (session, state.access.as_deref(), state.delivery.as_deref()) {
        (Session::Tokens(viewer, syntax), Some(access), _) => {
            manifest_tokens::splice(access, viewer, &vod.asset, duration_s, *syntax, built)
        }
        (Session::Steered(viewer, syntax), access, Some(delivery)) => {
            // An MPD's segment templates carry the viewer's token on every CDN (a BaseURL's
            // query is lost when players resolve against it); a multivariant playlist gets
            // each CDN's own in its URIs.
            let built = match (viewer, access, syntax) {
                (Some(v), Some(a), ManifestSyntax::Dash) => {
                    manifest_tokens::splice(a, v, &vod.asset, duration_s, *syntax, built)
                }
                _ => built,
            };
            let ctx = SessionContext {
                asset: &vod.asset,
                duration_s,
                viewer: *viewer,
                access,
                scheme: state.scheme(),
                host: host(req),
            };
            delivery::manifests::steer(delivery, req, &ctx, *syntax, built)
        }
        (Session::Ads(view, viewer, syntax), access, _) => {
            let built = stitched(view, resolved, vod, req.uri.query(), built);
            match (viewer, access) {
                (Some(v), Some(a)) => {
                    manifest_tokens::splice(a, v, &vod.asset, duration_s, *syntax, built)
                }
                _ => built,
            }
        }
        _ => built,
    }
}

/// A manifest of an ad session with its ads in. A manifest that cannot take them (not one
/// the packager wrote) goes out as it is: ads never stop playback.
fn stitched(
    view: &SessionView,
    resolved: &Resolved,
    vod: &VodRequest,
    query: Option<&str>,
    built: Built,
) -> Built {
    let text = String::from_utf8_lossy(&built.parts.concat()).into_owned();
    let content = &resolved.title.presentation;
    let path = vod.object.relative_path();
    let guided = view.mode == crate::ads::config::AdMode::Guided;
    let out = match &vod.object {
        // Guided: the content plays untouched, with an interstitial per break.
        VodObject::Multivariant(_) if guided => return built,
        VodObject::MediaPlaylist(..) | VodObject::SubtitlePlaylist(..) if guided => {
            Ok(stitch::interstitials(view, &path, &text, query))
        }
        VodObject::Multivariant(_) => Ok(stitch::multivariant(&text)),
        VodObject::MediaPlaylist(flavor, rendition) => {
            let playlist = Playlist::Media {
                rendition,
                ts: *flavor == crate::pipeline::route::Flavor::Ts,
            };
            stitch::hls_playlist(view, content, playlist, &path, &text).map_err(|e| e.to_string())
        }
        VodObject::SubtitlePlaylist(..) => {
            stitch::hls_playlist(view, content, Playlist::Subtitles, &path, &text)
                .map_err(|e| e.to_string())
        }
        VodObject::Mpd => stitch::mpd(view, &text).map_err(|e| e.to_string()),
        _ => return built,
    };
    match out {
        Ok(text) => Built {
            parts: vec![bytes::Bytes::from(text)],
            ..built
        },
        Err(why) => {
            tracing::warn!(asset = %vod.asset, %why, "ads could not be stitched; the content goes out alone");
            built
        }
    }
}
