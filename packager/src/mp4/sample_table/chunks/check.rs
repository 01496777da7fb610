//! The check of a chunk table ([`ChunkTable::parse`]): `stsc` and `stco`/`co64` against
//! the sample sizes and the length of the source, in one read-only pass that writes only
//! the marks of [`ChunkTable`].

use std::ops::Range;

use bytes::Bytes;

use super::{stsc_entry, ChunkTable, Mark, MARK};
use crate::error::{Error, Result};
use crate::mp4::boxes::Mp4Box;
use crate::mp4::sample_table::views::{be_uint, retain};
use crate::mp4::sample_table::Sizes;

/// Sample sizes as the check reads them, in the form they are kept.
trait SizeRead {
    fn at(&self, i: usize) -> u32;
    /// The sizes of samples `range`.
    fn each(&self, range: Range<usize>) -> impl Iterator<Item = u32> + '_;
    /// Sum of the sizes of samples `range`.
    fn sum(&self, range: Range<usize>) -> u64;
}

/// Every sample the same size.
struct Constant(u32);

impl SizeRead for Constant {
    #[inline(always)]
    fn at(&self, _: usize) -> u32 {
        self.0
    }
    #[inline(always)]
    fn each(&self, range: Range<usize>) -> impl Iterator<Item = u32> + '_ {
        std::iter::repeat_n(self.0, range.len())
    }
    #[inline(always)]
    fn sum(&self, range: Range<usize>) -> u64 {
        range.len() as u64 * u64::from(self.0)
    }
}

impl SizeRead for [u16] {
    #[inline(always)]
    fn at(&self, i: usize) -> u32 {
        u32::from(self[i])
    }
    #[inline(always)]
    fn each(&self, range: Range<usize>) -> impl Iterator<Item = u32> + '_ {
        self[range].iter().map(|&s| u32::from(s))
    }
    #[inline(always)]
    fn sum(&self, range: Range<usize>) -> u64 {
        self[range].iter().map(|&s| u64::from(s)).sum()
    }
}

impl SizeRead for [u32] {
    #[inline(always)]
    fn at(&self, i: usize) -> u32 {
        self[i]
    }
    #[inline(always)]
    fn each(&self, range: Range<usize>) -> impl Iterator<Item = u32> + '_ {
        self[range].iter().copied()
    }
    #[inline(always)]
    fn sum(&self, range: Range<usize>) -> u64 {
        self[range].iter().map(|&s| u64::from(s)).sum()
    }
}

impl SizeRead for [[u8; 4]] {
    #[inline(always)]
    fn at(&self, i: usize) -> u32 {
        u32::from_be_bytes(self[i])
    }
    #[inline(always)]
    fn each(&self, range: Range<usize>) -> impl Iterator<Item = u32> + '_ {
        self[range].iter().map(|&s| u32::from_be_bytes(s))
    }
    #[inline(always)]
    fn sum(&self, range: Range<usize>) -> u64 {
        self[range]
            .iter()
            .map(|&s| u64::from(u32::from_be_bytes(s)))
            .sum()
    }
}

/// What [`ChunkTable::parse`] found.
pub(in crate::mp4::sample_table) struct Parsed {
    pub(in crate::mp4::sample_table) table: ChunkTable,
    /// Some chunk before the last sample holds none: walks may then cross many `stsc`
    /// entries between two samples, and the offsets are better kept a sample each.
    pub(in crate::mp4::sample_table) empty_chunks: bool,
}

