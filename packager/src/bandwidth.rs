//! Bit rates: the peak and mean bit rate of a track's segments, from each segment's size
//! in bytes and duration.

use crate::mp4::Track;
use crate::segment::SegmentSpan;

/// Peak and mean bit rate of a rendition's segments (CMAF, TS or I-frame), in bits per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bandwidth {
    pub peak: u64,
    pub average: u64,
}

/// Peak and mean bit rate of a track's segments, given each segment's size in bytes.
pub fn measure_with(
    track: &Track,
    segments: &[SegmentSpan],
    size: impl Fn(&SegmentSpan) -> u64,
) -> Bandwidth {
    measure_sizes(track, segments, segments.iter().map(size))
}

/// Peak and mean bit rate of a track's segments, given their sizes in bytes, in order.
pub(crate) fn measure_sizes(
    track: &Track,
    segments: &[SegmentSpan],
    sizes: impl Iterator<Item = u64>,
) -> Bandwidth {
    let bits_per_second = |bytes: u64, duration: u64| {
        (bytes * 8 * u64::from(track.timescale))
            .checked_div(duration)
            .unwrap_or(0)
    };
    let (mut total_bytes, mut total_duration, mut peak) = (0u64, 0u64, 0u64);
    for (span, bytes) in segments.iter().zip(sizes) {
        let duration = span.duration(track);
        peak = peak.max(bits_per_second(bytes, duration));
        total_bytes += bytes;
        total_duration += duration;
    }
    Bandwidth {
        peak,
        average: bits_per_second(total_bytes, total_duration),
    }
}
