//! HLS media playlists (RFC 8216): the VOD list of one rendition's segments, the I-frame
//! playlist of a video rendition, and subtitle playlists.

use crate::ascii::{decimal, AsciiWriter, Counter, Piece};
use crate::cmaf::fragment::first_sample_range_len;
use crate::hls::keys::{key_lines, KeyTag};
use crate::hls::multivariant::HlsFlavor;
use crate::mp4::Track;
use crate::presentation::{Bandwidth, Presentation, Rendition, SegmentTime};
use crate::protection::Protection;
use crate::segment::SegmentSpan;

/// One line item of a media playlist: segment `number`, whose URI is `{number}.{extension}`.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaylistEntry {
    /// The duration in units of 10 µs (the five decimals of `EXTINF`), rounded.
    pub duration_units: u64,
    /// The duration in whole seconds, rounded up (for `EXT-X-TARGETDURATION`).
    pub duration_ceil: u64,
    pub number: u64,
    /// `(length, offset)` for EXT-X-BYTERANGE.
    pub byte_range: Option<(u64, u64)>,
}

impl PlaylistEntry {
    /// An entry lasting `ticks` of `timescale`, in integers only (no float rounding per
    /// line of a playlist built per request).
    pub fn new(ticks: u64, timescale: u32, number: u64, byte_range: Option<(u64, u64)>) -> Self {
        let timescale = u64::from(timescale.max(1));
        let duration_units = ticks
            .checked_mul(200_000)
            .map(|twice| (twice + timescale) / (2 * timescale))
            .unwrap_or_else(|| {
                let (t, ts) = (u128::from(ticks), u128::from(timescale));
                u64::try_from((t * 200_000 + ts) / (2 * ts)).unwrap_or(u64::MAX)
            });
        PlaylistEntry {
            duration_units,
            duration_ceil: ticks.div_ceil(timescale),
            number,
            byte_range,
        }
    }
}

/// Writes a VOD media playlist of segments named `{number}.{extension}`. `map` is the init
/// segment URI for fMP4; `keys` holds the `EXT-X-KEY` lines (empty when clear), written
/// after the map so the init stays clear.
///
/// Built on every request, so the per-segment lines go through an `AsciiWriter`: integers
/// written in place, the five decimals of `EXTINF` from an integer count of 10 µs units,
/// no `format!` machinery and no allocation but the output.
pub fn write_media_playlist(
    entries: &[PlaylistEntry],
    extension: &str,
    map: Option<&str>,
    iframes_only: bool,
    keys: &str,
) -> String {
    let target = entries
        .iter()
        .map(|e| e.duration_ceil)
        .max()
        .unwrap_or(1)
        .max(1);
    let mut w = AsciiWriter::with_capacity(256 + keys.len() + entries.len() * 40);
    w.lit(b"#EXTM3U\n#EXT-X-VERSION:");
    w.u64(if map.is_some() || iframes_only { 7 } else { 3 });
    w.lit(b"\n#EXT-X-TARGETDURATION:");
    w.u64(target);
    w.lit(b"\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    if iframes_only {
        w.lit(b"#EXT-X-I-FRAMES-ONLY\n");
    }
    if let Some(map) = map {
        w.lit(b"#EXT-X-MAP:URI=\"");
        w.str(map);
        w.lit(b"\"\n");
    }
    w.str(keys);
    // What repeats from line to line is written once and copied: the `EXTINF` tags of the
    // last two durations (most segments last the same), the segment number (counted up), and
    // `.{extension}\n`.
    let mut suffix = Piece::<16>::default();
    let short_extension =
        suffix.push(b".") && suffix.push(extension.as_bytes()) && suffix.push(b"\n");
    // The last two: audio segments often alternate between two durations (a whole number
    // of frames either side of the target).
    let mut extinf: [Option<(u64, Piece<40>)>; 2] = [None, None];
    let mut oldest = 0;
    let mut number = Counter::new(0);
    for e in entries {
        match extinf
            .iter()
            .flatten()
            .find(|(units, _)| *units == e.duration_units)
        {
            Some((_, tag)) => w.piece(tag),
            None => {
                let tag = extinf_tag(e.duration_units);
                w.piece(&tag);
                extinf[oldest] = Some((e.duration_units, tag));
                oldest = 1 - oldest;
            }
        }
        if let Some((len, offset)) = e.byte_range {
            w.lit(b"#EXT-X-BYTERANGE:");
            w.u64(len);
            w.lit(b"@");
            w.u64(offset);
            w.lit(b"\n");
        }
        number.set(e.number);
        w.counter(&number);
        if short_extension {
            w.piece(&suffix);
        } else {
            w.lit(b".");
            w.str(extension);
            w.lit(b"\n");
        }
    }
    w.lit(b"#EXT-X-ENDLIST\n");
    w.finish_string()
}

/// `#EXTINF:{seconds}.{five decimals},\n` for a duration in 10 µs units.
fn extinf_tag(units: u64) -> Piece<40> {
    let mut tag = Piece::default();
    let whole = decimal(units / 100_000);
    let mut decimals = [b'0'; 5];
    let mut v = units % 100_000;
    for d in decimals.iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
    // 8 + at most 15 digits + 1 + 5 + 2 bytes: always fits 40.
    tag.push(b"#EXTINF:");
    tag.push(whole.as_bytes());
    tag.push(b".");
    tag.push(&decimals);
    tag.push(b",\n");
    tag
}

