//! Metrics of server-side ad insertion: sessions, ad server requests by result and latency,
//! breaks filled or skipped (and why, MediaTailor's ad skipping reasons), ads played or left
//! out, beacons by result, and the conditioning pool. Every label takes a fixed set of values.

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

use crate::ops::register::counter;

pub struct AdsMetrics {
    /// Ad sessions started.
    pub sessions: IntCounter,
    /// Ad server requests (a break's first answer) by `result` (`filled`, `empty`, `timeout`,
    /// `error`).
    pub requests: IntCounterVec,
    /// Time a break's decision took, wrappers included.
    pub request_duration: Histogram,
    /// How far after its cue each break was placed (the next content segment boundary).
    pub break_drift: Histogram,
    /// Breaks by `result`: `filled`, or the reason nothing plays (`timeout`, `empty`,
    /// `error`, `no_fit`, `not_ready`).
    pub breaks: IntCounterVec,
    /// Ads by `result`: `played` (in a plan), `not_ready` (conditioning, VAST 407), `no_fit`
    /// (no usable media file, 403), `failed` (wrapper or creative errors).
    pub ads: IntCounterVec,
    /// Beacons by `result` (`queued`, `sent`, `failed`, `retried`, `duplicate`, `dropped`,
    /// `refused`).
    pub beacons: IntCounterVec,
    /// Conditioning jobs by `result` (`queued`, `done`, `failed`), and those running.
    pub conditioning: IntCounterVec,
    pub conditioning_running: IntGauge,
}

impl AdsMetrics {
    pub fn new(r: &Registry) -> prometheus::Result<AdsMetrics> {
        let conditioning_running = IntGauge::with_opts(Opts::new(
            "edgepack_ad_conditioning_running",
            "Creative conditioning jobs (ffmpeg) running now.",
        ))?;
        r.register(Box::new(conditioning_running.clone()))?;
        Ok(AdsMetrics {
            sessions: {
                let c = IntCounter::with_opts(Opts::new(
                    "edgepack_ad_sessions_total",
                    "Ad sessions started.",
                ))?;
                r.register(Box::new(c.clone()))?;
                c
            },
            requests: counter(
                r,
                "edgepack_ad_requests_total",
                "Ad server requests for a break, by result (filled, empty, timeout, error).",
                &["result"],
            )?,
            request_duration: {
                let h = Histogram::with_opts(
                    HistogramOpts::new(
                        "edgepack_ad_request_duration_seconds",
                        "Time a break's ad decision took, wrappers included.",
                    )
                    .buckets(vec![0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0]),
                )?;
                r.register(Box::new(h.clone()))?;
                h
            },
            break_drift: {
                let h = Histogram::with_opts(
                    HistogramOpts::new(
                        "edgepack_ad_break_drift_seconds",
                        "How far after its cue a break was placed (the next content segment boundary).",
                    )
                    .buckets(vec![0.0, 0.04, 0.5, 1.0, 2.0, 4.0, 6.0, 10.0]),
                )?;
                r.register(Box::new(h.clone()))?;
                h
            },
            breaks: counter(
                r,
                "edgepack_ad_breaks_total",
                "Ad breaks planned, by result (filled, or why nothing plays: timeout, empty, error, no_fit, not_ready).",
                &["result"],
            )?,
            ads: counter(
                r,
                "edgepack_ads_total",
                "Ads the ad server gave, by result (played, not_ready, no_fit, failed).",
                &["result"],
            )?,
            beacons: counter(
                r,
                "edgepack_ad_beacons_total",
                "Beacons (impressions, tracking, errors) by result (queued, sent, failed, retried, duplicate, dropped, refused).",
                &["result"],
            )?,
            conditioning: counter(
                r,
                "edgepack_ad_conditioning_jobs_total",
                "Creative conditioning jobs, by result (queued, done, failed).",
                &["result"],
            )?,
            conditioning_running,
        }
        .with_children())
    }

    /// Every child of the families with a fixed set of labels, at zero, so dashboards and
    /// alerts see a series before the first event of its kind.
    fn with_children(self) -> AdsMetrics {
        for r in ["filled", "empty", "timeout", "error"] {
            self.requests.with_label_values(&[r]);
        }
        for r in ["filled", "timeout", "empty", "error", "no_fit", "not_ready"] {
            self.breaks.with_label_values(&[r]);
        }
        for r in ["played", "not_ready", "no_fit", "failed"] {
            self.ads.with_label_values(&[r]);
        }
        for r in ["queued", "done", "failed"] {
            self.conditioning.with_label_values(&[r]);
        }
        for r in [
            "queued",
            "sent",
            "failed",
            "retried",
            "duplicate",
            "dropped",
            "refused",
        ] {
            self.beacons.with_label_values(&[r]);
        }
        self
    }

    /// Metrics on a registry of their own (tests, and tools that use one part alone).
    pub fn unregistered() -> prometheus::Result<AdsMetrics> {
        AdsMetrics::new(&Registry::new())
    }
}
