//! HLS media playlists (RFC 8216): the VOD list of one rendition's segments, the I-frame
//! playlist of a video rendition, and subtitle playlists.

use std::fmt::Write;

use crate::cmaf::fragment::first_sample_range_len;
use crate::hls::keys::{key_lines, KeyTag};
use crate::hls::multivariant::HlsFlavor;
use crate::mp4::Track;
use crate::presentation::{Bandwidth, Presentation, Rendition};
use crate::protection::Protection;
use crate::segment::SegmentSpan;

/// One line item of a media playlist.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaylistEntry {
    pub duration: f64,
    pub uri: String,
    /// `(length, offset)` for EXT-X-BYTERANGE.
    pub byte_range: Option<(u64, u64)>,
}

/// Writes a VOD media playlist. `map` is the init segment URI for fMP4; `keys` holds the
/// `EXT-X-KEY` lines (empty when clear), written after the map so the init stays clear.
pub fn write_media_playlist(
    entries: &[PlaylistEntry],
    map: Option<&str>,
    iframes_only: bool,
    keys: &str,
) -> String {
    let target = entries
        .iter()
        .map(|e| e.duration.ceil() as u64)
        .max()
        .unwrap_or(1)
        .max(1);
    let version = if map.is_some() || iframes_only { 7 } else { 3 };
    let mut out = String::with_capacity(64 + entries.len() * 40);
    let _ = write!(
        out,
        "#EXTM3U\n#EXT-X-VERSION:{version}\n#EXT-X-TARGETDURATION:{target}\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n"
    );
    if iframes_only {
        out.push_str("#EXT-X-I-FRAMES-ONLY\n");
    }
    if let Some(map) = map {
        let _ = writeln!(out, "#EXT-X-MAP:URI=\"{map}\"");
    }
    out.push_str(keys);
    for e in entries {
        // Five decimals from integers: float formatting with a precision costs several
        // times more, and a media playlist has one line per segment.
        let units = (e.duration.max(0.0) * 100_000.0).round() as u64;
        let _ = writeln!(out, "#EXTINF:{}.{:05},", units / 100_000, units % 100_000);
        if let Some((len, offset)) = e.byte_range {
            let _ = writeln!(out, "#EXT-X-BYTERANGE:{len}@{offset}");
        }
        out.push_str(&e.uri);
        out.push('\n');
    }
    out.push_str("#EXT-X-ENDLIST\n");
    out
}

/// One entry per segment of `r`: `1.{extension}`, `2.{extension}`, ..., with an optional
/// byte range per segment.
pub fn segment_entries(
    p: &Presentation,
    r: &Rendition,
    extension: &str,
    byte_range: impl Fn(&SegmentSpan) -> Option<(u64, u64)>,
) -> Vec<PlaylistEntry> {
    let track = p.track(r);
    r.segments
        .iter()
        .enumerate()
        .map(|(i, s)| PlaylistEntry {
            duration: s.duration_seconds(track),
            uri: format!("{}.{extension}", i + 1),
            byte_range: byte_range(s),
        })
        .collect()
}

/// The CMAF media playlist of a rendition: `init.mp4` then `1.m4s`, `2.m4s`, ...
pub fn cmaf_media_playlist(
    p: &Presentation,
    r: &Rendition,
    protection: Option<&Protection>,
) -> String {
    let entries = segment_entries(p, r, "m4s", |_| None);
    let keys = protection
        .map(|pr| key_lines(pr, HlsFlavor::Cmaf, KeyTag::Key, "../", None))
        .unwrap_or_default();
    write_media_playlist(&entries, Some("init.mp4"), false, &keys)
}

/// The I-frame playlist of a video rendition: the keyframe that opens each CMAF segment,
/// as a byte range of that segment (headers plus the keyframe).
pub fn cmaf_iframe_playlist(p: &Presentation, r: &Rendition) -> String {
    let track = p.track(r);
    let entries = segment_entries(p, r, "m4s", |s| Some((first_sample_range_len(track, s), 0)));
    write_media_playlist(&entries, Some("init.mp4"), true, "")
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
            Some(PlaylistEntry {
                duration: (end.saturating_sub(start)) as f64 / 1000.0,
                uri: format!("{}.vtt", i + 1),
                byte_range: None,
            })
        })
        .collect();
    write_media_playlist(&entries, None, false, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_duration_is_ceiling_of_longest() {
        let entries = vec![
            PlaylistEntry {
                duration: 4.004,
                uri: "1.m4s".into(),
                byte_range: None,
            },
            PlaylistEntry {
                duration: 2.0,
                uri: "2.m4s".into(),
                byte_range: Some((100, 0)),
            },
        ];
        let text = write_media_playlist(&entries, Some("init.mp4"), false, "");
        assert!(text.contains("#EXT-X-TARGETDURATION:5\n"));
        assert!(text.contains("#EXT-X-MAP:URI=\"init.mp4\"\n"));
        assert!(text.contains("#EXTINF:4.00400,\n1.m4s\n"));
        assert!(text.contains("#EXT-X-BYTERANGE:100@0\n2.m4s\n"));
        assert!(text.ends_with("#EXT-X-ENDLIST\n"));
    }
}
