//! Building the columns of a [`SampleTable`](super::SampleTable) in their smallest forms,
//! from box entries ([`super::parse`]) or from plain values
//! ([`SampleTable::from_samples`](super::SampleTable::from_samples)).

use super::{Column, Composition, OffsetRun, Runs, Sizes, TimeRun, Timing, BLOCK, BLOCK_SHIFT};

/// Where a column's values go while it is built: [`NarrowColumn`] first, and a plain
/// `Vec<u64>` when a value does not fit it (the build is then done again, wide).
pub(super) trait ColumnSink {
    /// Appends `values`; false when one does not fit this form.
    fn extend_from_slice(&mut self, values: &[u64]) -> bool;
    fn len(&self) -> usize;
    fn finish(self) -> Column;
}

/// A narrow [`Column`] under construction.
pub(super) struct NarrowColumn {
    bases: Vec<u64>,
    low: Vec<u32>,
}

impl NarrowColumn {
    pub(super) fn with_capacity(capacity: usize) -> Self {
        NarrowColumn {
            bases: Vec::with_capacity(capacity.div_ceil(BLOCK)),
            low: Vec::with_capacity(capacity),
        }
    }
}

impl ColumnSink for NarrowColumn {
    fn extend_from_slice(&mut self, mut values: &[u64]) -> bool {
        while let Some(&first) = values.first() {
            let in_block = self.low.len() % BLOCK;
            if in_block == 0 {
                self.bases.push(first);
            }
            let base = self.bases.last().copied().unwrap_or(first);
            let (head, rest) = values.split_at(values.len().min(BLOCK - in_block));
            let fits = |v: u64| v.wrapping_sub(base) <= u64::from(u32::MAX);
            if !head.iter().all(|&v| fits(v)) {
                return false;
            }
            self.low
                .extend(head.iter().map(|&v| v.wrapping_sub(base) as u32));
            values = rest;
        }
        true
    }

    fn len(&self) -> usize {
        self.low.len()
    }

    /// The column, wide when that is smaller (a table of one or two samples).
    fn finish(self) -> Column {
        if self.bases.len() * 8 > self.low.len() * 4 {
            return Column::Wide(
                self.low
                    .iter()
                    .enumerate()
                    .map(|(i, &d)| self.bases[i >> BLOCK_SHIFT] + u64::from(d))
                    .collect(),
            );
        }
        Column::Narrow {
            bases: self.bases.into_boxed_slice(),
            low: self.low.into_boxed_slice(),
        }
    }
}

impl ColumnSink for Vec<u64> {
    fn extend_from_slice(&mut self, values: &[u64]) -> bool {
        Vec::extend_from_slice(self, values);
        true
    }

    fn len(&self) -> usize {
        Vec::len(self)
    }

    fn finish(self) -> Column {
        Column::Wide(self.into_boxed_slice())
    }
}

/// Values on their way to a sink, a batch at a time: the loops that make them keep their
/// state in registers, and the sink sees whole slices.
pub(super) struct Batch<'s, S> {
    sink: &'s mut S,
    buf: [u64; BATCH],
    filled: usize,
}

/// Values a [`Batch`] holds.
const BATCH: usize = 256;

impl<'s, S: ColumnSink> Batch<'s, S> {
    pub(super) fn new(sink: &'s mut S) -> Self {
        Batch {
            sink,
            buf: [0; BATCH],
            filled: 0,
        }
    }

    /// The free part of the batch, to fill from the front (never empty).
    #[inline(always)]
    pub(super) fn room(&mut self) -> &mut [u64] {
        &mut self.buf[self.filled..]
    }

    /// Takes `n` values written into [`Batch::room`]; false when the sink refused some.
    #[inline(always)]
    pub(super) fn commit(&mut self, n: usize) -> bool {
        self.filled += n;
        self.filled < BATCH || self.flush()
    }

    pub(super) fn flush(&mut self) -> bool {
        let filled = std::mem::take(&mut self.filled);
        self.sink.extend_from_slice(&self.buf[..filled])
    }

