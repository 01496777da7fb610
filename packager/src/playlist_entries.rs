//! The entries of HLS media and I-frame playlists (segment numbers, `EXTINF` durations,
//! byte ranges) and the I-frame playlist's bit rate: worked out once per rendition when
//! the plan is built, so playlists built per request only write them.

use crate::bandwidth::Bandwidth;
use crate::cmaf::fragment::first_sample_range_len;
use crate::mp4::Track;
use crate::segment::{SegmentSpan, SegmentTime};

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

/// One entry per segment, numbered from 1, lasting `times` (in `timescale`), each with its
/// byte range if any. [`Presentation::build`] keeps a rendition's entries (and its I-frame
/// playlist's) in the [`Rendition`], so playlists built per request only write them.
///
/// [`Presentation::build`]: crate::presentation::Presentation::build
/// [`Rendition`]: crate::presentation::Rendition
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

/// Peak and mean bit rate of an I-frame playlist: keyframe bytes over the time each one
/// stands for. [`Presentation::build`] keeps them in [`Rendition::iframe_bandwidth`].
///
/// [`Presentation::build`]: crate::presentation::Presentation::build
/// [`Rendition::iframe_bandwidth`]: crate::presentation::Rendition::iframe_bandwidth
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

#[cfg(test)]
mod tests {
    use super::*;

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
