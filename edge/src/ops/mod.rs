//! What operators watch: the Prometheus metrics, the request metrics every request updates,
//! and the access log.

pub mod access_log;
pub mod metrics;
pub mod request_metrics;
