//! The compact table against plain per-sample arrays, built the straightforward way.

use std::collections::HashMap;

use super::parse::{check_sample_count, parse_sizes};
use super::*;
use crate::error::Error;
use crate::mp4::boxes::parse_children;

/// The table as it was before the compact forms: plain per-sample arrays, built the
/// straightforward way. Every test below checks the compact table against it.
mod reference {
    use crate::error::{Error, Result};
    use crate::mp4::boxes::Mp4Box;

    #[derive(Debug)]
    pub struct Reference {
        pub offsets: Vec<u64>,
        pub decode_times: Vec<u64>,
        pub sizes: Vec<u32>,
        pub composition_offsets: Vec<i32>,
        pub sync_samples: Vec<u32>,
        pub all_sync: bool,
        pub end_time: u64,
        pub min_composition_offset: i32,
    }

    impl Reference {
        pub fn parse(b: &super::SampleTableBoxes<'_, '_>, source_len: u64) -> Result<Self> {
            let sizes = parse_sizes(b.sizes)?;
            let count = sizes.len();
            let (decode_times, end_time) = parse_decode_times(b.stts, count)?;
            let composition_offsets = match b.ctts {
                Some(ctts) => parse_composition_offsets(ctts, count)?,
                None => vec![0; count],
            };
            let offsets = parse_offsets(b.stsc, b.chunk_offsets, &sizes, source_len)?;
            let (sync_samples, all_sync) = match b.stss {
                Some(stss) => (parse_sync_samples(stss, count)?, false),
                None => (Vec::new(), true),
            };
            let min = composition_offsets.iter().copied().min().unwrap_or(0);
            Ok(Reference {
                offsets,
                decode_times,
                sizes,
                composition_offsets,
                sync_samples,
                all_sync,
                end_time,
                min_composition_offset: min.min(0),
            })
        }

        pub fn from_samples(samples: &[super::SampleInfo]) -> Self {
            let mut r = Reference {
                all_sync: samples.iter().all(|s| s.sync),
                offsets: vec![],
                decode_times: vec![],
                sizes: vec![],
                composition_offsets: vec![],
                sync_samples: vec![],
                end_time: 0,
                min_composition_offset: 0,
            };
            let mut t = 0u64;
            for (i, s) in samples.iter().enumerate() {
                r.offsets.push(s.offset);
                r.decode_times.push(t);
                r.sizes.push(s.size);
                r.composition_offsets.push(s.composition_offset);
                if s.sync && !r.all_sync {
                    r.sync_samples.push(i as u32);
                }
                t += u64::from(s.duration);
            }
            r.end_time = t;
            r.min_composition_offset = samples
                .iter()
                .map(|s| s.composition_offset)
                .min()
                .unwrap_or(0)
                .min(0);
            r
        }

        pub fn len(&self) -> usize {
            self.sizes.len()
        }

        pub fn decode_time_or_end(&self, i: usize) -> u64 {
            self.decode_times.get(i).copied().unwrap_or(self.end_time)
        }

        pub fn sample_duration(&self, i: usize) -> u32 {
            (self.decode_time_or_end(i + 1) - self.decode_times[i]) as u32
        }

        pub fn is_sync(&self, i: usize) -> bool {
            self.all_sync || self.sync_samples.binary_search(&(i as u32)).is_ok()
        }

        pub fn presentation_time(&self, i: usize) -> u64 {
            let t = i64::try_from(self.decode_times[i]).unwrap_or(i64::MAX);
            u64::try_from(t.saturating_add(i64::from(self.composition_offsets[i]))).unwrap_or(0)
        }

        pub fn first_sync_presented_at_or_after(&self, t: u64) -> usize {
            if self.all_sync {
                let (mut lo, mut hi) = (0, self.len());
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if self.presentation_time(mid) < t {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                return lo;
            }
            let k = self
                .sync_samples
                .partition_point(|&i| self.presentation_time(i as usize) < t);
            self.sync_samples.get(k).map_or(self.len(), |&i| i as usize)
        }
    }

