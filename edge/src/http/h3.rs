//! HTTP/3: QUIC (quinn) on the listen port over UDP, with the HTTP/3 framing of the `h3`
//! crate. This is the only module that uses `h3`, which is young (0.0.x): its types stay
//! inside. Each request becomes an `http::Request` (version HTTP/3, with the client's
//! address) for the same [`handle`] as TCP, with its body read into memory up to a small
//! bound (the only request with a body is a ClearKey license request).
//!
//! Limits: `max_connections` counts QUIC connections apart from TCP (over it the
//! connection is refused); `max_streams_per_connection` is QUIC's concurrent
//! bidirectional stream limit; `idle_timeout_seconds` is QUIC's idle timeout (no packets,
//! for dead peers) and, as for TCP, a connection with no request in progress for that long
//! is sent GOAWAY and closed, as is one on which no request starts within
//! `header_read_timeout_seconds`; `max_header_bytes` is the field section size limit; the
//! handshake and each request's head and body must come within
//! `header_read_timeout_seconds`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ::h3::error::Code;
use ::h3::server::{RequestResolver, RequestStream};
use bytes::{Bytes, BytesMut};
use http::{Request, Response, Version};
use http_body_util::{BodyExt, Full};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::LimitsConfig;
use crate::daemon::Daemon;
use crate::http::conn::{
    stopping, Activity, ConnLimit, ConnSlot, IdleLimits, Phase, RequestGuard, TaskToken,
};
use crate::http::tls::TlsSetup;
use crate::http::ClientAddr;
use crate::ops::metrics::Metrics;
use crate::pipeline::handle;

/// Largest request body read (a ClearKey license request is well under 1 KiB); one more
/// byte is kept so that the handler sees, and rejects, a body that is too large.
const MAX_REQUEST_BODY: usize = 16 * 1024;

type H3Conn = ::h3::server::Connection<h3_quinn::Connection, Bytes>;
type H3Stream = RequestStream<h3_quinn::BidiStream<Bytes>, Bytes>;

/// Binds the UDP socket at `addr` and sets up the QUIC endpoint with the TLS configuration
/// for QUIC and the transport limits.
pub(crate) fn bind(
    addr: SocketAddr,
    tls: &TlsSetup,
    limits: &LimitsConfig,
) -> std::io::Result<quinn::Endpoint> {
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls.quic.clone())
        .map_err(|e| std::io::Error::other(format!("TLS configuration unfit for QUIC: {e}")))?;
    let mut server = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    let mut transport = quinn::TransportConfig::default();
    transport
        .max_concurrent_bidi_streams(quinn::VarInt::from_u32(limits.max_streams_per_connection));
    let idle_ms = limits.idle_timeout_seconds.max(1).saturating_mul(1000);
    transport.max_idle_timeout(Some(quinn::IdleTimeout::from(quinn::VarInt::from_u32(
        u32::try_from(idle_ms).unwrap_or(u32::MAX),
    ))));
    server.transport_config(Arc::new(transport));
    let socket = std::net::UdpSocket::bind(addr)?;
    quinn::Endpoint::new(
        quinn::EndpointConfig::default(),
        Some(server),
        socket,
        Arc::new(quinn::TokioRuntime),
    )
}

/// What every QUIC connection task shares.
pub(crate) struct H3Context {
    daemon: Arc<Daemon>,
    limit: Arc<ConnLimit>,
    header_timeout: Duration,
    idle: IdleLimits,
    max_header_bytes: u64,
}

impl H3Context {
    pub(crate) fn new(daemon: Arc<Daemon>, limits: &LimitsConfig, metrics: &Metrics) -> Arc<Self> {
        Arc::new(H3Context {
            daemon,
            limit: ConnLimit::new(metrics, "quic", limits.max_connections),
            header_timeout: Duration::from_secs(limits.header_read_timeout_seconds.max(1)),
            idle: IdleLimits::new(limits),
            max_header_bytes: limits.max_header_bytes as u64,
        })
    }
}

/// Accepts QUIC connections until the server stops running; then new connections are
/// refused and the open ones are drained by their own tasks.
pub(crate) async fn serve(
    endpoint: quinn::Endpoint,
    ctx: Arc<H3Context>,
    mut phase: watch::Receiver<Phase>,
    task: TaskToken,
) {
    loop {
        tokio::select! {
            incoming = endpoint.accept() => {
                let Some(incoming) = incoming else { break };
                let Some(slot) = ctx.limit.try_open() else {
                    tracing::debug!(
                        peer = %incoming.remote_address(),
                        "QUIC connection refused: limits.max_connections open"
                    );
                    incoming.refuse();
                    continue;
                };
                tokio::spawn(serve_connection(
                    incoming,
                    ctx.clone(),
                    phase.clone(),
                    slot,
                    task.clone(),
                ));
            }
            () = stopping(&mut phase) => break,
        }
    }
    endpoint.set_server_config(None);
}

