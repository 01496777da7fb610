//! What every request handler shares: the configuration, the origin readers, the caches,
//! the key source and the metrics.

use std::sync::Arc;
use std::time::Duration;

use packager::presentation::PackagingOptions;

use crate::access::Access;
use crate::ads::Ads;
use crate::config::Config;
use crate::delivery::Delivery;
use crate::http::response::CacheHeaders;
use crate::keys::KeySource;
use crate::media::cache::MediaCache;
#[cfg(feature = "control")]
use crate::media::catalog_policy::CatalogPolicies;
use crate::ops::access_log::AccessLog;
use crate::ops::events::NodeEvents;
use crate::ops::metrics::Metrics;
use crate::origin::Origins;
use crate::response_cache::ResponseCache;

/// Shared state of a running daemon, for one configuration.
pub struct AppState {
    pub config: Config,
    pub origins: Arc<Origins>,
    pub media: Arc<MediaCache>,
    pub responses: Arc<ResponseCache>,
    pub metrics: Arc<Metrics>,
    /// Where content keys come from (static, derived or SPEKE, by configuration).
    pub keys: Arc<dyn KeySource>,
    /// The access log, when one is configured.
    pub access_log: Option<Arc<AccessLog>>,
    /// Playback access control; `None` when no access key is configured (nothing to check).
    pub access: Option<Arc<Access>>,
    /// Multi-CDN delivery; `None` when no CDN is configured.
    pub delivery: Option<Arc<Delivery>>,
    /// Server-side ad insertion (idle for assets without an ad policy).
    pub ads: Arc<Ads>,
    /// Where this node's events go (`[events]`).
    pub events: NodeEvents,
    /// The `Cache-Control` values of `config.cache`, made once.
    pub cache_headers: CacheHeaders,
}

/// Why a daemon could not be set up from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error("key source: {0}")]
    Keys(String),
    #[error("origin client: {0}")]
    Origin(String),
    #[error("invalid configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    NeedsRestart(String),
    #[error("delivery: {0}")]
    Delivery(String),
    #[error("ads: {0}")]
    Ads(String),
    #[error("access: {0}")]
    Access(String),
    #[error("catalog: {0}")]
    Catalog(String),
    #[error("access log {path}: {source}")]
    AccessLog {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

impl AppState {
    pub fn new(config: Config) -> Result<Arc<Self>, StateError> {
        Self::build(config, Arc::new(Metrics::new()?), None)
    }

    /// The URL scheme players reach this node with.
    pub fn scheme(&self) -> &'static str {
        if self.config.tls.enabled() {
            "https"
        } else {
            "http"
        }
    }

    /// The state for `config` after this one: same metrics, and the caches kept when the
    /// settings they depend on are unchanged.
    pub fn successor(&self, config: Config) -> Result<Arc<Self>, StateError> {
        Self::build(config, self.metrics.clone(), Some(self))
    }

    fn build(
        config: Config,
        metrics: Arc<Metrics>,
        previous: Option<&AppState>,
    ) -> Result<Arc<Self>, StateError> {
        config.validate()?;
        let keys = config.keys.build().map_err(StateError::Keys)?;
        let same = |f: &dyn Fn(&Config) -> bool| previous.filter(|p| f(&p.config));
        let origins = match same(&|c| c.origin == config.origin) {
            Some(p) => p.origins.clone(),
            None => {
                Arc::new(Origins::new(&config.origin, metrics.clone()).map_err(StateError::Origin)?)
            }
        };
        let media = match same(&|c| {
            c.media_root == config.media_root
                && c.packaging == config.packaging
                && c.cache.metadata_bytes == config.cache.metadata_bytes
                && c.cache.title_revalidate_seconds == config.cache.title_revalidate_seconds
                && c.cache.opening_segments == config.cache.opening_segments
                && c.origin == config.origin
                && c.ads.policies == config.ads.policies
                && c.catalog == config.catalog
        }) {
            Some(p) => p.media.clone(),
            None => {
                let media = MediaCache::new(
                    config.media_root.clone(),
                    origins.clone(),
                    PackagingOptions {
                        target_segment_ms: config.packaging.target_segment_ms,
                    },
                    config.cache.metadata_bytes,
                    Duration::from_secs(config.cache.title_revalidate_seconds.max(1)),
                    config.cache.opening_segments,
                    metrics.clone(),
                )
                .with_ad_policies(&config.ads.policies);
                #[cfg(feature = "control")]
                let media = media.with_catalog(
                    CatalogPolicies::from_config(&config.catalog, metrics.catalog_lookups.clone())
                        .map_err(StateError::Catalog)?,
                );
                #[cfg(not(feature = "control"))]
                if config.catalog.url.is_some() {
                    return Err(StateError::Catalog(
                        "this build has no catalog client (the control feature is off)".into(),
                    ));
                }
                Arc::new(media)
            }
        };
        // Cached responses depend on everything that shapes output, keys included.
        let responses = match same(&|c| {
            c.cache.response_bytes == config.cache.response_bytes
                && c.packaging == config.packaging
                && c.encryption == config.encryption
                && c.keys == config.keys
                && c.drm == config.drm
        }) {
            Some(p) => p.responses.clone(),
            None => Arc::new(ResponseCache::new(
                config.cache.response_bytes,
                metrics.clone(),
            )),
        };
        let access_log = match (&config.log.access_log, previous) {
            (None, _) => None,
            (Some(path), Some(p)) if p.config.log.access_log.as_ref() == Some(path) => {
                p.access_log.clone()
            }
            (Some(path), _) => Some(Arc::new(AccessLog::open(path).map_err(|source| {
                StateError::AccessLog {
                    path: path.clone(),
                    source,
                }
            })?)),
        };
        let budget = |cache: &str, bytes: u64| {
            metrics
                .cache_budget
                .with_label_values(&[cache])
                .set(i64::try_from(bytes).unwrap_or(i64::MAX));
        };
        let access = if config.access.keys.is_empty()
            && config.access.akamai_keys.is_empty()
            && config.access.admin_key.is_none()
        {
            None
        } else {
            let previous = previous.and_then(|p| p.access.as_deref());
            Some(Arc::new(
                Access::new(&config.access, metrics.access.clone(), previous)
                    .map_err(StateError::Access)?,
            ))
        };
        let delivery = Delivery::new(
            &config.delivery,
            metrics.delivery.clone(),
            previous.and_then(|p| p.delivery.as_deref()),
        )
        .map_err(StateError::Delivery)?;
        #[cfg(feature = "control")]
        let events = match same(&|c| c.events == config.events) {
            Some(p) => p.events.clone(),
            None => NodeEvents::new(&config.events, metrics.events.clone()),
        };
        #[cfg(not(feature = "control"))]
        let events = NodeEvents::default();
        let ads = Ads::new(
            &config.ads,
            crate::ads::Host {
                origins: origins.clone(),
                media_root: config.media_root.clone(),
                packaging: PackagingOptions {
                    target_segment_ms: config.packaging.target_segment_ms,
                },
                metadata_bytes: config.cache.metadata_bytes,
                metrics: metrics.clone(),
                previous: previous.map(|p| p.ads.as_ref()),
                events: events.clone(),
            },
        )
        .map_err(StateError::Ads)?;
        budget("response", config.cache.response_bytes);
        budget("metadata", config.cache.metadata_bytes);
        Ok(Arc::new(AppState {
            cache_headers: CacheHeaders::new(&config.cache),
            config,
            origins,
            media,
            responses,
            metrics,
            keys,
            access_log,
            access,
            delivery,
            ads,
            events,
        }))
    }
}