    fn parse_sizes(b: &Mp4Box<'_>) -> Result<Vec<u32>> {
        let mut f = b.fields();
        f.version_flags()?;
        if &b.kind == b"stz2" {
            f.skip(3)?;
            let field_size = f.u8()?;
            let count_offset = f.offset();
            let count = f.u32()? as usize;
            super::check_sample_count(&f, count)?;
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
            return Ok((0..count)
                .map(|i| match bits {
                    4 => {
                        let byte = data[i / 2];
                        u32::from(if i % 2 == 0 { byte >> 4 } else { byte & 0x0f })
                    }
                    8 => u32::from(data[i]),
                    _ => u32::from(u16::from_be_bytes([data[2 * i], data[2 * i + 1]])),
                })
                .collect());
        }
        let constant = f.u32()?;
        let count_at = f.offset();
        let count = f.u32()? as usize;
        super::check_sample_count(&f, count)?;
        if constant != 0 {
            return Ok(vec![constant; count]);
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
        (0..count).map(|_| f.u32()).collect()
    }

    fn parse_decode_times(b: &Mp4Box<'_>, count: usize) -> Result<(Vec<u64>, u64)> {
        let mut f = b.fields();
        f.version_flags()?;
        let entries = f.entry_count(8)?;
        let mut times = Vec::with_capacity(count);
        let mut t = 0u64;
        for _ in 0..entries {
            let n = f.u32()? as usize;
            let delta = f.u32()?;
            if times.len() + n > count {
                return Err(f.error(format!(
                    "time-to-sample entries describe more samples than the {count} in the size table"
                )));
            }
            for _ in 0..n {
                times.push(t);
                t = t
                    .checked_add(u64::from(delta))
                    .ok_or_else(|| f.error("decode time overflows 64 bits"))?;
            }
        }
        if times.len() != count {
            return Err(f.error(format!(
                "time-to-sample entries describe {} samples but the size table has {count}",
                times.len()
            )));
        }
        Ok((times, t))
    }

    fn parse_composition_offsets(b: &Mp4Box<'_>, count: usize) -> Result<Vec<i32>> {
        let mut f = b.fields();
        f.version_flags()?;
        let entries = f.entry_count(8)?;
        let mut out = Vec::with_capacity(count);
        for _ in 0..entries {
            let n = f.u32()? as usize;
            let offset = f.u32()? as i32;
            if out.len() + n > count {
                return Err(f.error(format!(
                    "composition offset entries describe more than the {count} samples of the track"
                )));
            }
            out.extend(std::iter::repeat_n(offset, n));
        }
        out.resize(count, 0);
        Ok(out)
    }

    fn parse_chunk_offsets(b: &Mp4Box<'_>) -> Result<Vec<u64>> {
        let mut f = b.fields();
        f.version_flags()?;
        match &b.kind {
            b"stco" => {
                let n = f.entry_count(4)?;
                (0..n).map(|_| f.u32().map(u64::from)).collect()
            }
            _ => {
                let n = f.entry_count(8)?;
                (0..n).map(|_| f.u64()).collect()
            }
        }
    }

    fn parse_offsets(
        stsc: &Mp4Box<'_>,
        chunk_box: &Mp4Box<'_>,
        sizes: &[u32],
        source_len: u64,
    ) -> Result<Vec<u64>> {
        let chunks = parse_chunk_offsets(chunk_box)?;
        let mut f = stsc.fields();
        f.version_flags()?;
        let n = f.entry_count(12)?;
        let mut runs = Vec::with_capacity(n);
        for _ in 0..n {
            let first_chunk = f.u32()?;
            let per_chunk = f.u32()?;
            let description = f.u32()?;
            if description != 1 {
                return Err(Error::unsupported(
                    &stsc.path,
                    format!("samples use sample description {description}; only one description per track is supported"),
                ));
            }
            if first_chunk == 0 || runs.last().is_some_and(|&(prev, _)| first_chunk <= prev) {
                return Err(f.error(format!(
                    "first_chunk {first_chunk} is zero or not increasing"
                )));
            }
            runs.push((first_chunk, per_chunk));
        }
        let mut offsets = Vec::with_capacity(sizes.len());
        let mut sample = 0usize;
        for (r, &(first_chunk, per_chunk)) in runs.iter().enumerate() {
            let last_chunk = match runs.get(r + 1) {
                Some(&(next, _)) => next - 1,
                None => chunks.len() as u32,
            };
            for chunk in first_chunk..=last_chunk {
                let Some(&chunk_offset) = chunks.get(chunk as usize - 1) else {
                    return Err(Error::malformed(
                        &stsc.path,
                        stsc.payload_offset,
                        format!(
                            "refers to chunk {chunk} but the chunk offset table has {}",
                            chunks.len()
                        ),
                    ));
                };
                let mut pos = chunk_offset;
                for _ in 0..per_chunk {
                    let Some(&size) = sizes.get(sample) else {
                        break;
                    };
                    // (The original added without a check; an offset near 2^64 wrapped.)
                    let end = pos.saturating_add(u64::from(size));
                    if end > source_len || pos.checked_add(u64::from(size)).is_none() {
                        return Err(Error::malformed(
                            &chunk_box.path,
                            chunk_box.payload_offset,
                            format!(
                                "sample {sample} lies at bytes {pos}..{end}, past the end of the {source_len}-byte file"
                            ),
                        ));
                    }
                    offsets.push(pos);
                    pos = end;
                    sample += 1;
                }
            }
        }
        if offsets.len() != sizes.len() {
            return Err(Error::malformed(
                &stsc.path,
                stsc.payload_offset,
                format!(
                    "chunks hold {} samples but the size table has {}",
                    offsets.len(),
                    sizes.len()
                ),
            ));
        }
        Ok(offsets)
    }

    fn parse_sync_samples(b: &Mp4Box<'_>, count: usize) -> Result<Vec<u32>> {
        let mut f = b.fields();
        f.version_flags()?;
        let n = f.entry_count(4)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let number = f.u32()?;
            if number == 0
                || number as usize > count
                || out.last().is_some_and(|&p| number - 1 <= p)
            {
                return Err(f.error(format!(
                    "sync sample number {number} is out of order or outside 1..={count}"
                )));
            }
            out.push(number - 1);
        }
        Ok(out)
    }
}

use reference::Reference;

/// Checks every accessor of `t` against the plain arrays of `r`.
fn assert_same(t: &SampleTable, r: &Reference) {
    let n = r.len();
    assert_eq!(t.len(), n);
    assert_eq!(t.is_empty(), n == 0);
    assert_eq!(t.duration(), r.end_time);
    assert_eq!(t.min_composition_offset(), r.min_composition_offset);
    assert_eq!(t.all_sync(), r.all_sync);
    assert_eq!(
        t.has_composition_offsets(),
        r.composition_offsets.iter().any(|&c| c != 0)
    );
    for i in 0..n {
        assert_eq!(t.offset(i), r.offsets[i], "offset {i}");
        assert_eq!(t.size(i), r.sizes[i], "size {i}");
        assert_eq!(t.decode_time(i), r.decode_times[i], "decode time {i}");
        assert_eq!(t.sample_duration(i), r.sample_duration(i), "duration {i}");
        assert_eq!(
            t.composition_offset(i),
            r.composition_offsets[i],
            "composition offset {i}"
        );
        assert_eq!(t.presentation_time(i), r.presentation_time(i), "pts {i}");
        assert_eq!(t.is_sync(i), r.is_sync(i), "sync {i}");
    }
    assert_eq!(t.decode_time_or_end(n), r.end_time);
    let sync: Vec<usize> = (0..n).filter(|&i| r.is_sync(i)).collect();
    assert_eq!(t.sync_indices().collect::<Vec<_>>(), sync);
    let mut times = vec![0, 1, r.end_time, r.end_time.saturating_add(1), u64::MAX];
    for i in (0..n).step_by(n / 300 + 1).chain(n.saturating_sub(3)..n) {
        for x in [r.decode_times[i], r.presentation_time(i)] {
            times.extend([x.saturating_sub(1), x, x.saturating_add(1)]);
        }
    }
    for &x in &times {
        assert_eq!(
            t.first_at_or_after(x),
            r.decode_times.partition_point(|&d| d < x),
            "first at or after {x}"
        );
        assert_eq!(
            t.first_sync_presented_at_or_after(x),
            r.first_sync_presented_at_or_after(x),
            "first sync presented at or after {x}"
        );
    }
    let mut sorted = times.clone();
    sorted.sort_unstable();
    for thresholds in [&times, &sorted] {
        let each: Vec<usize> = thresholds
            .iter()
            .map(|&x| r.first_sync_presented_at_or_after(x))
            .collect();
        assert_eq!(t.first_syncs_presented_at_or_after(thresholds), each);
    }
    let mut ranges = vec![0..n, 0..0, n..n, 0..n / 2, n / 3..n];
    for i in (0..n).step_by(n / 50 + 1) {
        ranges.push(i..(i + 7).min(n));
    }
    for range in ranges {
        let bytes: u64 = r.sizes[range.clone()].iter().map(|&s| u64::from(s)).sum();
        assert_eq!(t.bytes_in(range.clone()), bytes, "{range:?}");
        let span = range
            .clone()
            .map(|i| (r.offsets[i], r.offsets[i] + u64::from(r.sizes[i])))
            .fold((u64::MAX, 0), |(a, b), (s, e)| (a.min(s), b.max(e)));
        assert_eq!(
            t.byte_span(range.clone()),
            (span.0 < span.1).then_some(span),
            "{range:?}"
        );
        let syncs = range.clone().filter(|&i| r.is_sync(i)).count();
        assert_eq!(t.sync_count_in(range.clone()), syncs, "{range:?}");
        let flags: Vec<bool> = range.clone().map(|i| r.is_sync(i)).collect();
        assert_eq!(
            t.sync_flags(range.clone()).collect::<Vec<_>>(),
            flags,
            "{range:?}"
        );
    }
    let mut counts: HashMap<u32, usize> = HashMap::new();
    for i in 0..n {
        *counts.entry(r.sample_duration(i)).or_default() += 1;
    }
    let mode = counts
        .into_iter()
        .max_by_key(|&(d, c)| (c, d))
        .map(|(d, _)| d);
    assert_eq!(t.most_common_duration(), mode);
}

fn full_box<'a>(kind: &[u8; 4], payload: &'a [u8]) -> Mp4Box<'a> {
    Mp4Box {
        kind: *kind,
        path: crate::mp4::boxes::fourcc_str(kind),
        offset: 0,
        payload_offset: 8,
        payload,
    }
}

