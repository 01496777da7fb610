//! Reading the sample-table boxes into a [`SampleTable`](super::SampleTable): every check
//! that the boxes agree with each other and that every sample lies inside the source, in
//! one pass over each box where it can be.

use std::ops::Range;

use super::build::{
    build_column, build_composition, build_sizes, build_timing, Batch, ColumnSink, FillColumn,
    OffsetStats,
};
use super::{Column, Composition, Sizes, Timing, MAX_SAMPLES_PER_TRACK};
use crate::error::{Error, Result};
use crate::mp4::boxes::{Fields, Mp4Box};

/// Refuses more than [`MAX_SAMPLES_PER_TRACK`] samples, before anything is allocated.
pub(super) fn check_sample_count(f: &Fields<'_>, count: usize) -> Result<()> {
    if count > MAX_SAMPLES_PER_TRACK {
        return Err(Error::limit(
            f.path(),
            format!(
                "sample count {count} exceeds the limit of {MAX_SAMPLES_PER_TRACK} samples per track"
            ),
        ));
    }
    Ok(())
}

/// The `u32` fields of `data`, a whole number of 4-byte fields.
fn be32s(data: &[u8]) -> impl Iterator<Item = u32> + Clone + '_ {
    data.as_chunks::<4>()
        .0
        .iter()
        .map(|&b| u32::from_be_bytes(b))
}

/// The (first, second) `u32` pairs of `data`, a whole number of 8-byte entries.
fn be32_pairs(data: &[u8]) -> impl Iterator<Item = (u32, u32)> + Clone + '_ {
    data.as_chunks::<8>()
        .0
        .iter()
        .map(|&[a, b, c, d, e, f, g, h]| {
            (
                u32::from_be_bytes([a, b, c, d]),
                u32::from_be_bytes([e, f, g, h]),
            )
        })
}

/// [`build_sizes`] of the 32-bit big-endian sizes of an `stsz`, in tighter loops.
fn stsz_sizes(sizes: &[[u8; 4]]) -> Sizes {
    let Some(&first) = sizes.first() else {
        return Sizes::Constant(0);
    };
    if sizes.iter().all(|&s| s == first) {
        return Sizes::Constant(u32::from_be_bytes(first));
    }
    let mut narrow = vec![0u16; sizes.len()];
    for (block, from) in narrow.chunks_mut(4096).zip(sizes.chunks(4096)) {
        let mut high = 0;
        for (slot, &[a, b, c, d]) in block.iter_mut().zip(from) {
            high |= a | b;
            *slot = u16::from_be_bytes([c, d]);
        }
        if high != 0 {
            return Sizes::U32(sizes.iter().map(|&s| u32::from_be_bytes(s)).collect());
        }
    }
    Sizes::U16(narrow.into_boxed_slice())
}

/// The sample sizes (`stsz` or `stz2`) and how many samples there are.
pub(super) fn parse_sizes(b: &Mp4Box<'_>) -> Result<(Sizes, usize)> {
    let mut f = b.fields();
    f.version_flags()?;
    if &b.kind == b"stz2" {
        f.skip(3)?;
        let field_size = f.u8()?;
        let count_offset = f.offset();
        let count = f.u32()? as usize;
        check_sample_count(&f, count)?;
        let bits = usize::from(field_size);
        if !matches!(bits, 4 | 8 | 16) {
            return Err(Error::malformed(
                &b.path,
                count_offset,
                format!("stz2 field size {bits} is not 4, 8 or 16"),
            ));
        }
        let needed = (count * bits).div_ceil(8);
        if needed > f.remaining() {
            return Err(f.error(format!(
                "sample count {count} needs {needed} bytes but {} remain",
                f.remaining()
            )));
        }
        let data = f.bytes(needed)?;
        let sizes = match bits {
            4 => build_sizes(
                data.iter()
                    .flat_map(|&byte| [u32::from(byte >> 4), u32::from(byte & 0x0f)])
                    .take(count),
                count,
            ),
            8 => build_sizes(data.iter().map(|&b| u32::from(b)), count),
            _ => build_sizes(
                data.chunks_exact(2)
                    .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]]))),
                count,
            ),
        };
        return Ok((sizes, count));
    }
    let constant = f.u32()?;
    let count_at = f.offset();
    let count = f.u32()? as usize;
    check_sample_count(&f, count)?;
    if constant != 0 {
        let sizes = if count == 0 {
            Sizes::Constant(0)
        } else {
            Sizes::Constant(constant)
        };
        return Ok((sizes, count));
    }
    if count.saturating_mul(4) > f.remaining() {
        return Err(Error::malformed(
            &b.path,
            count_at,
            format!(
                "sample count {count} needs {} bytes of sizes but only {} remain in the box",
                count.saturating_mul(4),
                f.remaining()
            ),
        ));
    }
    let data = f.bytes(count * 4)?;
    Ok((stsz_sizes(data.as_chunks::<4>().0), count))
}

