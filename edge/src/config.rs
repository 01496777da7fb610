//! The daemon's configuration: one struct read from TOML (unknown fields are an error) that
//! command-line flags can override. Every field has a default that serves the bundled demo.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::access::config::AccessConfig;
use crate::ads::config::AdsConfig;
use crate::delivery::config::DeliveryConfig;
use crate::keys::config::{DrmConfig, KeysConfig};
use crate::keys::policy::EncryptionPolicy;
pub use crate::media::root::MediaRoot;
pub use crate::origin::config::OriginConfig;

/// Everything the daemon can be told.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on: TCP for HTTP/1.1 and HTTP/2 (h2c, or ALPN under TLS), and the
    /// same port over UDP for HTTP/3 when it is on.
    pub listen: SocketAddr,
    /// Where the MP4 files and title directories served under `/vod/` are: a local
    /// directory, or the base URL of an HTTP origin (`http://` or `https://`).
    pub media_root: MediaRoot,
    pub packaging: PackagingConfig,
    pub cache: CacheConfig,
    pub limits: LimitsConfig,
    /// How HTTP origins are read.
    pub origin: OriginConfig,
    /// TLS for the listener (HTTP/1.1 and HTTP/2 by ALPN).
    pub tls: TlsConfig,
    /// HTTP/3 over QUIC on the listen port (UDP); needs TLS.
    pub http3: Http3Config,
    /// Logs.
    pub log: LogConfig,
    /// Default encryption policy for assets without an asset definition file.
    pub encryption: EncryptionPolicy,
    /// Where content keys come from.
    pub keys: KeysConfig,
    /// How DRM systems are signalled.
    pub drm: DrmConfig,
    /// Playback access: tokens, sessions, revocation.
    pub access: AccessConfig,
    /// Multi-CDN delivery: the CDNs, their health probes, content steering.
    pub delivery: DeliveryConfig,
    /// Server-side ad insertion: ad policies, ad servers, beacons, conditioning.
    pub ads: AdsConfig,
    /// Asset policy (encryption, ads) from a catalog, on top of asset definition files.
    pub catalog: crate::media::catalog_config::CatalogSourceConfig,
    /// The control plane (catalog, entitlement, billing) run inside this node on its own
    /// port; unset runs none (`edgepack control` runs it alone).
    #[cfg(feature = "control")]
    pub control: Option<control_plane::ControlConfig>,
    /// Where this node's events go (ad sessions, breaks, beacons): nowhere, a JSON-lines
    /// file (relative to the working directory) or a Kafka topic.
    #[cfg(feature = "control")]
    pub events: control_common::events::config::EventsConfig,
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
    /// Segments (at the target duration) of a title's opening: a title not loaded yet
    /// serves its first segments from the openings of its sources while the whole title
    /// loads. 0 turns openings off: every first request waits for the whole `moov`.
    pub opening_segments: u32,
    /// Byte budget for built responses (manifests and segments); 0 turns the cache off, so
    /// every request packages.
    pub response_bytes: u64,
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
    /// Largest request head (request line and headers), in bytes.
    pub max_header_bytes: usize,
    /// Most client connections open at once (TCP and QUIC counted apart); further
    /// connections are closed at once.
    pub max_connections: usize,
    /// Most concurrent requests on one HTTP/2 or HTTP/3 connection.
    pub max_streams_per_connection: u32,
    /// Seconds a connection may stay idle (no request in progress) before it is closed.
    pub idle_timeout_seconds: u64,
}

/// TLS settings: a certificate chain and key in PEM files, or a self-signed certificate
/// made at start-up (for demos and tests; never for production).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM file with the certificate chain, leaf first.
    pub cert: Option<PathBuf>,
    /// PEM file with the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
    /// With no `cert`/`key`: make a self-signed certificate for these names at start-up.
    pub self_signed: bool,
    /// Names the self-signed certificate is made for.
    pub self_signed_names: Vec<String>,
}

impl TlsConfig {
    /// Whether the listener speaks TLS.
    pub fn enabled(&self) -> bool {
        self.cert.is_some() || self.self_signed
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Http3Config {
    /// Serve HTTP/3 on the listen port over UDP and advertise it with `Alt-Svc`.
    pub enabled: bool,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// Access log in the combined log format: unset for none, `"-"` for standard output,
    /// else a file path (appended to).
    pub access_log: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            media_root: MediaRoot::Local(PathBuf::from("demo/media")),
            packaging: PackagingConfig::default(),
            cache: CacheConfig::default(),
            limits: LimitsConfig::default(),
            origin: OriginConfig::default(),
            tls: TlsConfig::default(),
            http3: Http3Config::default(),
            log: LogConfig::default(),
            encryption: EncryptionPolicy::default(),
            keys: KeysConfig::default(),
            drm: DrmConfig::default(),
            access: AccessConfig::default(),
            delivery: DeliveryConfig::default(),
            ads: AdsConfig::default(),
            catalog: Default::default(),
            #[cfg(feature = "control")]
            control: None,
            #[cfg(feature = "control")]
            events: Default::default(),
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
            response_bytes: 256 * 1024 * 1024,
            title_revalidate_seconds: 2,
            opening_segments: 16,
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
            max_header_bytes: 16 * 1024,
            max_connections: 10_000,
            max_streams_per_connection: 256,
            idle_timeout_seconds: 60,
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
        let limits = &self.limits;
        if !(1024..=1024 * 1024).contains(&limits.max_header_bytes) {
            return Err(ConfigError::Invalid(
                "limits.max_header_bytes must be between 1024 and 1048576".into(),
            ));
        }
        if limits.max_connections == 0 || limits.max_streams_per_connection == 0 {
            return Err(ConfigError::Invalid(
                "limits.max_connections and limits.max_streams_per_connection must be at least 1"
                    .into(),
            ));
        }
        if self.tls.cert.is_some() != self.tls.key.is_some() {
            return Err(ConfigError::Invalid(
                "tls.cert and tls.key go together".into(),
            ));
        }
        if self.http3.enabled && !self.tls.enabled() {
            return Err(ConfigError::Invalid(
                "http3.enabled needs TLS (tls.cert and tls.key, or tls.self_signed)".into(),
            ));
        }
        self.origin.validate().map_err(ConfigError::Invalid)?;
        self.access.validate().map_err(ConfigError::Invalid)?;
        self.delivery.validate().map_err(ConfigError::Invalid)?;
        self.ads.validate().map_err(ConfigError::Invalid)?;
        self.catalog.validate().map_err(ConfigError::Invalid)?;
        #[cfg(feature = "control")]
        if let Some(control) = &self.control {
            control.validate().map_err(ConfigError::Invalid)?;
        }
        #[cfg(feature = "control")]
        self.events
            .validate("events")
            .map_err(ConfigError::Invalid)?;
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
