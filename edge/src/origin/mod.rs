//! Reading source media, from local files or HTTP origins: who the source is
//! ([`SourceRef`]), which version of it ([`SourceIdentity`]), and the reads packaging needs
//! (the `moov`, one coalesced range per segment, small documents such as asset definitions
//! and subtitles). HTTP reads are ranged, bounded in time, retried with backoff when that
//! may help, and refused at once while the origin host's circuit breaker is open.

mod advised;
pub mod breaker;
pub mod config;
mod error;
mod http;
mod local;
mod mapped;
mod moov;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use packager::mp4::Movie;

pub use error::OriginError;
pub use moov::FoundMoov;

use crate::ops::metrics::Metrics;
use breaker::Breakers;
use config::OriginConfig;

/// Where one source object is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SourceRef {
    File(PathBuf),
    Url(reqwest::Url),
}

impl SourceRef {
    /// The name clients may see in errors: the file path (made relative to the media root
    /// before it leaves the daemon) or the URL path, never the origin's host.
    pub fn public_name(&self) -> String {
        match self {
            SourceRef::File(p) => p.display().to_string(),
            SourceRef::Url(u) => u.path().to_owned(),
        }
    }

    /// The last path segment without its extension: the rendition id stem of a source.
    pub fn stem(&self) -> String {
        let name = match self {
            SourceRef::File(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            SourceRef::Url(u) => u
                .path_segments()
                .and_then(|mut s| s.next_back())
                .unwrap_or_default()
                .to_owned(),
        };
        match name.rsplit_once('.') {
            Some((stem, _)) => stem.to_owned(),
            None => name,
        }
    }

    /// Resolves `reference` (a URL, or a path relative to this source's directory) as
    /// written in an asset definition. Local paths may not climb out of the directory.
    pub fn resolve(&self, reference: &str) -> Result<SourceRef, String> {
        if reference.starts_with("http://") || reference.starts_with("https://") {
            return reqwest::Url::parse(reference)
                .map(SourceRef::Url)
                .map_err(|e| format!("{reference:?} is not a valid URL: {e}"));
        }
        let relative = Path::new(reference);
        let plain = relative
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if reference.is_empty() || !plain {
            return Err(format!(
                "{reference:?}: a source is a URL or a relative path without '..'"
            ));
        }
        match self {
            SourceRef::File(p) => Ok(SourceRef::File(
                p.parent().unwrap_or(Path::new("")).join(relative),
            )),
            SourceRef::Url(u) => u
                .join(reference)
                .map(SourceRef::Url)
                .map_err(|e| format!("{reference:?}: {e}")),
        }
    }

    /// The label of the origin in metrics: `host:port`, or `local`.
    fn origin_label(&self) -> String {
        match self {
            SourceRef::File(_) => "local".into(),
            SourceRef::Url(u) => format!(
                "{}:{}",
                u.host_str().unwrap_or(""),
                u.port_or_known_default().unwrap_or(0)
            ),
        }
    }
}

/// The validator an HTTP origin gave for a source, sent back on every later read so that a
/// replaced source is noticed (412) instead of mixing bytes of two versions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Validator {
    /// A strong ETag, sent as `If-Match`.
    ETag(String),
    /// A `Last-Modified` date, sent as `If-Unmodified-Since`.
    LastModified(String),
}

/// One version of a source: a replaced source has another identity, so caches keyed by it
/// never serve the old version's bytes for the new one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceIdentity {
    pub len: u64,
    /// The modification time of a file (ns), or a hash of the origin's validator: the same
    /// on every node reading the same origin.
    pub version: u64,
    pub validator: Option<Validator>,
}

/// The readers of every source, sharing one HTTP client (with its connection pool), the
/// circuit breakers and the metrics.
pub struct Origins {
    config: OriginConfig,
    client: reqwest::Client,
    breakers: Breakers,
    metrics: Arc<Metrics>,
    /// Mappings of local sources; `None` when `origin.map_local_files` is off.
    mapped: Option<mapped::MappedFiles>,
}

impl Origins {
    pub fn new(config: &OriginConfig, metrics: Arc<Metrics>) -> Result<Self, String> {
        Ok(Origins {
            client: http::client(config)?,
            breakers: Breakers::new(config.breaker_failures, config.breaker_cooldown()),
            config: config.clone(),
            metrics,
            mapped: config.map_local_files.then(mapped::MappedFiles::new),
        })
    }

    /// The version of `source` now.
    pub async fn identify(&self, source: &SourceRef) -> Result<SourceIdentity, OriginError> {
        match source {
            SourceRef::File(path) => local::identify(self, path.clone()).await,
            SourceRef::Url(url) => http::identify(self, url).await,
        }
    }

    /// Finds and parses the `moov` of `source` in version `id`.
    pub async fn load_movie(
        &self,
        source: &SourceRef,
        id: &SourceIdentity,
    ) -> Result<Movie, OriginError> {
        let found = self.find_moov(source, id).await?;
        parse_off_runtime(source, id, vec![found], None)
            .await?
            .pop()
            .ok_or_else(|| OriginError::Unreadable {
                object: source.public_name(),
                reason: "no movie parsed".into(),
            })
    }

