//! The entitlement contract's OpenAPI 3.1 document as the code describes it; the committed
//! `control/contracts/entitlement.v1.json` is the source of truth (see the catalog's
//! `openapi` module for how the two are kept equal).

use control_common::openapi::BearerKeys;
use control_common::page::Page;
use control_common::problem::{ProblemDocument, Reason};
use utoipa::OpenApi;

use crate::model::*;
use crate::server;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "edgepack entitlement",
        version = "1.0.0",
        description = "Grants (an account holds a product for a window) and the playback decision, which issues the token the edge verifies. Denials are `playback-denied` problem documents whose `reasons` each carry a type URI: asset-unknown, asset-not-available, territory-not-allowed, not-entitled.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        server::put_grant, server::get_grant, server::list_grants, server::delete_grant,
        server::create_session, server::get_session, server::list_sessions,
        server::renew_session, server::end_session, server::revoke_session,
    ),
    components(schemas(
        Grant, GrantInput, PlaybackRequest, PlaybackSession, SessionState, Manifests,
        Page<Grant>, Page<PlaybackSession>, ProblemDocument, Reason,
    )),
    modifiers(&BearerKeys),
    tags(
        (name = "grants", description = "Who holds which product"),
        (name = "playback-sessions", description = "The playback decision and its sessions"),
    ),
)]
pub struct EntitlementApi;

pub fn document() -> utoipa::openapi::OpenApi {
    EntitlementApi::openapi()
}

/// The committed document.
pub const COMMITTED: &str = include_str!("../../contracts/entitlement.v1.json");
