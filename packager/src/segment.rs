//! Segment planning: where segments start, chosen on the lead video track's keyframes at a
//! target duration, and how every other track is cut to match.

use std::ops::Range;

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::mp4::Track;

/// When one segment starts (decode time of its first sample) and how long it lasts, in the
/// track's timescale, before any timeline offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentTime {
    pub start: u64,
    pub duration: u64,
}

/// Samples `[first, end)` of one track, in decode order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentSpan {
    pub first: usize,
    pub end: usize,
}

impl SegmentSpan {
    pub fn count(&self) -> usize {
        self.end - self.first
    }

    pub fn samples(&self) -> Range<usize> {
        self.first..self.end
    }

    /// Decode time of the first sample, in the track's timescale.
    pub fn start_time(&self, track: &Track) -> u64 {
        track.samples.decode_time(self.first)
    }

    /// Presentation time of the first sample (the keyframe for video).
    pub fn start_presentation_time(&self, track: &Track) -> u64 {
        track.samples.presentation_time(self.first)
    }

    /// Duration in the track's timescale (the sum of its sample durations).
    pub fn duration(&self, track: &Track) -> u64 {
        track.samples.decode_time_or_end(self.end) - track.samples.decode_time(self.first)
    }

    pub fn duration_seconds(&self, track: &Track) -> f64 {
        self.duration(track) as f64 / f64::from(track.timescale)
    }
}

/// Bytes read from a source: `data` starts at file offset `offset`.
#[derive(Debug, Clone)]
pub struct SourceRange {
    pub offset: u64,
    pub data: Bytes,
}

impl SourceRange {
    /// Where a sample at file offset `offset` of `size` bytes sits in `data`.
    pub fn position(&self, offset: u64, size: u32) -> Result<usize> {
        let end = offset + u64::from(size);
        if offset < self.offset || end > self.offset + self.data.len() as u64 {
            return Err(Error::Output {
                what: "segment",
                reason: format!(
                    "sample bytes {offset}..{end} are outside the read {}..{}",
                    self.offset,
                    self.offset + self.data.len() as u64
                ),
            });
        }
        Ok((offset - self.offset) as usize)
    }

    /// The bytes at file offsets `bytes`, as a slice of `data` (no copy).
    pub fn slice(&self, bytes: Range<u64>) -> Result<Bytes> {
        let read_end = self.offset + self.data.len() as u64;
        if bytes.start < self.offset || bytes.end > read_end || bytes.start > bytes.end {
            return Err(Error::Output {
                what: "segment",
                reason: format!(
                    "sample bytes {}..{} are outside the read {}..{read_end}",
                    bytes.start, bytes.end, self.offset
                ),
            });
        }
        let start = (bytes.start - self.offset) as usize;
        Ok(self
            .data
            .slice(start..start + (bytes.end - bytes.start) as usize))
    }
}

/// Segment start times on the output timeline, in one timescale (the lead track's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boundaries {
    pub timescale: u32,
    pub starts: Vec<u64>,
}

/// A point the content is cut at, for an ad break: the segment before it ends at the first
/// keyframe at or after it, and the next starts there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cue {
    /// Milliseconds from the start of the presentation.
    At(u64),
    /// A share of the lead track's duration, in millionths.
    Fraction(u32),
}

impl Cue {
    /// The cue in `lead`'s ticks from its first presentation time.
    fn ticks(self, lead: &Track) -> u64 {
        let ts = u128::from(lead.timescale);
        let t = match self {
            Cue::At(ms) => u128::from(ms) * ts / 1000,
            Cue::Fraction(ppm) => u128::from(lead.samples.duration()) * u128::from(ppm) / 1_000_000,
        };
        u64::try_from(t).unwrap_or(u64::MAX)
    }
}

/// Chooses segment starts on `lead`'s sync samples: a new segment begins at the first sync
/// sample presented at least `target_ms` after the current segment's start, and at the first
/// sync sample at or after each of `cues` (so a break goes where it was asked for, give or
/// take a GOP). A GOP longer than the target makes a longer segment; nothing is ever cut
/// between keyframes. Times are presentation times on the output timeline (`offset` moves
/// the lead onto it).
pub fn plan_boundaries(lead: &Track, offset: u64, target_ms: u32, cues: &[Cue]) -> Boundaries {
    let ts = u128::from(lead.timescale);
    let target = u128::from(target_ms);
    let first = lead.samples.presentation_time(0) + offset;
    let mut cue_ticks: Vec<u64> = cues
        .iter()
        .map(|c| first.saturating_add(c.ticks(lead)))
        .collect();
    cue_ticks.sort_unstable();
    let mut next_cue = 0;
    let mut starts = vec![first];
    for i in lead.samples.sync_indices() {
        let t = lead.samples.presentation_time(i) + offset;
        let current = *starts.last().unwrap_or(&0);
        // Cues at or before the current segment's start are behind us.
        while next_cue < cue_ticks.len() && cue_ticks[next_cue] <= current {
            next_cue += 1;
        }
        let cue_due = next_cue < cue_ticks.len() && cue_ticks[next_cue] <= t;
        let target_reached = u128::from(t) * 1000 >= u128::from(current) * 1000 + target * ts;
        if t > current && (target_reached || cue_due) {
            starts.push(t);
        }
    }
    Boundaries {
        timescale: lead.timescale,
        starts,
    }
}

