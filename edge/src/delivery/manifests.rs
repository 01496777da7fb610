//! Multivariant playlists and MPDs steered for a session: the cached, shared manifest in, the
//! session's copy out, naming every CDN (with the token each checks) and the steering server
//! (with the session in the URL). This is the session's start: the pathway it starts on is
//! counted. A manifest that cannot be steered is served as it was built (playback goes on
//! from this node) and the failure is logged.

use bytes::Bytes;
use cdn_router::dash::{steer_mpd, DashPathway, DashSteering};
use cdn_router::hls::{steer_multivariant, HlsSteering, PathwayUrls};
use cdn_router::order::order;
use cdn_router::{Pathway, PathwayId};
use http::request::Parts;
use packager::url_query::ManifestSyntax;

use crate::access::extract::Carrier;
use crate::access::gate::Viewer;
use crate::access::manifest_tokens::token_for;
use crate::access::{clock, Access};
use crate::built::Built;
use crate::delivery::config::HlsLayout;
use crate::delivery::tokens::{self, Scope};
use crate::delivery::Delivery;

/// Who a steered response is for, and where from.
pub struct SessionContext<'a> {
    pub asset: &'a str,
    pub duration_s: f64,
    pub viewer: Option<&'a Viewer>,
    pub access: Option<&'a Access>,
    /// `http` or `https`: how this node was reached.
    pub scheme: &'a str,
    /// The `Host` the request came to.
    pub host: Option<&'a str>,
}

/// The session state a steering URL carries.
pub struct SteeringState<'a> {
    pub session: &'a str,
    /// The pathway the answer (or the manifest) puts first.
    pub served: &'a PathwayId,
    /// Clone layout: the CDN the session's playlist was written with.
    pub clone_base: Option<&'a PathwayId>,
}

impl SessionContext<'_> {
    /// The session id: the viewer's (when it is a usable URL value), else a new one.
    pub fn session(&self, delivery: &Delivery) -> String {
        self.viewer
            .and_then(|v| v.session.as_deref())
            .filter(|s| {
                s.len() <= 128
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            })
            .map(str::to_owned)
            .unwrap_or_else(|| tokens::new_session(&delivery.rng))
    }

    /// `name=token` of the viewer's token as manifests carry it, when it came in the query.
    pub fn viewer_query(&self) -> Option<String> {
        let (viewer, access) = (self.viewer?, self.access?);
        let Carrier::Query(name) = &viewer.carrier else {
            return None;
        };
        let token = token_for(access, viewer, self.asset, self.duration_s)?;
        Some(format!("{name}={token}"))
    }

    /// The query for `pathway`'s URLs: its own token when the CDN signs, else the viewer's.
    pub fn pathway_query(
        &self,
        delivery: &Delivery,
        pathway: &PathwayId,
        session: &str,
        viewer_query: Option<&String>,
    ) -> Option<String> {
        match delivery.cdn(pathway).and_then(|c| c.signer.as_ref()) {
            Some(signer) => signer.query(
                &Scope {
                    asset: self.asset,
                    session,
                    viewer: self.viewer,
                    duration_s: self.duration_s,
                    issuer: self.access.map_or("edgepack", |a| a.config.issuer.as_str()),
                    now_s: clock::now_s(),
                },
                &delivery.rng,
            ),
            None => viewer_query.cloned(),
        }
    }
}

/// Where players reach this node's steering answers: `delivery.steering_base_url`, else the
/// scheme and host the request came to. Always absolute: dash.js takes the `ContentSteering`
/// URL as it is, and Shaka cannot resolve a relative `RELOAD-URI`.
fn steering_base(delivery: &Delivery, ctx: &SessionContext<'_>) -> String {
    match &delivery.config.steering_base_url {
        Some(b) => b.clone(),
        // The Host goes into a quoted playlist attribute: anything but a host name or an
        // address and a port is not used.
        None => {
            let host = ctx
                .host
                .filter(|h| {
                    !h.is_empty()
                        && h.len() <= 255
                        && h.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
                })
                .unwrap_or("localhost");
            format!("{}://{host}", ctx.scheme)
        }
    }
}