fn be(values: &[u32]) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0];
    for x in values {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v
}

/// Box payloads of one track's sample table.
#[derive(Clone)]
struct Payloads {
    stts: Vec<u8>,
    ctts: Option<Vec<u8>>,
    stsc: Vec<u8>,
    sizes: (&'static [u8; 4], Vec<u8>),
    chunks: (&'static [u8; 4], Vec<u8>),
    stss: Option<Vec<u8>>,
}

impl Payloads {
    /// Parses with both the compact table and the reference; they must agree.
    fn check(&self, source_len: u64) -> Result<SampleTable> {
        let stts = full_box(b"stts", &self.stts);
        let ctts = self.ctts.as_ref().map(|c| full_box(b"ctts", c));
        let stsc = full_box(b"stsc", &self.stsc);
        let sizes = full_box(self.sizes.0, &self.sizes.1);
        let chunks = full_box(self.chunks.0, &self.chunks.1);
        let stss = self.stss.as_ref().map(|s| full_box(b"stss", s));
        let boxes = SampleTableBoxes {
            stts: &stts,
            ctts: ctts.as_ref(),
            stsc: &stsc,
            sizes: &sizes,
            chunk_offsets: &chunks,
            stss: stss.as_ref(),
        };
        let table = SampleTable::parse(&boxes, source_len);
        match (&table, Reference::parse(&boxes, source_len)) {
            (Ok(t), Ok(r)) => assert_same(t, &r),
            (Err(a), Err(b)) => assert_eq!(a, &b),
            (a, b) => panic!("compact {a:?} but reference {b:?}"),
        }
        table
    }
}

/// Run-length entries of `values`: (count, value), one per run.
fn runs_of<T: PartialEq + Copy>(values: &[T]) -> Vec<(u32, T)> {
    let mut out: Vec<(u32, T)> = Vec::new();
    for &v in values {
        match out.last_mut() {
            Some((n, last)) if *last == v => *n += 1,
            _ => out.push((1, v)),
        }
    }
    out
}

fn entries(pairs: impl IntoIterator<Item = (u32, u32)>) -> Vec<u8> {
    let pairs: Vec<_> = pairs.into_iter().collect();
    let mut values = vec![pairs.len() as u32];
    for (a, b) in pairs {
        values.extend([a, b]);
    }
    be(&values)
}

/// A track's sample values, to write as boxes in several ways.
struct Shape {
    durations: Vec<u32>,
    composition: Option<Vec<i32>>,
    sizes: Vec<u32>,
    sync: Option<Vec<bool>>,
    /// Samples per chunk, cycled, and the gap between chunks.
    per_chunk: Vec<u32>,
    gap: u64,
    first_offset: u64,
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

impl Shape {
    /// Writes the shape as boxes: `stts`/`ctts` run-length (or one entry a sample when
    /// `per_sample_entries`), `stsz` or `stz2`, `stco` or `co64`.
    fn payloads(&self, per_sample_entries: bool, compact_sizes: bool) -> Payloads {
        let n = self.sizes.len();
        let stts = if per_sample_entries {
            entries(self.durations.iter().map(|&d| (1, d)))
        } else {
            entries(runs_of(&self.durations))
        };
        let ctts = self.composition.as_ref().map(|c| {
            if per_sample_entries {
                entries(c.iter().map(|&v| (1, v as u32)))
            } else {
                entries(runs_of(c).into_iter().map(|(k, v)| (k, v as u32)))
            }
        });
        let max = self.sizes.iter().copied().max().unwrap_or(0);
        let sizes = if compact_sizes && max < 256 {
            let mut p = be(&[8, n as u32]);
            p.extend(self.sizes.iter().map(|&s| s as u8));
            (b"stz2", p)
        } else if compact_sizes && max < 65536 {
            let mut p = be(&[16, n as u32]);
            for &s in &self.sizes {
                p.extend_from_slice(&(s as u16).to_be_bytes());
            }
            (b"stz2", p)
        } else if n > 0 && self.sizes[0] != 0 && self.sizes.iter().all(|&s| s == self.sizes[0]) {
            (b"stsz", be(&[self.sizes[0], n as u32]))
        } else {
            let mut v = vec![0, n as u32];
            v.extend(&self.sizes);
            (b"stsz", be(&v))
        };
        // Chunks: cycle through per_chunk counts.
        let mut chunk_offsets = Vec::new();
        let mut stsc_entries: Vec<(u32, u32)> = Vec::new();
        let (mut sample, mut pos, mut k) = (0usize, self.first_offset, 0usize);
        while sample < n {
            let take = (self.per_chunk[k % self.per_chunk.len()] as usize).min(n - sample);
            let take = take.max(1);
            chunk_offsets.push(pos);
            if stsc_entries.last().is_none_or(|&(_, p)| p != take as u32) {
                stsc_entries.push((chunk_offsets.len() as u32, take as u32));
            }
            for s in &self.sizes[sample..sample + take] {
                pos += u64::from(*s);
            }
            pos += self.gap;
            sample += take;
            k += 1;
        }
        let mut stsc = vec![stsc_entries.len() as u32];
        for (first, per) in stsc_entries {
            stsc.extend([first, per, 1]);
        }
        let wide = chunk_offsets.iter().any(|&o| o > u64::from(u32::MAX));
        let chunks = if wide {
            let mut p = be(&[chunk_offsets.len() as u32]);
            for o in &chunk_offsets {
                p.extend_from_slice(&o.to_be_bytes());
            }
            (b"co64", p)
        } else {
            let mut v = vec![chunk_offsets.len() as u32];
            v.extend(chunk_offsets.iter().map(|&o| o as u32));
            (b"stco", be(&v))
        };
        let stss = self.sync.as_ref().map(|sync| {
            let numbers: Vec<u32> = (0..n).filter(|&i| sync[i]).map(|i| i as u32 + 1).collect();
            let mut v = vec![numbers.len() as u32];
            v.extend(numbers);
            be(&v)
        });
        Payloads {
            stts,
            ctts,
            stsc: be(&stsc),
            sizes,
            chunks,
            stss,
        }
    }

    fn samples(&self) -> Vec<SampleInfo> {
        let p = self.payloads(false, false);
        let t = p.check(u64::MAX).expect("the shape parses");
        (0..self.sizes.len())
            .map(|i| SampleInfo {
                offset: t.offset(i),
                size: self.sizes[i],
                duration: self.durations[i],
                composition_offset: self.composition.as_ref().map_or(0, |c| c[i]),
                sync: self.sync.as_ref().is_none_or(|s| s[i]),
            })
            .collect()
    }
}

/// Shapes of every kind: constant and variable rate, with and without B-frames and
/// `stss`, one sample per chunk or many, small and large files.
fn shapes() -> Vec<Shape> {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut out = Vec::new();
    for n in [0usize, 1, 2, 3, 17, 1023, 1024, 1025, 5000] {
        for kind in 0..16 {
            let durations: Vec<u32> = match kind % 4 {
                // Many runs (more than a block index leaves unindexed).
                _ if kind >= 12 => (0..n).map(|i| 1000 + ((i / 97) % 3) as u32).collect(),
                // One run.
                0 => vec![512; n],
                // A few runs (a variable-rate stretch, audio priming).
                1 => (0..n)
                    .map(|i| {
                        if i < n / 3 {
                            1001
                        } else if i < n / 2 {
                            0
                        } else {
                            1000
                        }
                    })
                    .collect(),
                // Every sample its own duration.
                2 => (0..n)
                    .map(|i| 1 + (i as u32 * 7) % 5 + (i % 2) as u32 * 100)
                    .collect(),
                // Random, with huge deltas now and then.
                _ => (0..n)
                    .map(|_| match rng.below(20) {
                        0 => u32::MAX - rng.below(3) as u32,
                        1 => 0,
                        x => 1000 + x as u32,
                    })
                    .collect(),
            };
            let composition = match kind % 3 {
                _ if kind >= 12 => Some(
                    (0..n)
                        .map(|i| ((i / 50) % 4) as i32 * 100_000 - 150_000)
                        .collect(),
                ),
                0 => None,
                1 => Some(
                    (0..n)
                        .map(|i| match i % 3 {
                            0 => 1024,
                            1 => -512,
                            _ => 512,
                        })
                        .collect(),
                ),
                _ => Some(
                    (0..n)
                        .map(|i| match (i / 700) % 3 {
                            0 => 0,
                            1 => 70_000,
                            _ => i32::MIN + 5,
                        })
                        .collect(),
                ),
            };
            let sizes: Vec<u32> = match kind % 5 {
                0 => vec![300; n],
                1 => (0..n).map(|i| 2000 + (i as u32 % 50) * 10).collect(),
                2 => (0..n).map(|i| (i as u32 * 13) % 200).collect(),
                3 => (0..n).map(|_| rng.below(1 << 20) as u32).collect(),
                _ => (0..n)
                    .map(|i| if i % 100 == 0 { 70_000 } else { 9 })
                    .collect(),
            };
            let sync = match kind % 4 {
                0 => None,
                1 => Some((0..n).map(|i| i % 50 == 0).collect()),
                2 => Some(vec![true; n]),
                _ => Some((0..n).map(|_| rng.below(4) == 0).collect()),
            };
            let (per_chunk, gap, first_offset) = match kind % 6 {
                0 => (vec![1], 0, 48),
                1 => (vec![7, 3, 20], 1000, 1 << 20),
                2 => (vec![1], 3 << 30, 100), // past 4 GiB: co64, wide offsets
                3 => (vec![25, 24], 0, (1 << 32) + 5),
                4 => (vec![1000], 1 << 31, 8),
                _ => (vec![2], 17, 0),
            };
            out.push(Shape {
                durations,
                composition,
                sizes,
                sync,
                per_chunk,
                gap,
                first_offset,
            });
        }
    }
    out
}

#[test]
fn compact_table_matches_plain_arrays_for_every_shape() {
    for (k, shape) in shapes().iter().enumerate() {
        for per_sample_entries in [false, true] {
            for compact_sizes in [false, true] {
                let p = shape.payloads(per_sample_entries, compact_sizes);
                let t = p.check(u64::MAX);
                assert!(t.is_ok(), "shape {k}: {t:?}");
            }
        }
        let samples = shape.samples();
        let t = SampleTable::from_samples(&samples);
        assert_same(&t, &Reference::from_samples(&samples));
        // The same values give the same table, however the boxes wrote them.
        let parsed = shape.payloads(true, true).check(u64::MAX).unwrap();
        if shape.sync.as_ref().is_some_and(|s| s.iter().all(|&x| x)) || samples.is_empty() {
            continue; // `stss` listing every sample keeps its list; from_samples does not.
        }
        assert_eq!(t, parsed, "shape {k}");
    }
}

#[test]
fn compact_forms_are_chosen_as_documented() {
    let shapes = shapes();
    // The shapes of 5000 samples, by kind.
    let table = |kind: usize, per_sample_entries: bool| {
        let shape = &shapes[8 * 16 + kind];
        assert_eq!(shape.sizes.len(), 5000);
        let t = shape.payloads(per_sample_entries, false);
        (shape, t.check(u64::MAX).unwrap())
    };
    // Sizes under 64 KiB, chunks close together, B-frame offsets of period 3, and
    // durations 1001 / 0 / 1000: three runs, though written one entry a sample.
    let (_, t) = table(1, true);
    assert!(matches!(t.sizes, Sizes::U16(_)), "{:?}", t.sizes);
    assert!(matches!(t.offsets, Column::Narrow { .. }));
    assert!(matches!(t.composition, Composition::I16(_)));
    assert!(matches!(&t.timing, Timing::Runs(r) if r.runs.len() == 3 && r.at_block.is_empty()));
    // Every sample its own duration: per sample. Chunks 3 GiB apart: wide offsets.
    let (shape, t) = table(2, false);
    assert_eq!(shape.gap, 3 << 30);
    assert!(matches!(t.timing, Timing::PerSample(Column::Narrow { .. })));
    assert!(matches!(t.offsets, Column::Wide(_)));
    // Durations near 2^32: a block spans more than 32 bits of time, so decode times are
    // wide. Offsets past 4 GiB but close together stay narrow.
    let (shape, t) = table(3, false);
    assert!(shape.first_offset > u64::from(u32::MAX));
    assert!(matches!(t.timing, Timing::PerSample(Column::Wide(_))));
    assert!(matches!(t.offsets, Column::Narrow { .. }));
    // Composition offsets that need 32 bits, in 8 long runs.
    let (_, t) = table(5, true);
    assert!(matches!(&t.composition, Composition::Runs(r) if r.runs.len() == 8));
    // No ctts: nothing stored; every size the same: one size.
    let (_, t) = table(0, false);
    assert!(matches!(t.composition, Composition::Zero));
    assert!(matches!(t.sizes, Sizes::Constant(300)));
    // Many runs (52 of durations, 100 of offsets) come with a block index.
    let (_, t) = table(12, true);
    let blocks = 5000usize.div_ceil(BLOCK);
    assert!(
        matches!(&t.timing, Timing::Runs(r) if r.runs.len() == 52 && r.at_block.len() == blocks)
    );
    assert!(matches!(
        &t.composition,
        Composition::Runs(r) if r.runs.len() == 100 && r.at_block.len() == blocks
    ));
}

#[test]
fn hostile_tables_fail_alike() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let shapes = shapes();
    let mut failed = 0;
    for round in 0..3000 {
        let shape = &shapes[rng.below(shapes.len() as u64) as usize];
        let mut p = shape.payloads(rng.below(2) == 0, rng.below(2) == 0);
        let fields: [&mut Vec<u8>; 4] = [&mut p.stts, &mut p.stsc, &mut p.sizes.1, &mut p.chunks.1];
        let mut others: Vec<&mut Vec<u8>> = fields.into_iter().collect();
        if let Some(c) = p.ctts.as_mut() {
            others.push(c);
        }
        if let Some(s) = p.stss.as_mut() {
            others.push(s);
        }
        for _ in 0..1 + rng.below(3) {
            let k = rng.below(others.len() as u64) as usize;
            let data = &mut others[k];
            if data.is_empty() {
                continue;
            }
            let i = rng.below(data.len() as u64) as usize;
            match rng.below(5) {
                0 => data[i] = rng.next() as u8,
                1 => data[i] ^= 0x80,
                2 => data.truncate(i),
                3 => {
                    let v = [0u8, 0xff, 1, 0x7f][rng.below(4) as usize];
                    let end = (i + 4).min(data.len());
                    data[i..end].fill(v);
                }
                _ => {
                    // A plausible count or index in a field.
                    let at = i & !3;
                    if at + 4 <= data.len() {
                        let v = rng.below(12_000) as u32;
                        data[at..at + 4].copy_from_slice(&v.to_be_bytes());
                    }
                }
            }
        }
        let source_len = match round % 3 {
            0 => u64::MAX,
            1 => rng.below(1 << 34),
            _ => 1 << 33,
        };
        failed += usize::from(p.check(source_len).is_err());
    }
    assert!(failed > 1000 && failed < 2900, "{failed} of 3000 failed");
}

/// The `stbl` boxes of every track of a real file's `moov`, each mutated many times:
/// the compact table and the plain arrays must agree on every outcome.
#[test]
fn real_sources_and_their_corruptions_agree_with_plain_arrays() {
    let media = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/media");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for name in [
        "h264_bframes_ctts_v1_29.97fps.mp4",
        "h264_co64.mp4",
        "two_audio_languages.mp4",
        "hevc_hev1_25fps.mp4",
        "long_gop_10s.mp4",
        "eac3_48k.mp4",
    ] {
        let file = std::fs::read(media.join(name)).unwrap();
        let top = parse_children(&file, 0, "").unwrap();
        let moov = top.iter().find(|b| &b.kind == b"moov").unwrap();
        for trak in moov
            .children()
            .unwrap()
            .iter()
            .filter(|b| &b.kind == b"trak")
        {
            let stbl = ["mdia", "minf", "stbl"].iter().fold(trak.clone(), |b, k| {
                b.children()
                    .unwrap()
                    .into_iter()
                    .find(|c| c.kind == k.as_bytes())
                    .unwrap()
            });
            let children = stbl.children().unwrap();
            let get = |k: &[u8; 4]| {
                children
                    .iter()
                    .find(|b| &b.kind == k)
                    .map(|b| (b.payload.to_vec(), b.kind))
            };
            let kind = |k: [u8; 4]| -> &'static [u8; 4] {
                match &k {
                    b"stz2" => b"stz2",
                    b"stsz" => b"stsz",
                    b"co64" => b"co64",
                    _ => b"stco",
                }
            };
            let sizes = get(b"stsz").or_else(|| get(b"stz2")).unwrap();
            let chunks = get(b"stco").or_else(|| get(b"co64")).unwrap();
            let p = Payloads {
                stts: get(b"stts").unwrap().0,
                ctts: get(b"ctts").map(|c| c.0),
                stsc: get(b"stsc").unwrap().0,
                sizes: (kind(sizes.1), sizes.0),
                chunks: (kind(chunks.1), chunks.0),
                stss: get(b"stss").map(|c| c.0),
            };
            let t = p.check(file.len() as u64).unwrap();
            assert!(
                t.heap_bytes() < 24 * t.len(),
                "{name}: {} bytes for {} samples",
                t.heap_bytes(),
                t.len()
            );
            for _ in 0..300 {
                let mut m = p.clone();
                let mut all: Vec<&mut Vec<u8>> =
                    vec![&mut m.stts, &mut m.stsc, &mut m.sizes.1, &mut m.chunks.1];
                all.extend(m.ctts.as_mut());
                all.extend(m.stss.as_mut());
                let k = rng.below(all.len() as u64) as usize;
                let data = &mut all[k];
                if !data.is_empty() {
                    let i = rng.below(data.len() as u64) as usize;
                    match rng.below(3) {
                        0 => data[i] = rng.next() as u8,
                        1 => data[i] ^= 0x80,
                        _ => {
                            let end = (i + 4).min(data.len());
                            data[i..end].fill(0xff)
                        }
                    }
                }
                let _ = m.check(file.len() as u64);
            }
        }
    }
}

