//! The Redis access store (redis-rs on tokio):
//! - a revocation is a key `{prefix}rev:{kind}:{id}` that expires with what it revokes, plus an
//!   entry on the stream `{prefix}revocations` (trimmed by age); every node follows the stream
//!   with `XREAD BLOCK` from the last id it saw into its in-memory set, so a node that was cut
//!   off catches up when it reconnects (pub/sub would lose what was sent meanwhile);
//! - an account's sessions are a sorted set `{prefix}sessions:{account}` (member: session,
//!   score: last seen ms), changed atomically by one Lua script that drops stale sessions,
//!   refreshes or admits, and refuses or evicts the oldest at the limit;
//! - a single-use token is marked with `SET {prefix}used:{id} NX EXAT`.
//!
//! Every call has a deadline (`access.store.timeout_ms`); the connection manager reconnects
//! in the background.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{StreamReadOptions, StreamReadReply};
use redis::{AsyncCommands, AsyncConnectionConfig, Client, Script};

use crate::access::config::{OverLimit, StoreConfig};
use crate::access::revocations::{Revocation, RevocationSet, Subject};
use crate::access::store::{Admission, SlotRequest, StoreError};
use crate::ops::access_metrics::AccessMetrics;

/// Admits, refreshes, refuses or evicts. KEYS[1]: the account's sorted set. ARGV: session,
/// now (ms), timeout (ms), limit, evict (0/1). Returns {1} admitted, {0} refused, or
/// {2, evicted...}.
const ADMIT: &str = r#"
local key, session = KEYS[1], ARGV[1]
local now, timeout, limit, evict = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5] == '1'
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - timeout)
if redis.call('ZSCORE', key, session) then
  redis.call('ZADD', key, now, session)
  redis.call('PEXPIRE', key, timeout)
  return {1}
end
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, session)
  redis.call('PEXPIRE', key, timeout)
  return {1}
end
if not evict then
  return {0}
end
local oldest = redis.call('ZRANGE', key, 0, count - limit)
redis.call('ZREM', key, unpack(oldest))
redis.call('ZADD', key, now, session)
redis.call('PEXPIRE', key, timeout)
local reply = {2}
for _, s in ipairs(oldest) do table.insert(reply, s) end
return reply
"#;

/// Most stream entries read at once.
const READ_COUNT: usize = 1000;

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

pub struct RedisStore {
    client: Client,
    manager: ConnectionManager,
    prefix: String,
    timeout: Duration,
    /// How long the revocation stream keeps entries, ms.
    retention_ms: u64,
    admit: Script,
    metrics: Arc<AccessMetrics>,
}

