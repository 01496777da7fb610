//! The default audio muxed into TS video segments: which of its samples play during each
//! video segment, and whether that share is known whole in a plan of sources' openings.

use crate::mp4::Track;
use crate::segment::SegmentSpan;

/// A rendition's track as the plan places it: its segments, and what is added to its
/// decode times to put it on the output timeline.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placed<'a> {
    pub track: &'a Track,
    pub segments: &'a [SegmentSpan],
    pub offset: u64,
}

/// First sample of `track` presented at or after output time `t` (in `t_timescale`).
fn first_at_output_time(track: &Track, offset: u64, t: u64, t_timescale: u32) -> usize {
    let threshold =
        (u128::from(t) * u128::from(track.timescale)).div_ceil(u128::from(t_timescale.max(1)));
    let threshold = u64::try_from(threshold)
        .unwrap_or(u64::MAX)
        .saturating_sub(offset);
    track.samples.first_sync_presented_at_or_after(threshold)
}

/// The default audio's samples that play during video segment `index` of `video`.
pub(crate) fn muxed_audio_span(video: Placed<'_>, audio: Placed<'_>, index: usize) -> SegmentSpan {
    let vt = video.track;
    let at = audio.track;
    let bound = |i: usize| -> Option<usize> {
        let s = video.segments.get(i)?;
        Some(first_at_output_time(
            at,
            audio.offset,
            s.start_presentation_time(vt) + video.offset,
            vt.timescale,
        ))
    };
    let first = if index == 0 {
        0
    } else {
        bound(index).unwrap_or(at.samples.len())
    };
    let end = bound(index + 1).unwrap_or(at.samples.len());
    SegmentSpan {
        first,
        end: end.max(first),
    }
}

/// Whether the default audio's share of TS segment `index` of `video` is known whole: the
/// next video segment starts, and, when `audio` is only the opening of its track, some
/// audio sample of the opening is presented at or after that start.
pub(crate) fn muxed_audio_known(video: Placed<'_>, audio: Placed<'_>, index: usize) -> bool {
    let (vt, at) = (video.track, audio.track);
    let Some(next) = video.segments.get(index + 1) else {
        return false;
    };
    if !at.samples.is_opening() {
        return true;
    }
    let start = next.start_presentation_time(vt) + video.offset;
    first_at_output_time(at, audio.offset, start, vt.timescale) < at.samples.len()
}