#[test]
fn builds_offsets_times_and_sync_from_boxes() {
    // 5 samples in 2 chunks (3 + 2), durations 10,10,10,10,20, sync at 1 and 4.
    let stts = be(&[2, 4, 10, 1, 20]);
    let ctts = be(&[2, 1, 0, 1, 20]);
    let stsc = be(&[2, 1, 3, 1, 2, 2, 1]);
    let stsz = be(&[0, 5, 100, 200, 300, 400, 500]);
    let stco = be(&[2, 1000, 5000]);
    let stss = be(&[2, 1, 4]);
    let (stts, ctts, stsc, stsz, stco, stss) = (
        full_box(b"stts", &stts),
        full_box(b"ctts", &ctts),
        full_box(b"stsc", &stsc),
        full_box(b"stsz", &stsz),
        full_box(b"stco", &stco),
        full_box(b"stss", &stss),
    );
    let boxes = SampleTableBoxes {
        stts: &stts,
        ctts: Some(&ctts),
        stsc: &stsc,
        sizes: &stsz,
        chunk_offsets: &stco,
        stss: Some(&stss),
    };
    let t = SampleTable::parse(&boxes, 10_000).unwrap();
    assert_eq!(t.len(), 5);
    assert_eq!(
        (0..5).map(|i| t.offset(i)).collect::<Vec<_>>(),
        [1000, 1100, 1300, 5000, 5400]
    );
    assert_eq!(
        (0..5).map(|i| t.decode_time(i)).collect::<Vec<_>>(),
        [0, 10, 20, 30, 40]
    );
    assert_eq!(t.duration(), 60);
    assert_eq!(t.sample_duration(4), 20);
    assert_eq!(t.composition_offset(1), 20);
    assert!(t.is_sync(0) && t.is_sync(3) && !t.is_sync(1));
    assert_eq!(t.byte_span(2..4), Some((1300, 5400)));
    assert_eq!(t.first_at_or_after(25), 3);
    assert_eq!(t.sync_count_in(0..3), 1);
    assert_eq!(t.most_common_duration(), Some(10));
}

