//! A parsed `moov`: the movie's tracks with their codecs, languages, edit lists and compact
//! sample tables. This is what the edge caches per source.

use std::sync::OnceLock;

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::mp4::boxes::{find, fourcc_str, parse_children, require, FourCc, Mp4Box};
use crate::mp4::sample_entry::{parse_stsd, Codec};
use crate::mp4::sample_table::{Extent, SampleTable, SampleTableBoxes};

/// Everything packaging needs from one source file.
#[derive(Debug, Clone)]
pub struct Movie {
    pub timescale: u32,
    /// Movie duration in `timescale` units.
    pub duration: u64,
    pub tracks: Vec<Track>,
    /// Tracks that were present but cannot be packaged, with the reason.
    pub skipped_tracks: Vec<SkippedTrack>,
}

#[derive(Debug, Clone)]
pub struct SkippedTrack {
    pub track_id: u32,
    pub handler: String,
    pub reason: String,
}

impl Movie {
    /// Whether some track holds only its opening (see [`parse_movie_opening`]).
    pub fn is_opening(&self) -> bool {
        self.tracks.iter().any(|t| t.samples.is_opening())
    }
}

/// One packageable track.
#[derive(Debug, Clone)]
pub struct Track {
    pub track_id: u32,
    pub timescale: u32,
    /// ISO 639-2/T code from `mdhd` (`eng`, `fra`, `und`).
    pub language: String,
    pub codec: Codec,
    /// The source's sample entry, copied verbatim into init segments.
    pub sample_entry: Bytes,
    /// Media time at which presentation starts (from the edit list), in `timescale` units.
    /// Composition times are shifted back by this so video presents from zero.
    pub presentation_offset: i64,
    pub samples: SampleTable,
    /// The frame rate, worked out on first use (see [`Track::frame_rate`]): manifests ask
    /// for it on every request, and it takes a pass over the sample table's duration runs
    /// (over every sample for a variable-rate source).
    pub frame_rate_cache: OnceLock<Option<f64>>,
}

impl Track {
    pub fn is_video(&self) -> bool {
        matches!(self.codec, Codec::Video(_))
    }

    pub fn is_audio(&self) -> bool {
        matches!(self.codec, Codec::Audio(_))
    }

    /// Track duration in seconds.
    pub fn duration_seconds(&self) -> f64 {
        self.samples.duration() as f64 / f64::from(self.timescale)
    }

    /// The most common sample duration, as frames per second (video).
    pub fn frame_rate(&self) -> Option<f64> {
        *self.frame_rate_cache.get_or_init(|| {
            if !self.is_video() {
                return None;
            }
            // The most common sample duration (ties: the longest).
            let mode = self.samples.most_common_duration()?;
            (mode > 0).then(|| f64::from(self.timescale) / f64::from(mode))
        })
    }
}

/// Parses a whole `moov` box (header included). `moov_offset` is its position in the file and
/// `source_len` the file's length, so sample offsets can be checked.
///
/// The tracks' sample tables keep views of `moov`'s bytes (their sizes and chunk tables),
/// so the movie holds the buffer `moov` is a slice of: for a local file a mapping of the
/// file, for an HTTP origin the read that found it.
pub fn parse_movie(moov: &Bytes, moov_offset: u64, source_len: u64) -> Result<Movie> {
    parse_movie_reading(moov, moov_offset, source_len, None)
}

/// Parses the opening of a movie: as [`parse_movie`], but each track's sample table holds
/// only the samples that decode in its first `seconds` (after its edit list's start), read
/// and checked; the later entries of its tables are not (see
/// [`Extent`]). The cost grows with `seconds`, not with the source,
/// so a node can serve the first segments of a long source while the whole `moov` is
/// still being parsed. [`Movie::is_opening`] tells such a movie apart.
pub fn parse_movie_opening(
    moov: &Bytes,
    moov_offset: u64,
    source_len: u64,
    seconds: u32,
) -> Result<Movie> {
    parse_movie_reading(moov, moov_offset, source_len, Some(seconds))
}