/// The URL steering requests for `ctx`'s asset go to, with the session state in its query
/// (the viewer's token too, so the request passes access control).
pub fn steering_url(
    delivery: &Delivery,
    ctx: &SessionContext<'_>,
    syntax: ManifestSyntax,
    state: &SteeringState<'_>,
    viewer_query: Option<&String>,
) -> String {
    let base = steering_base(delivery, ctx);
    let (session, served) = (state.session, state.served);
    let asset = ctx.asset;
    let file = match syntax {
        ManifestSyntax::Hls => "hls",
        ManifestSyntax::Dash => "dash",
    };
    let mut url = format!(
        "{base}/vod/{asset}/steering/{file}.json?{}={session}&{}={served}&{}={}",
        cdn_router::query::SESSION,
        cdn_router::query::SERVED,
        cdn_router::query::STATE,
        delivery.sign_state(session, served),
    );
    if let Some(b) = state.clone_base {
        url.push_str(&format!("&{CLONE_BASE}={b}"));
    }
    if let Some(q) = viewer_query {
        url.push('&');
        url.push_str(q);
    }
    url
}

/// The query parameter naming the CDN a clone-layout playlist was written with, so the
/// steering answer clones the others from the one the player has.
pub const CLONE_BASE: &str = "base";

/// The pathways in the order a session's manifest lists them: its steering order first, then
/// any that are out (still named, so a player can reach them when steering says so).
fn listed(session: &str, delivery: &Delivery, pathways: &[Pathway]) -> Vec<Pathway> {
    let first = order(session, pathways, &delivery.statuses());
    let mut out: Vec<Pathway> = first
        .iter()
        .filter_map(|id| pathways.iter().find(|p| &p.id == id).cloned())
        .collect();
    for p in pathways {
        if !first.contains(&p.id) {
            out.push(p.clone());
        }
    }
    out
}

/// `built`, a multivariant playlist or MPD, steered for a new session.
pub fn steer(
    delivery: &Delivery,
    req: &Parts,
    ctx: &SessionContext<'_>,
    syntax: ManifestSyntax,
    built: Built,
) -> Built {
    let session = ctx.session(delivery);
    let country = req
        .headers
        .get(&delivery.country_header)
        .and_then(|v| v.to_str().ok());
    let pathways = listed(&session, delivery, &delivery.pathways_for(country));
    let Some(first) = pathways.first().map(|p| p.id.clone()) else {
        return built;
    };
    let viewer_query = ctx.viewer_query();
    let path = req.uri.path();
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    let text = match built.parts.as_slice() {
        [one] => String::from_utf8_lossy(one).into_owned(),
        parts => String::from_utf8_lossy(&parts.concat()).into_owned(),
    };
    let result = match syntax {
        ManifestSyntax::Hls => {
            let (written, initial) = match delivery.config.hls_layout {
                HlsLayout::Repeat => (pathways.clone(), first.clone()),
                // Clones are made from one CDN's variants: the first the viewer may use that
                // is up (the steering answer clones the others from it).
                HlsLayout::Clone => {
                    let base = delivery.clone_base(country);
                    let id = base.id.clone();
                    (vec![base], id)
                }
            };
            let urls: Vec<PathwayUrls> = written
                .iter()
                .map(|p| PathwayUrls {
                    id: p.id.clone(),
                    prefix: format!("{}{dir}", p.base_url),
                    query: ctx.pathway_query(delivery, &p.id, &session, viewer_query.as_ref()),
                })
                .collect();
            let clone_base = (delivery.config.hls_layout == HlsLayout::Clone).then_some(&initial);
            let server = steering_url(
                delivery,
                ctx,
                syntax,
                &SteeringState {
                    session: &session,
                    served: &initial,
                    clone_base,
                },
                viewer_query.as_ref(),
            );
            steer_multivariant(
                &text,
                &HlsSteering {
                    server_uri: &server,
                    initial: &initial,
                    pathways: &urls,
                },
            )
        }
        ManifestSyntax::Dash => {
            let bases: Vec<DashPathway> = pathways
                .iter()
                .map(|p| DashPathway {
                    id: p.id.clone(),
                    base_url: format!("{}{dir}", p.base_url),
                    priority: p.priority,
                    weight: p.weight,
                })
                .collect();
            let server = steering_url(
                delivery,
                ctx,
                syntax,
                &SteeringState {
                    session: &session,
                    served: &first,
                    clone_base: None,
                },
                viewer_query.as_ref(),
            );
            steer_mpd(
                &text,
                &DashSteering {
                    server_uri: &server,
                    default: &first,
                    query_before_start: delivery.config.query_before_start,
                    pathways: &bases,
                },
            )
        }
    };
    match result {
        Ok(steered) => {
            delivery
                .metrics
                .sessions
                .with_label_values(&[first.as_str()])
                .inc();
            Built {
                parts: vec![Bytes::from(steered)],
                ..built
            }
        }
        Err(e) => {
            tracing::error!(asset = ctx.asset, error = %e, "a manifest could not be steered; served as built");
            built
        }
    }
}
