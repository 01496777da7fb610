//! Walks along a range of samples, for the segment writers: the samples' file offsets, and
//! the byte ranges they fill (consecutive samples merged), O(1) a sample or a chunk instead
//! of one lookup each.

use std::ops::Range;

use super::chunks::Cursor;
use super::{Column, Offsets, SampleTable, Sizes};

/// The file offsets of samples `range`, in order: see [`SampleTable::offsets`].
#[derive(Clone)]
pub struct SampleOffsets<'t>(OffsetWalk<'t>);

#[derive(Clone)]
enum OffsetWalk<'t> {
    Chunks(Cursor<'t>),
    Column(&'t Column, Range<usize>),
}

impl Iterator for SampleOffsets<'_> {
    type Item = u64;

    #[inline(always)]
    fn next(&mut self) -> Option<u64> {
        match &mut self.0 {
            OffsetWalk::Chunks(cursor) => cursor.next(),
            OffsetWalk::Column(column, range) => range.next().map(|i| column.get(i)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            OffsetWalk::Chunks(cursor) => cursor.size_hint(),
            OffsetWalk::Column(_, range) => range.size_hint(),
        }
    }
}

impl ExactSizeIterator for SampleOffsets<'_> {}

/// The bytes of samples `range`, in order, as the fewest ranges: see
/// [`SampleTable::byte_runs`].
#[derive(Clone)]
pub struct ByteRuns<'t> {
    pieces: Pieces<'t>,
    pending: Option<Range<u64>>,
}

/// Contiguous pieces of the bytes of a walk: a chunk's samples at a time, or one sample.
#[derive(Clone)]
enum Pieces<'t> {
    Chunks(Cursor<'t>),
    Samples {
        offsets: &'t Column,
        sizes: &'t Sizes,
        range: Range<usize>,
    },
}

impl Iterator for Pieces<'_> {
    type Item = Range<u64>;

    #[inline]
    fn next(&mut self) -> Option<Range<u64>> {
        match self {
            Pieces::Chunks(cursor) => cursor.next_bytes(),
            Pieces::Samples {
                offsets,
                sizes,
                range,
            } => range.next().map(|i| {
                let start = offsets.get(i);
                start..start.wrapping_add(u64::from(sizes.get(i)))
            }),
        }
    }
}

impl Iterator for ByteRuns<'_> {
    type Item = Range<u64>;

    fn next(&mut self) -> Option<Range<u64>> {
        loop {
            let Some(piece) = self.pieces.next() else {
                return self.pending.take();
            };
            match self.pending.take() {
                Some(run) if run.end == piece.start => self.pending = Some(run.start..piece.end),
                Some(run) => {
                    self.pending = Some(piece);
                    return Some(run);
                }
                None => self.pending = Some(piece),
            }
        }
    }
}

impl SampleTable {
    /// Panics, as slicing does, when `range` is not empty and reaches past the last sample.
    #[track_caller]
    pub(super) fn check_range(&self, range: &Range<usize>) {
        assert!(
            range.is_empty() || range.end <= self.count,
            "samples {range:?} out of range for a table of {}",
            self.count
        );
    }

    /// File offsets of samples `range`, in order, O(1) a sample. Panics, as slicing does,
    /// when `range` is not empty and reaches past the last sample.
    #[inline]
    pub fn offsets(&self, range: Range<usize>) -> SampleOffsets<'_> {
        self.check_range(&range);
        SampleOffsets(match &self.offsets {
            Offsets::Chunks(table) => OffsetWalk::Chunks(table.cursor(&self.sizes, range)),
            Offsets::Column(column) => OffsetWalk::Column(column, range),
        })
    }

    /// The bytes of samples `range` in the source, in sample order, each range as long as
    /// the samples are contiguous: a segment's payload as the fewest slices. From the chunk
    /// table this costs O(1) a chunk (and a sum of the sizes), not a sample. Panics as
    /// [`SampleTable::offsets`] does.
    pub fn byte_runs(&self, range: Range<usize>) -> ByteRuns<'_> {
        self.check_range(&range);
        let pieces = match &self.offsets {
            Offsets::Chunks(table) => Pieces::Chunks(table.cursor(&self.sizes, range)),
            Offsets::Column(offsets) => Pieces::Samples {
                offsets,
                sizes: &self.sizes,
                range,
            },
        };
        ByteRuns {
            pieces,
            pending: None,
        }
    }

    /// The smallest byte range of the source that holds samples `range`: one coalesced read.
    pub fn byte_span(&self, range: Range<usize>) -> Option<(u64, u64)> {
        let mut start = u64::MAX;
        let mut end = 0u64;
        for run in self.byte_runs(range) {
            start = start.min(run.start);
            end = end.max(run.end);
        }
        (start < end).then_some((start, end))
    }
}
