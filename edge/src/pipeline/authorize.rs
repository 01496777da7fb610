//! The authorize phase: who is asking, and may they have this object. Today every request
//! is anonymous and allowed; playback tokens and revocation fill this phase, so that a
//! refusal happens before any asset is resolved or built.

use http::request::Parts;

use crate::pipeline::route::VodRequest;
use crate::problem::Problem;
use crate::state::AppState;

/// Who a request is from, as far as the edge can tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Identity {
    /// No credentials were asked for or given.
    #[default]
    Anonymous,
}

/// Decides whether the request may have what it asks for, and who it is from.
pub fn authorize(
    _state: &AppState,
    _request: &Parts,
    _vod: &VodRequest,
) -> Result<Identity, Problem> {
    Ok(Identity::Anonymous)
}
