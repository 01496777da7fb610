//! The listener: HTTP/1.1 and HTTP/2 on one TCP port, in the clear (HTTP/2 by prior
//! knowledge, h2c) or under TLS (chosen by ALPN), and HTTP/3 on the same port over UDP when
//! it is on (see [`crate::http::h3`]). It enforces the connection limits of `[limits]` and shuts
//! down gracefully: it stops accepting, lets in-flight requests finish within the grace
//! period, then closes what is left.
//!
//! Limits, per connection:
//! - `max_connections`: counted apart for TCP and QUIC; a connection over the limit is
//!   closed at once (TCP) or refused (QUIC) and counted in `connections_refused`.
//! - `header_read_timeout_seconds`: the TLS handshake must end within it, and so must every
//!   HTTP/1.1 request head. hyper starts that timer whenever it waits for a head, including
//!   the wait for the next request on a keep-alive connection, so an HTTP/1.1 connection
//!   never stays idle longer than this either. On every protocol, a connection on which
//!   no request has started within it is closed (a silent connection, or one that never
//!   gets past the HTTP/2 preface, holds a slot no longer than a slow head does).
//! - `max_header_bytes`: HTTP/1.1 heads larger than this get 431 (hyper's read buffer
//!   cannot be smaller than 8 KiB, so smaller settings act as 8 KiB for HTTP/1.1); HTTP/2
//!   and HTTP/3 advertise it as their header list size limit.
//! - `max_streams_per_connection`: concurrent streams of an HTTP/2 (and HTTP/3) connection.
//! - `idle_timeout_seconds`: a connection with no request in progress for that long is
//!   closed gracefully (HTTP/2 GOAWAY, HTTP/3 GOAWAY, HTTP/1.1 close). "In progress" means
//!   from the moment the request reaches the service until its response body is dropped by
//!   the connection (fully sent, or abandoned), so a long segment download is never idle.
//!   Each connection task counts its requests (`Activity`) and wakes at the idle
//!   deadline; this works the same for every protocol, unlike transport-level timers
//!   (HTTP/2 PINGs, or bytes moving, say nothing about requests).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderValue;
use http_body::{Body, Frame, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulConnection;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::config::LimitsConfig;
use crate::daemon::Daemon;
use crate::http::body::PartsBody;
use crate::http::conn::{
    stopping, Activity, ConnLimit, ConnSlot, IdleLimits, Phase, RequestGuard, TaskToken,
};
use crate::http::tls::{TlsError, TlsSetup};
use crate::http::ClientAddr;
use crate::pipeline::handle;

/// hyper's smallest HTTP/1.1 read buffer.
const MIN_H1_BUFFER: usize = 8 * 1024;
/// How long a connection with no request in progress gets to close after a graceful
/// shutdown began (see [`drive`]).
const GOAWAY_WAIT: Duration = Duration::from_secs(1);
/// How long connections get to close once the grace period is over.
const FORCED_CLOSE_WAIT: Duration = Duration::from_secs(1);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("{0}")]
    Tcp(std::io::Error),
    #[error("cannot listen on UDP {addr} for HTTP/3: {source}")]
    Udp {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// A bound, not yet running server.
pub struct Server {
    listener: TcpListener,
    daemon: Arc<Daemon>,
    tls: Option<TlsSetup>,
    quic: Option<quinn::Endpoint>,
}

impl Server {
    /// Binds the configured address: TCP, and with HTTP/3 on, UDP on the same port (the
    /// port TCP got, when the configured one is 0). Sets up TLS when configured.
    pub async fn bind(daemon: Arc<Daemon>) -> Result<Self, BindError> {
        let config = daemon.current().config.clone();
        let tls = if config.tls.enabled() {
            Some(TlsSetup::from_config(&config.tls)?)
        } else {
            None
        };
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(BindError::Tcp)?;
        let quic = match (&tls, config.http3.enabled) {
            (Some(tls), true) => {
                let addr = listener.local_addr().map_err(BindError::Tcp)?;
                Some(
                    crate::http::h3::bind(addr, tls, &config.limits)
                        .map_err(|source| BindError::Udp { addr, source })?,
                )
            }
            _ => None,
        };
        Ok(Server {
            listener,
            daemon,
            tls,
            quic,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The UDP address HTTP/3 is served on, when it is on.
    pub fn http3_addr(&self) -> Option<SocketAddr> {
        self.quic.as_ref().and_then(|e| e.local_addr().ok())
    }

    /// The certificate chain served (PEM), when TLS is on: with `tls.self_signed`, what a
    /// client must trust.
    pub fn tls_cert_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.cert_pem.as_str())
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish (up to the
    /// configured grace period) and closes the rest.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let state = self.daemon.current();
        let limits = state.config.limits.clone();
        let (phase_tx, phase) = watch::channel(Phase::Running);
        let (task, mut tasks_done) = mpsc::channel::<()>(1);
        let task = TaskToken(task);
        let alt_svc = match (&self.quic, self.listener.local_addr()) {
            (Some(_), Ok(addr)) => {
                HeaderValue::from_str(&format!("h3=\":{}\"; ma=86400", addr.port())).ok()
            }
            _ => None,
        };
        let ctx = Arc::new(TcpContext::new(
            self.daemon.clone(),
            &limits,
            self.tls.as_ref(),
            alt_svc,
        ));
        let tcp_limit = ConnLimit::new(&state.metrics, "tcp", limits.max_connections);
        if let Some(endpoint) = &self.quic {
            tokio::spawn(crate::http::h3::serve(
                endpoint.clone(),
                crate::http::h3::H3Context::new(self.daemon.clone(), &limits, &state.metrics),
                phase.clone(),
                task.clone(),
            ));
        }
        drop(state);
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
                    let Some(slot) = tcp_limit.try_open() else {
                        tracing::debug!(%peer, "connection refused: limits.max_connections open");
                        drop(stream);
                        continue;
                    };
                    tokio::spawn(serve_tcp(
                        ctx.clone(),
                        stream,
                        peer,
                        phase.clone(),
                        slot,
                        task.clone(),
                    ));
                }
                () = &mut shutdown => break,
            }
        }
        drop(self.listener);
        self.daemon.start_draining();
        let _ = phase_tx.send(Phase::Draining);
        drop((task, phase));
        let grace = Duration::from_secs(limits.shutdown_grace_seconds);
        if tokio::time::timeout(grace, tasks_done.recv())
            .await
            .is_err()
        {
            tracing::warn!("shutdown grace period over; closing remaining connections");
            let _ = phase_tx.send(Phase::Closing);
            let _ = tokio::time::timeout(FORCED_CLOSE_WAIT, tasks_done.recv()).await;
        }
        if let Some(endpoint) = &self.quic {
            endpoint.close(0u32.into(), b"shutdown");
            let _ = tokio::time::timeout(FORCED_CLOSE_WAIT, endpoint.wait_idle()).await;
        }
    }
}

