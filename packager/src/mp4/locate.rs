//! Finding the `moov` in a progressive MP4 without reading the whole file: the caller reads
//! top-level box headers one at a time (a few bytes each) and this tells it where to look next.

use crate::error::{Error, Result};
use crate::mp4::boxes::{fourcc_str, parse_box_header};

/// Largest `moov` we agree to read and parse (a 24-hour file has a few tens of MB).
pub const MAX_MOOV_BYTES: u64 = 256 * 1024 * 1024;

/// Bytes of header the caller should read at each top-level offset.
pub const TOP_LEVEL_HEADER_BYTES: usize = 16;

/// What to do after looking at one top-level header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopLevelStep {
    /// The moov is here: read `size` bytes at `offset` and pass them to `parse_movie`.
    Moov { offset: u64, size: u64 },
    /// Not the moov: read the next header at `offset`.
    Next { offset: u64 },
}

/// Looks at the header bytes read at `offset` of a file of `file_len` bytes.
pub fn next_top_level(header: &[u8], offset: u64, file_len: u64) -> Result<TopLevelStep> {
    let parsed = parse_box_header(header, "", offset)?.ok_or_else(|| {
        Error::malformed(
            "",
            offset,
            format!(
                "file ends {} bytes into a top-level box header before any moov box",
                header.len()
            ),
        )
    })?;
    let size = parsed.size.unwrap_or(file_len.saturating_sub(offset));
    let name = fourcc_str(&parsed.kind);
    if offset.checked_add(size).is_none_or(|end| end > file_len) {
        return Err(Error::malformed(
            &name,
            offset,
            format!("box size {size} runs past the end of the {file_len}-byte file"),
        ));
    }
    if &parsed.kind == b"moov" {
        if size > MAX_MOOV_BYTES {
            return Err(Error::limit(
                "moov",
                format!("moov of {size} bytes exceeds the {MAX_MOOV_BYTES}-byte limit"),
            ));
        }
        return Ok(TopLevelStep::Moov { offset, size });
    }
    if &parsed.kind == b"moof" {
        return Err(Error::unsupported(
            "moof",
            "the source is already fragmented; edgepack packages progressive MP4 files",
        ));
    }
    let next = offset + size;
    if next >= file_len {
        return Err(Error::malformed(
            "",
            offset,
            "no moov box found before the end of the file",
        ));
    }
    Ok(TopLevelStep::Next { offset: next })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(size: u32, kind: &[u8; 4]) -> Vec<u8> {
        let mut v = size.to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(&[0; 8]);
        v
    }

    #[test]
    fn walks_to_moov() {
        assert_eq!(
            next_top_level(&header(24, b"ftyp"), 0, 1000).unwrap(),
            TopLevelStep::Next { offset: 24 }
        );
        assert_eq!(
            next_top_level(&header(500, b"moov"), 24, 1000).unwrap(),
            TopLevelStep::Moov {
                offset: 24,
                size: 500
            }
        );
    }

    #[test]
    fn box_past_end_of_file_is_named() {
        let err = next_top_level(&header(5000, b"mdat"), 24, 1000)
            .unwrap_err()
            .to_string();
        assert!(err.contains("mdat at 0x18"), "{err}");
        assert!(err.contains("past the end of the 1000-byte file"), "{err}");
    }

    #[test]
    fn missing_moov_is_an_error() {
        assert!(next_top_level(&header(1000, b"mdat"), 0, 1000).is_err());
    }
}
