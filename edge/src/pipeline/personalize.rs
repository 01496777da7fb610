//! The personalize phase: what this viewer's session changes in what they are sent (ad
//! breaks stitched into manifests, CDN pathways and the tokens in URLs). Today nothing:
//! every viewer gets the shared object. Whatever a session adds is written on the way out
//! and never enters a cache key, so segments and the shared manifests stay cached once.

use crate::pipeline::authorize::Identity;
use crate::pipeline::resolve::Resolved;
use crate::pipeline::route::VodRequest;
use crate::problem::Problem;
use crate::state::AppState;

/// A viewer's playback session, as far as it shapes a response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Session {
    /// No session: the shared object as it is.
    #[default]
    Shared,
}

/// The session a request belongs to and what it asks of the response.
pub fn personalize(
    _state: &AppState,
    _identity: &Identity,
    _resolved: &Resolved,
    _vod: &VodRequest,
) -> Result<Session, Problem> {
    Ok(Session::Shared)
}
