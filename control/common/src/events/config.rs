//! `[control.events]` and a node's `[events]`: where events go (nowhere, a JSON-lines file or
//! a Kafka topic), and starting the publisher of that choice.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use super::kafka::{Kafka, KafkaTarget};
use super::{EventMetrics, Events, JsonLines};

/// Where events go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SinkKind {
    /// Nowhere.
    #[default]
    None,
    /// One CloudEvents JSON document per line in `path`.
    Jsonl,
    /// Records in the Kafka topic `topic` on `brokers`, keyed by account.
    Kafka,
}

/// The events table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    pub sink: SinkKind,
    /// For `jsonl`; relative paths are under the data directory.
    pub path: PathBuf,
    /// Events held while the sink is down; more are dropped and counted.
    pub buffer: usize,
    /// For `kafka`: `host:port` of the brokers.
    pub brokers: Vec<String>,
    /// For `kafka`: the topic (created when missing).
    pub topic: String,
    /// For `kafka`: the partitions of the topic when it is created.
    pub partitions: i32,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            sink: SinkKind::None,
            path: PathBuf::from("events.jsonl"),
            buffer: 10_000,
            brokers: Vec::new(),
            topic: "edgepack.control.events".into(),
            partitions: 3,
        }
    }
}

impl EventsConfig {
    /// `table` names the table in messages (`control.events`, `events`).
    pub fn validate(&self, table: &str) -> Result<(), String> {
        if self.sink == SinkKind::Kafka && (self.brokers.is_empty() || self.topic.is_empty()) {
            return Err(format!(
                "{table}: sink = \"kafka\" needs brokers and a topic"
            ));
        }
        if self.sink != SinkKind::None && self.buffer == 0 {
            return Err(format!("{table}: buffer must be at least 1"));
        }
        Ok(())
    }

    /// Starts the publisher this configures, its JSON-lines file under `data_dir`, counting
    /// into `metrics`. Must run inside a tokio runtime (the worker is a task).
    pub fn start(&self, data_dir: &Path, metrics: Arc<EventMetrics>) -> Events {
        match self.sink {
            SinkKind::None => Events::none(),
            SinkKind::Jsonl => Events::start(
                Box::new(JsonLines::new(data_dir.join(&self.path))),
                self.buffer,
                metrics,
            ),
            SinkKind::Kafka => Events::start(
                Box::new(Kafka::new(KafkaTarget {
                    brokers: self.brokers.clone(),
                    topic: self.topic.clone(),
                    partitions: self.partitions,
                })),
                self.buffer,
                metrics,
            ),
        }
    }
}
