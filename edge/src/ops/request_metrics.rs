//! The request metrics (count by kind, status and protocol; latency and body bytes by kind)
//! and the series every request updates, resolved on first use and kept: by kind the
//! latency histogram and the bytes counter, and the request counter of a 200 by protocol.
//! `with_label_values` hashes the labels and takes a lock each call; it was called five
//! times a request, about 2% of the core serving playlists. Other statuses and unknown
//! kinds take the labelled way.

use std::sync::OnceLock;

use http::StatusCode;
use prometheus::{Histogram, HistogramVec, IntCounter, IntCounterVec};

/// Route kinds (`Route::kind`) whose series are kept.
const KINDS: [&str; 12] = [
    "health",
    "metrics",
    "multivariant",
    "mpd",
    "media_playlist",
    "init",
    "cmaf_segment",
    "ts_segment",
    "subtitle_playlist",
    "subtitle",
    "key",
    "license",
];

/// Protocol labels whose 200 counters are kept.
const PROTOCOLS: [&str; 5] = ["http/1.1", "h2", "h3", "http/1.0", "http/0.9"];

#[derive(Default)]
struct KindSeries {
    duration: OnceLock<Histogram>,
    bytes: OnceLock<IntCounter>,
    ok: [OnceLock<IntCounter>; PROTOCOLS.len()],
}

/// The request metrics and their kept series, one set per kind.
pub struct RequestMetrics {
    /// `kind` (route kind), `status`, `protocol` (`http/1.1`, `h2`, `h3`).
    pub requests: IntCounterVec,
    /// Time from request to response headers, by `kind`.
    pub duration: HistogramVec,
    /// Response body bytes, by `kind`.
    pub bytes: IntCounterVec,
    kinds: [KindSeries; KINDS.len()],
}

/// What one request adds to the metrics.
pub struct RequestRecord<'a> {
    pub kind: &'a str,
    pub status: StatusCode,
    pub protocol: &'a str,
    pub seconds: f64,
    pub body_len: Option<u64>,
}

impl RequestMetrics {
    /// Keeps the series of these (registered) metrics.
    pub fn new(requests: IntCounterVec, duration: HistogramVec, bytes: IntCounterVec) -> Self {
        RequestMetrics {
            requests,
            duration,
            bytes,
            kinds: Default::default(),
        }
    }

    /// Counts one request: its status, latency and bytes.
    pub fn record(&self, r: &RequestRecord<'_>) {
        let Some(series) = KINDS
            .iter()
            .position(|&k| k == r.kind)
            .and_then(|i| self.kinds.get(i))
        else {
            self.requests
                .with_label_values(&[r.kind, r.status.as_str(), r.protocol])
                .inc();
            self.duration
                .with_label_values(&[r.kind])
                .observe(r.seconds);
            if let Some(len) = r.body_len {
                self.bytes.with_label_values(&[r.kind]).inc_by(len);
            }
            return;
        };
        let ok = PROTOCOLS
            .iter()
            .position(|&p| p == r.protocol)
            .and_then(|i| series.ok.get(i))
            .filter(|_| r.status == StatusCode::OK);
        match ok {
            Some(counter) => counter
                .get_or_init(|| {
                    self.requests
                        .with_label_values(&[r.kind, "200", r.protocol])
                })
                .inc(),
            None => self
                .requests
                .with_label_values(&[r.kind, r.status.as_str(), r.protocol])
                .inc(),
        }
        series
            .duration
            .get_or_init(|| self.duration.with_label_values(&[r.kind]))
            .observe(r.seconds);
        if let Some(len) = r.body_len {
            series
                .bytes
                .get_or_init(|| self.bytes.with_label_values(&[r.kind]))
                .inc_by(len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::metrics::Metrics;

    fn record(m: &Metrics, kind: &str, status: StatusCode, protocol: &str, len: Option<u64>) {
        m.requests.record(&RequestRecord {
            kind,
            status,
            protocol,
            seconds: 0.001,
            body_len: len,
        });
    }

    /// Kept series and labelled ones count into the same metrics.
    #[test]
    fn kept_and_labelled_series_agree() {
        let m = Metrics::new().unwrap();
        for _ in 0..3 {
            record(&m, "mpd", StatusCode::OK, "h2", Some(10));
        }
        record(&m, "mpd", StatusCode::NOT_FOUND, "h2", Some(5));
        record(&m, "mpd", StatusCode::OK, "http/2.5", None);
        record(&m, "unknown", StatusCode::OK, "http/1.1", Some(7));
        let count = |kind: &str, status: &str, protocol: &str| {
            m.requests
                .requests
                .with_label_values(&[kind, status, protocol])
                .get()
        };
        assert_eq!(count("mpd", "200", "h2"), 3);
        assert_eq!(count("mpd", "404", "h2"), 1);
        assert_eq!(count("mpd", "200", "http/2.5"), 1);
        assert_eq!(count("unknown", "200", "http/1.1"), 1);
        assert_eq!(m.requests.bytes.with_label_values(&["mpd"]).get(), 35);
        assert_eq!(m.requests.bytes.with_label_values(&["unknown"]).get(), 7);
        let h = m.requests.duration.with_label_values(&["mpd"]);
        assert_eq!(h.get_sample_count(), 5);
    }

    /// Every route kind has kept series.
    #[test]
    fn every_route_kind_is_kept() {
        for path in [
            "/healthz",
            "/metrics",
            "/vod/a/master.m3u8",
            "/vod/a/manifest.mpd",
            "/vod/a/v1/media.m3u8",
            "/vod/a/v1/init.mp4",
            "/vod/a/v1/1.m4s",
            "/vod/a/ts/v1/1.ts",
            "/vod/a/sub/en/media.m3u8",
            "/vod/a/sub/en.vtt",
            "/vod/a/license/clearkey",
        ] {
            let route = crate::pipeline::route::parse_route(path).expect(path);
            assert!(KINDS.contains(&route.kind()), "{path}: {}", route.kind());
        }
    }
}
