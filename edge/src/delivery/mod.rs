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

use std::sync::atomic::{AtomicU64, Ordering};
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
    /// Bumped by each configuration that takes the board over: only its probe task feeds
    /// the board, so a reload never has two tasks counting each failure twice.
    generation: AtomicU64,
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
    /// This configuration's turn at the health board (see [`Health`]).
    generation: u64,
    pub metrics: Arc<DeliveryMetrics>,
    pub country_header: http::HeaderName,
    pub rng: SystemRandom,
    /// Signs the session state written into steering URLs (`state_key_hex`, or a key of
    /// this process's own).
    state_key: ring::hmac::Key,
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
                    generation: AtomicU64::new(0),
                })
            });
        let generation = health.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let country_header = http::HeaderName::from_bytes(config.country_header.as_bytes())
            .map_err(|_| {
                format!(
                    "delivery.country_header {:?} is not a header name",
                    config.country_header
                )
            })?;
        let state_key = match &config.state_key_hex {
            Some(hex_key) => {
                let bytes = hex::decode(hex_key.trim())
                    .ok()
                    .filter(|b| b.len() >= 16)
                    .ok_or_else(|| "delivery.state_key_hex: at least 16 bytes, hex".to_owned())?;
                ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &bytes)
            }
            None => match previous {
                Some(p) => p.state_key.clone(),
                None => ring::hmac::Key::generate(ring::hmac::HMAC_SHA256, &SystemRandom::new())
                    .map_err(|_| "no randomness for the steering state key".to_owned())?,
            },
        };
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
            generation,
            metrics,
            country_header,
            rng: SystemRandom::new(),
            state_key,
        });
        delivery.publish_health();
        probe::start(&delivery)?;
        Ok(Some(delivery))
    }

    /// Whether this configuration's probes still feed the health board (a reload that kept
    /// the board hands it to the new configuration's probes).
    pub fn probes_current(&self) -> bool {
        self.health.generation.load(Ordering::SeqCst) == self.generation
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

    /// The signature of a session's steering state: the first 8 bytes of an HMAC-SHA256 of
    /// the session and the pathway served, hex.
    pub fn sign_state(&self, session: &str, served: &PathwayId) -> String {
        let tag = ring::hmac::sign(&self.state_key, format!("{session}\n{served}").as_bytes());
        hex::encode(&tag.as_ref()[..8])
    }

    /// Whether `state` is this edge's signature of `session` and `served`.
    pub fn verify_state(&self, session: &str, served: &PathwayId, state: &str) -> bool {
        let want = self.sign_state(session, served);
        // Compared in time independent of where they differ.
        want.len() == state.len()
            && want
                .bytes()
                .zip(state.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b.to_ascii_lowercase()))
                == 0
    }

    /// The CDN a clone-layout playlist for a viewer from `country` is written with: the first
    /// of their CDNs that may carry sessions, or the first of them when none may.
    pub fn clone_base(&self, country: Option<&str>) -> Pathway {
        self.clone_base_among(&self.pathways_for(country))
    }

    /// [`Delivery::clone_base`] among `pathways` (not empty).
    pub fn clone_base_among(&self, pathways: &[Pathway]) -> Pathway {
        let statuses = self.statuses();
        let usable = |p: &&Pathway| {
            statuses
                .iter()
                .find(|(id, _)| *id == p.id)
                .is_none_or(|(_, s)| s.usable())
        };
        pathways
            .iter()
            .find(usable)
            .or_else(|| pathways.first())
            .cloned()
            .unwrap_or_else(|| self.pathways[0].clone())
    }

    /// The CDN settings of `id`.
    pub fn cdn(&self, id: &PathwayId) -> Option<&Cdn> {
        self.pathways
            .iter()
            .position(|p| &p.id == id)
            .and_then(|i| self.cdns.get(i))
    }
}
