//! The authorize phase: who is asking, and may they have this object. With access control
//! off every request is anonymous. With `access.mode = "token"` every request under `/vod/`
//! needs a valid token, checked here before any asset is resolved or built; an asset whose
//! definition asks for tokens on an open node is checked right after it is resolved
//! ([`authorize_title`]), as are the catalog's window and territories for the asset. The
//! checks themselves live in [`crate::access::gate`] and [`crate::media::rights`].

use http::request::Parts;

use crate::access::config::AccessMode;
use crate::access::gate::{admit, Origin, Viewer};
use crate::access::Access;
use crate::http::ClientAddr;
use crate::media::title::Title;
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;

/// Who a request is from, as far as the edge can tell.
#[derive(Debug, Clone, Default)]
pub enum Identity {
    /// No token was asked for.
    #[default]
    Anonymous,
    /// A viewer whose token passed.
    Viewer(Box<Viewer>),
}

impl Identity {
    pub fn viewer(&self) -> Option<&Viewer> {
        match self {
            Identity::Viewer(v) => Some(v),
            Identity::Anonymous => None,
        }
    }
}

async fn check(state: &AppState, access: &Access, req: &Parts) -> Result<Identity, Problem> {
    let peer = req.extensions.get::<ClientAddr>().map(|c| c.0.ip());
    let origin = Origin {
        scheme: state.scheme(),
        client_ip: crate::access::gate::client_ip(access, req, peer),
    };
    // Boxed: the checks' future is large and requests without access control need none.
    let viewer = Box::pin(admit(access, req, &origin)).await?;
    Ok(Identity::Viewer(Box::new(viewer)))
}

/// Before the asset is resolved: a token is needed when the node requires them everywhere.
pub async fn authorize(state: &AppState, req: &Parts) -> Result<Identity, Problem> {
    match state.access.as_deref() {
        Some(access) if access.config.mode == AccessMode::Token => check(state, access, req).await,
        _ => Ok(Identity::Anonymous),
    }
}

/// After the asset is resolved: the catalog's window and territories for it, token or not;
/// and a title whose definition says `access = "token"` needs a token even on an open
/// node. Returns the identity found then, or `None` when `identity` stands.
pub async fn authorize_title(
    state: &AppState,
    req: &Parts,
    title: &Title,
    identity: &Identity,
) -> Result<Option<Identity>, Problem> {
    if let Some(rights) = &title.rights {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        if let Err(p) =
            rights.check_request(now, &req.headers, &state.config.catalog.country_header)
        {
            let reason = match p.kind {
                ProblemKind::TerritoryNotAllowed => "territory",
                _ => "not_available",
            };
            state
                .metrics
                .catalog_refusals
                .with_label_values(&[reason])
                .inc();
            return Err(p);
        }
    }
    if identity.viewer().is_some() || title.access != Some(AccessMode::Token) {
        return Ok(None);
    }
    match state.access.as_deref() {
        Some(access) if !access.cat_keys.is_empty() || !access.akamai_keys.is_empty() => {
            check(state, access, req).await.map(Some)
        }
        _ => Err(Problem::new(
            ProblemKind::Internal,
            "the asset requires access tokens but no access keys are configured",
        )),
    }
}