#[test]
fn sample_past_end_of_file_is_malformed() {
    let stts = be(&[1, 1, 10]);
    let stsc = be(&[1, 1, 1, 1]);
    let stsz = be(&[0, 1, 100]);
    let stco = be(&[1, 950]);
    let (stts, stsc, stsz, stco) = (
        full_box(b"stts", &stts),
        full_box(b"stsc", &stsc),
        full_box(b"stsz", &stsz),
        full_box(b"stco", &stco),
    );
    let boxes = SampleTableBoxes {
        stts: &stts,
        ctts: None,
        stsc: &stsc,
        sizes: &stsz,
        chunk_offsets: &stco,
        stss: None,
    };
    let err = SampleTable::parse(&boxes, 1000).unwrap_err().to_string();
    assert!(err.contains("past the end of the 1000-byte file"), "{err}");
}

#[test]
fn chunk_offset_near_the_top_of_64_bits_is_past_the_end_not_a_wrap() {
    let mut co64 = be(&[1]);
    co64.extend_from_slice(&(u64::MAX - 10).to_be_bytes());
    let p = Payloads {
        stts: be(&[1, 1, 10]),
        ctts: None,
        stsc: be(&[1, 1, 1, 1]),
        sizes: (b"stsz", be(&[0, 1, 100])),
        chunks: (b"co64", co64),
        stss: None,
    };
    for source_len in [1000, u64::MAX] {
        let err = p.check(source_len).unwrap_err().to_string();
        assert!(err.contains("past the end"), "{err}");
    }
}

