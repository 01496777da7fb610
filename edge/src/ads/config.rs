//! The `[ads]` configuration: how far and how long the edge follows an ad server's wrappers,
//! and how it fires beacons.

use std::time::Duration;

use serde::Deserialize;

/// `[ads]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AdsConfig {
    /// Wrappers followed at most, per ad (VAST error 302 past it).
    pub max_wrappers: usize,
    /// Time one ad server answer may take (VAST error 301 for a wrapper's).
    pub request_timeout_ms: u64,
    /// Time a whole break's decision may take, wrappers included.
    pub deadline_ms: u64,
    /// Beacons waiting to be fired at most; past it they are dropped (and counted).
    pub beacon_queue: usize,
    /// Attempts per beacon, and the first retry's delay (doubling).
    pub beacon_attempts: u32,
    pub beacon_backoff_ms: u64,
    pub beacon_timeout_ms: u64,
}

impl Default for AdsConfig {
    fn default() -> Self {
        AdsConfig {
            max_wrappers: 5,
            request_timeout_ms: 1500,
            deadline_ms: 3000,
            beacon_queue: 10_000,
            beacon_attempts: 4,
            beacon_backoff_ms: 500,
            beacon_timeout_ms: 2000,
        }
    }
}

impl AdsConfig {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms.max(1))
    }

    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.deadline_ms.max(1))
    }
}
