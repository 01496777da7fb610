//! Finding the `moov` of a source through ranged reads, the same way for local files and
//! HTTP origins: one block read from the front (enough when the `moov` comes first), then
//! a read at the next top-level box when it does not (the `moov` at the end is usually
//! whole inside that second block), and a read of exactly the `moov` if it is larger.

use std::future::Future;

use bytes::Bytes;
use packager::mp4::{
    next_top_level, parse_movie, parse_movie_opening, Movie, TopLevelStep, TOP_LEVEL_HEADER_BYTES,
};

use super::OriginError;

/// Top-level boxes walked before giving up: the walk skips whole boxes, so this only
/// stops files made of very many tiny boxes.
const MAX_TOP_LEVEL_BOXES: usize = 100_000;

/// A block of the source held in memory.
struct Block {
    offset: u64,
    data: Bytes,
}

impl Block {
    fn slice(&self, offset: u64, len: u64) -> Option<Bytes> {
        let start = offset.checked_sub(self.offset)?;
        let end = start.checked_add(len)?;
        if end > self.data.len() as u64 {
            return None;
        }
        Some(self.data.slice(start as usize..end as usize))
    }
}

/// The bytes of a `moov` box and where it starts in the source.
#[derive(Clone)]
pub struct FoundMoov {
    pub offset: u64,
    pub data: Bytes,
}

/// Parses a found `moov` of a source of `len` bytes, whole or only its first
/// `opening_seconds` (CPU work: call it off the runtime).
pub fn parse(
    name: &str,
    found: &FoundMoov,
    len: u64,
    opening_seconds: Option<u32>,
) -> Result<Movie, OriginError> {
    let parsed = match opening_seconds {
        None => parse_movie(&found.data, found.offset, len),
        Some(seconds) => parse_movie_opening(&found.data, found.offset, len, seconds),
    };
    parsed.map_err(|error| OriginError::Media {
        object: name.to_owned(),
        error,
    })
}

/// Finds the `moov` of a source of `len` bytes, reading through `read(offset, len)`.
/// `block` is the size of each exploratory read.
pub async fn find_moov<F, Fut>(
    name: &str,
    len: u64,
    block: u64,
    mut read: F,
) -> Result<FoundMoov, OriginError>
where
    F: FnMut(u64, u64) -> Fut,
    Fut: Future<Output = Result<Bytes, OriginError>>,
{
    let media = |error| OriginError::Media {
        object: name.to_owned(),
        error,
    };
    let mut held = Block {
        offset: 0,
        data: Bytes::new(),
    };
    let mut offset = 0u64;
    for _ in 0..MAX_TOP_LEVEL_BOXES {
        let want = len
            .saturating_sub(offset)
            .min(TOP_LEVEL_HEADER_BYTES as u64);
        let header = match held.slice(offset, want) {
            Some(h) => h,
            None => {
                let size = block.max(want).min(len - offset.min(len));
                held = Block {
                    offset,
                    data: read(offset, size).await?,
                };
                held.slice(offset, want)
                    .ok_or_else(|| OriginError::Unreadable {
                        object: name.to_owned(),
                        reason: format!("short read at offset {offset}"),
                    })?
            }
        };
        match next_top_level(&header, offset, len).map_err(media)? {
            TopLevelStep::Next { offset: next } => offset = next,
            TopLevelStep::Moov { offset, size } => {
                let data = match held.slice(offset, size) {
                    Some(m) => m,
                    None => read(offset, size).await?,
                };
                return Ok(FoundMoov { offset, data });
            }
        }
    }
    Err(media(packager::Error::LimitExceeded {
        path: String::new(),
        reason: format!("more than {MAX_TOP_LEVEL_BOXES} top-level boxes before the moov"),
    }))
}