/// A response body that keeps its request counted as in progress until it is dropped.
struct TrackedBody {
    inner: PartsBody,
    _request: RequestGuard,
}

impl Body for TrackedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// What every TCP connection task shares.
struct TcpContext {
    daemon: Arc<Daemon>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    /// HTTP/1.1 or HTTP/2 by prior knowledge (cleartext, or TLS without ALPN).
    auto: Builder<TokioExecutor>,
    /// After ALPN chose one.
    http1: Builder<TokioExecutor>,
    http2: Builder<TokioExecutor>,
    alt_svc: Option<HeaderValue>,
    handshake_timeout: Duration,
    idle: IdleLimits,
}

impl TcpContext {
    fn new(
        daemon: Arc<Daemon>,
        limits: &LimitsConfig,
        tls: Option<&TlsSetup>,
        alt_svc: Option<HeaderValue>,
    ) -> Self {
        let header_timeout = Duration::from_secs(limits.header_read_timeout_seconds.max(1));
        let mut auto = Builder::new(TokioExecutor::new());
        auto.http1()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .max_buf_size(limits.max_header_bytes.max(MIN_H1_BUFFER));
        auto.http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(limits.max_streams_per_connection)
            .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX));
        TcpContext {
            daemon,
            tls: tls.map(|t| tokio_rustls::TlsAcceptor::from(t.tcp.clone())),
            http1: auto.clone().http1_only(),
            http2: auto.clone().http2_only(),
            auto,
            alt_svc,
            handshake_timeout: header_timeout,
            idle: IdleLimits::new(limits),
        }
    }
}

