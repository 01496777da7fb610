//! The forms a [`SampleTable`](super::SampleTable)'s columns take: sizes, offsets, decode
//! times and composition offsets, each the smallest of a few (see the parent module), and
//! the run index they share.

use std::ops::Range;

use super::chunks::ChunkTable;
use super::views::Be32s;
use super::{BLOCK, BLOCK_SHIFT};

/// Sample sizes.
#[derive(Debug, Clone)]
pub(super) enum Sizes {
    Constant(u32),
    U16(Box<[u16]>),
    U32(Box<[u32]>),
    /// The entries of the `stsz`, in place.
    View(Be32s),
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes::Constant(0)
    }
}

impl Sizes {
    /// The sizes of the first `n` samples (of an opening).
    pub(super) fn first(self, n: usize) -> Sizes {
        match self {
            Sizes::Constant(size) => Sizes::Constant(size),
            Sizes::U16(sizes) => Sizes::U16(sizes.get(..n).unwrap_or(&sizes).into()),
            Sizes::U32(sizes) => Sizes::U32(sizes.get(..n).unwrap_or(&sizes).into()),
            Sizes::View(sizes) => Sizes::View(sizes.first(n)),
        }
    }

    /// Size of sample `i`, which must be a sample of the table (not checked for
    /// `Constant`).
    #[inline(always)]
    pub(super) fn get(&self, i: usize) -> u32 {
        match self {
            Sizes::Constant(size) => *size,
            Sizes::U16(sizes) => u32::from(sizes[i]),
            Sizes::U32(sizes) => sizes[i],
            Sizes::View(sizes) => sizes.get(i),
        }
    }

    /// Sum of the sizes of samples `range`, which must be samples of the table (not
    /// checked for `Constant`).
    #[inline]
    pub(super) fn sum(&self, range: Range<usize>) -> u64 {
        match self {
            Sizes::Constant(size) => range.len() as u64 * u64::from(*size),
            // In 32 bits up to 65536 sizes at a time: twice the lanes of 64-bit sums.
            Sizes::U16(sizes) => sizes[range]
                .chunks(1 << 16)
                .map(|c| u64::from(c.iter().map(|&s| u32::from(s)).sum::<u32>()))
                .sum(),
            Sizes::U32(sizes) => sizes[range].iter().map(|&s| u64::from(s)).sum(),
            Sizes::View(sizes) => sizes.sum(range),
        }
    }
}

/// Sample file offsets.
#[derive(Debug, Clone)]
pub(super) enum Offsets {
    /// Read from the chunk table's own boxes.
    Chunks(ChunkTable),
    /// A value a sample (tables built from values, and chunk tables whose walks could
    /// cross many empty chunks).
    Column(Column),
}

impl Default for Offsets {
    fn default() -> Self {
        Offsets::Column(Column::default())
    }
}

/// A `u64` a sample: narrow (block base plus `u32`) or wide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Column {
    Narrow { bases: Box<[u64]>, low: Box<[u32]> },
    Wide(Box<[u64]>),
}

impl Default for Column {
    fn default() -> Self {
        Column::Narrow {
            bases: Box::default(),
            low: Box::default(),
        }
    }
}

impl Column {
    #[inline]
    pub(super) fn get(&self, i: usize) -> u64 {
        match self {
            Column::Narrow { bases, low } => bases[i >> BLOCK_SHIFT] + u64::from(low[i]),
            Column::Wide(values) => values[i],
        }
    }

    pub(super) fn heap_bytes(&self) -> usize {
        match self {
            Column::Narrow { bases, low } => bases.len() * 8 + low.len() * 4,
            Column::Wide(values) => values.len() * 8,
        }
    }
}

/// Maximal runs of samples that share a value, by first sample (the first at 0). With
/// more than a few runs, also the run that holds the first sample of each block of
/// [`BLOCK`] samples, so that finding a sample's run searches only the runs of its block
/// (usually one or two) however many runs there are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Runs<R> {
    pub(super) runs: Box<[R]>,
    pub(super) at_block: Box<[u32]>,
}

/// A run of [`Runs`].
pub(super) trait Run {
    /// Its first sample.
    fn first(&self) -> u32;
}

/// Runs up to this many are searched whole, without a block index.
pub(super) const UNINDEXED_RUNS: usize = 16;