impl RedisStore {
    /// Sets up the client; the connection is made lazily, so a node starts while Redis is down.
    pub fn new(
        config: &StoreConfig,
        retention_seconds: u64,
        metrics: Arc<AccessMetrics>,
    ) -> Result<RedisStore, StoreError> {
        let url = config.url.as_deref().unwrap_or_default();
        let client = Client::open(url).map_err(err)?;
        let manager = client
            .get_connection_manager_lazy(
                ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(config.timeout()))
                    .set_response_timeout(Some(config.timeout()))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_secs(1)),
            )
            .map_err(err)?;
        Ok(RedisStore {
            client,
            manager,
            prefix: config.prefix().to_owned(),
            timeout: config.timeout(),
            retention_ms: retention_seconds.saturating_mul(1000),
            admit: Script::new(ADMIT),
            metrics,
        })
    }

    fn stream_key(&self) -> String {
        format!("{}revocations", self.prefix)
    }

    /// Runs a store call under the deadline, counting it.
    async fn call<T>(
        &self,
        op: &'static str,
        f: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        let result = match tokio::time::timeout(self.timeout, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(err(e)),
            Err(_) => Err(StoreError(format!("no answer within {:?}", self.timeout))),
        };
        self.metrics.store_op(op, result.is_ok());
        result
    }

    pub async fn revoke(&self, r: &Revocation) -> Result<(), StoreError> {
        let key = format!("{}rev:{}:{}", self.prefix, r.subject.kind(), r.subject.id());
        let min_id = r.at_ms.saturating_sub(self.retention_ms);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("SET")
            .arg(&key)
            .arg(r.at_ms)
            .arg("EXAT")
            .arg(r.until)
            .ignore()
            .cmd("XADD")
            .arg(self.stream_key())
            .arg("MINID")
            .arg("~")
            .arg(min_id)
            .arg("*")
            .arg("kind")
            .arg(r.subject.kind())
            .arg("id")
            .arg(r.subject.id())
            .arg("at")
            .arg(r.at_ms)
            .arg("until")
            .arg(r.until)
            .ignore();
        let mut conn = self.manager.clone();
        self.call("revoke", pipe.query_async::<()>(&mut conn)).await
    }

    pub async fn admit(&self, q: SlotRequest<'_>) -> Result<Admission, StoreError> {
        let key = format!("{}sessions:{}", self.prefix, q.account);
        let mut conn = self.manager.clone();
        let mut invocation = self.admit.key(key);
        invocation
            .arg(q.session)
            .arg(q.now_ms)
            .arg(q.timeout_ms)
            .arg(q.limit)
            .arg(if q.over_limit == OverLimit::EvictOldest {
                "1"
            } else {
                "0"
            });
        let reply: Vec<redis::Value> = self
            .call("admit", invocation.invoke_async(&mut conn))
            .await?;
        let code: i64 = reply
            .first()
            .and_then(|v| redis::from_redis_value_ref(v).ok())
            .ok_or_else(|| StoreError("the admit script answered nothing".into()))?;
        Ok(match code {
            1 => Admission::Admitted,
            0 => Admission::Refused,
            _ => Admission::Evicting(
                reply[1..]
                    .iter()
                    .filter_map(|v| redis::from_redis_value_ref::<String>(v).ok())
                    .collect(),
            ),
        })
    }

    pub async fn first_use(&self, token_id: &str, until: u64) -> Result<bool, StoreError> {
        let key = format!("{}used:{token_id}", self.prefix);
        let mut conn = self.manager.clone();
        let set: Option<String> = self
            .call(
                "first_use",
                redis::cmd("SET")
                    .arg(key)
                    .arg(1)
                    .arg("NX")
                    .arg("EXAT")
                    .arg(until)
                    .query_async(&mut conn),
            )
            .await?;
        Ok(set.is_some())
    }

    /// Follows the revocation stream into `set` until the process ends: from the start of
    /// the stream (everything still in force), then as entries arrive. On an error it marks
    /// the store down, waits, reconnects and goes on from the last id it saw.
    pub async fn follow(self: Arc<Self>, set: Arc<RevocationSet>) {
        let mut last_id = "0".to_owned();
        let since_ms = crate::access::clock::now_ms();
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.follow_once(&set, &mut last_id, since_ms).await {
                Ok(()) => {}
                Err(e) => {
                    if self.metrics.store_up.get() != 0 {
                        tracing::warn!(error = %e, "access store: revocation stream lost; known revocations are still enforced");
                    }
                    self.metrics.store_up.set(0);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                    continue;
                }
            }
            backoff = Duration::from_millis(100);
        }
    }

    async fn follow_once(
        &self,
        set: &RevocationSet,
        last_id: &mut String,
        since_ms: u64,
    ) -> Result<(), StoreError> {
        let block = Duration::from_millis(1000);
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout.max(Duration::from_millis(500))))
            .set_response_timeout(Some(block + self.timeout + Duration::from_secs(1)));
        let mut conn = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(err)?;
        if self.metrics.store_up.get() == 0 {
            tracing::info!("access store: following the revocation stream from id {last_id}");
        }
        self.metrics.store_up.set(1);
        let key = self.stream_key();
        let options = StreamReadOptions::default()
            .block(block.as_millis() as usize)
            .count(READ_COUNT);
        loop {
            let reply: Option<StreamReadReply> = conn
                .xread_options(&[&key], &[last_id.as_str()], &options)
                .await
                .map_err(err)?;
            let Some(reply) = reply else { continue };
            let now_ms = crate::access::clock::now_ms();
            let mut batch = Vec::new();
            for entry in reply.keys.iter().flat_map(|k| &k.ids) {
                last_id.clone_from(&entry.id);
                let field = |name: &str| entry.get::<String>(name);
                let parsed = (|| {
                    let subject = Subject::from_parts(&field("kind")?, &field("id")?)?;
                    Some(Revocation {
                        subject,
                        at_ms: field("at")?.parse().ok()?,
                        until: field("until")?.parse().ok()?,
                    })
                })();
                match parsed {
                    Some(r) => {
                        // Revocations made before this node followed the stream are not late
                        // to it: their age is not recorded as a lag.
                        if r.at_ms >= since_ms {
                            self.metrics
                                .revocation_received(now_ms.saturating_sub(r.at_ms));
                        }
                        batch.push(r);
                    }
                    None => {
                        tracing::warn!(id = %entry.id, "access store: unreadable revocation entry skipped")
                    }
                }
            }
            if !batch.is_empty() {
                set.apply(&batch, now_ms / 1000);
                self.metrics.revocations_known.set(set.len() as i64);
            }
        }
    }
}
