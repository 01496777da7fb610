//! Multi-CDN delivery: the CDNs an asset is delivered through, their health (probed here,
//! decided by the pure `cdn-router` crate), the steering answers players poll, and the
//! manifests that name every CDN. The parts:
//! - [`config`]: the `[delivery]` section;
//! - [`probe`]: the background task that probes each CDN;
//! - [`tokens`]: the token each CDN checks, written into its URLs;
//! - [`manifests`]: multivariant playlists and MPDs steered for a session;
//! - [`steer`]: the steering endpoint (`/vod/{asset}/steering/{hls,dash}.json`).

pub mod config;
pub mod manifests;
pub mod probe;
pub mod steer;
pub mod tokens;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use cdn_router::health::{Board, Change, HealthPolicy, Status};
use cdn_router::steering::TtlPolicy;
use cdn_router::{Pathway, PathwayId};
use ring::rand::SystemRandom;

use crate::delivery::config::DeliveryConfig;
use crate::delivery::tokens::Signer;
use crate::ops::delivery_metrics::DeliveryMetrics;

/// What this node knows of one CDN beyond its pathway.
pub struct Cdn {
    /// Viewer countries it serves (upper case); empty: everyone.
    pub regions: Vec<String>,
    pub probe_url: String,
    pub signer: Option<Signer>,
}

/// The health of the CDNs, kept across reloads that leave them as they were.
struct Health {
    board: Mutex<Board>,
    /// The origin of the board's millisecond clock.
    epoch: Instant,
}

/// Multi-CDN delivery for one configuration.
pub struct Delivery {
    pub config: DeliveryConfig,
    /// The CDNs as pathways, in configuration order.
    pub pathways: Vec<Pathway>,
    /// The same CDNs' other settings, index for index.
    pub cdns: Vec<Cdn>,
    pub policy: HealthPolicy,
    pub ttl: TtlPolicy,
    health: Arc<Health>,
    pub metrics: Arc<DeliveryMetrics>,
    pub country_header: http::HeaderName,
    pub rng: SystemRandom,
}

impl Delivery {
    /// Delivery for `config`, `None` when it names no CDN. The CDNs' health carries over
    /// from `previous` when the CDNs and the policy are unchanged. Starts the probes.
    pub fn new(
        config: &DeliveryConfig,
        metrics: Arc<DeliveryMetrics>,
        previous: Option<&Delivery>,
    ) -> Result<Option<Arc<Delivery>>, String> {
        config.validate()?;
        if config.cdns.is_empty() {
            return Ok(None);
        }
        let mut pathways = Vec::new();
        let mut cdns = Vec::new();
        for c in &config.cdns {
            let id = PathwayId::new(&c.id).ok_or_else(|| format!("CDN id {:?}", c.id))?;
            pathways.push(Pathway {
                id,
                base_url: c.base_url.clone(),
                weight: c.weight,
                priority: c.priority,
            });
            cdns.push(Cdn {
                regions: c.regions.iter().map(|r| r.to_ascii_uppercase()).collect(),
                probe_url: c
                    .probe_url
                    .clone()
                    .unwrap_or_else(|| format!("{}{}", c.base_url, config.probe_path)),
                signer: c
                    .signing
                    .as_ref()
                    .map(|s| Signer::new(&c.id, s))
                    .transpose()?,
            });
        }
        let policy = HealthPolicy {
            fail_after: config.fail_after.max(1),
            recover_after: config.recover_after.max(1),
            hold_ms: config.hold_seconds * 1000,
            ramp_ms: config.ramp_seconds * 1000,
            player_reports: config.player_reports,
            report_window_ms: config.report_window_seconds * 1000,
        };
        let health = previous
            .filter(|p| p.pathways == pathways && p.policy == policy)
            .map(|p| p.health.clone())
            .unwrap_or_else(|| {
                Arc::new(Health {
                    board: Mutex::new(Board::new(pathways.iter().map(|p| p.id.clone()))),
                    epoch: Instant::now(),
                })
            });
        let country_header = http::HeaderName::from_bytes(config.country_header.as_bytes())
            .map_err(|_| {
                format!(
                    "delivery.country_header {:?} is not a header name",
                    config.country_header
                )
            })?;
        let delivery = Arc::new(Delivery {
            config: config.clone(),
            pathways,
            cdns,
            policy,
            ttl: TtlPolicy {
                healthy_s: config.ttl_seconds,
                degraded_s: config.degraded_ttl_seconds,
            },
            health,
            metrics,
            country_header,
            rng: SystemRandom::new(),
        });
        delivery.publish_health();
        probe::start(&delivery)?;
        Ok(Some(delivery))
    }