/// Cuts `track` at `boundaries`: each segment starts at the first sync sample (every audio
/// sample is one) presented at or after the boundary. Every sample lands in exactly one
/// segment; boundaries that would give an empty segment are dropped. `offset` moves the
/// track's decode times onto the output timeline.
pub fn cut_track(track: &Track, offset: u64, boundaries: &Boundaries) -> Vec<SegmentSpan> {
    let samples = &track.samples;
    let ts = u128::from(track.timescale);
    let lead_ts = u128::from(boundaries.timescale.max(1));
    let thresholds: Vec<u64> = boundaries
        .starts
        .iter()
        .skip(1)
        .map(|&b| {
            let threshold = (u128::from(b) * ts).div_ceil(lead_ts);
            u64::try_from(threshold)
                .unwrap_or(u64::MAX)
                .saturating_sub(offset)
        })
        .collect();
    // The first segment starts at the first sample, each later one where a search says.
    let first = (!boundaries.starts.is_empty()).then_some(0);
    let later = samples.first_syncs_presented_at_or_after(&thresholds);
    let mut starts: Vec<usize> = Vec::with_capacity(boundaries.starts.len());
    for index in first.into_iter().chain(later) {
        if index < samples.len() && starts.last().is_none_or(|&s| index > s) {
            starts.push(index);
        }
    }
    if starts.is_empty() {
        starts.push(0);
    }
    starts
        .iter()
        .enumerate()
        .map(|(n, &first)| SegmentSpan {
            first,
            end: starts.get(n + 1).copied().unwrap_or(samples.len()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mp4::{AudioCodec, AudioKind, Codec, SampleInfo, SampleTable};

    fn track(timescale: u32, durations: &[u32], sync_every: usize) -> Track {
        let samples: Vec<_> = durations
            .iter()
            .enumerate()
            .map(|(i, &d)| SampleInfo {
                offset: i as u64 * 10,
                size: 10,
                duration: d,
                composition_offset: 0,
                sync: i % sync_every == 0,
            })
            .collect();
        Track {
            track_id: 1,
            timescale,
            language: "und".into(),
            codec: Codec::Audio(AudioCodec {
                kind: AudioKind::Ac3,
                channels: 2,
                sample_rate: 48000,
                codec_string: "ac-3".into(),
            }),
            sample_entry: Bytes::new(),
            presentation_offset: 0,
            samples: SampleTable::from_samples(&samples),
            frame_rate_cache: Default::default(),
        }
    }

    #[test]
    fn cuts_on_keyframes_at_target() {
        // 25 fps (timescale 25), keyframe every 50 frames (2 s), 10 s long, target 4 s.
        let v = track(25, &[1; 250], 50);
        let b = plan_boundaries(&v, 0, 4000, &[]);
        assert_eq!(b.starts, [0, 100, 200]);
        let spans = cut_track(&v, 0, &b);
        assert_eq!(spans.len(), 3);
        assert_eq!(
            spans[2],
            SegmentSpan {
                first: 200,
                end: 250
            }
        );
        let total: u64 = spans.iter().map(|s| s.duration(&v)).sum();
        assert_eq!(total, v.samples.duration());
    }

    #[test]
    fn a_cue_cuts_at_the_keyframe_at_or_after_it() {
        // Keyframes every 2 s; a cue at 5 s cuts at 6 s, one at 10 s exactly at 10 s, and
        // the 4 s rhythm goes on from each cut.
        let v = track(25, &[1; 500], 50);
        let b = plan_boundaries(&v, 0, 4000, &[Cue::At(5000), Cue::At(10_000)]);
        assert_eq!(b.starts, [0, 100, 150, 250, 350, 450]);
        // Half of 20 s: 10 s.
        let b = plan_boundaries(&v, 0, 4000, &[Cue::Fraction(500_000)]);
        assert_eq!(b.starts, [0, 100, 200, 250, 350, 450]);
        // A cue on an existing boundary, or past the end, changes nothing.
        assert_eq!(
            plan_boundaries(&v, 0, 4000, &[Cue::At(8000), Cue::At(60_000)]).starts,
            plan_boundaries(&v, 0, 4000, &[]).starts
        );
    }

    #[test]
    fn long_gop_gives_long_segments() {
        let v = track(25, &[1; 550], 250);
        let b = plan_boundaries(&v, 0, 4000, &[]);
        assert_eq!(b.starts, [0, 250, 500]);
    }

    #[test]
    fn audio_cut_at_first_frame_at_or_after_boundary() {
        let v = track(25, &[1; 250], 50);
        let b = plan_boundaries(&v, 0, 4000, &[]);
        // AAC at 48 kHz: 1024-sample frames.
        let a = track(48000, &[1024; 470], 1);
        let spans = cut_track(&a, 0, &b);
        assert_eq!(spans.len(), 3);
        // 4 s = 192000 samples; frame 188 starts at 192512 >= 192000 > frame 187.
        assert_eq!(spans[1].first, 188);
        let covered: usize = spans.iter().map(SegmentSpan::count).sum();
        assert_eq!(covered, 470);
    }
}
