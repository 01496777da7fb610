//! The compact per-track sample table: what a manifest or a segment needs of every sample,
//! read once from `stts`, `ctts`, `stsc`, `stsz`/`stz2`, `stco`/`co64` and `stss`.
//!
//! Sizes and file offsets stay where the `moov` has them: `Bytes` views of its boxes (of
//! the source's mapping for a local file), checked but not copied, so that parsing a long
//! source costs about one read of its tables. The other columns are built, each in the
//! smallest of a few forms (chosen from its values alone); each form finds one sample's
//! value in O(1), or by a short search or walk:
//!
//! - sizes: one constant when every sample has the same size; else the `stsz` entries in
//!   place (4 bytes a sample); sizes from an `stz2` (or given as values) are built, a `u16`
//!   a sample when every size fits 16 bits, else a `u32`;
//! - file offsets: the chunk table in place (`stco`/`co64` and `stsc` entries), with a mark
//!   every 64 samples (24 bytes: the sample's offset, chunk, `stsc` entry and the samples
//!   left in its chunk). A sample's offset is found from its mark, whole chunks at a time
//!   and then along one chunk: at most 63 sizes summed, however large the chunks; a walk
//!   along a range ([`SampleTable::offsets`], [`SampleTable::byte_runs`]) costs O(1) a
//!   sample, or a chunk. Offsets are built instead, for each block of 1024 samples the
//!   `u64` offset of its first sample and a `u32` a sample (a `u64` a sample when a block
//!   spans 4 GiB or goes backwards), when the chunk table's boxes cost more than 12 bytes a
//!   sample (an `stsc` entry for every chunk of one sample), when a chunk before the last
//!   sample is empty (a walk could then cross any number of `stsc` entries between two
//!   samples), and for tables given as values;
//! - decode times: the runs of samples of equal duration (`stts` entries, merged; 16 bytes
//!   a run) when they are few (at most 64, or one per 16 samples, and never more bytes than
//!   per-sample times), else a decode time a sample, stored as built offsets are;
//! - composition offsets: nothing when every offset is zero or there is no `ctts`; else the
//!   runs of equal offsets (8 bytes a run) when few, as for decode times; else an `i16` a
//!   sample when every offset fits 16 bits, else an `i32`;
//! - sync samples: the `stss` list (4 bytes a sync sample), nothing without `stss`.
//!
//! More than 16 runs come with the run that holds the first sample of each block (4 bytes a
//! block), so finding a sample's run searches only the runs of its block, however many
//! runs a variable-rate source has.
//!
//! [`SampleTable::heap_bytes`] counts the views' bytes too (for a local file they are the
//! mapping's, but for an HTTP origin the `moov` read is heap). ffmpeg's H.264 with B-frames
//! and 2 s GOPs costs about 10.5 bytes a sample (size 4, chunk offset 4, marks 0.4,
//! composition offset 2, sync list 0.08) and its AAC about 8 (size 4, chunk offset 2.1,
//! `stsc` 1.6, marks 0.4). The worst case is 28 bytes a sample plus the marks (sizes 4,
//! offsets up to 12, decode times 8 and composition offsets 4) and 4 bytes a sync sample.
//! Every built array is allocated at its exact length.
//!
//! `parse` checks every box in one pass where it can, with the same checks and errors as
//! ever (`chunks` the chunk table's, without writing a value a sample); `forms` holds the
//! types of the forms; `build` makes the built forms, from box entries or from plain values; `walks` has the walks along a range
//! that segment writers use.

use std::collections::HashMap;
use std::ops::Range;

use build::{build_column, build_composition, build_sizes, build_timing, OffsetStats, Values};
use bytes::Bytes;
use forms::{
    partition_point_by, Column, Composition, OffsetRun, Offsets, Runs, Sizes, TimeRun, Timing,
};
use parse::{
    constant_if_uniform, parse_composition_offsets, parse_decode_times, parse_offsets, parse_sizes,
    parse_sync_samples,
};

use crate::error::Result;
use crate::mp4::boxes::Mp4Box;

/// Most samples one track may declare; a larger count is refused before anything is
/// allocated (about 24 hours of 120 fps video).
pub const MAX_SAMPLES_PER_TRACK: usize = 10_000_000;