impl<R: Run> Runs<R> {
    pub(super) fn new(runs: Vec<R>, count: usize) -> Self {
        let mut at_block = Vec::new();
        if runs.len() > UNINDEXED_RUNS {
            at_block.reserve_exact(count.div_ceil(BLOCK));
            let mut r = 0;
            for start in (0..count).step_by(BLOCK) {
                while runs.get(r + 1).is_some_and(|n| n.first() as usize <= start) {
                    r += 1;
                }
                at_block.push(r as u32);
            }
        }
        Runs {
            runs: runs.into_boxed_slice(),
            at_block: at_block.into_boxed_slice(),
        }
    }

    /// The run that holds sample `i` (which must be a sample of the table).
    #[inline]
    pub(super) fn of(&self, i: usize) -> &R {
        &self.runs[self.index_of(i)]
    }

    /// Each sample of `range` (samples of the table) with its run, in order: one search for
    /// the first, then a step to the next run where one starts.
    pub(super) fn walk(&self, range: Range<usize>) -> RunWalk<'_, R> {
        let k = if range.is_empty() {
            0
        } else {
            self.index_of(range.start)
        };
        RunWalk {
            runs: &self.runs,
            k,
            next_first: next_first(&self.runs, k),
            samples: range,
        }
    }

    /// Index of the run that holds sample `i`.
    #[inline]
    fn index_of(&self, i: usize) -> usize {
        let (lo, hi) = if self.at_block.is_empty() {
            (0, self.runs.len())
        } else {
            let b = i >> BLOCK_SHIFT;
            let lo = self.at_block.get(b).map_or(0, |&r| r as usize);
            // The run holding the next block's first sample is the last that can hold `i`.
            let hi = self
                .at_block
                .get(b + 1)
                .map_or(self.runs.len(), |&r| r as usize + 1);
            (lo, hi)
        };
        let within = self.runs.get(lo..hi).unwrap_or_default();
        let k = lo + within.partition_point(|r| r.first() as usize <= i);
        k.saturating_sub(1)
    }

    pub(super) fn heap_bytes(&self) -> usize {
        std::mem::size_of_val::<[R]>(&self.runs) + self.at_block.len() * 4
    }
}

/// First sample of the run after run `k` (`usize::MAX` after the last).
fn next_first<R: Run>(runs: &[R], k: usize) -> usize {
    runs.get(k + 1).map_or(usize::MAX, |r| r.first() as usize)
}

/// The walk of [`Runs::walk`]: `(sample, its run)`.
pub(super) struct RunWalk<'r, R> {
    runs: &'r [R],
    k: usize,
    next_first: usize,
    samples: Range<usize>,
}

impl<'r, R: Run> Iterator for RunWalk<'r, R> {
    type Item = (usize, &'r R);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let i = self.samples.next()?;
        while i >= self.next_first {
            self.k += 1;
            self.next_first = next_first(self.runs, self.k);
        }
        self.runs.get(self.k).map(|r| (i, r))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.samples.len()))
    }
}

impl<R> Default for Runs<R> {
    fn default() -> Self {
        Runs {
            runs: Box::default(),
            at_block: Box::default(),
        }
    }
}

/// Decode times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Timing {
    /// Runs of samples of one duration.
    Runs(Runs<TimeRun>),
    PerSample(Column),
}

impl Default for Timing {
    fn default() -> Self {
        Timing::Runs(Runs::default())
    }
}

/// Samples from `first` (to the next run's first, or the end) last `delta` each; the
/// first decodes at `time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct TimeRun {
    pub(super) first: u32,
    pub(super) delta: u32,
    pub(super) time: u64,
}

impl Run for TimeRun {
    fn first(&self) -> u32 {
        self.first
    }
}

/// Composition offsets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) enum Composition {
    /// Every offset is zero.
    #[default]
    Zero,
    /// Runs of samples of one offset.
    Runs(Runs<OffsetRun>),
    I16(Box<[i16]>),
    I32(Box<[i32]>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct OffsetRun {
    pub(super) first: u32,
    pub(super) value: i32,
}

impl Run for OffsetRun {
    fn first(&self) -> u32 {
        self.first
    }
}

/// The first index in `0..n` where `pred` turns false (`pred` true then false).
#[inline]
pub(super) fn partition_point_by(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}
