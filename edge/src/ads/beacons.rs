//! Beacons fired by the edge: impressions, tracking events and error URLs, from a bounded
//! queue that never makes a request wait. A beacon with a key (session, ad and event) fires
//! once per key, so a player fetching a segment again fires nothing twice. Each is tried
//! `beacon_attempts` times with a doubling delay; a queue that is full drops the beacon and
//! counts it. A beacon that says what it is [`About`] ends as a node event
//! (`ads.beacon.sent`, `failed`, `dropped` or `refused`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Semaphore};

use prometheus::IntCounter;

use crate::ads::config::AdsConfig;
use crate::ads::deferred::Deferred;
use crate::ops::ads_metrics::AdsMetrics;
use crate::ops::events::NodeEvents;

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

/// What a beacon reports, for the node's events.
#[derive(Debug, Clone)]
pub struct About {
    pub session: String,
    /// What the event is keyed by (the account, else the session).
    pub key: String,
    /// The ad (`break-ad`) or failure the beacon is about.
    pub slot: String,
    /// `impression`, a VAST tracking event (`start`, `firstQuartile`...), or `error`.
    pub event: String,
}

/// A beacon in the queue.
struct Queued {
    url: String,
    about: Option<About>,
}

/// Publishes what became of a beacon.
fn tell(events: &NodeEvents, about: Option<&About>, url: &str, result: &str, attempts: u32) {
    let Some(a) = about else {
        return;
    };
    let host = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    events.publish(
        &format!("ads.beacon.{result}"),
        &a.session,
        &a.key,
        serde_json::json!({
            "session": a.session, "slot": a.slot, "event": a.event, "host": host,
            "attempts": attempts,
        }),
    );
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
    tx: mpsc::Sender<Queued>,
    /// The sender task, spawned on the first beacon.
    sender: Deferred,
    fired: moka::sync::Cache<String, ()>,
    pub stats: Arc<BeaconStats>,
    allow_private: bool,
    events: NodeEvents,
}

impl Beacons {
    /// The queue; its sender starts on the tokio runtime with the first beacon.
    pub fn start(
        config: &AdsConfig,
        stats: BeaconStats,
        events: NodeEvents,
    ) -> Result<Arc<Beacons>, String> {
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
            events.clone(),
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
            events,
        }))
    }

    /// Fires `url`, once for `key` when there is one.
    pub fn fire(&self, key: Option<&str>, url: String, about: Option<About>) -> Fired {
        match key {
            Some(k) => self.fire_once(k, || (url, about)),
            None => self.send(None, url, about),
        }
    }

    /// Fires the beacon `make` makes, once for `key`: a key that fired already costs a
    /// lookup, and its URL is never made (a player fetching segments again is the common
    /// case).
    pub fn fire_once(&self, key: &str, make: impl FnOnce() -> (String, Option<About>)) -> Fired {
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
        let (url, about) = make();
        self.send(Some(key), url, about)
    }

    fn send(&self, key: Option<&str>, url: String, about: Option<About>) -> Fired {
        self.sender.start();
        if let Err(why) = crate::ads::outbound::check(&url, self.allow_private) {
            tracing::debug!(%why, "a beacon URL the edge does not call");
            self.stats.refused.inc();
            tell(&self.events, about.as_ref(), &url, "refused", 0);
            return Fired::Refused;
        }
        match self.tx.try_send(Queued { url, about }) {
            Ok(()) => {
                self.stats.queued.inc();
                Fired::Queued
            }
            Err(e) => {
                // Not sent: the key may fire again when the queue has room.
                if let Some(k) = key {
                    self.fired.invalidate(k);
                }
                self.stats.dropped.inc();
                let q = e.into_inner();
                tell(&self.events, q.about.as_ref(), &q.url, "dropped", 0);
                Fired::Dropped
            }
        }
    }
}

async fn send_all(
    mut rx: mpsc::Receiver<Queued>,
    client: reqwest::Client,
    stats: Arc<BeaconStats>,
    attempts: u32,
    backoff: Duration,
    events: NodeEvents,
) {
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(Queued { url, about }) = rx.recv().await {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let (client, stats, events) = (client.clone(), stats.clone(), events.clone());
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
                    tell(&events, about.as_ref(), &url, "sent", attempt + 1);
                    return;
                }
            }
            stats.failed.inc();
            tell(&events, about.as_ref(), &url, "failed", attempts);
        });
    }
}