/// Samples per block: of a narrow [`Column`] (a `u64` base a block, a `u32` a sample) and
/// of the index of [`Runs`].
const BLOCK: usize = 1 << BLOCK_SHIFT;
const BLOCK_SHIFT: u32 = 10;

/// Per-sample timing, size and position of one track, in decode order.
///
/// Tables are equal when they hold equal values, whatever the forms of their sizes and
/// offsets (views of the boxes or built columns); the other columns' forms are functions
/// of their values.
#[derive(Debug, Clone, Default)]
pub struct SampleTable {
    count: usize,
    sizes: Sizes,
    offsets: Offsets,
    timing: Timing,
    composition: Composition,
    /// Indices (0-based, ascending) of sync samples. Empty for `all_sync` tracks.
    sync_samples: Box<[u32]>,
    all_sync: bool,
    /// Decode time just past the last sample (the track's media duration).
    end_time: u64,
    /// Smallest composition offset (negative with `ctts` version 1 sources), else 0; of
    /// the whole track, also in an opening.
    min_composition_offset: i32,
    /// Whether this is the opening of a track: its first samples, not all of them.
    opening: bool,
}

/// How much of a track [`SampleTable::parse_extent`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extent {
    /// Every sample.
    Whole,
    /// The opening of the track: the samples that decode before this time (track
    /// timescale), at least one. Of the rest, only the composition offsets are read (for
    /// their minimum); neither their entries nor their chunks are checked.
    DecodingBefore(u64),
}

impl PartialEq for SampleTable {
    fn eq(&self, other: &Self) -> bool {
        let n = self.count;
        n == other.count
            && self.timing == other.timing
            && self.composition == other.composition
            && self.sync_samples == other.sync_samples
            && self.all_sync == other.all_sync
            && self.end_time == other.end_time
            && self.min_composition_offset == other.min_composition_offset
            && self.opening == other.opening
            && (0..n).all(|i| self.size(i) == other.size(i))
            && self.offsets(0..n).eq(other.offsets(0..n))
    }
}

impl Eq for SampleTable {}

/// The sample-table boxes of one track, as found in `stbl`.
pub struct SampleTableBoxes<'b, 'a> {
    /// The bytes of the `moov` the boxes are in: the table keeps views of them. (Boxes
    /// whose payloads lie elsewhere are copied.)
    pub moov: &'b Bytes,
    pub stts: &'b Mp4Box<'a>,
    pub ctts: Option<&'b Mp4Box<'a>>,
    pub stsc: &'b Mp4Box<'a>,
    pub sizes: &'b Mp4Box<'a>,
    pub chunk_offsets: &'b Mp4Box<'a>,
    pub stss: Option<&'b Mp4Box<'a>>,
}

impl SampleTable {
    /// Builds the table, checking that the boxes agree with each other and that every sample
    /// lies inside a source of `source_len` bytes.
    pub fn parse(boxes: &SampleTableBoxes<'_, '_>, source_len: u64) -> Result<Self> {
        Self::parse_extent(boxes, source_len, Extent::Whole)
    }

    /// Builds the table of the samples `extent` asks for, with the checks of
    /// [`SampleTable::parse`] on those samples. A table of fewer samples than the track has
    /// says so ([`SampleTable::is_opening`]); its samples are those of the whole table.
    pub fn parse_extent(
        boxes: &SampleTableBoxes<'_, '_>,
        source_len: u64,
        extent: Extent,
    ) -> Result<Self> {
        let (sizes, total) = parse_sizes(boxes.sizes, boxes.moov)?;
        let before = match extent {
            Extent::Whole => None,
            Extent::DecodingBefore(t) => Some(t),
        };
        let (timing, end_time, count) = parse_decode_times(boxes.stts, total, before)?;
        let opening = count < total;
        let sizes = constant_if_uniform(if opening { sizes.first(count) } else { sizes });
        let (composition, min_composition_offset) = match boxes.ctts {
            Some(ctts) => parse_composition_offsets(ctts, count, opening)?,
            None => (Composition::Zero, 0),
        };
        let offsets = parse_offsets(boxes, &sizes, count, source_len, opening)?;
        let (sync_samples, all_sync) = match boxes.stss {
            Some(stss) => (parse_sync_samples(stss, count, opening)?, false),
            None => (Box::default(), true),
        };
        Ok(SampleTable {
            count,
            sizes,
            offsets,
            timing,
            composition,
            sync_samples,
            all_sync,
            end_time,
            min_composition_offset,
            opening,
        })
    }