/// Serves one TCP connection to its end.
async fn serve_tcp(
    ctx: Arc<TcpContext>,
    stream: TcpStream,
    peer: SocketAddr,
    mut phase: watch::Receiver<Phase>,
    _slot: ConnSlot,
    _task: TaskToken,
) {
    let _ = stream.set_nodelay(true);
    let activity = Activity::new();
    let service = {
        let ctx = ctx.clone();
        let activity = activity.clone();
        service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            let request = activity.begin();
            let ctx = ctx.clone();
            req.extensions_mut().insert(ClientAddr(peer));
            async move {
                let mut response = handle(ctx.daemon.clone(), req).await;
                if let Some(alt_svc) = &ctx.alt_svc {
                    response
                        .headers_mut()
                        .insert(http::header::ALT_SVC, alt_svc.clone());
                }
                Ok::<_, Infallible>(response.map(|inner| TrackedBody {
                    inner,
                    _request: request,
                }))
            }
        })
    };
    let Some(acceptor) = &ctx.tls else {
        let conn = ctx.auto.serve_connection(TokioIo::new(stream), service);
        drive(conn, &activity, ctx.idle, phase).await;
        return;
    };
    let handshake = tokio::time::timeout(ctx.handshake_timeout, acceptor.accept(stream));
    let stream = tokio::select! {
        result = handshake => match result {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "TLS handshake timed out");
                return;
            }
        },
        () = stopping(&mut phase) => return,
    };
    let builder = match stream.get_ref().1.alpn_protocol() {
        Some(b"h2") => &ctx.http2,
        Some(b"http/1.1") => &ctx.http1,
        _ => &ctx.auto,
    };
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    drive(conn, &activity, ctx.idle, phase).await;
}

/// Polls an HTTP connection to its end, shutting it down gracefully when it has waited
/// too long for requests (see [`Activity::idle_deadline`]) or the server drains, and
/// dropping it when the server closes.
///
/// A graceful shutdown can wait on the peer (HTTP/2 sends GOAWAY and a PING, and closes
/// once the PING is answered; hyper finishes the HTTP/2 handshake first), so once one is
/// under way a connection with no request in progress is dropped after [`GOAWAY_WAIT`]:
/// a silent or stalled peer cannot hold its slot, nor delay the end of a drain.
async fn drive<C>(conn: C, activity: &Activity, idle: IdleLimits, mut phase: watch::Receiver<Phase>)
where
    C: GracefulConnection,
    C::Error: std::fmt::Display,
{
    tokio::pin!(conn);
    // When a graceful shutdown is under way: when to drop the connection if it is idle.
    let mut drop_at: Option<Instant> = None;
    loop {
        let now = *phase.borrow_and_update();
        match now {
            Phase::Closing => return,
            Phase::Draining if drop_at.is_none() => {
                conn.as_mut().graceful_shutdown();
                drop_at = Some(Instant::now() + GOAWAY_WAIT);
            }
            _ => {}
        }
        let deadline = match drop_at {
            Some(at) => at,
            None => activity
                .idle_deadline(idle)
                .unwrap_or_else(|| Instant::now() + idle.idle),
        };
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            changed = phase.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            () = tokio::time::sleep_until(deadline) => {
                let idle_over = activity
                    .idle_deadline(idle)
                    .is_some_and(|d| d <= Instant::now());
                match drop_at {
                    None if idle_over => {
                        tracing::debug!("closing a connection that waited too long for requests");
                        conn.as_mut().graceful_shutdown();
                        drop_at = Some(Instant::now() + GOAWAY_WAIT);
                    }
                    None => {}
                    Some(_) if activity.idle_deadline(idle).is_some() => {
                        tracing::debug!("dropping a connection that did not close after GOAWAY");
                        return;
                    }
                    // A request is still in progress: it may finish.
                    Some(_) => drop_at = Some(Instant::now() + GOAWAY_WAIT),
                }
            }
        }
    }
}
