//! Sample file offsets read from the chunk table itself: views of `stco`/`co64` and `stsc`
//! in the `moov`, and a mark every [`MARK`] samples (the sample's offset, chunk, `stsc`
//! entry and the samples left in its chunk). Finding one sample's offset starts at its
//! mark and moves whole chunks at a time (a step per chunk left or `stsc` entry crossed,
//! fewer than `MARK` of them), then sums at most `MARK - 1` sizes along the last chunk,
//! however many samples a chunk holds; a walk along a range then costs O(1) a sample, or a
//! chunk for [`Cursor::next_bytes`].
//!
//! [`ChunkTable::parse`] (in `check`) is the check of the boxes: every chunk that holds
//! samples is in the table and ends inside the source, and the chunks hold exactly the
//! samples of the size table. It reads the boxes and writes only the marks.

use std::fmt;
use std::ops::Range;

use bytes::Bytes;

use super::views::be_uint;
use super::Sizes;

mod check;

/// Samples from one mark to the next.
pub(super) const MARK: usize = 1 << MARK_SHIFT;
const MARK_SHIFT: u32 = 6;

/// Where sample `k * MARK` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mark {
    /// Its file offset.
    pos: u64,
    /// Its chunk (from 0) and the `stsc` entry (from 0) that describes that chunk.
    chunk: u32,
    run: u32,
    /// Samples of its chunk from it on, itself included (at least 1).
    left: u32,
}

/// The offsets of a track's samples, as the chunk table gives them.
#[derive(Clone)]
pub(super) struct ChunkTable {
    /// The chunk offsets: 4-byte (`stco`) or 8-byte (`co64`) entries.
    chunks: Bytes,
    wide: bool,
    /// The `stsc` entries (12 bytes each), checked: the first chunks ascend from 1, and
    /// every entry that holds samples has chunks in the table.
    runs: Bytes,
    marks: Box<[Mark]>,
}

impl fmt::Debug for ChunkTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = if self.wide { 8 } else { 4 };
        f.debug_struct("ChunkTable")
            .field("chunks", &(self.chunks.len() / width))
            .field("wide", &self.wide)
            .field("runs", &(self.runs.len() / 12))
            .field("marks", &self.marks.len())
            .finish()
    }
}

/// An `stsc` entry: first chunk (from 1), samples per chunk, sample description index.
#[inline(always)]
pub(super) fn stsc_entry(e: &[u8; 12]) -> (u32, u32, u32) {
    let [a, b, c, d, e, f, g, h, i, j, k, l] = *e;
    (
        u32::from_be_bytes([a, b, c, d]),
        u32::from_be_bytes([e, f, g, h]),
        u32::from_be_bytes([i, j, k, l]),
    )
}

impl ChunkTable {
    /// Offset of chunk `c` (from 0); 0 past the table, which a checked table never asks.
    #[inline]
    fn chunk_offset(&self, c: usize) -> u64 {
        if self.wide {
            self.chunks.as_chunks::<8>().0.get(c).map_or(0, be_uint)
        } else {
            self.chunks.as_chunks::<4>().0.get(c).map_or(0, be_uint)
        }
    }

    /// The first chunk (from 0) and samples per chunk of `stsc` entry `k`, or `None` past
    /// the last entry.
    #[inline]
    fn run(&self, k: usize) -> Option<(usize, u32)> {
        let e = self.runs.as_chunks::<12>().0.get(k)?;
        let (first, per_chunk, _) = stsc_entry(e);
        Some((first.saturating_sub(1) as usize, per_chunk))
    }

    /// A walk along samples `range` (which must be samples of the table, or empty).
    pub(super) fn cursor<'t>(&'t self, sizes: &'t Sizes, range: Range<usize>) -> Cursor<'t> {
        let mut c = Cursor {
            sizes,
            sample: range.end,
            end: range.end,
            pos: 0,
            left: 0,
            at: ChunkPos {
                table: self,
                chunk: 0,
                run: 0,
                per_chunk: 0,
                next_run: usize::MAX,
            },
        };
        if range.start >= range.end {
            return c;
        }
        let k = range.start >> MARK_SHIFT;
        let Some(m) = self.marks.get(k) else {
            return c;
        };
        c.sample = k << MARK_SHIFT;
        c.pos = m.pos;
        c.left = m.left;
        c.at.chunk = m.chunk as usize;
        c.at.run = m.run as usize;
        c.at.per_chunk = self.run(c.at.run).map_or(0, |r| r.1);
        c.at.next_run = self.run(c.at.run + 1).map_or(usize::MAX, |r| r.0);
        c.seek(range.start);
        c
    }

    /// The views of the boxes: the chunk offsets, then the `stsc` entries.
    #[cfg(test)]
    pub(super) fn views(&self) -> impl Iterator<Item = &Bytes> {
        [&self.chunks, &self.runs].into_iter()
    }

