//! The resolve phase: the title an object belongs to (its sources planned into a
//! presentation) and the encryption policy it is served under.

use std::sync::Arc;

use crate::keys::policy::EncryptionPolicy;
use crate::media::title::Title;
use crate::pipeline::route::{VodObject, VodRequest};
use crate::problem::Problem;
use crate::state::AppState;

/// The asset a request is about.
pub struct Resolved {
    pub title: Arc<Title>,
}

impl Resolved {
    /// The policy in force for the title: its asset definition's, else the configured
    /// default.
    pub fn policy<'a>(&'a self, state: &'a AppState) -> &'a EncryptionPolicy {
        self.title
            .policy
            .as_ref()
            .unwrap_or(&state.config.encryption)
    }
}

/// Finds the title `vod` names. A segment of a title not loaded yet may be served from a
/// title planned from its sources' openings (decision 0010).
pub async fn resolve(state: &AppState, vod: &VodRequest) -> Result<Resolved, Problem> {
    let asset = &vod.asset;
    let title = match &vod.object {
        VodObject::CmafSegment(_, n) | VodObject::TsSegment(_, n) => {
            let index = (*n as usize).saturating_sub(1);
            state.media.title_for_segment(asset, index).await?
        }
        VodObject::Init(_) => state.media.title_for_segment(asset, 0).await?,
        _ => state.media.title(asset).await?,
    };
    Ok(Resolved { title })
}
