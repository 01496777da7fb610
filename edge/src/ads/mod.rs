//! Server-side ad insertion at the edge: the IO around the pure `ssai` crate.
//! - [`config`]: `[ads]`, the policies (which assets, which ad server, where the breaks go)
//!   and the limits;
//! - [`outbound`]: where ad server answers may send the edge (no private addresses);
//! - [`decision`]: asking an ad server for a break's ads, following wrappers within limits;
//! - [`condition`]: every creative transcoded once by ffmpeg, off the request path, into an
//!   MP4 shaped like the content's ladder; these files are the ads' titles;
//! - [`session`]: ad sessions, named in the URL path;
//! - [`plan`]: a session's breaks and ads; [`planner`]: deciding them, once per session;
//! - [`stitch`]: a session's media playlists and MPD with its ads spliced in;
//! - [`deferred`]: background tasks spawned on first use;
//! - [`beacons`]: impressions, tracking and error URLs fired from a bounded queue, once per
//!   session, ad and event, as the session fetches the ads' segments.
//!
//! [`Ads`] ties them together for the request pipeline (decision 0015).

pub mod beacons;
pub mod condition;
pub mod config;
pub mod decision;
pub mod deferred;
pub mod outbound;
pub mod plan;
pub mod planner;
pub mod session;
pub mod stitch;

use std::sync::Arc;
use std::time::Duration;

use packager::presentation::PackagingOptions;

use crate::ads::beacons::{About, BeaconStats, Beacons};
use crate::ads::condition::{ConditionStats, Conditioner};
use crate::ads::config::{AdRules, AdsConfig};
use crate::ads::decision::Decider;
use crate::ads::session::{AdSession, Sessions};
use crate::media::cache::MediaCache;
use crate::media::root::MediaRoot;
use crate::media::title::Title;
use crate::ops::ads_metrics::AdsMetrics;
use crate::ops::events::NodeEvents;
use crate::ops::metrics::Metrics;
use crate::origin::Origins;

/// Server-side ad insertion of a running daemon.
pub struct Ads {
    pub config: AdsConfig,
    pub decider: Decider,
    pub beacons: Arc<Beacons>,
    pub conditioner: Arc<Conditioner>,
    pub sessions: Arc<Sessions>,
    /// The titles of conditioned creatives (the conditioning directory as a media root).
    pub media: Arc<MediaCache>,
    pub metrics: Arc<AdsMetrics>,
    /// Session, break and beacon events.
    pub events: NodeEvents,
    /// The content's media root, where slates are found.
    media_root: MediaRoot,
}

/// What the ads need of the daemon they run in.
pub struct Host<'a> {
    pub origins: Arc<Origins>,
    /// The content's media root (slates are found there).
    pub media_root: MediaRoot,
    pub packaging: PackagingOptions,
    pub metadata_bytes: u64,
    pub metrics: Arc<Metrics>,
    /// The ads of the configuration before this one, whose sessions carry over.
    pub previous: Option<&'a Ads>,
    /// Where session, break and beacon events go.
    pub events: NodeEvents,
}

impl Ads {
    /// The ads of `config` (asset definitions may give ads to any asset, so they exist
    /// whatever the configured policies). The beacon queue and the conditioning pool start
    /// on the tokio runtime when first used.
    pub fn new(config: &AdsConfig, host: Host<'_>) -> Result<Arc<Ads>, String> {
        config.validate()?;
        let metrics = host.metrics.ads.clone();
        let conditioner = match host.previous {
            Some(p)
                if p.config.conditioning_dir == config.conditioning_dir
                    && p.config.conditioning_workers == config.conditioning_workers
                    && p.config.allow_private_addresses == config.allow_private_addresses =>
            {
                p.conditioner.clone()
            }
            _ => Conditioner::start(
                &config.conditioning_dir,
                config.conditioning_workers,
                config.conditioning_queue,
                Duration::from_secs(config.conditioning_timeout_seconds.max(1)),
                config.allow_private_addresses,
                ConditionStats::new(&metrics),
            )?,
        };
        let sessions = match host.previous {
            Some(p) => p.sessions.clone(),
            None => Arc::new(Sessions::new(
                Duration::from_secs(config.session_idle_seconds),
                config.max_sessions,
            )),
        };
        let root = MediaRoot::Local(config.conditioning_dir.clone());
        let media = Arc::new(MediaCache::new(
            root,
            host.origins,
            host.packaging,
            host.metadata_bytes / 4,
            // Conditioned files never change under their name.
            Duration::from_secs(24 * 3600),
            0,
            host.metrics,
        ));
        Ok(Arc::new(Ads {
            decider: Decider::new(config)?,
            beacons: Beacons::start(config, BeaconStats::new(&metrics), host.events.clone())?,
            conditioner,
            sessions,
            media,
            metrics,
            media_root: host.media_root,
            events: host.events,
            config: config.clone(),
        }))
    }

    /// Where the slate `slate` (a path below the media root, or a URL) is read from.
    pub fn slate_source(&self, slate: &str) -> Option<String> {
        let lower = slate.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Some(slate.to_owned());
        }
        match &self.media_root {
            MediaRoot::Local(dir) => Some(dir.join(slate).display().to_string()),
            MediaRoot::Http(base) => base.join(slate).ok().map(|u| u.to_string()),
        }
    }

    /// The ads of `asset`: its definition file's, else the first configured policy's.
    pub fn rules<'a>(&'a self, asset: &str, title: &'a Title) -> Option<&'a AdRules> {
        title.ads.as_ref().or_else(|| self.config.rules(asset))
    }

    /// A beacon or error URL template filled for `session` (`[ERRORCODE]` when given).
    pub fn fill_beacon(&self, template: &str, session: &AdSession, error: Option<&str>) -> String {
        let buster = format!(
            "{:08x}",
            crate::hash::fnv1a(
                template.as_bytes(),
                crate::hash::fnv1a(session.id.as_bytes(), 0)
            ) as u32
        );
        ssai::macros::expand(template, &|name| match name {
            "ERRORCODE" => error.map(str::to_owned),
            "CACHEBUSTING" => Some(buster.clone()),
            "session.id" => Some(session.id.clone()),
            _ => None,
        })
    }

    /// Fires the beacons that segment `n` (from 1) of the ad in `slot` of session `id`
    /// fires, once each. `ad` is the ad's title.
    pub fn on_ad_segment(&self, id: &str, slot: &str, ad: &Title, n: u32) {
        let Some(session) = self.sessions.get(id) else {
            return;
        };
        let Some(plan) = session.plan.get() else {
            return;
        };
        let Some(planned) = plan.ad(slot) else {
            return;
        };
        let by_segment = planned.beacons.get_or_init(|| {
            let durations = stitch::segment_durations_ms(&ad.presentation);
            ssai::beacons::by_segment(&planned.ad, &durations)
        });
        let index = (n as usize).saturating_sub(1);
        let Some(beacons) = by_segment.get(index) else {
            return;
        };
        for (j, b) in beacons.iter().enumerate() {
            let key = format!("{id}/{slot}/{index}/{j}");
            self.beacons.fire_once(&key, || {
                let about = About {
                    session: session.id.clone(),
                    key: session.event_key().to_owned(),
                    slot: slot.to_owned(),
                    event: match &b.kind {
                        ssai::beacons::Kind::Impression => "impression".to_owned(),
                        ssai::beacons::Kind::Tracking(e) => e.name().to_owned(),
                    },
                };
                (self.fill_beacon(&b.url, &session, None), Some(about))
            });
        }
    }
}
