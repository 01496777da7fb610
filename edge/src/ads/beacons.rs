//! Beacons fired by the edge: impressions, tracking events and error URLs, from a bounded
//! queue that never makes a request wait. A beacon with a key (session, ad and event) fires
//! once per key, so a player fetching a segment again fires nothing twice. Each is tried
//! `beacon_attempts` times with a doubling delay; a queue that is full drops the beacon and
//! counts it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Semaphore};

use crate::ads::config::AdsConfig;

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
}

/// Counts of what the queue did.
#[derive(Debug, Default)]
pub struct BeaconStats {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
    pub retried: AtomicU64,
    pub dropped: AtomicU64,
    pub duplicates: AtomicU64,
}

/// The beacon queue.
pub struct Beacons {
    tx: mpsc::Sender<String>,
    fired: moka::sync::Cache<String, ()>,
    pub stats: Arc<BeaconStats>,
}

impl Beacons {
    /// Starts the queue and its sender on the running tokio runtime.
    pub fn start(config: &AdsConfig) -> Result<Arc<Beacons>, String> {
        let rt = tokio::runtime::Handle::try_current()
            .map_err(|_| "the beacon queue needs a running tokio runtime".to_owned())?;
        let tls = crate::outbound_tls::client_config(true).map_err(|e| e.to_string())?;
        let timeout = Duration::from_millis(config.beacon_timeout_ms.max(1));
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::limited(3))
            .user_agent(concat!("edgepack/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        let (tx, rx) = mpsc::channel(config.beacon_queue.max(1));
        let stats = Arc::new(BeaconStats::default());
        rt.spawn(send_all(
            rx,
            client,
            stats.clone(),
            config.beacon_attempts.max(1),
            Duration::from_millis(config.beacon_backoff_ms),
        ));
        Ok(Arc::new(Beacons {
            tx,
            fired: moka::sync::Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(Duration::from_secs(6 * 3600))
                .build(),
            stats,
        }))
    }

    /// Fires `url`, once for `key` when there is one.
    pub fn fire(&self, key: Option<&str>, url: String) -> Fired {
        if let Some(k) = key {
            let entry = self.fired.entry(k.to_owned()).or_insert(());
            if !entry.is_fresh() {
                self.stats.duplicates.fetch_add(1, Ordering::Relaxed);
                return Fired::Duplicate;
            }
        }
        match self.tx.try_send(url) {
            Ok(()) => Fired::Queued,
            Err(_) => {
                // Not sent: the key may fire again when the queue has room.
                if let Some(k) = key {
                    self.fired.invalidate(k);
                }
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
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
                    stats.retried.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(backoff * 2u32.saturating_pow(attempt - 1)).await;
                }
                let ok = client
                    .get(&url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success() || r.status().is_redirection());
                if ok {
                    stats.sent.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
            stats.failed.fetch_add(1, Ordering::Relaxed);
        });
    }
}