/// The decode times (`stts`) of `count` samples, and the decode time past the last.
pub(super) fn parse_decode_times(b: &Mp4Box<'_>, count: usize) -> Result<(Timing, u64)> {
    let mut f = b.fields();
    f.version_flags()?;
    let entries = f.entry_count(8)?;
    let start = f.offset();
    let data = f.bytes(entries * 8)?;
    // An error about entry `k`, at the offset just past it.
    let error =
        |k: usize, reason: String| Error::malformed(&b.path, start + (k as u64 + 1) * 8, reason);
    let (mut samples, mut t, mut runs, mut previous) = (0usize, 0u64, 0usize, None);
    for (k, (n, delta)) in be32_pairs(data).enumerate() {
        let n = n as usize;
        if samples + n > count {
            return Err(error(
                k,
                format!(
                    "time-to-sample entries describe more samples than the {count} in the size table"
                ),
            ));
        }
        samples += n;
        t = t
            .checked_add(n as u64 * u64::from(delta))
            .ok_or_else(|| error(k, "decode time overflows 64 bits".into()))?;
        if n > 0 && previous != Some(delta) {
            runs += 1;
            previous = Some(delta);
        }
    }
    if samples != count {
        return Err(f.error(format!(
            "time-to-sample entries describe {samples} samples but the size table has {count}"
        )));
    }
    Ok((build_timing(be32_pairs(data), count, runs), t))
}

/// The composition offsets (`ctts`) of `count` samples, and the smallest of them and 0.
pub(super) fn parse_composition_offsets(
    b: &Mp4Box<'_>,
    count: usize,
) -> Result<(Composition, i32)> {
    let mut f = b.fields();
    f.version_flags()?;
    let n_entries = f.entry_count(8)?;
    let start = f.offset();
    let data = f.bytes(n_entries * 8)?;
    // Version 0 is unsigned in the spec, but writers store negative offsets in it too;
    // reading both as signed matches what players do.
    let entries = be32_pairs(data).map(|(n, offset)| (n, offset as i32));
    // Many entries (B-frames, one entry a frame or two) are most likely kept a 16-bit
    // offset a sample: expanded in this same pass, while they are checked.
    let mut narrow = n_entries > 64 && n_entries > count / 16;
    let mut expanded = if narrow {
        vec![0i16; count]
    } else {
        Vec::new()
    };
    // The loop keeps its state in locals (registers), not in `OffsetStats`.
    let (mut samples, mut runs, mut min, mut max) = (0usize, 0usize, 0i32, 0i32);
    let mut previous = None;
    for (k, (n, offset)) in entries.clone().enumerate() {
        let at = samples;
        samples += n as usize;
        if samples > count {
            return Err(Error::malformed(
                f.path(),
                start + (k as u64 + 1) * 8,
                format!(
                    "composition offset entries describe more than the {count} samples of the track"
                ),
            ));
        }
        if n == 0 {
            continue;
        }
        runs += usize::from(previous != Some(offset));
        previous = Some(offset);
        min = min.min(offset);
        max = max.max(offset);
        if narrow {
            match i16::try_from(offset) {
                Ok(v) if n == 1 => {
                    if let Some(slot) = expanded.get_mut(at) {
                        *slot = v;
                    }
                }
                Ok(v) => {
                    if let Some(slots) = expanded.get_mut(at..samples) {
                        slots.fill(v);
                    }
                }
                Err(_) => narrow = false,
            }
        }
    }
    let mut stats = OffsetStats {
        runs,
        previous,
        min,
        max,
    };
    let expanded = narrow.then_some(expanded);
    // A short ctts leaves the rest at zero, as readers commonly do.
    let rest = u32::try_from(count - samples).unwrap_or(u32::MAX);
    stats.add(rest, 0);
    let all = entries.chain(std::iter::once((rest, 0)));
    Ok((build_composition(all, count, &stats, expanded), stats.min))
}

