//! The control plane assembled from one `[control]` configuration ([`config`]): each of the
//! three services is embedded (on the configured database) or reached remotely through its
//! contract's HTTP client, and the embedded ones are served on one port ([`Plane::router`]).
//! `edgepack control` runs it alone; `edgepack serve` runs it inside the edge, where the
//! revocations go to the edge's own store.
#![forbid(unsafe_code)]

pub mod config;
pub mod contracts;
mod plane;

pub use axum::Router;
pub use config::ControlConfig;

/// Serves a plane's router on `listener` until `shutdown`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
pub use plane::{Plane, PlaneError};
