//! The metadata caches: parsed `moov`s keyed by file identity (so a replaced file is a new
//! entry), and titles keyed by asset name, re-listed after a short revalidation interval.
//! Both load with single flight: concurrent misses for one key wait for one load.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use packager::mp4::Movie;
use packager::presentation::PackagingOptions;

use crate::media::source_file::{load_movie_blocking, FileIdentity, SourceError};
use crate::media::title::{assemble, identities, list_asset, load_subtitles, Title};
use crate::problem::{Problem, ProblemKind};

type MovieKey = (PathBuf, FileIdentity);

/// Parsed sources and titles.
pub struct MediaCache {
    root: PathBuf,
    options: PackagingOptions,
    movies: Cache<MovieKey, Arc<Movie>>,
    titles: Cache<String, Arc<Title>>,
}

fn movie_weight(movie: &Movie) -> u32 {
    let bytes: usize = movie
        .tracks
        .iter()
        .map(|t| t.samples.heap_bytes() + t.sample_entry.len() + 256)
        .sum();
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

/// FNV-1a, for fingerprints that must be the same on every node and every build.
pub fn fnv1a(data: &[u8], seed: u64) -> u64 {
    let mut h = seed ^ 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn blocking_failed(e: tokio::task::JoinError) -> Problem {
    Problem::new(
        ProblemKind::Internal,
        format!("background task failed: {e}"),
    )
}

impl From<SourceError> for Problem {
    fn from(e: SourceError) -> Self {
        match e {
            SourceError::Io { .. } => Problem::new(ProblemKind::SourceUnreadable, e.to_string()),
            SourceError::Media { .. } => Problem::new(ProblemKind::SourceUnpackable, e.to_string()),
        }
    }
}

impl MediaCache {
    pub fn new(
        root: PathBuf,
        options: PackagingOptions,
        metadata_bytes: u64,
        revalidate: Duration,
    ) -> Self {
        MediaCache {
            root,
            options,
            movies: Cache::builder()
                .max_capacity(metadata_bytes)
                .weigher(|_, m: &Arc<Movie>| movie_weight(m))
                .build(),
            titles: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(revalidate)
                .build(),
        }
    }

    pub fn root(&self) -> &std::path::Path {
        &self.root
    }

    /// The title of `asset`, loading it (once, however many ask) if needed.
    pub async fn title(&self, asset: &str) -> Result<Arc<Title>, Problem> {
        self.titles
            .try_get_with(asset.to_owned(), self.load_title(asset))
            .await
            .map_err(|e| self.private(&e))
    }

    /// The problem with file paths made relative to the media root: clients see which file
    /// is at fault, not where the server keeps it.
    fn private(&self, problem: &Problem) -> Problem {
        let mut root = self.root.display().to_string();
        if !root.ends_with('/') {
            root.push('/');
        }
        Problem::new(problem.kind, problem.detail.replace(&root, ""))
    }

    async fn load_title(&self, asset: &str) -> Result<Arc<Title>, Problem> {
        let root = self.root.clone();
        let name = asset.to_owned();
        let (listing, ids) = tokio::task::spawn_blocking(move || {
            let listing = list_asset(&root, &name)?;
            let ids = identities(&listing)?;
            Ok::<_, Problem>((listing, ids))
        })
        .await
        .map_err(blocking_failed)??;
        let mut movies = Vec::with_capacity(listing.videos.len());
        for ((_, path), id) in listing.videos.iter().zip(&ids) {
            movies.push(self.movie(path.clone(), *id).await?);
        }
        let mut fingerprint = 0u64;
        for id in &ids {
            fingerprint = fnv1a(&id.len.to_be_bytes(), fingerprint);
            fingerprint = fnv1a(&id.modified_ns.to_be_bytes(), fingerprint);
        }
        let options = self.options;
        let title = tokio::task::spawn_blocking(move || {
            let subtitles = load_subtitles(&listing)?;
            assemble(&listing, movies, subtitles, options, fingerprint)
        })
        .await
        .map_err(blocking_failed)??;
        Ok(Arc::new(title))
    }

    async fn movie(&self, path: PathBuf, id: FileIdentity) -> Result<Arc<Movie>, Problem> {
        let load_path = path.clone();
        self.movies
            .try_get_with((path, id), async move {
                tokio::task::spawn_blocking(move || load_movie_blocking(&load_path))
                    .await
                    .map_err(blocking_failed)?
                    .map(Arc::new)
                    .map_err(Problem::from)
            })
            .await
            .map_err(|e| (*e).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a(b"", 0), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a", 0), 0xaf63_dc4c_8601_ec8c);
    }
}