/// One entry per segment, numbered from 1, lasting `times` (in `timescale`), each with its
/// byte range if any. [`Presentation::build`] keeps a rendition's entries (and its I-frame
/// playlist's) in the [`Rendition`], so playlists built per request only write them.
pub(crate) fn playlist_entries(
    timescale: u32,
    times: &[SegmentTime],
    byte_ranges: impl Iterator<Item = Option<(u64, u64)>>,
) -> Vec<PlaylistEntry> {
    times
        .iter()
        .zip(byte_ranges)
        .zip(1..)
        .map(|((time, byte_range), number)| {
            PlaylistEntry::new(time.duration, timescale, number, byte_range)
        })
        .collect()
}

/// The I-frame playlist's entries of a video track: the keyframe that opens each CMAF
/// segment, as a byte range of that segment (headers plus the keyframe).
pub(crate) fn iframe_entries(
    track: &Track,
    segments: &[SegmentSpan],
    times: &[SegmentTime],
) -> Vec<PlaylistEntry> {
    let ranges = segments
        .iter()
        .map(|s| Some((first_sample_range_len(track, s), 0)));
    playlist_entries(track.timescale, times, ranges)
}

/// The CMAF media playlist of a rendition: `init.mp4` then `1.m4s`, `2.m4s`, ...
pub fn cmaf_media_playlist(r: &Rendition, protection: Option<&Protection>) -> String {
    let keys = protection
        .map(|pr| key_lines(pr, HlsFlavor::Cmaf, KeyTag::Key, "../", None))
        .unwrap_or_default();
    write_media_playlist(&r.entries, "m4s", Some("init.mp4"), false, &keys)
}

/// The I-frame playlist of a video rendition (no entries for audio).
pub fn cmaf_iframe_playlist(r: &Rendition) -> String {
    write_media_playlist(&r.iframe_entries, "m4s", Some("init.mp4"), true, "")
}

/// Peak and mean bit rate of an I-frame playlist: keyframe bytes over the time each one
/// stands for. [`Presentation::build`] keeps them in [`Rendition::iframe_bandwidth`].
pub fn iframe_track_bandwidth(track: &Track, segments: &[SegmentSpan]) -> Bandwidth {
    let mut peak = 0;
    let (mut bytes, mut duration) = (0u64, 0f64);
    for s in segments {
        let len = first_sample_range_len(track, s);
        let d = s.duration_seconds(track);
        if d > 0.0 {
            peak = peak.max((len as f64 * 8.0 / d) as u64);
        }
        bytes += len;
        duration += d;
    }
    let average = if duration > 0.0 {
        (bytes as f64 * 8.0 / duration) as u64
    } else {
        0
    };
    Bandwidth { peak, average }
}

/// The subtitle playlist of one language: one WebVTT segment per lead segment.
pub fn subtitle_playlist(p: &Presentation) -> String {
    let entries: Vec<_> = (0..p.subtitle_segment_count())
        .filter_map(|i| {
            let (start, end) = p.segment_window_ms(i)?;
            Some(PlaylistEntry::new(
                end.saturating_sub(start),
                1000,
                i as u64 + 1,
                None,
            ))
        })
        .collect();
    write_media_playlist(&entries, "vtt", None, false, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_duration_is_ceiling_of_longest() {
        let entries = vec![
            PlaylistEntry::new(4004, 1000, 1, None),
            PlaylistEntry::new(180_000, 90_000, 2, Some((100, 0))),
            PlaylistEntry::new(4, 1_000_000, 3, Some((7, 123_456_789_012))),
        ];
        let text = write_media_playlist(&entries, "m4s", Some("init.mp4"), false, "");
        assert!(text.contains("#EXT-X-TARGETDURATION:5\n"));
        assert!(text.contains("#EXT-X-MAP:URI=\"init.mp4\"\n"));
        assert!(text.contains("#EXTINF:4.00400,\n1.m4s\n"));
        assert!(text.contains("#EXTINF:2.00000,\n#EXT-X-BYTERANGE:100@0\n2.m4s\n"));
        assert!(text.contains("#EXTINF:0.00000,\n#EXT-X-BYTERANGE:7@123456789012\n3.m4s\n"));
        assert!(text.ends_with("#EXT-X-ENDLIST\n"));
    }

    /// Integer durations round like the float formula they replace.
    #[test]
    fn entry_durations_round_to_five_decimals_and_up_to_seconds() {
        for (ticks, timescale) in [
            (0u64, 1000u32),
            (1, 3),
            (5, 1_000_000),
            (15, 1_000_000),
            (6006, 1000),
            (180_180, 30_000),
            (540_540, 90_000),
            (288_768, 48_000),
            (264_600, 44_100),
            (u64::MAX / 3, 90_000),
        ] {
            let e = PlaylistEntry::new(ticks, timescale, 1, None);
            let seconds = ticks as f64 / f64::from(timescale);
            assert_eq!(
                e.duration_ceil,
                seconds.ceil() as u64,
                "{ticks}/{timescale}"
            );
            if ticks < 1 << 40 {
                let float_units = (seconds * 100_000.0).round() as u64;
                assert_eq!(e.duration_units, float_units, "{ticks}/{timescale}");
            }
        }
    }
}
