//! How HTTP origins are read (`[origin]` in the configuration): timeouts, retries, the
//! circuit breaker and the size of the first read of a source.

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OriginConfig {
    /// Milliseconds allowed to open a connection (TCP and TLS).
    pub connect_timeout_ms: u64,
    /// Milliseconds allowed for each read: from sending the request to the last body byte.
    pub read_timeout_ms: u64,
    /// Tries per read, the first included; only idempotent reads (GET, HEAD) are retried,
    /// and only after a connection failure, a timeout, 408, 429 or a 5xx.
    pub attempts: u32,
    /// Wait before the first retry, doubled for each further one (with jitter).
    pub retry_backoff_ms: u64,
    /// Bytes of the first read of a source, which finds the `moov` when it is at the front.
    pub read_block_bytes: u64,
    /// Consecutive failed reads of one origin host that open its circuit breaker.
    pub breaker_failures: u32,
    /// Seconds an open breaker refuses reads before it lets one trial read through.
    pub breaker_cooldown_seconds: u64,
    /// Reads local sources through a memory mapping of each file (one copy from the page
    /// cache to the socket, no blocking-pool hop). Turn off for media roots whose files may
    /// be truncated or rewritten in place while served (some network filesystems): a read
    /// of a page past a truncated end stops the process. Replacing a file by renaming a new
    /// one over it is always safe.
    pub map_local_files: bool,
}

impl Default for OriginConfig {
    fn default() -> Self {
        OriginConfig {
            connect_timeout_ms: 2_000,
            read_timeout_ms: 10_000,
            attempts: 3,
            retry_backoff_ms: 50,
            read_block_bytes: 256 * 1024,
            breaker_failures: 5,
            breaker_cooldown_seconds: 10,
            map_local_files: true,
        }
    }
}

impl OriginConfig {
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    pub fn read_timeout(&self) -> Duration {
        Duration::from_millis(self.read_timeout_ms)
    }

    pub fn breaker_cooldown(&self) -> Duration {
        Duration::from_secs(self.breaker_cooldown_seconds)
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=10).contains(&self.attempts) {
            return Err("origin.attempts must be between 1 and 10".into());
        }
        if self.connect_timeout_ms == 0 || self.read_timeout_ms == 0 {
            return Err("origin timeouts must be at least 1 ms".into());
        }
        if !(4096..=64 * 1024 * 1024).contains(&self.read_block_bytes) {
            return Err("origin.read_block_bytes must be between 4 KiB and 64 MiB".into());
        }
        if self.breaker_failures == 0 {
            return Err("origin.breaker_failures must be at least 1".into());
        }
        Ok(())
    }
}