/// An `stsc` entry: first chunk (from 1), samples per chunk, sample description index.
#[inline(always)]
fn stsc_entry(e: &[u8; 12]) -> (u32, u32, u32) {
    let [a, b, c, d, e, f, g, h, i, j, k, l] = *e;
    (
        u32::from_be_bytes([a, b, c, d]),
        u32::from_be_bytes([e, f, g, h]),
        u32::from_be_bytes([i, j, k, l]),
    )
}

/// The chunk offset table (`stco` or `co64`), read in place.
struct ChunkOffsets<'a> {
    data: &'a [u8],
    wide: bool,
    len: usize,
}

impl ChunkOffsets<'_> {
    fn parse<'a>(b: &Mp4Box<'a>) -> Result<ChunkOffsets<'a>> {
        let mut f = b.fields();
        f.version_flags()?;
        let wide = &b.kind != b"stco";
        let width = if wide { 8 } else { 4 };
        let len = f.entry_count(width)?;
        let data = f.bytes(len * width)?;
        Ok(ChunkOffsets { data, wide, len })
    }
}

/// The file offsets of the samples of `sizes`, from `stsc` and the chunk offsets, each
/// sample checked to lie inside a source of `source_len` bytes.
pub(super) fn parse_offsets(
    stsc: &Mp4Box<'_>,
    chunk_box: &Mp4Box<'_>,
    sizes: &Sizes,
    count: usize,
    source_len: u64,
) -> Result<Column> {
    let chunks = ChunkOffsets::parse(chunk_box)?;
    let mut f = stsc.fields();
    f.version_flags()?;
    let n = f.entry_count(12)?;
    let start = f.offset();
    let data = f.bytes(n * 12)?;
    // Checked whole before any sample is placed; the walk reads the entries again.
    let mut previous = 0;
    for (k, e) in data.as_chunks::<12>().0.iter().enumerate() {
        let (first_chunk, _, description) = stsc_entry(e);
        if description != 1 {
            return Err(Error::unsupported(
                &stsc.path,
                format!("samples use sample description {description}; only one description per track is supported"),
            ));
        }
        if first_chunk <= previous {
            return Err(Error::malformed(
                f.path(),
                start + (k as u64 + 1) * 12,
                format!("first_chunk {first_chunk} is zero or not increasing"),
            ));
        }
        previous = first_chunk;
    }
    let walk = Walk {
        runs: data.as_chunks::<12>().0,
        chunks: &chunks,
        sizes,
        count,
        source_len,
        stsc,
        chunk_box,
    };
    let (offsets, placed) = build_column(count, &walk)?;
    if placed != count {
        return Err(Error::malformed(
            &stsc.path,
            stsc.payload_offset,
            format!("chunks hold {placed} samples but the size table has {count}"),
        ));
    }
    Ok(offsets)
}