    /// Finds the `moov` of `source` in version `id`: its bytes, read and kept (for a local
    /// file, a slice of the mapping).
    pub async fn find_moov(
        &self,
        source: &SourceRef,
        id: &SourceIdentity,
    ) -> Result<FoundMoov, OriginError> {
        let name = source.public_name();
        let block = self.config.read_block_bytes;
        let started = Instant::now();
        let found = moov::find_moov(&name, id.len, block, |offset, len| {
            self.read(source, id, "moov", offset, len)
        })
        .await?;
        tracing::debug!(
            source = %name,
            moov_bytes = found.data.len(),
            found_us = started.elapsed().as_micros() as u64,
            "moov found"
        );
        Ok(found)
    }

    /// Reads `len` bytes at `offset` of `source` in version `id`, as one request.
    pub async fn read_range(
        &self,
        source: &SourceRef,
        id: &SourceIdentity,
        offset: u64,
        len: u64,
    ) -> Result<Bytes, OriginError> {
        self.read(source, id, "range", offset, len).await
    }

    async fn read(
        &self,
        source: &SourceRef,
        id: &SourceIdentity,
        kind: &'static str,
        offset: u64,
        len: u64,
    ) -> Result<Bytes, OriginError> {
        if len == 0 {
            return Ok(Bytes::new());
        }
        match source {
            SourceRef::File(path) => local::read(self, path.clone(), id, kind, offset, len).await,
            SourceRef::Url(url) => http::read_range(self, url, id, kind, offset, len).await,
        }
    }

    /// Reads a whole small object (an asset definition, a subtitle file) of at most `max`
    /// bytes; `None` when it does not exist.
    pub async fn read_document(
        &self,
        source: &SourceRef,
        max: u64,
    ) -> Result<Option<Bytes>, OriginError> {
        match source {
            SourceRef::File(path) => local::read_document(self, path.clone(), max).await,
            SourceRef::Url(url) => http::read_document(self, url, max).await,
        }
    }

    /// Whether the media root can be reached now: a local directory that can be listed, or
    /// an HTTP origin that answers at all.
    pub async fn reachable(&self, root: &crate::media::root::MediaRoot) -> Result<(), OriginError> {
        use crate::media::root::MediaRoot;
        match root {
            MediaRoot::Local(dir) => {
                let dir = dir.clone();
                let readable = tokio::task::spawn_blocking(move || std::fs::read_dir(dir).is_ok())
                    .await
                    .unwrap_or(false);
                if readable {
                    Ok(())
                } else {
                    Err(OriginError::Unreadable {
                        object: "media root".into(),
                        reason: "not a readable directory".into(),
                    })
                }
            }
            MediaRoot::Http(url) => http::probe(self, url).await,
        }
    }

    /// Records one finished read attempt in the metrics.
    fn observe(&self, origin: &str, kind: &str, result: &str, started: Instant, bytes: usize) {
        let m = &self.metrics;
        m.origin_requests
            .with_label_values(&[origin, kind, result])
            .inc();
        m.origin_duration
            .with_label_values(&[origin])
            .observe(started.elapsed().as_secs_f64());
        if bytes > 0 {
            m.origin_bytes
                .with_label_values(&[origin])
                .inc_by(bytes as u64);
        }
    }
}

/// Parses a found `moov` of `source` (version `id`): whole, or only its first
/// `opening_seconds`. CPU work: call it off the runtime.
pub fn parse_found(
    source: &SourceRef,
    id: &SourceIdentity,
    found: &FoundMoov,
    opening_seconds: Option<u32>,
) -> Result<Movie, OriginError> {
    moov::parse(&source.public_name(), found, id.len, opening_seconds)
}

/// Parses found `moov`s of `source` (version `id`) on the blocking pool: each whole, or
/// only its first `opening_seconds` (see [`packager::mp4::parse_movie_opening`]).
pub async fn parse_off_runtime(
    source: &SourceRef,
    id: &SourceIdentity,
    found: Vec<FoundMoov>,
    opening_seconds: Option<u32>,
) -> Result<Vec<Movie>, OriginError> {
    let name = source.public_name();
    let len = id.len;
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let movies = found
            .iter()
            .map(|f| moov::parse(&name, f, len, opening_seconds))
            .collect::<Result<Vec<_>, _>>();
        tracing::debug!(
            source = %name,
            opening_seconds,
            parsed_us = started.elapsed().as_micros() as u64,
            "moov parsed"
        );
        movies
    })
    .await
    .map_err(|e| OriginError::Unreadable {
        object: source.public_name(),
        reason: format!("background parse failed: {e}"),
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_against_the_definition() {
        let def = SourceRef::File("/media/title/asset.toml".into());
        assert_eq!(
            def.resolve("v720.mp4").unwrap(),
            SourceRef::File("/media/title/v720.mp4".into())
        );
        assert!(def.resolve("../secret.mp4").is_err());
        assert!(def.resolve("/etc/passwd").is_err());
        let url = SourceRef::Url("http://o/media/title/asset.toml".parse().unwrap());
        assert_eq!(
            url.resolve("a b.mp4").unwrap().public_name(),
            "/media/title/a%20b.mp4"
        );
        assert_eq!(
            def.resolve("https://cdn.example/x.mp4").unwrap(),
            SourceRef::Url("https://cdn.example/x.mp4".parse().unwrap())
        );
        assert_eq!(url.resolve("v_1080.mp4").unwrap().stem(), "v_1080");
    }
}
