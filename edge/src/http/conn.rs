//! What the TCP and QUIC listeners share about their connections: the server's phase
//! (running, draining, closing), the count of open connections against
//! `limits.max_connections`, and each connection's activity (requests in progress and
//! when it last had one), which drives the idle and first-request timeouts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus::{IntCounter, IntGauge};
use tokio::sync::{mpsc, watch, Notify};
use tokio::time::Instant;

use crate::config::LimitsConfig;
use crate::ops::metrics::Metrics;

/// Where the server is in its life; every connection task watches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Running,
    /// Shutting down: finish what is in flight, accept nothing new.
    Draining,
    /// The grace period is over: close now.
    Closing,
}

/// Held by every connection task; the server knows all have ended when the last is gone.
#[derive(Clone)]
pub(crate) struct TaskToken(#[allow(dead_code)] pub(crate) mpsc::Sender<()>);

/// The open connections of one transport, against `limits.max_connections`.
pub(crate) struct ConnLimit {
    open: AtomicUsize,
    max: usize,
    gauge: IntGauge,
    refused: IntCounter,
}

impl ConnLimit {
    pub(crate) fn new(metrics: &Metrics, transport: &str, max: usize) -> Arc<Self> {
        Arc::new(ConnLimit {
            open: AtomicUsize::new(0),
            max,
            gauge: metrics.connections.with_label_values(&[transport]),
            refused: metrics.connections_refused.with_label_values(&[transport]),
        })
    }

    /// A slot for a new connection, or `None` (counted as refused) when all are taken.
    pub(crate) fn try_open(self: &Arc<Self>) -> Option<ConnSlot> {
        let taken = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_ok();
        if !taken {
            self.refused.inc();
            return None;
        }
        self.gauge.inc();
        Some(ConnSlot(self.clone()))
    }
}

/// One open connection; frees its slot when dropped.
pub(crate) struct ConnSlot(Arc<ConnLimit>);

impl Drop for ConnSlot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
        self.0.gauge.dec();
    }
}

/// How long a connection may wait for requests (see [`Activity::idle_deadline`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdleLimits {
    /// For the first request's head: `header_read_timeout_seconds`.
    pub(crate) first: Duration,
    /// Between requests: `idle_timeout_seconds`.
    pub(crate) idle: Duration,
}

impl IdleLimits {
    pub(crate) fn new(limits: &LimitsConfig) -> Self {
        IdleLimits {
            first: Duration::from_secs(limits.header_read_timeout_seconds.max(1)),
            idle: Duration::from_secs(limits.idle_timeout_seconds.max(1)),
        }
    }
}

/// The requests in progress on one connection, and since when it has had none.
pub(crate) struct Activity {
    state: Mutex<ActivityState>,
    idle: Notify,
}

struct ActivityState {
    in_flight: usize,
    /// Whether any request has started on the connection.
    started: bool,
    /// The connection's start, or the end of its last request.
    idle_since: Instant,
}

impl Activity {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Activity {
            state: Mutex::new(ActivityState {
                in_flight: 0,
                started: false,
                idle_since: Instant::now(),
            }),
            idle: Notify::new(),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ActivityState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks a request as started; it ends when the guard is dropped.
    pub(crate) fn begin(self: &Arc<Self>) -> RequestGuard {
        let mut s = self.state();
        s.in_flight += 1;
        s.started = true;
        drop(s);
        RequestGuard(self.clone())
    }

    /// When the connection is to be closed for want of requests: `first` after it opened
    /// when no request has started on it yet (the first request's head is late), else
    /// `idle` after its last request ended. `None` while a request is in progress.
    pub(crate) fn idle_deadline(&self, limits: IdleLimits) -> Option<Instant> {
        let s = self.state();
        let wait = if s.started {
            limits.idle
        } else {
            limits.first.min(limits.idle)
        };
        (s.in_flight == 0).then(|| s.idle_since + wait)
    }

    /// Resolves once no request is in progress.
    pub(crate) async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.state().in_flight == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// A request in progress (see [`Activity::begin`]).
pub(crate) struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let mut s = self.0.state();
        s.in_flight = s.in_flight.saturating_sub(1);
        if s.in_flight == 0 {
            s.idle_since = Instant::now();
            drop(s);
            self.0.idle.notify_waiters();
        }
    }
}

/// Resolves once the server is no longer running.
pub(crate) async fn stopping(phase: &mut watch::Receiver<Phase>) {
    let _ = phase.wait_for(|p| *p != Phase::Running).await;
}
