//! Reading local source files: find and parse the `moov` with a few small reads, and read
//! one coalesced byte range per segment. Blocking reads run on tokio's blocking pool.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use bytes::Bytes;
use packager::mp4::{next_top_level, parse_movie, Movie, TopLevelStep, TOP_LEVEL_HEADER_BYTES};

/// What identifies one version of a source file: replacing the file changes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileIdentity {
    pub len: u64,
    pub modified_ns: u128,
}

/// Why a source could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Media {
        path: PathBuf,
        source: packager::Error,
    },
}

impl SourceError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        SourceError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Looks at a file's size and modification time.
pub fn identify(path: &Path) -> Result<FileIdentity, SourceError> {
    let meta = std::fs::metadata(path).map_err(|e| SourceError::io(path, e))?;
    let modified_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    Ok(FileIdentity {
        len: meta.len(),
        modified_ns,
    })
}

fn read_at(file: &File, path: &Path, offset: u64, len: usize) -> Result<Vec<u8>, SourceError> {
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, offset)
        .map_err(|e| SourceError::io(path, e))?;
    Ok(buf)
}

/// Finds the `moov` by walking top-level box headers, reads it and parses it.
pub fn load_movie_blocking(path: &Path) -> Result<Movie, SourceError> {
    let file = File::open(path).map_err(|e| SourceError::io(path, e))?;
    let len = file.metadata().map_err(|e| SourceError::io(path, e))?.len();
    let media = |source| SourceError::Media {
        path: path.to_owned(),
        source,
    };
    let mut offset = 0u64;
    // Each step advances past one whole top-level box, so this ends; the bound is a guard.
    for _ in 0..100_000 {
        let want = (len.saturating_sub(offset)).min(TOP_LEVEL_HEADER_BYTES as u64) as usize;
        let header = read_at(&file, path, offset, want)?;
        match next_top_level(&header, offset, len).map_err(media)? {
            TopLevelStep::Next { offset: next } => offset = next,
            TopLevelStep::Moov { offset, size } => {
                let moov = read_at(&file, path, offset, size as usize)?;
                return parse_movie(&moov, offset, len).map_err(media);
            }
        }
    }
    Err(media(packager::Error::LimitExceeded {
        path: String::new(),
        reason: "more than 100000 top-level boxes before the moov".into(),
    }))
}

/// Reads `len` bytes at `offset` on the blocking pool.
pub async fn read_range(path: PathBuf, offset: u64, len: u64) -> Result<Bytes, SourceError> {
    tokio::task::spawn_blocking(move || {
        let file = File::open(&path).map_err(|e| SourceError::io(&path, e))?;
        read_at(&file, &path, offset, len as usize).map(Bytes::from)
    })
    .await
    .map_err(|e| SourceError::Io {
        path: PathBuf::new(),
        source: std::io::Error::other(e.to_string()),
    })?
}