#[test]
fn constant_size_with_huge_count_is_refused_before_allocating() {
    let stsz = be(&[8, u32::MAX]);
    let b = full_box(b"stsz", &stsz);
    let err = parse_sizes(&b).unwrap_err();
    assert!(matches!(err, Error::LimitExceeded { .. }), "{err}");
}

#[test]
fn constant_rate_table_costs_well_under_24_bytes_a_sample() {
    // 1000 samples: constant rate, varying sizes, B-frame offsets, a keyframe every 50.
    let samples: Vec<_> = (0..1000)
        .map(|i| SampleInfo {
            offset: 1_000_000 + i * 3000,
            size: 2000 + (i as u32 % 50) * 10,
            duration: 512,
            composition_offset: if i % 3 == 0 { 1024 } else { 512 },
            sync: i % 50 == 0,
        })
        .collect();
    let t = SampleTable::from_samples(&samples);
    // Offset 4 + size 2 + composition offset 2, the block base, the duration run and
    // 20 sync samples.
    assert_eq!(t.heap_bytes(), 1000 * 8 + 8 + 16 + 20 * 4);
    // Constant sizes, no B-frames: the offsets and the sync list.
    let audio: Vec<_> = (0..1000)
        .map(|i| SampleInfo {
            offset: i * 300,
            size: 300,
            duration: 1024,
            composition_offset: 0,
            sync: true,
        })
        .collect();
    let t = SampleTable::from_samples(&audio);
    assert_eq!(t.heap_bytes(), 1000 * 4 + 8 + 16);
}

/// The worst case is bounded by the plain arrays (24 bytes a sample plus the sync list).
#[test]
fn worst_case_table_is_no_larger_than_plain_arrays() {
    let mut rng = Rng(7);
    let samples: Vec<_> = (0..5000)
        .map(|_| SampleInfo {
            offset: rng.next(),
            size: rng.next() as u32,
            duration: rng.next() as u32,
            composition_offset: rng.next() as i32,
            sync: true,
        })
        .collect();
    let t = SampleTable::from_samples(&samples);
    assert_same(&t, &Reference::from_samples(&samples));
    assert!(t.heap_bytes() <= 5000 * 24, "{}", t.heap_bytes());
    for shape in shapes() {
        let n = shape.sizes.len();
        let t = shape.payloads(true, false).check(u64::MAX).unwrap();
        let syncs = shape
            .sync
            .as_ref()
            .map_or(0, |s| s.iter().filter(|&&x| x).count());
        assert!(
            t.heap_bytes() <= n * 24 + syncs * 4,
            "{} for {n}",
            t.heap_bytes()
        );
    }
}