    /// Builds a table from plain per-sample values (tests and synthetic sources).
    pub fn from_samples(samples: &[SampleInfo]) -> Self {
        let count = samples.len();
        let sizes = build_sizes(samples.iter().map(|s| s.size), count);
        let Ok((offsets, _)) = build_column(count, &Values(samples.iter().map(|s| s.offset)));
        let durations = samples.iter().map(|s| (1, s.duration));
        let mut end_time = 0u64;
        let mut runs = 0;
        let mut previous = None;
        for s in samples {
            end_time += u64::from(s.duration);
            if previous != Some(s.duration) {
                runs += 1;
                previous = Some(s.duration);
            }
        }
        let timing = build_timing(durations, count, runs);
        let mut stats = OffsetStats::default();
        for s in samples {
            stats.add(1, s.composition_offset);
        }
        let composition_entries = samples.iter().map(|s| (1, s.composition_offset));
        let composition = build_composition(composition_entries, count, &stats, None);
        let all_sync = samples.iter().all(|s| s.sync);
        let sync_samples = if all_sync {
            Box::default()
        } else {
            let syncs = samples.iter().enumerate().filter(|(_, s)| s.sync);
            syncs.map(|(i, _)| i as u32).collect()
        };
        SampleTable {
            count,
            sizes,
            offsets: Offsets::Column(offsets),
            timing,
            composition,
            sync_samples,
            all_sync,
            end_time,
            min_composition_offset: stats.min.min(0),
            opening: false,
        }
    }

    /// The most negative composition offset, or 0: decode times moved back by this keep
    /// every decode time at or before its presentation time.
    pub fn min_composition_offset(&self) -> i32 {
        self.min_composition_offset
    }

    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the table holds only the opening of its track (see [`Extent`]): its
    /// duration, frame rate and sizes are not the track's.
    pub fn is_opening(&self) -> bool {
        self.opening
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Media duration in the track's timescale.
    pub fn duration(&self) -> u64 {
        self.end_time
    }

    /// Panics, as indexing a slice does, when `i` is not a sample.
    #[inline]
    #[track_caller]
    fn check(&self, i: usize) {
        assert!(
            i < self.count,
            "sample {i} out of range for a table of {}",
            self.count
        );
    }

    /// File offset of sample `i`. From the chunk table this starts at the mark at or before
    /// it (a few chunks, then at most 63 sizes summed); to visit a range of samples,
    /// [`SampleTable::offsets`] costs O(1) a sample.
    #[inline]
    pub fn offset(&self, i: usize) -> u64 {
        self.check(i);
        match &self.offsets {
            Offsets::Chunks(table) => table.cursor(&self.sizes, i..i + 1).next().unwrap_or(0),
            Offsets::Column(column) => column.get(i),
        }
    }

    #[inline]
    pub fn size(&self, i: usize) -> u32 {
        if matches!(self.sizes, Sizes::Constant(_)) {
            self.check(i);
        }
        self.sizes.get(i)
    }

    #[inline]
    pub fn decode_time(&self, i: usize) -> u64 {
        self.check(i);
        match &self.timing {
            Timing::Runs(runs) => {
                let r = runs.of(i);
                r.time + (i - r.first as usize) as u64 * u64::from(r.delta)
            }
            Timing::PerSample(times) => times.get(i),
        }
    }

    /// Decode time of sample `i`, or the end time for `i == len()`.
    #[inline]
    pub fn decode_time_or_end(&self, i: usize) -> u64 {
        if i >= self.count {
            self.end_time
        } else {
            self.decode_time(i)
        }
    }

    #[inline]
    pub fn sample_duration(&self, i: usize) -> u32 {
        match &self.timing {
            Timing::Runs(runs) => {
                self.check(i);
                runs.of(i).delta
            }
            Timing::PerSample(_) => {
                let next = self.decode_time_or_end(i + 1);
                (next - self.decode_time(i)) as u32
            }
        }
    }

    #[inline]
    pub fn composition_offset(&self, i: usize) -> i32 {
        match &self.composition {
            Composition::Zero => {
                self.check(i);
                0
            }
            Composition::Runs(runs) => {
                self.check(i);
                runs.of(i).value
            }
            Composition::I16(offsets) => i32::from(offsets[i]),
            Composition::I32(offsets) => offsets[i],
        }
    }

    #[inline]
    pub fn is_sync(&self, i: usize) -> bool {
        self.all_sync || self.sync_samples.binary_search(&(i as u32)).is_ok()
    }

    /// Whether each sample of `range` is a sync sample, in order: one search for the whole
    /// range instead of one per sample (segment writers walk every sample of a segment).
    pub fn sync_flags(&self, range: Range<usize>) -> impl Iterator<Item = bool> + '_ {
        let mut next = if self.all_sync {
            0
        } else {
            self.sync_samples
                .partition_point(|&s| (s as usize) < range.start)
        };
        range.map(move |i| {
            if self.all_sync {
                return true;
            }
            match self.sync_samples.get(next) {
                Some(&s) if s as usize == i => {
                    next += 1;
                    true
                }
                _ => false,
            }
        })
    }

