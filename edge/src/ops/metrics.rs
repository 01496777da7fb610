//! Prometheus metrics, the set an operator watches: requests by kind, status and protocol;
//! latency; bytes sent; connections; caches (hits, misses, evictions, bytes, stale answers);
//! origin reads (requests, latency, errors, retries, breaker state); packaging time per
//! output kind; config reloads; build and process information. Names follow Prometheus
//! conventions: `edgepack_` prefix, base units, `_total` counters.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::ops::process_memory::ProcessMemory;
use crate::ops::register::counter;
use crate::ops::request_metrics::RequestMetrics;

/// The daemon's metrics, registered in their own registry.
pub struct Metrics {
    registry: Registry,
    /// Requests by kind, status and protocol; latency and body bytes by kind.
    pub requests: RequestMetrics,
    pub packaging_duration: HistogramVec,
    pub in_flight: IntGauge,
    /// Open client connections by `transport` (`tcp`, `quic`).
    pub connections: IntGaugeVec,
    /// Connections closed at once because `limits.max_connections` were open.
    pub connections_refused: IntCounterVec,
    /// Cache lookups by `cache` (`response`, `metadata`, `title`, `opening`: titles planned
    /// from their sources' openings) and `result` (`hit`, `miss`).
    pub cache_requests: IntCounterVec,
    pub cache_evictions: IntCounterVec,
    /// Bytes held, by `cache`.
    pub cache_bytes: IntGaugeVec,
    /// The configured byte budget, by `cache` (`response`, `metadata`).
    pub cache_budget: IntGaugeVec,
    /// Answers given from an older copy because the origin failed, by `cache`.
    pub cache_stale_served: IntCounterVec,
    /// Origin reads by `origin` (host:port or `local`), `kind` (`head` or `stat`, `moov`,
    /// `range`, `document`) and `result` (`ok`, `not_found`, `error`, `timeout`, `changed`, `circuit_open`).
    pub origin_requests: IntCounterVec,
    pub origin_duration: HistogramVec,
    pub origin_retries: IntCounterVec,
    pub origin_bytes: IntCounterVec,
    /// 1 while the origin's circuit breaker is open.
    pub origin_circuit_open: IntGaugeVec,
    /// Configuration reloads by `result` (`ok`, `error`).
    pub config_reloads: IntCounterVec,
    /// Resident memory by kind (anonymous, file, shmem), read at each scrape.
    pub process_memory: ProcessMemory,
    /// Playback access: decisions, revocations, the shared store, sessions.
    pub access: std::sync::Arc<crate::ops::access_metrics::AccessMetrics>,
    /// Server-side ad insertion: sessions, ad requests, breaks, beacons, conditioning.
    pub ads: std::sync::Arc<crate::ops::ads_metrics::AdsMetrics>,
    /// Multi-CDN delivery: CDN health and probes, steering answers, failovers.
    pub delivery: std::sync::Arc<crate::ops::delivery_metrics::DeliveryMetrics>,
    /// Catalog lookups (`[catalog]`) by `result`: `cached`, `fetched`, `not_held`, `stale`
    /// (the catalog failed and the last answer was used), `unavailable` (503).
    pub catalog_lookups: IntCounterVec,
    /// Requests refused by the catalog's rights for the asset, by `reason`
    /// (`not_available`, `territory`).
    pub catalog_refusals: IntCounterVec,
    /// The node's events (`[events]`): published, dropped, delivered, sink failures.
    #[cfg(feature = "control")]
    pub events: std::sync::Arc<control_common::events::EventMetrics>,
}

const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

fn gauge(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<IntGaugeVec> {
    let g = IntGaugeVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(g.clone()))?;
    Ok(g)
}

fn histogram(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<HistogramVec> {
    let h = HistogramVec::new(
        HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()),
        labels,
    )?;
    registry.register(Box::new(h.clone()))?;
    Ok(h)
}

