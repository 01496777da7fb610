//! The Kafka sink: each event a record in one topic, in the CloudEvents Kafka protocol
//! binding's structured mode (the value is the JSON envelope, `content-type:
//! application/cloudevents+json`), keyed by the event's `partitionkey` (the account) and
//! written to the partition that key hashes to, so one account's events stay in order.
//! The topic is created when missing. A failed batch is retried whole by the event worker,
//! so delivery is at least once (a consumer drops repeats by `source` and `id`).

use std::collections::BTreeMap;
use std::time::Duration;

use rskafka::client::partition::{Compression, PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder};
use rskafka::record::Record;
use rskafka::BackoffConfig;

use super::{CloudEvent, Sink, SinkError};

/// Where and how events are written.
#[derive(Debug, Clone)]
pub struct KafkaTarget {
    /// `host:port` of one or more brokers.
    pub brokers: Vec<String>,
    pub topic: String,
    /// Partitions of the topic when this sink creates it.
    pub partitions: i32,
}

pub struct Kafka {
    target: KafkaTarget,
    partitions: Vec<PartitionClient>,
    _client: Option<Client>,
}

/// FNV-1a of the key: the same account always goes to the same partition.
fn partition_of(key: &str, partitions: usize) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % partitions.max(1) as u64) as usize
}

/// How rskafka retries inside one call: briefly, and never past a deadline (its default
/// retries for ever, up to 500 s apart, which would hold a batch long after the brokers are
/// back). The event worker retries the batch after that.
fn backoff() -> BackoffConfig {
    BackoffConfig {
        init_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(2),
        base: 2.0,
        deadline: Some(CALL_DEADLINE),
    }
}

/// Longest one connection or produce call may take, retries included.
const CALL_DEADLINE: Duration = Duration::from_secs(10);

fn failed(e: impl std::fmt::Display) -> SinkError {
    SinkError::Other(format!("kafka: {e}"))
}

impl Kafka {
    pub fn new(target: KafkaTarget) -> Kafka {
        Kafka {
            target,
            partitions: Vec::new(),
            _client: None,
        }
    }

    async fn connect(&mut self) -> Result<(), SinkError> {
        let client = ClientBuilder::new(self.target.brokers.clone())
            .backoff_config(backoff())
            .build()
            .await
            .map_err(failed)?;
        let topics = client.list_topics().await.map_err(failed)?;
        let count = match topics.iter().find(|t| t.name == self.target.topic) {
            Some(t) => i32::try_from(t.partitions.len()).unwrap_or(1),
            None => {
                let controller = client.controller_client().map_err(failed)?;
                controller
                    .create_topic(&self.target.topic, self.target.partitions.max(1), 1, 5_000)
                    .await
                    .map_err(failed)?;
                self.target.partitions.max(1)
            }
        };
        let mut partitions = Vec::new();
        for p in 0..count {
            partitions.push(
                client
                    .partition_client(&self.target.topic, p, UnknownTopicHandling::Retry)
                    .await
                    .map_err(failed)?,
            );
        }
        self.partitions = partitions;
        self._client = Some(client);
        Ok(())
    }
}

/// The record of one event.
pub fn record(e: &CloudEvent) -> Result<Record, SinkError> {
    let value = serde_json::to_vec(e).map_err(|e| SinkError::Other(e.to_string()))?;
    let timestamp = chrono::DateTime::parse_from_rfc3339(&e.time)
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|_| chrono::Utc::now());
    Ok(Record {
        key: Some(e.partitionkey.as_bytes().to_vec()),
        value: Some(value),
        headers: BTreeMap::from([(
            "content-type".to_owned(),
            b"application/cloudevents+json; charset=UTF-8".to_vec(),
        )]),
        timestamp,
    })
}

#[async_trait::async_trait]
impl Sink for Kafka {
    async fn send(&mut self, batch: &[CloudEvent]) -> Result<(), SinkError> {
        if self.partitions.is_empty() {
            let connected = tokio::time::timeout(CALL_DEADLINE, self.connect()).await;
            match connected {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(failed("connecting took over 10 s")),
            }
        }
        let mut groups: BTreeMap<usize, Vec<Record>> = BTreeMap::new();
        for e in batch {
            let p = partition_of(&e.partitionkey, self.partitions.len());
            groups.entry(p).or_default().push(record(e)?);
        }
        for (p, records) in groups {
            let Some(client) = self.partitions.get(p) else {
                continue;
            };
            let produced = tokio::time::timeout(
                CALL_DEADLINE,
                client.produce(records, Compression::NoCompression),
            )
            .await;
            let error = match produced {
                Ok(Ok(_)) => continue,
                Ok(Err(e)) => failed(e),
                Err(_) => failed("producing took over 10 s"),
            };
            // Reconnect on the next try: the broker or the leader may have moved.
            self.partitions.clear();
            self._client = None;
            return Err(error);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_account_always_goes_to_one_partition() {
        let a = partition_of("acct-1", 3);
        assert_eq!(a, partition_of("acct-1", 3));
        assert!(a < 3);
        let spread: std::collections::BTreeSet<usize> = (0..50)
            .map(|n| partition_of(&format!("acct-{n}"), 3))
            .collect();
        assert_eq!(spread.len(), 3, "accounts spread over the partitions");
    }

    #[test]
    fn a_record_is_the_structured_envelope_keyed_by_account() {
        let e = CloudEvent::new("/s", "t.v1", "x", "acct-9", serde_json::json!({"n": 1}));
        let r = record(&e).unwrap();
        assert_eq!(r.key.as_deref(), Some(&b"acct-9"[..]));
        let back: CloudEvent = serde_json::from_slice(r.value.as_deref().unwrap()).unwrap();
        assert_eq!(back, e);
        assert!(r.headers["content-type"].starts_with(b"application/cloudevents+json"));
    }
}
