//! Events: every state change a service makes is published as a CloudEvents 1.0 envelope
//! (structured JSON mode), keyed by account through the `partitionkey` extension, at least
//! once. Publishing never blocks a request: events go into a bounded buffer that one task
//! drains into the configured sink, retrying while the sink is down. When the buffer is full
//! the event is dropped and counted (`edgepack_control_events_dropped_total`), which is the
//! one way an event can be lost. Sinks: a JSON-lines file ([`JsonLines`]) and Kafka
//! ([`kafka::Kafka`]).

pub mod config;
pub mod kafka;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use crate::clock;
use crate::ids;

/// The CloudEvents `specversion` we write.
pub const SPEC_VERSION: &str = "1.0";

/// A CloudEvents 1.0 envelope in its JSON form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudEvent {
    pub specversion: String,
    /// Unique per source; a consumer drops a second delivery by (`source`, `id`).
    pub id: String,
    /// The service that made the change, as a URI reference (`/edgepack/entitlement`).
    pub source: String,
    /// Reverse-DNS event type, such as `dev.edgepack.playback.session.started.v1`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// What the event is about (the session, grant or subscription id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// RFC 3339 time of the change.
    pub time: String,
    pub datacontenttype: String,
    /// The partitioning extension: the account, so one account's events stay in order.
    pub partitionkey: String,
    pub data: serde_json::Value,
}

impl CloudEvent {
    /// A new event with a fresh id and the current time.
    pub fn new(
        source: &str,
        event_type: &str,
        subject: &str,
        account: &str,
        data: serde_json::Value,
    ) -> CloudEvent {
        CloudEvent {
            specversion: SPEC_VERSION.into(),
            id: ids::random_hex(16),
            source: source.into(),
            event_type: event_type.into(),
            subject: Some(subject.into()),
            time: rfc3339(clock::now()),
            datacontenttype: "application/json".into(),
            partitionkey: account.into(),
            data,
        }
    }
}

/// Unix seconds as an RFC 3339 UTC time.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// Why a sink could not take events (the worker retries).
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}

/// Where events go.
#[async_trait::async_trait]
pub trait Sink: Send + 'static {
    /// Takes a batch, all or nothing; an error keeps the batch for a retry.
    async fn send(&mut self, batch: &[CloudEvent]) -> Result<(), SinkError>;
}

/// Appends one JSON document per line to a file.
pub struct JsonLines {
    path: PathBuf,
    file: Option<tokio::fs::File>,
}

impl JsonLines {
    pub fn new(path: PathBuf) -> JsonLines {
        JsonLines { path, file: None }
    }
}

#[async_trait::async_trait]
impl Sink for JsonLines {
    async fn send(&mut self, batch: &[CloudEvent]) -> Result<(), SinkError> {
        if self.file.is_none() {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                tokio::fs::create_dir_all(dir).await?;
            }
            let f = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .await?;
            self.file = Some(f);
        }
        let mut bytes = Vec::new();
        for e in batch {
            serde_json::to_writer(&mut bytes, e).map_err(|e| SinkError::Other(e.to_string()))?;
            bytes.push(b'\n');
        }
        let result = match self.file.as_mut() {
            Some(f) => f.write_all(&bytes).await.and(f.flush().await),
            None => Ok(()),
        };
        if result.is_err() {
            // Reopen on the next try (the file may have been rotated away).
            self.file = None;
        }
        Ok(result?)
    }
}

/// Counters of the event path.
#[derive(Debug, Clone)]
pub struct EventMetrics {
    pub published: prometheus::IntCounter,
    pub dropped: prometheus::IntCounter,
    pub delivered: prometheus::IntCounter,
    pub sink_failures: prometheus::IntCounter,
}

impl EventMetrics {
    /// The counters of the control plane (`edgepack_control_events_...`).
    pub fn new(registry: &prometheus::Registry) -> Result<EventMetrics, prometheus::Error> {
        Self::named(registry, "edgepack_control")
    }

    /// The counters named `{prefix}_events_published_total` and so on (a node's events are
    /// `edgepack_events_...`).
    pub fn named(
        registry: &prometheus::Registry,
        prefix: &str,
    ) -> Result<EventMetrics, prometheus::Error> {
        let counter =
            |name: &str, help: &str| -> Result<prometheus::IntCounter, prometheus::Error> {
                let c = prometheus::IntCounter::new(format!("{prefix}_{name}"), help)?;
                registry.register(Box::new(c.clone()))?;
                Ok(c)
            };
        Ok(EventMetrics {
            published: counter(
                "events_published_total",
                "Events handed to the event buffer.",
            )?,
            dropped: counter(
                "events_dropped_total",
                "Events dropped because the buffer was full (the sink was down too long).",
            )?,
            delivered: counter("events_delivered_total", "Events the sink accepted.")?,
            sink_failures: counter(
                "event_sink_failures_total",
                "Batches the sink refused (each is retried).",
            )?,
        })
    }
}