fn parse_movie_reading(
    moov: &Bytes,
    moov_offset: u64,
    source_len: u64,
    opening_seconds: Option<u32>,
) -> Result<Movie> {
    let bytes = moov;
    let top = parse_children(bytes, moov_offset, "")?;
    let moov = top
        .first()
        .filter(|b| &b.kind == b"moov")
        .ok_or_else(|| Error::malformed("moov", moov_offset, "bytes given are not a moov box"))?;
    let children = moov.children()?;
    let mvhd = require(&children, b"mvhd", &moov.path, moov.offset)?;
    let (timescale, duration) = parse_mvhd(mvhd)?;
    let mut tracks = Vec::new();
    let mut skipped_tracks = Vec::new();
    for trak in children.iter().filter(|b| &b.kind == b"trak") {
        match parse_track(trak, bytes, timescale, source_len, opening_seconds)? {
            Parsed::Track(t) => tracks.push(*t),
            Parsed::Skipped(s) => skipped_tracks.push(s),
        }
    }
    if tracks.is_empty() {
        return Err(Error::unsupported(
            &moov.path,
            "no audio or video track that can be packaged",
        ));
    }
    Ok(Movie {
        timescale,
        duration,
        tracks,
        skipped_tracks,
    })
}

fn parse_mvhd(b: &Mp4Box<'_>) -> Result<(u32, u64)> {
    let mut f = b.fields();
    let (version, _) = f.version_flags()?;
    let (timescale, duration) = if version == 1 {
        f.skip(16)?;
        (f.u32()?, f.u64()?)
    } else {
        f.skip(8)?;
        (f.u32()?, u64::from(f.u32()?))
    };
    if timescale == 0 {
        return Err(f.error("movie timescale is zero"));
    }
    Ok((timescale, duration))
}

enum Parsed {
    Track(Box<Track>),
    Skipped(SkippedTrack),
}

fn parse_track(
    trak: &Mp4Box<'_>,
    moov: &Bytes,
    movie_timescale: u32,
    source_len: u64,
    opening_seconds: Option<u32>,
) -> Result<Parsed> {
    let children = trak.children()?;
    let tkhd = require(&children, b"tkhd", &trak.path, trak.offset)?;
    let track_id = parse_tkhd(tkhd)?;
    let mdia_box = require(&children, b"mdia", &trak.path, trak.offset)?;
    let mdia = mdia_box.children()?;
    let mdhd = require(&mdia, b"mdhd", &mdia_box.path, mdia_box.offset)?;
    let (timescale, language) = parse_mdhd(mdhd)?;
    let hdlr = require(&mdia, b"hdlr", &mdia_box.path, mdia_box.offset)?;
    let handler = parse_hdlr(hdlr)?;
    if !matches!(&handler, b"vide" | b"soun") {
        return Ok(Parsed::Skipped(SkippedTrack {
            track_id,
            handler: fourcc_str(&handler),
            reason: "not an audio or video track".into(),
        }));
    }
    let minf_box = require(&mdia, b"minf", &mdia_box.path, mdia_box.offset)?;
    let minf = minf_box.children()?;
    let stbl_box = require(&minf, b"stbl", &minf_box.path, minf_box.offset)?;
    let stbl = stbl_box.children()?;
    let req = |k: &FourCc| require(&stbl, k, &stbl_box.path, stbl_box.offset);
    let stsd = req(b"stsd")?;
    let (codec, sample_entry) = parse_stsd(stsd, &handler)?;
    let sizes = find(&stbl, b"stsz")
        .or_else(|| find(&stbl, b"stz2"))
        .ok_or_else(|| {
            Error::malformed(
                &stbl_box.path,
                stbl_box.offset,
                "required box 'stsz' (or 'stz2') is missing",
            )
        })?;
    let chunk_offsets = find(&stbl, b"stco")
        .or_else(|| find(&stbl, b"co64"))
        .ok_or_else(|| {
            Error::malformed(
                &stbl_box.path,
                stbl_box.offset,
                "required box 'stco' (or 'co64') is missing",
            )
        })?;
    let edit_list = |children: &[Mp4Box<'_>]| match find(children, b"edts") {
        Some(edts) => parse_edit_list(edts, movie_timescale),
        None => Ok(0),
    };
    let (extent, opening_offset) = match opening_seconds {
        None => (Extent::Whole, None),
        Some(seconds) => {
            // The opening is counted from where presentation starts.
            let start = edit_list(&children)?;
            let before = u64::from(seconds) * u64::from(timescale);
            let before = before.saturating_add(u64::try_from(start).unwrap_or(0));
            (Extent::DecodingBefore(before), Some(start))
        }
    };
    let samples = SampleTable::parse_extent(
        &SampleTableBoxes {
            moov,
            stts: req(b"stts")?,
            ctts: find(&stbl, b"ctts"),
            stsc: req(b"stsc")?,
            sizes,
            chunk_offsets,
            stss: find(&stbl, b"stss"),
        },
        source_len,
        extent,
    )?;
    if samples.is_empty() {
        return Ok(Parsed::Skipped(SkippedTrack {
            track_id,
            handler: fourcc_str(&handler),
            reason: "track has no samples".into(),
        }));
    }
    let presentation_offset = match opening_offset {
        Some(start) => start,
        None => edit_list(&children)?,
    };
    Ok(Parsed::Track(Box::new(Track {
        track_id,
        timescale,
        language,
        codec,
        sample_entry,
        presentation_offset,
        samples,
        frame_rate_cache: OnceLock::new(),
    })))
}

