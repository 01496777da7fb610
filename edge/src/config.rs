//! The daemon's configuration: one struct read from TOML (unknown fields are an error) that
//! command-line flags can override. Every field has a default that serves the bundled demo.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::keys::config::{DrmConfig, KeysConfig};
use crate::keys::policy::EncryptionPolicy;

/// Everything the daemon can be told.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on for HTTP/1.1 and HTTP/2 (h2c).
    pub listen: SocketAddr,
    /// Directory holding the MP4 files and title directories served under `/vod/`.
    pub media_root: PathBuf,
    pub packaging: PackagingConfig,
    pub cache: CacheConfig,
    pub limits: LimitsConfig,
    /// Default encryption policy for assets without an asset definition file.
    pub encryption: EncryptionPolicy,
    /// Where content keys come from.
    pub keys: KeysConfig,
    /// How DRM systems are signalled.
    pub drm: DrmConfig,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PackagingConfig {
    /// Target segment duration in milliseconds; segments are cut on the next keyframe.
    pub target_segment_ms: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Byte budget for parsed sample tables (the `moov` of each source).
    pub metadata_bytes: u64,
    /// Seconds a title's file listing is trusted before the directory is looked at again.
    pub title_revalidate_seconds: u64,
    /// Cache-Control max-age for playlists and manifests.
    pub playlist_max_age_seconds: u32,
    /// Cache-Control max-age for segments (immutable).
    pub segment_max_age_seconds: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest single segment read from a source, in bytes.
    pub max_segment_read_bytes: u64,
    /// Seconds allowed to read a request's headers.
    pub header_read_timeout_seconds: u64,
    /// Seconds SIGTERM waits for in-flight requests before exiting.
    pub shutdown_grace_seconds: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            media_root: PathBuf::from("demo/media"),
            packaging: PackagingConfig::default(),
            cache: CacheConfig::default(),
            limits: LimitsConfig::default(),
            encryption: EncryptionPolicy::default(),
            keys: KeysConfig::default(),
            drm: DrmConfig::default(),
        }
    }
}

impl Default for PackagingConfig {
    fn default() -> Self {
        PackagingConfig {
            target_segment_ms: packager::presentation::DEFAULT_TARGET_SEGMENT_MS,
        }
    }
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            metadata_bytes: 256 * 1024 * 1024,
            title_revalidate_seconds: 2,
            playlist_max_age_seconds: 2,
            segment_max_age_seconds: 86_400,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_segment_read_bytes: 256 * 1024 * 1024,
            header_read_timeout_seconds: 10,
            shutdown_grace_seconds: 10,
        }
    }
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Reads a TOML config file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text).map_err(|e| match e {
            ConfigError::Parse { message, .. } => ConfigError::Parse {
                path: path.to_owned(),
                message,
            },
            other => other,
        })
    }

    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: PathBuf::new(),
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let target = self.packaging.target_segment_ms;
        if !(500..=60_000).contains(&target) {
            return Err(ConfigError::Invalid(format!(
                "packaging.target_segment_ms = {target}: must be between 500 and 60000"
            )));
        }
        if self.cache.metadata_bytes < 1024 * 1024 {
            return Err(ConfigError::Invalid(
                "cache.metadata_bytes must be at least 1 MiB".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        assert_eq!(Config::from_toml("").unwrap(), Config::default());
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = Config::from_toml("listen_addr = \"x\"").unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn bad_target_is_rejected() {
        let err = Config::from_toml("[packaging]\ntarget_segment_ms = 10").unwrap_err();
        assert!(err.to_string().contains("target_segment_ms"), "{err}");
    }

    #[test]
    fn sample_configs_in_the_repo_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/config");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                Config::from_file(&path).unwrap();
                seen += 1;
            }
        }
        assert!(seen > 0, "no sample config in {}", dir.display());
    }
}