/// Serves one QUIC connection to its end.
async fn serve_connection(
    incoming: quinn::Incoming,
    ctx: Arc<H3Context>,
    mut phase: watch::Receiver<Phase>,
    _slot: ConnSlot,
    _task: TaskToken,
) {
    let peer = incoming.remote_address();
    let connecting = match incoming.accept() {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(%peer, error = %e, "QUIC connection not accepted");
            return;
        }
    };
    let conn = match tokio::time::timeout(ctx.header_timeout, connecting).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "QUIC handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "QUIC handshake timed out");
            return;
        }
    };
    let mut builder = ::h3::server::builder();
    builder.max_field_section_size(ctx.max_header_bytes);
    let built = builder.build(h3_quinn::Connection::new(conn));
    let mut h3: H3Conn = match tokio::time::timeout(ctx.header_timeout, built).await {
        Ok(Ok(h3)) => h3,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "HTTP/3 connection setup failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "HTTP/3 connection setup timed out");
            return;
        }
    };
    let activity = Activity::new();
    let mut closing = false;
    // Dropping `h3` closes the QUIC connection (H3_NO_ERROR), so this loop lasts until no
    // request is in progress once closing has begun.
    loop {
        let now = *phase.borrow_and_update();
        let idle_over = activity
            .idle_deadline(ctx.idle)
            .is_some_and(|d| d <= Instant::now());
        match now {
            Phase::Closing => break,
            Phase::Draining if !closing => {
                closing = true;
                go_away(&mut h3, peer).await;
            }
            Phase::Running if !closing && idle_over => {
                tracing::debug!(%peer, "closing an idle HTTP/3 connection");
                closing = true;
                go_away(&mut h3, peer).await;
            }
            _ => {}
        }
        let deadline = activity
            .idle_deadline(ctx.idle)
            .unwrap_or_else(|| Instant::now() + ctx.idle.idle);
        tokio::select! {
            accepted = h3.accept() => match accepted {
                Ok(Some(resolver)) => {
                    let request = activity.begin();
                    tokio::spawn(serve_request(resolver, ctx.clone(), peer, request));
                }
                Ok(None) => break,
                Err(e) => {
                    if !e.is_h3_no_error() {
                        tracing::debug!(%peer, error = %e, "HTTP/3 connection ended with an error");
                    }
                    break;
                }
            },
            changed = phase.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            () = tokio::time::sleep_until(deadline), if !closing => {}
            () = activity.wait_idle(), if closing => break,
        }
    }
}

/// Tells the client that no new request will be accepted (the ones already accepted
/// finish).
async fn go_away(h3: &mut H3Conn, peer: SocketAddr) {
    // h3 accepts streams up to and including the id it sends, so 1 here announces the
    // first stream id it will not process, as RFC 9114 defines GOAWAY.
    if let Err(e) = h3.shutdown(1).await {
        tracing::debug!(%peer, error = %e, "cannot send HTTP/3 GOAWAY");
    }
}

/// Reads one request, has it handled, and sends the response.
async fn serve_request(
    resolver: RequestResolver<h3_quinn::Connection, Bytes>,
    ctx: Arc<H3Context>,
    peer: SocketAddr,
    _request: RequestGuard,
) {
    let (req, mut stream) =
        match tokio::time::timeout(ctx.header_timeout, resolver.resolve_request()).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "cannot read an HTTP/3 request head");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "HTTP/3 request head timed out");
                return;
            }
        };
    let body = match tokio::time::timeout(ctx.header_timeout, read_body(&mut stream)).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "cannot read an HTTP/3 request body");
            stream.stop_stream(Code::H3_REQUEST_INCOMPLETE);
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "HTTP/3 request body timed out");
            stream.stop_stream(Code::H3_REQUEST_INCOMPLETE);
            return;
        }
    };
    let (mut parts, ()) = req.into_parts();
    parts.version = Version::HTTP_3;
    parts.extensions.insert(ClientAddr(peer));
    let response = handle(
        ctx.daemon.clone(),
        Request::from_parts(parts, Full::new(body)),
    )
    .await;
    if let Err(e) = send_response(&mut stream, response).await {
        if !e.is_h3_no_error() {
            tracing::debug!(%peer, error = %e, "cannot send an HTTP/3 response");
        }
    }
}

/// The request body, at most [`MAX_REQUEST_BODY`] + 1 bytes (what is past that is not
/// read: the handler rejects such a body anyway).
async fn read_body(stream: &mut H3Stream) -> Result<Bytes, ::h3::error::StreamError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = stream.recv_data().await? {
        bytes::BufMut::put(&mut body, chunk);
        if body.len() > MAX_REQUEST_BODY {
            body.truncate(MAX_REQUEST_BODY + 1);
            stream.stop_sending(Code::H3_NO_ERROR);
            break;
        }
    }
    Ok(body.freeze())
}

async fn send_response(
    stream: &mut H3Stream,
    response: Response<crate::http::body::PartsBody>,
) -> Result<(), ::h3::error::StreamError> {
    let (parts, mut body) = response.into_parts();
    stream
        .send_response(Response::from_parts(parts, ()))
        .await?;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame;
        if let Ok(data) = frame.into_data() {
            stream.send_data(data).await?;
        }
    }
    stream.finish().await
}