fn parse_tkhd(b: &Mp4Box<'_>) -> Result<u32> {
    let mut f = b.fields();
    let (version, _) = f.version_flags()?;
    f.skip(if version == 1 { 16 } else { 8 })?;
    f.u32()
}

fn parse_mdhd(b: &Mp4Box<'_>) -> Result<(u32, String)> {
    let mut f = b.fields();
    let (version, _) = f.version_flags()?;
    f.skip(if version == 1 { 16 } else { 8 })?;
    let timescale = f.u32()?;
    f.skip(if version == 1 { 8 } else { 4 })?;
    let packed = f.u16()?;
    if timescale == 0 {
        return Err(f.error("media timescale is zero"));
    }
    Ok((timescale, unpack_language(packed)))
}

/// Unpacks the three 5-bit letters of an ISO 639-2/T code; anything odd reads as `und`.
fn unpack_language(packed: u16) -> String {
    let letters: Vec<u8> = [10u16, 5, 0]
        .iter()
        .map(|shift| (((packed >> shift) & 0x1f) as u8).wrapping_add(0x60))
        .collect();
    if letters.iter().all(u8::is_ascii_lowercase) {
        String::from_utf8_lossy(&letters).into_owned()
    } else {
        "und".into()
    }
}

fn parse_hdlr(b: &Mp4Box<'_>) -> Result<FourCc> {
    let mut f = b.fields();
    f.version_flags()?;
    f.skip(4)?;
    f.fourcc()
}

/// Returns the media time where presentation starts: the first edit that is not empty.
fn parse_edit_list(edts: &Mp4Box<'_>, _movie_timescale: u32) -> Result<i64> {
    let children = edts.children()?;
    let Some(elst) = find(&children, b"elst") else {
        return Ok(0);
    };
    let mut f = elst.fields();
    let (version, _) = f.version_flags()?;
    let entry_size = if version == 1 { 20 } else { 12 };
    let n = f.entry_count(entry_size)?;
    for _ in 0..n {
        let (_duration, media_time) = if version == 1 {
            (f.u64()?, f.u64()? as i64)
        } else {
            (u64::from(f.u32()?), i64::from(f.u32()? as i32))
        };
        f.skip(4)?;
        if media_time >= 0 {
            return Ok(media_time);
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_codes_unpack() {
        // 'eng' = (5, 14, 7)
        let packed = (5u16 << 10) | (14 << 5) | 7;
        assert_eq!(unpack_language(packed), "eng");
        assert_eq!(unpack_language(0), "und");
    }

    #[test]
    fn not_a_moov_is_an_error() {
        let mut data = 8u32.to_be_bytes().to_vec();
        data.extend_from_slice(b"free");
        assert!(parse_movie(&Bytes::from(data), 0, 100).is_err());
    }
}