    /// Bytes of the views: the `moov`'s own bytes, which for an HTTP origin are heap.
    pub(super) fn view_bytes(&self) -> usize {
        self.chunks.len() + self.runs.len()
    }

    /// Heap bytes held: the views and the marks.
    pub(super) fn heap_bytes(&self) -> usize {
        self.view_bytes() + std::mem::size_of_val::<[Mark]>(&self.marks)
    }
}

/// The file offsets of consecutive samples, O(1) each: see [`ChunkTable::cursor`].
///
/// What a step along a chunk touches is kept apart from where the chunk is (`at`), which
/// only the step to the next chunk reads, out of line: inlined into a caller's loop, the
/// first stays in registers.
#[derive(Clone)]
pub(super) struct Cursor<'t> {
    sizes: &'t Sizes,
    /// The sample at `pos`, and the end of the walk.
    sample: usize,
    end: usize,
    pos: u64,
    /// Samples of the chunk from `sample` on, itself included.
    left: u32,
    at: ChunkPos<'t>,
}

/// A chunk of a [`ChunkTable`], and its `stsc` entry.
#[derive(Clone)]
struct ChunkPos<'t> {
    table: &'t ChunkTable,
    chunk: usize,
    run: usize,
    /// Samples per chunk of `run`, and the first chunk of the entry after it.
    per_chunk: u32,
    next_run: usize,
}

impl ChunkPos<'_> {
    /// On to the next chunk that holds samples: its offset and samples.
    #[inline(never)]
    fn next_chunk(&mut self) -> (u64, u32) {
        loop {
            self.chunk += 1;
            if self.chunk >= self.next_run {
                self.run += 1;
                self.per_chunk = self.table.run(self.run).map_or(0, |r| r.1);
                self.next_run = self.table.run(self.run + 1).map_or(usize::MAX, |r| r.0);
            }
            // An entry of empty chunks (a checked table has a later one with samples).
            if self.per_chunk > 0 || self.next_run == usize::MAX {
                break;
            }
            self.chunk = self.next_run - 1;
        }
        (self.table.chunk_offset(self.chunk), self.per_chunk)
    }
}

impl Cursor<'_> {
    /// On to sample `target`, at or after the current one and a sample of the table: whole
    /// chunks at a time, then along the last one.
    fn seek(&mut self, target: usize) {
        while self.sample < target {
            let steps = target - self.sample;
            if steps < self.left as usize {
                let before = self.sizes.sum(self.sample..target);
                self.pos = self.pos.wrapping_add(before);
                self.left -= steps as u32;
                self.sample = target;
                return;
            }
            // To the first sample of the next chunk that holds samples...
            self.sample += self.left as usize;
            (self.pos, self.left) = self.at.next_chunk();
            // ...and past the whole chunks of its `stsc` entry before `target`.
            let at = &mut self.at;
            let per_chunk = at.per_chunk as usize;
            if let Some(whole) = (target - self.sample).checked_div(per_chunk) {
                let skip = whole.min(at.next_run.saturating_sub(at.chunk + 1));
                if skip > 0 {
                    at.chunk += skip;
                    self.sample += skip * per_chunk;
                    self.pos = at.table.chunk_offset(at.chunk);
                }
            }
        }
    }

    /// The bytes of the samples from the current one to the end of its chunk or of the
    /// walk (contiguous), and on past them.
    #[inline]
    pub(super) fn next_bytes(&mut self) -> Option<Range<u64>> {
        if self.sample >= self.end {
            return None;
        }
        let n = (self.left as usize).min(self.end - self.sample);
        let start = self.pos;
        let end = start.wrapping_add(self.sizes.sum(self.sample..self.sample + n));
        self.sample += n;
        if self.sample < self.end {
            (self.pos, self.left) = self.at.next_chunk();
        }
        Some(start..end)
    }

    /// On to the next sample, which must be a sample of the table.
    #[inline(always)]
    fn step(&mut self) {
        if self.left > 1 {
            self.left -= 1;
            let size = self.sizes.get(self.sample);
            self.pos = self.pos.wrapping_add(u64::from(size));
        } else {
            (self.pos, self.left) = self.at.next_chunk();
        }
        self.sample += 1;
    }
}

impl Iterator for Cursor<'_> {
    type Item = u64;

    #[inline(always)]
    fn next(&mut self) -> Option<u64> {
        if self.sample >= self.end {
            return None;
        }
        let out = self.pos;
        if self.sample + 1 < self.end {
            self.step();
        } else {
            self.sample += 1;
        }
        Some(out)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end.saturating_sub(self.sample);
        (n, Some(n))
    }
}

impl ExactSizeIterator for Cursor<'_> {}