/// The publishing side, cheap to clone; [`Events::none`] publishes nowhere.
#[derive(Clone)]
pub struct Events {
    tx: Option<mpsc::Sender<CloudEvent>>,
    metrics: Option<Arc<EventMetrics>>,
}

/// Most events in one batch handed to the sink.
const BATCH: usize = 256;

impl Events {
    /// Events go nowhere.
    pub fn none() -> Events {
        Events {
            tx: None,
            metrics: None,
        }
    }

    /// Starts the worker that drains a buffer of `capacity` events into `sink`.
    pub fn start(mut sink: Box<dyn Sink>, capacity: usize, metrics: Arc<EventMetrics>) -> Events {
        let (tx, mut rx) = mpsc::channel::<CloudEvent>(capacity.max(1));
        let worker_metrics = metrics.clone();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            let mut backoff = Duration::from_millis(100);
            loop {
                if batch.is_empty() && rx.recv_many(&mut batch, BATCH).await == 0 {
                    return;
                }
                match sink.send(&batch).await {
                    Ok(()) => {
                        worker_metrics.delivered.inc_by(batch.len() as u64);
                        batch.clear();
                        backoff = Duration::from_millis(100);
                    }
                    Err(e) => {
                        worker_metrics.sink_failures.inc();
                        tracing::warn!(error = %e, events = batch.len(), "event sink failed; retrying");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
            }
        });
        Events {
            tx: Some(tx),
            metrics: Some(metrics),
        }
    }

    /// Hands an event to the buffer, never waiting.
    pub fn publish(&self, event: CloudEvent) {
        let (Some(tx), Some(metrics)) = (&self.tx, &self.metrics) else {
            return;
        };
        match tx.try_send(event) {
            Ok(()) => metrics.published.inc(),
            Err(_) => {
                metrics.dropped.inc();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    fn event(n: u32) -> CloudEvent {
        CloudEvent::new(
            "/t",
            "dev.edgepack.test.v1",
            "s",
            "acct",
            serde_json::json!({"n": n}),
        )
    }

    #[tokio::test]
    async fn json_lines_get_every_event() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events").join("e.jsonl");
        let metrics = Arc::new(EventMetrics::new(&prometheus::Registry::new()).unwrap());
        let events = Events::start(Box::new(JsonLines::new(path.clone())), 16, metrics.clone());
        for n in 0..5 {
            events.publish(event(n));
        }
        for _ in 0..100 {
            if metrics.delivered.get() == 5 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<CloudEvent> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[4].data["n"], 4);
        assert_eq!(lines[0].specversion, "1.0");
        assert_eq!(lines[0].partitionkey, "acct");
    }

    /// A sink that is down until told otherwise.
    struct Down(Arc<AtomicBool>, Arc<std::sync::Mutex<usize>>);

    #[async_trait::async_trait]
    impl Sink for Down {
        async fn send(&mut self, batch: &[CloudEvent]) -> Result<(), SinkError> {
            if self.0.load(Ordering::SeqCst) {
                return Err(SinkError::Other("down".into()));
            }
            *self.1.lock().unwrap() += batch.len();
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_down_sink_fills_the_buffer_then_drops_without_blocking_and_recovers() {
        let down = Arc::new(AtomicBool::new(true));
        let got = Arc::new(std::sync::Mutex::new(0));
        let metrics = Arc::new(EventMetrics::new(&prometheus::Registry::new()).unwrap());
        let events = Events::start(
            Box::new(Down(down.clone(), got.clone())),
            4,
            metrics.clone(),
        );
        for n in 0..20 {
            events.publish(event(n));
        }
        // The test runtime has one thread and nothing above awaited: the worker has taken
        // nothing yet, so the buffer holds 4 and 16 were dropped, without waiting.
        assert_eq!(metrics.published.get(), 4);
        assert_eq!(metrics.dropped.get(), 16);
        down.store(false, Ordering::SeqCst);
        for _ in 0..200 {
            if *got.lock().unwrap() as u64 == metrics.published.get() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(*got.lock().unwrap() as u64, metrics.published.get());
    }
}