    /// Number of sync samples among samples `range`.
    pub fn sync_count_in(&self, range: Range<usize>) -> usize {
        if self.all_sync {
            return range.len();
        }
        let below = |n: usize| self.sync_samples.partition_point(|&s| (s as usize) < n);
        below(range.end).saturating_sub(below(range.start))
    }

    /// Indices of the sync samples, in order.
    pub fn sync_indices(&self) -> Box<dyn Iterator<Item = usize> + '_> {
        if self.all_sync {
            Box::new(0..self.len())
        } else {
            Box::new(self.sync_samples.iter().map(|&i| i as usize))
        }
    }

    pub fn all_sync(&self) -> bool {
        self.all_sync
    }

    /// True when any sample has a non-zero composition offset (B-frames).
    pub fn has_composition_offsets(&self) -> bool {
        !matches!(self.composition, Composition::Zero)
    }

    /// The most common sample duration (ties: the longest), or `None` for an empty table.
    pub fn most_common_duration(&self) -> Option<u32> {
        let mut counts: HashMap<u32, u64> = HashMap::new();
        match &self.timing {
            Timing::Runs(Runs { runs, .. }) => {
                for (k, r) in runs.iter().enumerate() {
                    let end = runs.get(k + 1).map_or(self.count, |n| n.first as usize);
                    *counts.entry(r.delta).or_default() += (end - r.first as usize) as u64;
                }
            }
            Timing::PerSample(_) => {
                for i in 0..self.count {
                    *counts.entry(self.sample_duration(i)).or_default() += 1;
                }
            }
        }
        counts
            .into_iter()
            .max_by_key(|&(d, c)| (c, d))
            .map(|(d, _)| d)
    }

    /// Index of the first sample whose decode time is at or after `t`.
    pub fn first_at_or_after(&self, t: u64) -> usize {
        match &self.timing {
            Timing::Runs(Runs { runs, .. }) => {
                let end = |k: usize| runs.get(k + 1).map_or(self.count, |n| n.first as usize);
                // The first run whose last sample decodes at or after `t`.
                let k = partition_point_by(runs.len(), |k| {
                    let r = &runs[k];
                    let last = (end(k) - r.first as usize - 1) as u64;
                    r.time + last * u64::from(r.delta) < t
                });
                let Some(r) = runs.get(k) else {
                    return self.count;
                };
                if t <= r.time {
                    return r.first as usize;
                }
                // `t` is past the run's first sample but not its last, so `delta > 0`.
                let steps = (t - r.time).div_ceil(u64::from(r.delta.max(1)));
                r.first as usize + steps as usize
            }
            Timing::PerSample(times) => partition_point_by(self.count, |i| times.get(i) < t),
        }
    }

    /// Presentation time (decode time plus composition offset, never below zero).
    #[inline]
    pub fn presentation_time(&self, i: usize) -> u64 {
        let t = i64::try_from(self.decode_time(i)).unwrap_or(i64::MAX);
        u64::try_from(t.saturating_add(i64::from(self.composition_offset(i)))).unwrap_or(0)
    }

    /// Index of the first sync sample whose presentation time is at or after `t`, or
    /// `len()` when there is none. Sync samples present in decode order.
    pub fn first_sync_presented_at_or_after(&self, t: u64) -> usize {
        if self.all_sync {
            if matches!(self.composition, Composition::Zero) {
                // Presentation times are the decode times.
                return self.first_at_or_after(t);
            }
            return partition_point_by(self.len(), |i| self.presentation_time(i) < t);
        }
        let k = self
            .sync_samples
            .partition_point(|&i| self.presentation_time(i as usize) < t);
        self.sync_samples.get(k).map_or(self.len(), |&i| i as usize)
    }

    /// For each of `thresholds`, ascending, the first sync sample in decode order presented
    /// at or after it, or `len()` (the answers ascend too): what
    /// [`SampleTable::first_sync_presented_at_or_after`] finds when sync samples present in
    /// decode order, and well defined when they do not. One walk along the sync samples
    /// (along every sample of an all-sync track with composition offsets) that stops at the
    /// last answer, so the opening of a track answers as the whole track does. Thresholds
    /// out of order get one search each.
    pub fn first_syncs_presented_at_or_after(&self, thresholds: &[u64]) -> Vec<usize> {
        let ascending = self.all_sync && matches!(self.composition, Composition::Zero);
        if ascending || !thresholds.is_sorted() {
            // Presentation times are the decode times, which ascend: searches are exact.
            return thresholds
                .iter()
                .map(|&t| self.first_sync_presented_at_or_after(t))
                .collect();
        }
        let candidate = |k: usize| match self.all_sync {
            true => (k < self.count).then_some(k),
            false => self.sync_samples.get(k).map(|&i| i as usize),
        };
        let mut k = 0;
        thresholds
            .iter()
            .map(|&t| {
                while let Some(i) = candidate(k) {
                    if self.presentation_time(i) >= t {
                        break;
                    }
                    k += 1;
                }
                candidate(k).unwrap_or(self.count)
            })
            .collect()
    }

    /// Sum of the sizes of samples `range`.
    pub fn bytes_in(&self, range: Range<usize>) -> u64 {
        if matches!(self.sizes, Sizes::Constant(_)) {
            assert!(
                range.start <= range.end && range.end <= self.count,
                "samples {range:?} out of range for a table of {}",
                self.count
            );
        }
        self.sizes.sum(range)
    }

    /// Heap bytes held by this table (for cache weighing and the 24-bytes-a-sample budget),
    /// the bytes of its views of the `moov` included: heap for a `moov` read from an HTTP
    /// origin (for a local file they are the source's mapping, so this is an upper bound).
    pub fn heap_bytes(&self) -> usize {
        let sizes = match &self.sizes {
            Sizes::Constant(_) => 0,
            Sizes::U16(s) => s.len() * 2,
            Sizes::U32(s) => s.len() * 4,
            Sizes::View(s) => s.heap_bytes(),
        };
        let offsets = match &self.offsets {
            Offsets::Chunks(table) => table.heap_bytes(),
            Offsets::Column(column) => column.heap_bytes(),
        };
        let timing = match &self.timing {
            Timing::Runs(runs) => runs.heap_bytes(),
            Timing::PerSample(times) => times.heap_bytes(),
        };
        let composition = match &self.composition {
            Composition::Zero => 0,
            Composition::Runs(runs) => runs.heap_bytes(),
            Composition::I16(c) => c.len() * 2,
            Composition::I32(c) => c.len() * 4,
        };
        sizes + offsets + timing + composition + self.sync_samples.len() * 4
    }
}

/// One sample's values, for building a table by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleInfo {
    pub offset: u64,
    pub size: u32,
    pub duration: u32,
    pub composition_offset: i32,
    pub sync: bool,
}

mod build;
mod chunks;
mod forms;
mod parse;
mod time_walks;
mod views;
mod walks;

pub use time_walks::{CompositionOffsets, SampleTimes};
pub use walks::{ByteRuns, SampleOffsets};

#[cfg(test)]
mod tests;
