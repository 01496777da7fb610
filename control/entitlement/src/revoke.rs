//! How a revocation reaches the edge: through the admin API of the edge nodes
//! (`POST /admin/v1/revocations`), which writes it to the shared revocation store that every
//! node follows; or in-process, when the edge embeds the control services.

use std::time::Duration;

use crate::config::RevocationConfig;

#[async_trait::async_trait]
pub trait Revoker: Send + Sync {
    /// Revokes `session` on every node until `until` (Unix seconds).
    async fn revoke_session(&self, session: &str, until: i64) -> Result<(), String>;
}

/// No edge to tell: the session's state changes here only (logged once per call).
pub struct Nowhere;

#[async_trait::async_trait]
impl Revoker for Nowhere {
    async fn revoke_session(&self, session: &str, _until: i64) -> Result<(), String> {
        tracing::warn!(
            session,
            "no control.entitlement.revocation.edge_admin_urls: the edge is not told"
        );
        Ok(())
    }
}

/// The admin API of one or more edge nodes.
pub struct EdgeAdmin {
    urls: Vec<String>,
    key: Option<String>,
    http: reqwest::Client,
}

impl EdgeAdmin {
    pub fn new(c: &RevocationConfig) -> Result<EdgeAdmin, String> {
        let timeout = Duration::from_millis(if c.timeout_ms == 0 {
            2000
        } else {
            c.timeout_ms
        });
        // Plain HTTP to nodes on a private network, or HTTPS through the same client setup
        // as every other remote call.
        let remote = control_common::client::Remote::new(
            c.edge_admin_urls
                .first()
                .map_or("http://unused", |u| u.as_str()),
            None,
            timeout,
        )?;
        Ok(EdgeAdmin {
            urls: c
                .edge_admin_urls
                .iter()
                .map(|u| u.trim_end_matches('/').to_owned())
                .collect(),
            key: c.admin_key.clone(),
            http: remote.http().clone(),
        })
    }
}

#[async_trait::async_trait]
impl Revoker for EdgeAdmin {
    async fn revoke_session(&self, session: &str, until: i64) -> Result<(), String> {
        let body = serde_json::json!({"session": session, "until": until});
        for base in &self.urls {
            let mut req = self
                .http
                .post(format!("{base}/admin/v1/revocations"))
                .json(&body);
            if let Some(k) = &self.key {
                req = req.bearer_auth(k);
            }
            let r = req.send().await.map_err(|e| format!("{base}: {e}"))?;
            if !r.status().is_success() {
                return Err(format!("{base}: the edge answered {}", r.status()));
            }
        }
        Ok(())
    }
}
