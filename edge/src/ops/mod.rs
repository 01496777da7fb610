//! What operators watch: the Prometheus metrics, the request metrics every request updates,
//! the process's resident memory by kind, the access log, and the metrics of playback access
//! and multi-CDN delivery, and the events a node publishes.

pub mod access_log;
pub mod access_metrics;
pub mod ads_metrics;
pub mod delivery_metrics;
pub mod events;
pub mod metrics;
pub mod process_memory;
pub mod register;
pub mod request_metrics;
