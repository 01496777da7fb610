//! HLS media playlists (RFC 8216): the VOD list of one rendition's segments, the I-frame
//! playlist of a video rendition, and subtitle playlists.

use crate::ascii::{decimal, AsciiWriter, Counter, Piece};
use crate::hls::flavor::HlsFlavor;
use crate::hls::keys::{key_lines, KeyTag};
use crate::playlist_entries::PlaylistEntry;
use crate::presentation::{Presentation, Rendition};
use crate::protection::Protection;

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
}
