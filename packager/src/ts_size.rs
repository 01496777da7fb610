//! Estimated sizes and bit rates of MPEG-TS segments, from sample sizes alone: playlists
//! and the plan need them without the sample bytes.

use crate::bandwidth::{measure_sizes, Bandwidth};
use crate::mp4::{Codec, Track};
use crate::segment::SegmentSpan;
use crate::ts::TS_PACKET_SIZE;

/// Estimated TS size of samples `span` of `track`, whose sizes add up to `payload`: payload
/// plus PES headers, ADTS headers or Annex B start codes and delimiters, parameter sets at
/// keyframes, and the 4-byte packet headers. Exact sizes need the sample bytes; playlists
/// are built without them.
fn estimate_ts_bytes(track: &Track, span: &SegmentSpan, payload: u64) -> u64 {
    let s = &track.samples;
    let n = span.count() as u64;
    let overhead = match &track.codec {
        Codec::Video(v) => {
            let sets: u64 = v.parameter_sets.iter().map(|p| p.len() as u64 + 4).sum();
            let keyframes = s.sync_count_in(span.samples()) as u64;
            // PES header 19, AUD 6, one extra start-code byte a NAL, padding half a packet.
            n * (19 + 6 + 2 + 94) + keyframes * sets
        }
        Codec::Audio(_) => n * 7 + n.div_ceil(5) * (14 + 94),
    };
    let body = payload + overhead;
    let packet = TS_PACKET_SIZE as u64;
    body.div_ceil(packet - 4) * packet
}

/// Bit rates of a track's TS segments (each with its PAT and PMT), estimated from sample
/// sizes; [`Presentation::build`] keeps them in [`Rendition::ts_bandwidth`].
///
/// [`Presentation::build`]: crate::presentation::Presentation::build
/// [`Rendition::ts_bandwidth`]: crate::presentation::Rendition::ts_bandwidth
pub fn ts_track_bandwidth(track: &Track, segments: &[SegmentSpan]) -> Bandwidth {
    let payloads: Vec<u64> = segments
        .iter()
        .map(|s| track.samples.bytes_in(s.samples()))
        .collect();
    ts_track_bandwidth_given(track, segments, &payloads)
}

/// [`ts_track_bandwidth`], given the sample bytes of each segment.
pub(crate) fn ts_track_bandwidth_given(
    track: &Track,
    segments: &[SegmentSpan],
    payloads: &[u64],
) -> Bandwidth {
    let sizes = segments.iter().zip(payloads).map(|(span, &payload)| {
        estimate_ts_bytes(track, span, payload) + 2 * TS_PACKET_SIZE as u64
    });
    measure_sizes(track, segments, sizes)
}