impl ChunkTable {
    /// Checks `stsc` and the chunk offsets (`stco` or `co64`) of `moov` against `count`
    /// samples of `sizes`, every sample inside a source of `source_len` bytes, and keeps
    /// them as views.
    ///
    /// For the opening of a track (`opening`: `count` is fewer samples than the track
    /// has), the walk stops at the chunk of the last of them: the `stsc` entries are
    /// checked as it reaches them, and later chunks are not read.
    pub(in crate::mp4::sample_table) fn parse(
        stsc: &Mp4Box<'_>,
        chunk_box: &Mp4Box<'_>,
        moov: &Bytes,
        sizes: &Sizes,
        count: usize,
        source_len: u64,
        opening: bool,
    ) -> Result<Parsed> {
        let mut f = chunk_box.fields();
        f.version_flags()?;
        let wide = &chunk_box.kind != b"stco";
        let width = if wide { 8 } else { 4 };
        let table_len = f.entry_count(width)?;
        let chunks = f.bytes(table_len * width)?;
        let mut f = stsc.fields();
        f.version_flags()?;
        let n = f.entry_count(12)?;
        let start = f.offset();
        let runs = f.bytes(n * 12)?;
        // Checked whole before any sample is placed (the walk reads the entries again), or,
        // for an opening, entry by entry as the walk reaches them.
        let check = RunCheck {
            runs: runs.as_chunks::<12>().0,
            stsc,
            start,
        };
        if !opening {
            check.entries(0..check.runs.len())?;
        }
        let walk = Walk {
            check: opening.then_some(&check),
            runs: runs.as_chunks::<12>().0,
            chunks,
            table_len: table_len as u64,
            count,
            source_len,
            stsc,
            chunk_box,
        };
        let mut marks = Vec::with_capacity(count.div_ceil(MARK));
        let (placed, empty_chunks) = match (sizes, wide) {
            (Sizes::Constant(s), false) => walk.place::<4, _>(&Constant(*s), &mut marks),
            (Sizes::Constant(s), true) => walk.place::<8, _>(&Constant(*s), &mut marks),
            (Sizes::U16(s), false) => walk.place::<4, [u16]>(s, &mut marks),
            (Sizes::U16(s), true) => walk.place::<8, [u16]>(s, &mut marks),
            (Sizes::U32(s), false) => walk.place::<4, [u32]>(s, &mut marks),
            (Sizes::U32(s), true) => walk.place::<8, [u32]>(s, &mut marks),
            (Sizes::View(s), false) => walk.place::<4, [[u8; 4]]>(s.as_chunks(), &mut marks),
            (Sizes::View(s), true) => walk.place::<8, [[u8; 4]]>(s.as_chunks(), &mut marks),
        }?;
        if placed != count {
            return Err(Error::malformed(
                &stsc.path,
                stsc.payload_offset,
                format!("chunks hold {placed} samples but the size table has {count}"),
            ));
        }
        let table = ChunkTable {
            chunks: retain(moov, chunks),
            wide,
            runs: retain(moov, runs),
            marks: marks.into_boxed_slice(),
        };
        Ok(Parsed {
            table,
            empty_chunks,
        })
    }
}

/// The check of `stsc` entries: one sample description, first chunks ascending from 1.
struct RunCheck<'w, 'a> {
    runs: &'w [[u8; 12]],
    stsc: &'w Mp4Box<'a>,
    /// Offset of the first entry.
    start: u64,
}

impl RunCheck<'_, '_> {
    /// Checks entries `range` (each against the one before it).
    fn entries(&self, range: Range<usize>) -> Result<()> {
        let mut previous = match range.start.checked_sub(1) {
            Some(k) => self.runs.get(k).map_or(0, |e| stsc_entry(e).0),
            None => 0,
        };
        let (first, end) = (range.start, range.end.min(self.runs.len()));
        for (k, e) in self
            .runs
            .get(first..end)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let k = first + k;
            let (first_chunk, _, description) = stsc_entry(e);
            if description != 1 {
                return Err(Error::unsupported(
                    &self.stsc.path,
                    format!("samples use sample description {description}; only one description per track is supported"),
                ));
            }
            if first_chunk <= previous {
                return Err(Error::malformed(
                    &self.stsc.path,
                    self.start + (k as u64 + 1) * 12,
                    format!("first_chunk {first_chunk} is zero or not increasing"),
                ));
            }
            previous = first_chunk;
        }
        Ok(())
    }
}

/// Places samples in chunks, as `stsc` says, checking that each lies inside the source.
struct Walk<'w, 'a> {
    /// For an opening: the entries are checked as the walk reaches them.
    check: Option<&'w RunCheck<'w, 'a>>,
    /// The `stsc` entries, checked.
    runs: &'w [[u8; 12]],
    chunks: &'w [u8],
    table_len: u64,
    count: usize,
    source_len: u64,
    stsc: &'w Mp4Box<'a>,
    chunk_box: &'w Mp4Box<'a>,
}

