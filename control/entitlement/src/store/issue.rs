//! What an allowed session is handed: its token (minted for the session, the account, the
//! asset and the stream limit), the manifest URLs on the edge that carry it, and the license
//! URLs.

use control_common::{Problem, ProblemType};

use super::SqlEntitlement;
use crate::model::{Manifests, PlaybackSession};
use crate::tokens::Subject;

impl SqlEntitlement {
    /// The token, manifests and license URLs of a session, issued at `now`.
    pub(super) fn issue(
        &self,
        session: &mut PlaybackSession,
        territories: &[String],
        now: i64,
    ) -> Result<(), Problem> {
        let (token, exp) = self
            .minter
            .mint(
                &Subject {
                    session: &session.id,
                    account: &session.account,
                    asset: &session.asset,
                    max_streams: session.max_streams,
                    territories,
                },
                u64::try_from(now).unwrap_or(0),
            )
            .map_err(|e| Problem::new(ProblemType::Internal, e.to_string()))?;
        let base = self.config.edge_base_url.trim_end_matches('/');
        let asset = &session.asset;
        let q = format!(
            "?{}={}",
            self.config.token_parameter,
            control_common::client::encode(&token)
        );
        session.manifests = Some(Manifests {
            hls: format!("{base}/vod/{asset}/master.m3u8{q}"),
            hls_ts: format!("{base}/vod/{asset}/ts/master.m3u8{q}"),
            dash: format!("{base}/vod/{asset}/manifest.mpd{q}"),
        });
        let mut licenses = self.config.license_servers.clone();
        licenses.insert(
            "clearkey".into(),
            format!("{base}/vod/{asset}/license/clearkey{q}"),
        );
        session.license_urls = licenses;
        session.token = Some(token);
        session.expires_at = i64::try_from(exp).unwrap_or(i64::MAX);
        Ok(())
    }
}