/// Places samples in chunks, as `stsc` says, checking that each lies inside the source.
struct Walk<'w, 'a> {
    /// The `stsc` entries, checked.
    runs: &'w [[u8; 12]],
    chunks: &'w ChunkOffsets<'a>,
    sizes: &'w Sizes,
    count: usize,
    source_len: u64,
    stsc: &'w Mp4Box<'a>,
    chunk_box: &'w Mp4Box<'a>,
}

impl FillColumn for Walk<'_, '_> {
    type Error = Error;

    fn fill<S: ColumnSink>(&self, sink: &mut Batch<'_, S>) -> Result<bool> {
        match (self.sizes, self.chunks.wide) {
            (Sizes::Constant(size), false) => {
                self.place::<4, _, _>(sink, |r| std::iter::repeat_n(*size, r.len()))
            }
            (Sizes::Constant(size), true) => {
                self.place::<8, _, _>(sink, |r| std::iter::repeat_n(*size, r.len()))
            }
            (Sizes::U16(sizes), false) => self.place::<4, _, _>(sink, |r| {
                sizes
                    .get(r)
                    .unwrap_or_default()
                    .iter()
                    .map(|&s| u32::from(s))
            }),
            (Sizes::U16(sizes), true) => self.place::<8, _, _>(sink, |r| {
                sizes
                    .get(r)
                    .unwrap_or_default()
                    .iter()
                    .map(|&s| u32::from(s))
            }),
            (Sizes::U32(sizes), false) => {
                self.place::<4, _, _>(sink, |r| sizes.get(r).unwrap_or_default().iter().copied())
            }
            (Sizes::U32(sizes), true) => {
                self.place::<8, _, _>(sink, |r| sizes.get(r).unwrap_or_default().iter().copied())
            }
        }
    }
}

/// A big-endian number of `W` bytes.
#[inline(always)]
fn be_uint<const W: usize>(b: &[u8; W]) -> u64 {
    let mut wide = [0u8; 8];
    wide[8 - W..].copy_from_slice(b);
    u64::from_be_bytes(wide)
}

impl Walk<'_, '_> {
    /// Pushes the offset of every sample into `batch`, reading `W`-byte chunk offsets;
    /// `sizes(range)` gives the sizes of samples `range`.
    #[inline(always)]
    fn place<const W: usize, S: ColumnSink, I: Iterator<Item = u32> + Clone>(
        &self,
        batch: &mut Batch<'_, S>,
        sizes: impl Fn(Range<usize>) -> I,
    ) -> Result<bool> {
        let mut sample = 0usize;
        let table_len = self.chunks.len as u64;
        let source_len = self.source_len;
        for (r, entry) in self.runs.iter().enumerate() {
            let (first_chunk, per_chunk, _) = stsc_entry(entry);
            let last_chunk = match self.runs.get(r + 1) {
                Some(next) => u64::from(stsc_entry(next).0) - 1,
                None => table_len,
            };
            let first_chunk = u64::from(first_chunk);
            // Chunks `first_chunk..=last_chunk` (from 1) that the table has.
            let (lo, hi) = (first_chunk - 1, last_chunk.min(table_len));
            let table = match self.chunks.data.get(lo as usize * W..hi as usize * W) {
                Some(t) if lo < hi && sample < self.count => t.as_chunks::<W>().0,
                _ => &[],
            };
            if per_chunk == 1 {
                // One sample a chunk: the chunk offsets are the sample offsets.
                let mut rest = table.get(..self.count - sample).unwrap_or(table);
                while !rest.is_empty() {
                    let room = batch.room();
                    let (part, tail) = rest.split_at(room.len().min(rest.len()));
                    let part_sizes = sizes(sample..sample + part.len());
                    let mut outside = false;
                    for ((slot, c), size) in room.iter_mut().zip(part).zip(part_sizes.clone()) {
                        let pos = be_uint(c);
                        let (end, overflow) = pos.overflowing_add(u64::from(size));
                        outside |= overflow | (end > source_len);
                        *slot = pos;
                    }
                    if outside {
                        let ends = part.iter().map(be_uint).zip(part_sizes);
                        for (k, (pos, size)) in ends.enumerate() {
                            if pos
                                .checked_add(u64::from(size))
                                .is_none_or(|e| e > source_len)
                            {
                                return Err(self.past_end(sample + k, pos, size));
                            }
                        }
                    }
                    if !batch.commit(part.len()) {
                        return Ok(false);
                    }
                    sample += part.len();
                    rest = tail;
                }
            } else {
                let per_chunk = per_chunk as usize;
                let run_samples = per_chunk
                    .saturating_mul(table.len())
                    .min(self.count - sample);
                let mut run_sizes = sizes(sample..sample + run_samples);
                for chunk in table {
                    let take = per_chunk.min(self.count - sample);
                    if take == 0 {
                        if sample == self.count {
                            break;
                        }
                        continue;
                    }
                    let start = be_uint(chunk);
                    let mut pos = start;
                    for size in run_sizes.by_ref().take(take) {
                        if !batch.push(pos) {
                            return Ok(false);
                        }
                        // Sizes add up to less than 2^56: a wrap shows as `pos < start`.
                        pos = pos.wrapping_add(u64::from(size));
                    }
                    // Sample ends only grow along a chunk: checking the last checks all.
                    if pos < start || pos > source_len {
                        let chunk_sizes = sizes(sample..sample + take);
                        return Err(self.first_past_end(sample, start, chunk_sizes));
                    }
                    sample += take;
                }
            }
            // A chunk past the table is an error, even once every sample is placed.
            let bad_chunk = first_chunk.max(table_len + 1);
            if bad_chunk <= last_chunk {
                return Err(self.missing_chunk(bad_chunk));
            }
        }
        Ok(true)
    }