impl Walk<'_, '_> {
    /// Checks every chunk that holds samples, reading `W`-byte chunk offsets, and pushes
    /// the marks. Returns how many samples the chunks hold (up to `count`) and whether a
    /// chunk before the last sample holds none.
    #[inline(always)]
    fn place<const W: usize, S: SizeRead + ?Sized>(
        &self,
        sizes: &S,
        marks: &mut Vec<Mark>,
    ) -> Result<(usize, bool)> {
        let mut sample = 0usize;
        let mut empty = false;
        let table_len = self.table_len;
        let source_len = self.source_len;
        for (r, entry) in self.runs.iter().enumerate() {
            if let Some(check) = self.check {
                if sample == self.count {
                    break;
                }
                // This entry and the next, which bounds it.
                check.entries(r..r + 2)?;
            }
            let (first_chunk, per_chunk, _) = stsc_entry(entry);
            let last_chunk = match self.runs.get(r + 1) {
                Some(next) => u64::from(stsc_entry(next).0).saturating_sub(1),
                None => table_len,
            };
            let first_chunk = u64::from(first_chunk);
            // Chunks `first_chunk..=last_chunk` (from 1) that the table has.
            let (lo, hi) = (first_chunk - 1, last_chunk.min(table_len));
            let table = match self.chunks.get(lo as usize * W..hi as usize * W) {
                Some(t) if lo < hi && sample < self.count => t.as_chunks::<W>().0,
                _ => &[],
            };
            let (lo, run) = (lo as usize, r as u32);
            if per_chunk == 1 {
                // One sample a chunk: the chunk offsets are the sample offsets.
                let table = table.get(..self.count - sample).unwrap_or(table);
                let mut outside = false;
                // From mark to mark: the loop between them has no branch.
                let mut j = 0;
                while let Some(c) = table.get(j) {
                    let s = sample + j;
                    if s.is_multiple_of(MARK) {
                        let chunk = (lo + j) as u32;
                        let pos = be_uint(c);
                        marks.push(Mark {
                            pos,
                            chunk,
                            run,
                            left: 1,
                        });
                    }
                    let stop = (j + MARK - s % MARK).min(table.len());
                    let block = table.get(j..stop).unwrap_or_default();
                    for (c, size) in block.iter().zip(sizes.each(s..s + block.len())) {
                        let (end, overflow) = be_uint(c).overflowing_add(u64::from(size));
                        outside |= overflow | (end > source_len);
                    }
                    j = stop;
                }
                if outside {
                    for (j, c) in table.iter().enumerate() {
                        let (pos, size) = (be_uint(c), sizes.at(sample + j));
                        if pos
                            .checked_add(u64::from(size))
                            .is_none_or(|e| e > source_len)
                        {
                            return Err(self.past_end(sample + j, pos, size));
                        }
                    }
                }
                sample += table.len();
            } else {
                for (j, c) in table.iter().enumerate() {
                    let take = (per_chunk as usize).min(self.count - sample);
                    if take == 0 {
                        if sample == self.count {
                            break;
                        }
                        empty = true;
                        continue;
                    }
                    let (first, stop, start) = (sample, sample + take, be_uint(c));
                    let end = if first.next_multiple_of(MARK) < stop {
                        // Marks inside: the offsets of the samples they mark.
                        let mut pos = start;
                        for s in first..stop {
                            if s.is_multiple_of(MARK) {
                                marks.push(Mark {
                                    pos,
                                    chunk: (lo + j) as u32,
                                    run,
                                    left: per_chunk - (s - first) as u32,
                                });
                            }
                            pos = pos.wrapping_add(u64::from(sizes.at(s)));
                        }
                        // Sizes add up to less than 2^56: a wrap shows as `pos < start`.
                        (pos >= start).then_some(pos)
                    } else {
                        start.checked_add(sizes.sum(first..stop))
                    };
                    // Sample ends only grow along a chunk: checking the last checks all.
                    if end.is_none_or(|e| e > source_len) {
                        let chunk_sizes = (first..stop).map(|s| sizes.at(s));
                        return Err(self.first_past_end(first, start, chunk_sizes));
                    }
                    sample = stop;
                }
            }
            // A chunk past the table is an error, even once every sample is placed.
            let bad_chunk = first_chunk.max(table_len + 1);
            if bad_chunk <= last_chunk {
                return Err(self.missing_chunk(bad_chunk));
            }
        }
        Ok((sample, empty))
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

    #[cold]
    fn missing_chunk(&self, chunk: u64) -> Error {
        Error::malformed(
            &self.stsc.path,
            self.stsc.payload_offset,
            format!(
                "refers to chunk {chunk} but the chunk offset table has {}",
                self.table_len
            ),
        )
    }

    #[cold]
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