impl Metrics {
    /// Creates and registers every metric. Registration only fails on duplicate names,
    /// which would be a programming error caught by the tests.
    pub fn new() -> Result<Self, prometheus::Error> {
        let r = Registry::new();
        let in_flight = IntGauge::new(
            "edgepack_http_requests_in_flight",
            "Requests being served now.",
        )?;
        r.register(Box::new(in_flight.clone()))?;
        let build_info = gauge(
            &r,
            "edgepack_build_info",
            "Version of the running daemon (always 1).",
            &["version"],
        )?;
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        #[cfg(target_os = "linux")]
        r.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        let cache_labels = ["response", "metadata", "title", "opening"];
        let m = Metrics {
            requests: RequestMetrics::new(
                counter(
                    &r,
                    "edgepack_http_requests_total",
                    "HTTP requests served.",
                    &["kind", "status", "protocol"],
                )?,
                histogram(
                    &r,
                    "edgepack_http_request_duration_seconds",
                    "Time from request to response headers, by kind of object.",
                    &["kind"],
                )?,
                counter(
                    &r,
                    "edgepack_http_response_body_bytes_total",
                    "Response body bytes sent.",
                    &["kind"],
                )?,
            ),
            packaging_duration: histogram(
                &r,
                "edgepack_packaging_duration_seconds",
                "Time spent building an object (reading the source included), by output kind.",
                &["output"],
            )?,
            in_flight,
            connections: gauge(
                &r,
                "edgepack_connections_open",
                "Client connections open now.",
                &["transport"],
            )?,
            connections_refused: counter(
                &r,
                "edgepack_connections_refused_total",
                "Client connections closed at once because limits.max_connections were open.",
                &["transport"],
            )?,
            cache_requests: counter(
                &r,
                "edgepack_cache_requests_total",
                "Cache lookups, by cache and result (hit or miss).",
                &["cache", "result"],
            )?,
            cache_evictions: counter(
                &r,
                "edgepack_cache_evictions_total",
                "Entries evicted to stay within the byte budget.",
                &["cache"],
            )?,
            cache_bytes: gauge(
                &r,
                "edgepack_cache_bytes",
                "Bytes held by the cache.",
                &["cache"],
            )?,
            cache_budget: gauge(
                &r,
                "edgepack_cache_budget_bytes",
                "The configured byte budget of the cache (0: the cache is off).",
                &["cache"],
            )?,
            cache_stale_served: counter(
                &r,
                "edgepack_cache_stale_served_total",
                "Answers served from an older copy because the origin failed (stale-if-error).",
                &["cache"],
            )?,
            origin_requests: counter(
                &r,
                "edgepack_origin_requests_total",
                "Reads of source media, by origin, kind of read and result.",
                &["origin", "kind", "result"],
            )?,
            origin_duration: histogram(
                &r,
                "edgepack_origin_request_duration_seconds",
                "Time of one origin read attempt, body included.",
                &["origin"],
            )?,
            origin_retries: counter(
                &r,
                "edgepack_origin_retries_total",
                "Origin reads tried again after a failure.",
                &["origin"],
            )?,
            origin_bytes: counter(
                &r,
                "edgepack_origin_response_bytes_total",
                "Source bytes read from the origin.",
                &["origin"],
            )?,
            origin_circuit_open: gauge(
                &r,
                "edgepack_origin_circuit_open",
                "1 while the origin's circuit breaker refuses reads.",
                &["origin"],
            )?,
            config_reloads: counter(
                &r,
                "edgepack_config_reloads_total",
                "Configuration reloads (SIGHUP), by result.",
                &["result"],
            )?,
            catalog_lookups: counter(
                &r,
                "edgepack_catalog_lookups_total",
                "Asset lookups in the catalog, by result (cached, fetched, not_held, stale, unavailable).",
                &["result"],
            )?,
            catalog_refusals: counter(
                &r,
                "edgepack_catalog_refusals_total",
                "Requests refused by the catalog's window or territories for the asset, by reason (not_available, territory).",
                &["reason"],
            )?,
            #[cfg(feature = "control")]
            events: std::sync::Arc::new(control_common::events::EventMetrics::named(
                &r, "edgepack",
            )?),
            process_memory: ProcessMemory::register(&r)?,
            access: std::sync::Arc::new(crate::ops::access_metrics::AccessMetrics::new(&r)?),
            delivery: std::sync::Arc::new(crate::ops::delivery_metrics::DeliveryMetrics::new(&r)?),
            ads: std::sync::Arc::new(crate::ops::ads_metrics::AdsMetrics::new(&r)?),
            registry: r,
        };
        for cache in cache_labels {
            for result in ["hit", "miss"] {
                m.cache_requests.with_label_values(&[cache, result]);
            }
            m.cache_evictions.with_label_values(&[cache]);
            m.cache_bytes.with_label_values(&[cache]);
            m.cache_stale_served.with_label_values(&[cache]);
        }
        for result in ["ok", "error"] {
            m.config_reloads.with_label_values(&[result]);
        }
        for result in ["cached", "fetched", "not_held", "stale", "unavailable"] {
            m.catalog_lookups.with_label_values(&[result]);
        }
        for reason in ["not_available", "territory"] {
            m.catalog_refusals.with_label_values(&[reason]);
        }
        for transport in ["tcp", "quic"] {
            m.connections.with_label_values(&[transport]);
            m.connections_refused.with_label_values(&[transport]);
        }
        Ok(m)
    }

    /// Counts a cache lookup.
    pub fn cache_lookup(&self, cache: &str, hit: bool) {
        self.cache_requests
            .with_label_values(&[cache, if hit { "hit" } else { "miss" }])
            .inc();
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
        m.requests
            .requests
            .with_label_values(&["mpd", "200", "h2"])
            .inc();
        let text = m.render();
        assert!(text.contains(
            "edgepack_http_requests_total{kind=\"mpd\",protocol=\"h2\",status=\"200\"} 1"
        ));
        assert!(text.contains("edgepack_build_info"));
        assert!(
            text.contains("edgepack_cache_requests_total{cache=\"response\",result=\"miss\"} 0")
        );
    }
}