    /// The error for the first sample of a chunk (at `pos`, from sample `first`) that ends
    /// past the source.
    #[cold]
    fn first_past_end(
        &self,
        first: usize,
        mut pos: u64,
        sizes: impl Iterator<Item = u32>,
    ) -> Error {
        let mut last = (first, pos, 0);
        for (k, size) in sizes.enumerate() {
            last = (first + k, pos, size);
            match pos.checked_add(u64::from(size)) {
                Some(end) if end <= self.source_len => pos = end,
                _ => break,
            }
        }
        self.past_end(last.0, last.1, last.2)
    }

    fn missing_chunk(&self, chunk: u64) -> Error {
        Error::malformed(
            &self.stsc.path,
            self.stsc.payload_offset,
            format!(
                "refers to chunk {chunk} but the chunk offset table has {}",
                self.chunks.len
            ),
        )
    }

    fn past_end(&self, sample: usize, pos: u64, size: u32) -> Error {
        let end = pos.saturating_add(u64::from(size));
        let source_len = self.source_len;
        Error::malformed(
            &self.chunk_box.path,
            self.chunk_box.payload_offset,
            format!(
                "sample {sample} lies at bytes {pos}..{end}, past the end of the {source_len}-byte file"
            ),
        )
    }
}

/// The sync sample list (`stss`): ascending sample indices from 0.
pub(super) fn parse_sync_samples(b: &Mp4Box<'_>, count: usize) -> Result<Box<[u32]>> {
    let mut f = b.fields();
    f.version_flags()?;
    let n = f.entry_count(4)?;
    let start = f.offset();
    let data = f.bytes(n * 4)?;
    let mut out = Vec::with_capacity(n);
    for (k, number) in be32s(data).enumerate() {
        if number == 0 || number as usize > count || out.last().is_some_and(|&p| number - 1 <= p) {
            return Err(Error::malformed(
                f.path(),
                start + (k as u64 + 1) * 4,
                format!("sync sample number {number} is out of order or outside 1..={count}"),
            ));
        }
        out.push(number - 1);
    }
    Ok(out.into_boxed_slice())
}
