//! Metrics of playback access: decisions by result, revocations received and how long they
//! took to arrive, the shared store's operations, errors and reachability, and the sessions
//! and accounts this node sees playing.

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Registry};

use crate::ops::register::counter;

pub struct AccessMetrics {
    /// Access decisions by result (`allowed`, or the refusal's label).
    pub decisions: IntCounterVec,
    /// `decisions{result="allowed"}`, resolved once: it counts every allowed request.
    pub allowed: prometheus::IntCounter,
    pub revocations_received: IntCounterVec,
    pub revocation_lag: HistogramVec,
    pub revocations_known: IntGauge,
    pub store_operations: IntCounterVec,
    /// 1 while the shared store answers (the in-process store always does).
    pub store_up: IntGauge,
    pub sessions_active: IntGauge,
    pub accounts_active: IntGauge,
    pub renewals: IntCounterVec,
    pub token_reuse: IntCounterVec,
}

/// Revocation lag buckets: from a millisecond to 10 s (the promise is under a second).
const LAG_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

fn gauge(r: &Registry, name: &str, help: &str) -> prometheus::Result<IntGauge> {
    let g = IntGauge::new(name, help)?;
    r.register(Box::new(g.clone()))?;
    Ok(g)
}

impl AccessMetrics {
    pub fn new(r: &Registry) -> prometheus::Result<AccessMetrics> {
        let revocation_lag = HistogramVec::new(
            HistogramOpts::new(
                "edgepack_access_revocation_lag_seconds",
                "Time from a revocation call (on any node) to this node knowing it.",
            )
            .buckets(LAG_BUCKETS.to_vec()),
            &["source"],
        )?;
        r.register(Box::new(revocation_lag.clone()))?;
        let decisions = counter(
            r,
            "edgepack_access_decisions_total",
            "Access decisions on token-protected requests, by result (allowed or the reason refused).",
            &["result"],
        )?;
        let m = AccessMetrics {
            allowed: decisions.with_label_values(&["allowed"]),
            decisions,
            revocations_received: counter(
                r,
                "edgepack_access_revocations_received_total",
                "Revocations this node learnt, by source (api: posted here; stream: from the store).",
                &["source"],
            )?,
            revocation_lag,
            revocations_known: gauge(
                r,
                "edgepack_access_revocations_known",
                "Revocations in force in this node's memory.",
            )?,
            store_operations: counter(
                r,
                "edgepack_access_store_operations_total",
                "Calls to the shared access store, by operation and result (ok or error).",
                &["op", "result"],
            )?,
            store_up: gauge(
                r,
                "edgepack_access_store_up",
                "1 while the shared access store answers, 0 while it cannot be reached.",
            )?,
            sessions_active: gauge(
                r,
                "edgepack_access_sessions_active",
                "Playback sessions seen on this node within the session timeout.",
            )?,
            accounts_active: gauge(
                r,
                "edgepack_access_accounts_active",
                "Accounts with a session seen on this node within the session timeout.",
            )?,
            renewals: counter(
                r,
                "edgepack_access_token_renewals_total",
                "Tokens renewed (catr), by how the new token was delivered.",
                &["delivery"],
            )?,
            token_reuse: counter(
                r,
                "edgepack_access_token_reuse_total",
                "Single-use or reuse-detected tokens (catreplay) presented again, by outcome.",
                &["outcome"],
            )?,
        };
        m.store_up.set(1);
        Ok(m)
    }

    pub fn store_op(&self, op: &str, ok: bool) {
        self.store_operations
            .with_label_values(&[op, if ok { "ok" } else { "error" }])
            .inc();
        self.store_up.set(i64::from(ok));
    }

    /// A revocation that arrived through the store's stream, `lag_ms` after it was made.
    pub fn revocation_received(&self, lag_ms: u64) {
        self.revocations_received
            .with_label_values(&["stream"])
            .inc();
        self.revocation_lag
            .with_label_values(&["stream"])
            .observe(lag_ms as f64 / 1000.0);
    }
}
