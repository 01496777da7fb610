//! What every request handler shares: the configuration, the media caches and the metrics.

use std::sync::Arc;
use std::time::Duration;

use packager::presentation::PackagingOptions;

use crate::config::Config;
use crate::keys::KeySource;
use crate::media::cache::MediaCache;
use crate::metrics::Metrics;

/// Shared state of a running daemon.
pub struct AppState {
    pub config: Config,
    pub media: MediaCache,
    pub metrics: Metrics,
    /// Where content keys come from (static, derived or SPEKE, by configuration).
    pub keys: Arc<dyn KeySource>,
}

/// Why a daemon could not be set up from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error("key source: {0}")]
    Keys(String),
}

impl AppState {
    pub fn new(config: Config) -> Result<Arc<Self>, StateError> {
        let keys = config.keys.build().map_err(StateError::Keys)?;
        let media = MediaCache::new(
            config.media_root.clone(),
            PackagingOptions {
                target_segment_ms: config.packaging.target_segment_ms,
            },
            config.cache.metadata_bytes,
            Duration::from_secs(config.cache.title_revalidate_seconds.max(1)),
        );
        Ok(Arc::new(AppState {
            config,
            media,
            metrics: Metrics::new()?,
            keys,
        }))
    }
}
