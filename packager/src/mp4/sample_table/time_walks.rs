//! Walks of the timing of a range of samples, for the segment writers: decode times with
//! durations, and composition offsets, in order, O(1) a sample instead of a search of the
//! runs for each.

use std::ops::Range;
use std::slice;

use super::forms::{OffsetRun, RunWalk, TimeRun};
use super::{Composition, SampleTable, Timing};

/// `(decode time, duration)` of each sample of a range: see [`SampleTable::times`].
pub struct SampleTimes<'t>(TimesWalk<'t>);

enum TimesWalk<'t> {
    Runs(RunWalk<'t, TimeRun>),
    PerSample(&'t SampleTable, Range<usize>),
}

impl Iterator for SampleTimes<'_> {
    type Item = (u64, u32);

    #[inline]
    fn next(&mut self) -> Option<(u64, u32)> {
        match &mut self.0 {
            TimesWalk::Runs(walk) => walk.next().map(|(i, run)| {
                let time = run.time + (i - run.first as usize) as u64 * u64::from(run.delta);
                (time, run.delta)
            }),
            TimesWalk::PerSample(table, samples) => samples.next().map(|i| {
                let time = table.decode_time(i);
                (time, (table.decode_time_or_end(i + 1) - time) as u32)
            }),
        }
    }
}

/// The composition offset of each sample of a range: see
/// [`SampleTable::composition_offsets`].
pub struct CompositionOffsets<'t>(OffsetsWalk<'t>);

enum OffsetsWalk<'t> {
    Zero(Range<usize>),
    Runs(RunWalk<'t, OffsetRun>),
    I16(slice::Iter<'t, i16>),
    I32(slice::Iter<'t, i32>),
}

impl Iterator for CompositionOffsets<'_> {
    type Item = i32;

    #[inline]
    fn next(&mut self) -> Option<i32> {
        match &mut self.0 {
            OffsetsWalk::Zero(samples) => samples.next().map(|_| 0),
            OffsetsWalk::Runs(walk) => walk.next().map(|(_, run)| run.value),
            OffsetsWalk::I16(values) => values.next().map(|&v| i32::from(v)),
            OffsetsWalk::I32(values) => values.next().copied(),
        }
    }
}

impl SampleTable {
    /// Decode time and duration of each sample of `range`, in order. Panics as
    /// [`SampleTable::offsets`] does.
    pub fn times(&self, range: Range<usize>) -> SampleTimes<'_> {
        self.check_range(&range);
        SampleTimes(match &self.timing {
            Timing::Runs(runs) => TimesWalk::Runs(runs.walk(range)),
            Timing::PerSample(_) => TimesWalk::PerSample(self, range),
        })
    }

    /// Composition offset of each sample of `range`, in order. Panics as
    /// [`SampleTable::offsets`] does.
    pub fn composition_offsets(&self, range: Range<usize>) -> CompositionOffsets<'_> {
        self.check_range(&range);
        CompositionOffsets(match &self.composition {
            Composition::Zero => OffsetsWalk::Zero(range),
            Composition::Runs(runs) => OffsetsWalk::Runs(runs.walk(range)),
            Composition::I16(values) => {
                OffsetsWalk::I16(values.get(range).unwrap_or_default().iter())
            }
            Composition::I32(values) => {
                OffsetsWalk::I32(values.get(range).unwrap_or_default().iter())
            }
        })
    }
}