    /// Appends every value of `values`.
    pub(super) fn push_all(&mut self, mut values: impl Iterator<Item = u64>) -> bool {
        loop {
            let room = self.room();
            let mut n = 0;
            for (slot, v) in room.iter_mut().zip(values.by_ref()) {
                *slot = v;
                n += 1;
            }
            if n == 0 {
                return true;
            }
            if !self.commit(n) {
                return false;
            }
        }
    }
}

/// Writes a column's values, in order, into a sink.
pub(super) trait FillColumn {
    type Error;
    /// Pushes every value into `batch`; `Ok(false)` as soon as the sink refuses one.
    fn fill<S: ColumnSink>(
        &self,
        batch: &mut Batch<'_, S>,
    ) -> std::result::Result<bool, Self::Error>;
}

/// The column of `count` values that `filler` writes: narrow when every value fits, else
/// wide. Also returns how many values were written.
pub(super) fn build_column<F: FillColumn>(
    count: usize,
    filler: &F,
) -> std::result::Result<(Column, usize), F::Error> {
    fn with<S: ColumnSink, F: FillColumn>(
        mut sink: S,
        filler: &F,
    ) -> std::result::Result<Option<(Column, usize)>, F::Error> {
        let mut batch = Batch::new(&mut sink);
        if !(filler.fill(&mut batch)? && batch.flush()) {
            return Ok(None);
        }
        let len = sink.len();
        Ok(Some((sink.finish(), len)))
    }
    if let Some(done) = with(NarrowColumn::with_capacity(count), filler)? {
        return Ok(done);
    }
    Ok(with(Vec::<u64>::with_capacity(count), filler)?.unwrap_or_default())
}

/// Values given one by one.
pub(super) struct Values<I>(pub(super) I);

impl<I: Iterator<Item = u64> + Clone> FillColumn for Values<I> {
    type Error = std::convert::Infallible;

    fn fill<S: ColumnSink>(
        &self,
        batch: &mut Batch<'_, S>,
    ) -> std::result::Result<bool, Self::Error> {
        Ok(batch.push_all(self.0.clone()))
    }
}

/// Decode times from (sample count, duration) entries whose total fits 64 bits.
pub(super) struct TimesOf<I>(pub(super) I);

impl<I: Iterator<Item = (u32, u32)> + Clone> FillColumn for TimesOf<I> {
    type Error = std::convert::Infallible;

    fn fill<S: ColumnSink>(
        &self,
        batch: &mut Batch<'_, S>,
    ) -> std::result::Result<bool, Self::Error> {
        let mut t = 0u64;
        for (n, delta) in self.0.clone() {
            let delta = u64::from(delta);
            if !batch.push_all((0..n).map(|k| t + u64::from(k) * delta)) {
                return Ok(false);
            }
            t += u64::from(n) * delta;
        }
        Ok(true)
    }
}

/// True when `runs` runs of `run_bytes` beat `count` samples of `sample_bytes`: never more
/// bytes, and few runs (at most 64, or one per 16 samples) so a lookup stays cheap.
fn prefer_runs(runs: usize, run_bytes: usize, count: usize, sample_bytes: usize) -> bool {
    runs * run_bytes <= count * sample_bytes && (runs <= 64 || runs <= count / 16)
}

/// Bytes a sample of a per-sample [`Column`] when narrow.
const NARROW_COLUMN_BYTES: usize = 4;

/// The smallest form of `count` sizes.
pub(super) fn build_sizes(sizes: impl Iterator<Item = u32> + Clone, count: usize) -> Sizes {
    let Some(first) = sizes.clone().next() else {
        return Sizes::Constant(0);
    };
    // Usually stops at the second sample.
    if sizes.clone().all(|s| s == first) {
        return Sizes::Constant(first);
    }
    // One pass, in blocks, stopping after the block of the first size over 16 bits.
    let mut narrow = vec![0u16; count];
    let mut rest = sizes.clone();
    for block in narrow.chunks_mut(4096) {
        let mut fits = true;
        for (slot, s) in block.iter_mut().zip(rest.by_ref()) {
            fits &= s <= u32::from(u16::MAX);
            *slot = s as u16;
        }
        if !fits {
            return Sizes::U32(sizes.collect());
        }
    }
    Sizes::U16(narrow.into_boxed_slice())
}

