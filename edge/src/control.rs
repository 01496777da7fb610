//! The control plane inside the node (`[control]`): built at start, served on its own port,
//! with revocations handed straight to this node's access store (which shares them with
//! every node through Redis, when one is configured), rather than through the admin API.

use std::net::SocketAddr;
use std::sync::Arc;

use control_plane::{ControlConfig, Plane};
use entitlement::revoke::Revoker;

use crate::access::admin;
use crate::access::revocations::Subject;
use crate::daemon::Daemon;

/// Revokes through the node's own access store, whatever access configuration is in force.
pub struct NodeRevoker(pub Arc<Daemon>);

#[async_trait::async_trait]
impl Revoker for NodeRevoker {
    async fn revoke_session(&self, session: &str, until: i64) -> Result<(), String> {
        let state = self.0.current();
        let Some(access) = state.access.as_ref() else {
            return Err("this node has no access configuration to revoke with".into());
        };
        admin::apply(
            access,
            Subject::Session(session.to_owned()),
            u64::try_from(until).ok(),
            "control",
        )
        .await
        .map(|_| ())
        .map_err(|p| p.detail)
    }
}

/// The embedded plane, listening.
pub struct Embedded {
    pub plane: Plane,
    pub addr: SocketAddr,
}

/// Builds the plane of `config`, binds its port and serves it until `shutdown`.
pub async fn start(
    daemon: Arc<Daemon>,
    config: &ControlConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Embedded, String> {
    let revoker: Arc<dyn Revoker> = Arc::new(NodeRevoker(daemon));
    let plane = Plane::build(config, Some(revoker))
        .await
        .map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("control.listen {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let router = plane.router.clone();
    tokio::spawn(async move {
        if let Err(e) = control_plane::serve(listener, router, shutdown).await {
            tracing::error!(error = %e, "the control plane stopped");
        }
    });
    Ok(Embedded { plane, addr })
}
