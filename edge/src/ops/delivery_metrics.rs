//! Metrics of multi-CDN delivery: each CDN's health and probes, steering answers and the
//! pathway they put first, sessions by starting pathway, failovers players report, and the
//! throughput they measure. Labels are the configured CDN ids, so their number is bounded.

use prometheus::{HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry};

use crate::ops::register::{counter, histogram};

pub struct DeliveryMetrics {
    /// 1 while a CDN may carry sessions (up or ramping back), 0 while it is out.
    pub cdn_up: IntGaugeVec,
    /// Health changes by `cdn` and `to` (`down`, `back`).
    pub cdn_transitions: IntCounterVec,
    /// Probes by `cdn` and `result` (`ok`, `status`, `timeout`, `error`).
    pub probes: IntCounterVec,
    pub probe_duration: HistogramVec,
    /// Steering answers by `format` (`hls`, `dash`) and the pathway put `first`.
    pub steering_answers: IntCounterVec,
    /// Steering requests refused (a query that cannot be read), by `reason`.
    pub steering_refused: IntCounterVec,
    /// Sessions started (a steered multivariant playlist or MPD served) by `pathway`.
    pub sessions: IntCounterVec,
    /// Players that reported being on another pathway than the one put first (`from` → `to`).
    pub failovers: IntCounterVec,
    /// Throughput players report, in bytes per second (they send bits), by the pathway
    /// they are on.
    pub reported_throughput: HistogramVec,
}

impl DeliveryMetrics {
    pub fn new(r: &Registry) -> prometheus::Result<DeliveryMetrics> {
        let cdn_up = IntGaugeVec::new(
            Opts::new(
                "edgepack_cdn_up",
                "1 while a CDN may carry sessions (up, or ramping back after an outage), 0 while it is out.",
            ),
            &["cdn"],
        )?;
        r.register(Box::new(cdn_up.clone()))?;
        Ok(DeliveryMetrics {
            cdn_up,
            cdn_transitions: counter(
                r,
                "edgepack_cdn_transitions_total",
                "CDN health changes, by cdn and to (down, back).",
                &["cdn", "to"],
            )?,
            probes: counter(
                r,
                "edgepack_cdn_probes_total",
                "Health probes through each CDN, by result (ok, status, timeout, error).",
                &["cdn", "result"],
            )?,
            probe_duration: histogram(
                r,
                "edgepack_cdn_probe_duration_seconds",
                "Time a health probe through a CDN took to answer.",
                &["cdn"],
                vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
            )?,
            steering_answers: counter(
                r,
                "edgepack_steering_answers_total",
                "Content steering answers, by format (hls, dash) and the pathway put first.",
                &["format", "first"],
            )?,
            steering_refused: counter(
                r,
                "edgepack_steering_refused_total",
                "Steering requests refused because their query could not be read, by reason.",
                &["reason"],
            )?,
            sessions: counter(
                r,
                "edgepack_steering_sessions_total",
                "Steered playback sessions started (multivariant playlist or MPD served), by the pathway they start on.",
                &["pathway"],
            )?,
            failovers: counter(
                r,
                "edgepack_cdn_failovers_total",
                "Players that reported being on another pathway than the one they were told to use first, by from and to.",
                &["from", "to"],
            )?,
            reported_throughput: histogram(
                r,
                "edgepack_steering_reported_throughput_bytes",
                "Throughput players report in steering requests, in bytes per second, by the pathway they are on.",
                &["cdn"],
                vec![62.5e3, 125e3, 250e3, 500e3, 1e6, 2e6, 4e6, 8e6, 16e6],
            )?,
        })
    }
}