/// Decode times from (sample count, duration) entries that cover exactly `count` samples
/// with a total that fits 64 bits, forming `runs` maximal runs.
pub(super) fn build_timing(
    entries: impl Iterator<Item = (u32, u32)> + Clone,
    count: usize,
    runs: usize,
) -> Timing {
    let entries = entries.filter(|&(n, _)| n > 0);
    if prefer_runs(
        runs,
        std::mem::size_of::<TimeRun>(),
        count,
        NARROW_COLUMN_BYTES,
    ) {
        let mut out: Vec<TimeRun> = Vec::with_capacity(runs);
        let (mut first, mut time) = (0u32, 0u64);
        for (n, delta) in entries {
            if out.last().is_none_or(|r| r.delta != delta) {
                out.push(TimeRun { first, delta, time });
            }
            first += n;
            time += u64::from(n) * u64::from(delta);
        }
        return Timing::Runs(Runs::new(out, count));
    }
    let Ok((times, _)) = build_column(count, &TimesOf(entries));
    Timing::PerSample(times)
}

/// What a pass over (sample count, composition offset) entries finds.
#[derive(Default)]
pub(super) struct OffsetStats {
    pub(super) runs: usize,
    pub(super) previous: Option<i32>,
    /// Smallest and largest offset, and 0.
    pub(super) min: i32,
    pub(super) max: i32,
}

impl OffsetStats {
    #[inline]
    pub(super) fn add(&mut self, n: u32, value: i32) {
        if n == 0 {
            return;
        }
        if self.previous != Some(value) {
            self.runs += 1;
            self.previous = Some(value);
        }
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }
}

/// Composition offsets from (sample count, offset) entries that cover exactly `count`
/// samples; `stats` is what [`OffsetStats`] found in them.
pub(super) fn build_composition(
    entries: impl Iterator<Item = (u32, i32)>,
    count: usize,
    stats: &OffsetStats,
    expanded: Option<Vec<i16>>,
) -> Composition {
    if stats.min == 0 && stats.max == 0 {
        return Composition::Zero;
    }
    let narrow = i16::try_from(stats.min).is_ok() && i16::try_from(stats.max).is_ok();
    let sample_bytes = if narrow { 2 } else { 4 };
    let entries = entries.filter(|&(n, _)| n > 0);
    if prefer_runs(
        stats.runs,
        std::mem::size_of::<OffsetRun>(),
        count,
        sample_bytes,
    ) {
        let mut out: Vec<OffsetRun> = Vec::with_capacity(stats.runs);
        let mut first = 0u32;
        for (n, value) in entries {
            if out.last().is_none_or(|r| r.value != value) {
                out.push(OffsetRun { first, value });
            }
            first += n;
        }
        return Composition::Runs(Runs::new(out, count));
    }
    if narrow {
        if let Some(done) = expanded.filter(|e| e.len() == count) {
            return Composition::I16(done.into_boxed_slice());
        }
        let mut out = Vec::with_capacity(count);
        expand_into(&mut out, entries, |v| v as i16);
        Composition::I16(out.into_boxed_slice())
    } else {
        let mut out = Vec::with_capacity(count);
        expand_into(&mut out, entries, |v| v);
        Composition::I32(out.into_boxed_slice())
    }
}

/// Appends `n` copies of each (n, value) entry, converted.
#[inline(always)]
fn expand_into<T: Copy>(
    out: &mut Vec<T>,
    entries: impl Iterator<Item = (u32, i32)>,
    convert: impl Fn(i32) -> T,
) {
    for (n, value) in entries {
        let value = convert(value);
        if n == 1 {
            out.push(value);
        } else {
            out.extend(std::iter::repeat_n(value, n as usize));
        }
    }
}
