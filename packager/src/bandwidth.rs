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
    // In u128 and saturating: a source's sizes and timescale are outside numbers, and 4 GB
    // samples at a timescale of 2^32 overflow a u64 (found by the mp4_moov fuzz target).
    let bits_per_second = |bytes: u64, duration: u64| {
        (u128::from(bytes) * 8 * u128::from(track.timescale))
            .checked_div(u128::from(duration))
            .map_or(0, |bits| u64::try_from(bits).unwrap_or(u64::MAX))
    };
    let (mut total_bytes, mut total_duration, mut peak) = (0u64, 0u64, 0u64);
    for (span, bytes) in segments.iter().zip(sizes) {
        let duration = span.duration(track);
        peak = peak.max(bits_per_second(bytes, duration));
        total_bytes = total_bytes.saturating_add(bytes);
        total_duration = total_duration.saturating_add(duration);
    }
    Bandwidth {
        peak,
        average: bits_per_second(total_bytes, total_duration),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::presentation::{PackagingOptions, Presentation, SourceFile};

    #[test]
    fn bit_rates_of_huge_samples_saturate_instead_of_overflowing() {
        // The mp4_moov fuzz target's input: long_gop_10s's moov with a fixed stsz sample size
        // of 0xffffff32 bytes (and other mutations). It plans; its rates are just huge.
        let moov = bytes::Bytes::from_static(include_bytes!(
            "../../fuzz/corpus/mp4_moov/regression-bitrate-overflow"
        ));
        let movie = crate::mp4::parse_movie(&moov, 0, u64::MAX / 2).unwrap();
        let source = SourceFile {
            name: String::new(),
            movie: Arc::new(movie),
        };
        let p = Presentation::build(vec![source], Vec::new(), PackagingOptions::default()).unwrap();
        let r = &p.video[0];
        assert!(r.bandwidth.peak > 0);
        let sizes = std::iter::repeat(u64::MAX);
        let b = measure_sizes(p.track(r), &r.segments, sizes);
        assert_eq!((b.peak, b.average), (u64::MAX, u64::MAX));
    }
}
