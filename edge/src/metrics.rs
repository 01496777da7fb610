//! Prometheus metrics: requests by kind and status, latency, bytes sent, packaging time,
//! in-flight requests and build info. Names follow Prometheus conventions.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// The daemon's metrics, registered in their own registry.
pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub request_duration: HistogramVec,
    pub response_bytes: IntCounterVec,
    pub packaging_duration: HistogramVec,
    pub in_flight: IntGauge,
}

const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

impl Metrics {
    /// Creates and registers every metric. Registration only fails on duplicate names,
    /// which would be a programming error caught by the tests.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("edgepack_http_requests_total", "HTTP requests served."),
            &["kind", "status"],
        )?;
        let request_duration = HistogramVec::new(
            HistogramOpts::new(
                "edgepack_http_request_duration_seconds",
                "Time from request to response headers, by kind of object.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["kind"],
        )?;
        let response_bytes = IntCounterVec::new(
            Opts::new(
                "edgepack_http_response_body_bytes_total",
                "Response body bytes sent.",
            ),
            &["kind"],
        )?;
        let packaging_duration = HistogramVec::new(
            HistogramOpts::new(
                "edgepack_packaging_duration_seconds",
                "Time spent building an object (reading the source included), by output kind.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["output"],
        )?;
        let in_flight = IntGauge::new(
            "edgepack_http_requests_in_flight",
            "Requests being served now.",
        )?;
        let build_info = IntGaugeVec::new(
            Opts::new("edgepack_build_info", "Version of the running daemon."),
            &["version"],
        )?;
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(request_duration.clone()))?;
        registry.register(Box::new(response_bytes.clone()))?;
        registry.register(Box::new(packaging_duration.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(build_info))?;
        Ok(Metrics {
            registry,
            requests,
            request_duration,
            response_bytes,
            packaging_duration,
            in_flight,
        })
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let encoder = TextEncoder::new();
        if encoder.encode(&self.registry.gather(), &mut buf).is_err() {
            return String::new();
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_registered_metrics() {
        let m = Metrics::new().unwrap();
        m.requests.with_label_values(&["mpd", "200"]).inc();
        let text = m.render();
        assert!(text.contains("edgepack_http_requests_total{kind=\"mpd\",status=\"200\"} 1"));
        assert!(text.contains("edgepack_build_info"));
    }
}
