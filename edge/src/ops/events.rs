//! The events a node publishes (`[events]`): ad sessions started, breaks decided and beacons
//! delivered or lost, as CloudEvents 1.0 envelopes keyed by the viewer's account (the
//! session's id for an anonymous viewer), through the control plane's publisher: a bounded
//! buffer that never makes a request wait, drained into a JSON-lines file or a Kafka topic.
//!
//! The publisher starts with the first event (inside the runtime). Built without the
//! `control` feature, a node has no publisher and publishing does nothing.

use serde_json::Value;

#[cfg(feature = "control")]
use std::sync::{Arc, OnceLock};

#[cfg(feature = "control")]
use control_common::events::config::{EventsConfig, SinkKind};
#[cfg(feature = "control")]
use control_common::events::{CloudEvent, EventMetrics, Events};

/// The `source` of a node's events.
pub const SOURCE: &str = "/edgepack/edge";

/// A node's publisher; cheap to clone. The default publishes nothing.
#[derive(Clone, Default)]
pub struct NodeEvents {
    #[cfg(feature = "control")]
    inner: Option<Arc<Inner>>,
}

#[cfg(feature = "control")]
struct Inner {
    config: EventsConfig,
    metrics: Arc<EventMetrics>,
    events: OnceLock<Events>,
}

impl NodeEvents {
    /// The publisher `config` describes, counting into `metrics`.
    #[cfg(feature = "control")]
    pub fn new(config: &EventsConfig, metrics: Arc<EventMetrics>) -> NodeEvents {
        NodeEvents {
            inner: (config.sink != SinkKind::None).then(|| {
                Arc::new(Inner {
                    config: config.clone(),
                    metrics,
                    events: OnceLock::new(),
                })
            }),
        }
    }

    /// Publishes `dev.edgepack.{kind}.v1` about `subject`, keyed by `key` (the account).
    pub fn publish(&self, kind: &str, subject: &str, key: &str, data: Value) {
        #[cfg(feature = "control")]
        if let Some(inner) = &self.inner {
            if tokio::runtime::Handle::try_current().is_err() {
                return;
            }
            let events = inner.events.get_or_init(|| {
                inner
                    .config
                    .start(std::path::Path::new("."), inner.metrics.clone())
            });
            events.publish(CloudEvent::new(
                SOURCE,
                &format!("dev.edgepack.{kind}.v1"),
                subject,
                key,
                data,
            ));
        }
        #[cfg(not(feature = "control"))]
        let _ = (kind, subject, key, data);
    }
}
