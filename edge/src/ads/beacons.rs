//! Beacons fired by the edge: impressions, tracking events and error URLs, from a bounded
//! queue that never makes a request wait. A beacon with a key (session, ad and event) fires
//! once per key, so a player fetching a segment again fires nothing twice. Each is tried
//! `beacon_attempts` times with a doubling delay; a queue that is full drops the beacon and
//! counts it.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Semaphore};

use prometheus::IntCounter;

use crate::ads::config::AdsConfig;
use crate::ads::deferred::Deferred;
use crate::ops::ads_metrics::AdsMetrics;

/// Beacons sent at once at most.
const IN_FLIGHT: usize = 64;

/// What became of a beacon handed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fired {
    Queued,
    /// Its key fired already.
    Duplicate,
    /// The queue is full.
    Dropped,
    /// Not an http(s) URL, or one to a private address.
    Refused,
}

/// Counts of what the queue did (the `edgepack_ad_beacons_total` family).
pub struct BeaconStats {
    pub queued: IntCounter,
    pub sent: IntCounter,
    pub failed: IntCounter,
    pub retried: IntCounter,
    pub dropped: IntCounter,
    pub duplicates: IntCounter,
    pub refused: IntCounter,
}

impl BeaconStats {
    pub fn new(m: &AdsMetrics) -> BeaconStats {
        let c = |r: &str| m.beacons.with_label_values(&[r]);
        BeaconStats {
            queued: c("queued"),
            sent: c("sent"),
            failed: c("failed"),
            retried: c("retried"),
            dropped: c("dropped"),
            duplicates: c("duplicate"),
            refused: c("refused"),
        }
    }
}

/// The beacon queue.
pub struct Beacons {
    tx: mpsc::Sender<String>,
    /// The sender task, spawned on the first beacon.
    sender: Deferred,
    fired: moka::sync::Cache<String, ()>,
    pub stats: Arc<BeaconStats>,
    allow_private: bool,
}

impl Beacons {
    /// The queue; its sender starts on the tokio runtime with the first beacon.
    pub fn start(config: &AdsConfig, stats: BeaconStats) -> Result<Arc<Beacons>, String> {
        let timeout = Duration::from_millis(config.beacon_timeout_ms.max(1));
        let client = crate::ads::outbound::client_builder(config.allow_private_addresses)?
            .timeout(timeout)
            .build()
            .map_err(|e| e.to_string())?;
        let (tx, rx) = mpsc::channel(config.beacon_queue.max(1));
        let stats = Arc::new(stats);
        let sender = Deferred::new(vec![Box::pin(send_all(
            rx,
            client,
            stats.clone(),
            config.beacon_attempts.max(1),
            Duration::from_millis(config.beacon_backoff_ms),
        ))]);
        Ok(Arc::new(Beacons {
            tx,
            sender,
            fired: moka::sync::Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(Duration::from_secs(6 * 3600))
                .build(),
            stats,
            allow_private: config.allow_private_addresses,
        }))
    }

    /// Fires `url`, once for `key` when there is one.
    pub fn fire(&self, key: Option<&str>, url: String) -> Fired {
        match key {
            Some(k) => self.fire_once(k, || url),
            None => self.send(None, url),
        }
    }

    /// Fires the URL `url` makes, once for `key`: a key that fired already costs a lookup,
    /// and its URL is never made (a player fetching segments again is the common case).
    pub fn fire_once(&self, key: &str, url: impl FnOnce() -> String) -> Fired {
        if self.fired.contains_key(key) {
            self.stats.duplicates.inc();
            return Fired::Duplicate;
        }
        // `or_insert_with`, not `or_insert`: only it makes concurrent callers of one key one
        // (the audio and video of an ad fetched at once would both fire otherwise).
        let entry = self.fired.entry_by_ref(key).or_insert_with(|| ());
        if !entry.is_fresh() {
            self.stats.duplicates.inc();
            return Fired::Duplicate;
        }
        self.send(Some(key), url())
    }

    fn send(&self, key: Option<&str>, url: String) -> Fired {
        self.sender.start();
        if let Err(why) = crate::ads::outbound::check(&url, self.allow_private) {
            tracing::debug!(%why, "a beacon URL the edge does not call");
            self.stats.refused.inc();
            return Fired::Refused;
        }
        match self.tx.try_send(url) {
            Ok(()) => {
                self.stats.queued.inc();
                Fired::Queued
            }
            Err(_) => {
                // Not sent: the key may fire again when the queue has room.
                if let Some(k) = key {
                    self.fired.invalidate(k);
                }
                self.stats.dropped.inc();
                Fired::Dropped
            }
        }
    }
}

async fn send_all(
    mut rx: mpsc::Receiver<String>,
    client: reqwest::Client,
    stats: Arc<BeaconStats>,
    attempts: u32,
    backoff: Duration,
) {
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(url) = rx.recv().await {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let (client, stats) = (client.clone(), stats.clone());
        tokio::spawn(async move {
            let _permit = permit;
            for attempt in 0..attempts {
                if attempt > 0 {
                    stats.retried.inc();
                    tokio::time::sleep(backoff * 2u32.saturating_pow(attempt - 1)).await;
                }
                let ok = client
                    .get(&url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success() || r.status().is_redirection());
                if ok {
                    stats.sent.inc();
                    return;
                }
            }
            stats.failed.inc();
        });
    }
}
