//! The listener: HTTP/1.1 and HTTP/2 (prior-knowledge h2c) on one TCP port, with a header
//! read timeout and graceful shutdown (in-flight requests finish, then the server stops).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::handler::{handle, ClientAddr};
use crate::live::Live;

/// A bound, not yet running server.
pub struct Server {
    listener: TcpListener,
    live: Arc<Live>,
}

impl Server {
    /// Binds the configured address.
    pub async fn bind(live: Arc<Live>) -> std::io::Result<Self> {
        let listener = TcpListener::bind(live.current().config.listen).await?;
        Ok(Server { listener, live })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish (up to the
    /// configured grace period).
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let graceful = GracefulShutdown::new();
        let mut builder = Builder::new(TokioExecutor::new());
        let config = self.live.current().config.clone();
        let header_timeout = Duration::from_secs(config.limits.header_read_timeout_seconds.max(1));
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .max_buf_size(64 * 1024);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(256)
            .max_header_list_size(64 * 1024);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let live = self.live.clone();
                    let service = service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                        let live = live.clone();
                        req.extensions_mut().insert(ClientAddr(peer));
                        async move { Ok::<_, std::convert::Infallible>(handle(live, req).await) }
                    });
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    let conn = graceful.watch(conn.into_owned());
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                    });
                }
                () = &mut shutdown => break,
            }
        }
        drop(self.listener);
        self.live.start_draining();
        let grace = Duration::from_secs(config.limits.shutdown_grace_seconds);
        if tokio::time::timeout(grace, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("shutdown grace period over; closing remaining connections");
        }
    }
}