    /// Milliseconds on the health board's clock.
    pub fn now_ms(&self) -> u64 {
        self.health.epoch.elapsed().as_millis() as u64
    }

    fn board(&self) -> std::sync::MutexGuard<'_, Board> {
        // A panic while holding the lock leaves a board that is still whole (every change
        // is one assignment), so a poisoned lock is taken as it is.
        self.health
            .board
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every CDN's status now.
    pub fn statuses(&self) -> Vec<(PathwayId, Status)> {
        let now = self.now_ms();
        self.board().statuses(now, &self.policy)
    }

    /// How many times each CDN came back after an outage.
    pub fn returns(&self) -> Vec<(PathwayId, u32)> {
        self.board().returns()
    }

    /// Takes in a probe result for the CDN at `index`.
    pub fn probed(&self, index: usize, ok: bool) {
        let Some(p) = self.pathways.get(index) else {
            return;
        };
        let now = self.now_ms();
        let change = self.board().probe(&p.id, ok, now, &self.policy);
        self.changed(&p.id, change);
    }

    /// Takes in the report of the player of `session` that it left `id`.
    pub fn player_left(&self, id: &PathwayId, session: &str) {
        let now = self.now_ms();
        let change = self.board().player_left(id, session, now, &self.policy);
        self.changed(id, change);
    }

    fn changed(&self, id: &PathwayId, change: Option<Change>) {
        let Some(change) = change else {
            return;
        };
        let to = match change {
            Change::WentDown => {
                tracing::warn!(cdn = %id, "CDN out of steering answers");
                "down"
            }
            Change::CameBack => {
                tracing::info!(cdn = %id, "CDN back in steering answers (ramping)");
                "back"
            }
        };
        self.metrics
            .cdn_transitions
            .with_label_values(&[id.as_str(), to])
            .inc();
        self.publish_health();
    }

    /// The health gauges, from the board.
    fn publish_health(&self) {
        for (id, status) in self.statuses() {
            self.metrics
                .cdn_up
                .with_label_values(&[id.as_str()])
                .set(i64::from(status.usable()));
        }
    }

    /// The pathways a viewer from `country` may use: the CDNs whose regions include it, or
    /// every CDN when none does (a viewer is never left with no CDN).
    pub fn pathways_for(&self, country: Option<&str>) -> Vec<Pathway> {
        let serves = |c: &Cdn| {
            c.regions.is_empty()
                || country.is_some_and(|k| c.regions.iter().any(|r| r.eq_ignore_ascii_case(k)))
        };
        let chosen: Vec<Pathway> = self
            .pathways
            .iter()
            .zip(&self.cdns)
            .filter(|(_, c)| serves(c))
            .map(|(p, _)| p.clone())
            .collect();
        if chosen.is_empty() {
            self.pathways.clone()
        } else {
            chosen
        }
    }

    /// The CDN settings of `id`.
    pub fn cdn(&self, id: &PathwayId) -> Option<&Cdn> {
        self.pathways
            .iter()
            .position(|p| &p.id == id)
            .and_then(|i| self.cdns.get(i))
    }
}
