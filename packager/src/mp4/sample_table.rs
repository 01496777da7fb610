//! The compact per-track sample table: what a manifest or a segment needs of every sample,
//! built once from `stts`, `ctts`, `stsc`, `stsz`/`stz2`, `stco`/`co64` and `stss`.
//!
//! Stored as parallel arrays: 8 (offset) + 8 (decode time) + 4 (size) + 4 (composition
//! offset) = 24 bytes a sample, plus the sync sample list.

use crate::error::{Error, Result};
use crate::mp4::boxes::{Fields, Mp4Box};

/// Most samples one track may declare; a larger count is refused before anything is
/// allocated (about 24 hours of 120 fps video).
pub const MAX_SAMPLES_PER_TRACK: usize = 10_000_000;

/// Per-sample timing, size and position of one track, in decode order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SampleTable {
    offsets: Vec<u64>,
    decode_times: Vec<u64>,
    sizes: Vec<u32>,
    composition_offsets: Vec<i32>,
    /// Indices (0-based, ascending) of sync samples. Empty `all_sync` tracks skip it.
    sync_samples: Vec<u32>,
    all_sync: bool,
    /// Decode time just past the last sample (the track's media duration).
    end_time: u64,
    /// Smallest composition offset (negative with `ctts` version 1 sources), else 0.
    min_composition_offset: i32,
}

/// The sample-table boxes of one track, as found in `stbl`.
pub struct SampleTableBoxes<'b, 'a> {
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
        let sizes = parse_sizes(boxes.sizes)?;
        let count = sizes.len();
        let (decode_times, end_time) = parse_decode_times(boxes.stts, count)?;
        let composition_offsets = match boxes.ctts {
            Some(ctts) => parse_composition_offsets(ctts, count)?,
            None => vec![0; count],
        };
        let offsets = parse_offsets(boxes.stsc, boxes.chunk_offsets, &sizes, source_len)?;
        let (sync_samples, all_sync) = match boxes.stss {
            Some(stss) => (parse_sync_samples(stss, count)?, false),
            None => (Vec::new(), true),
        };
        let min_composition_offset = composition_offsets.iter().copied().min().unwrap_or(0);
        Ok(SampleTable {
            offsets,
            decode_times,
            sizes,
            composition_offsets,
            sync_samples,
            all_sync,
            end_time,
            min_composition_offset: min_composition_offset.min(0),
        })
    }

    /// Builds a table from plain per-sample values (tests and synthetic sources).
    pub fn from_samples(samples: &[SampleInfo]) -> Self {
        let n = samples.len();
        let mut table = SampleTable {
            all_sync: samples.iter().all(|s| s.sync),
            offsets: Vec::with_capacity(n),
            decode_times: Vec::with_capacity(n),
            sizes: Vec::with_capacity(n),
            composition_offsets: Vec::with_capacity(n),
            ..Default::default()
        };
        let mut t = 0u64;
        for (i, s) in samples.iter().enumerate() {
            table.offsets.push(s.offset);
            table.decode_times.push(t);
            table.sizes.push(s.size);
            table.composition_offsets.push(s.composition_offset);
            if s.sync && !table.all_sync {
                table.sync_samples.push(i as u32);
            }
            t += u64::from(s.duration);
        }
        table.end_time = t;
        table.min_composition_offset = samples
            .iter()
            .map(|s| s.composition_offset)
            .min()
            .unwrap_or(0)
            .min(0);
        table
    }

    /// The most negative composition offset, or 0: decode times moved back by this keep
    /// every decode time at or before its presentation time.
    pub fn min_composition_offset(&self) -> i32 {
        self.min_composition_offset
    }

    pub fn len(&self) -> usize {
        self.sizes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sizes.is_empty()
    }

    /// Media duration in the track's timescale.
    pub fn duration(&self) -> u64 {
        self.end_time
    }

    pub fn offset(&self, i: usize) -> u64 {
        self.offsets[i]
    }

    pub fn size(&self, i: usize) -> u32 {
        self.sizes[i]
    }

    pub fn decode_time(&self, i: usize) -> u64 {
        self.decode_times[i]
    }

    /// Decode time of sample `i`, or the end time for `i == len()`.
    pub fn decode_time_or_end(&self, i: usize) -> u64 {
        self.decode_times.get(i).copied().unwrap_or(self.end_time)
    }

    pub fn sample_duration(&self, i: usize) -> u32 {
        let next = self.decode_time_or_end(i + 1);
        (next - self.decode_times[i]) as u32
    }

    pub fn composition_offset(&self, i: usize) -> i32 {
        self.composition_offsets[i]
    }

    pub fn is_sync(&self, i: usize) -> bool {
        self.all_sync || self.sync_samples.binary_search(&(i as u32)).is_ok()
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
        self.composition_offsets.iter().any(|&c| c != 0)
    }

    /// Index of the first sample whose decode time is at or after `t`.
    pub fn first_at_or_after(&self, t: u64) -> usize {
        self.decode_times.partition_point(|&d| d < t)
    }

    /// Presentation time (decode time plus composition offset, never below zero).
    pub fn presentation_time(&self, i: usize) -> u64 {
        let t = i64::try_from(self.decode_times[i]).unwrap_or(i64::MAX);
        u64::try_from(t.saturating_add(i64::from(self.composition_offsets[i]))).unwrap_or(0)
    }

    /// Index of the first sync sample whose presentation time is at or after `t`, or
    /// `len()` when there is none. Sync samples present in decode order.
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

    /// Sum of the sizes of samples `range`.
    pub fn bytes_in(&self, range: std::ops::Range<usize>) -> u64 {
        self.sizes[range].iter().map(|&s| u64::from(s)).sum()
    }

    /// The smallest byte range of the source that holds samples `range`: one coalesced read.
    pub fn byte_span(&self, range: std::ops::Range<usize>) -> Option<(u64, u64)> {
        let mut start = u64::MAX;
        let mut end = 0u64;
        for i in range {
            start = start.min(self.offsets[i]);
            end = end.max(self.offsets[i] + u64::from(self.sizes[i]));
        }
        (start < end).then_some((start, end))
    }

    /// Heap bytes held by this table (for cache weighing and the 24-bytes-a-sample budget).
    pub fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * 8
            + self.decode_times.capacity() * 8
            + self.sizes.capacity() * 4
            + self.composition_offsets.capacity() * 4
            + self.sync_samples.capacity() * 4
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

fn check_sample_count(f: &Fields<'_>, count: usize) -> Result<()> {
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

fn parse_sizes(b: &Mp4Box<'_>) -> Result<Vec<u32>> {
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
        let sizes = (0..count)
            .map(|i| match bits {
                4 => {
                    let byte = data[i / 2];
                    u32::from(if i % 2 == 0 { byte >> 4 } else { byte & 0x0f })
                }
                8 => u32::from(data[i]),
                _ => u32::from(u16::from_be_bytes([data[2 * i], data[2 * i + 1]])),
            })
            .collect();
        return Ok(sizes);
    }
    let constant = f.u32()?;
    let count_at = f.offset();
    let count = f.u32()? as usize;
    check_sample_count(&f, count)?;
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
        // Version 0 is unsigned in the spec, but writers store negative offsets in it too;
        // reading both as signed matches what players do.
        let offset = f.u32()? as i32;
        if out.len() + n > count {
            return Err(f.error(format!(
                "composition offset entries describe more than the {count} samples of the track"
            )));
        }
        out.extend(std::iter::repeat_n(offset, n));
    }
    // A short ctts leaves the rest at zero, as readers commonly do.
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
                let end = pos + u64::from(size);
                if end > source_len {
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
        if number == 0 || number as usize > count || out.last().is_some_and(|&p| number - 1 <= p) {
            return Err(f.error(format!(
                "sync sample number {number} is out of order or outside 1..={count}"
            )));
        }
        out.push(number - 1);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn constant_size_with_huge_count_is_refused_before_allocating() {
        let stsz = be(&[8, u32::MAX]);
        let b = full_box(b"stsz", &stsz);
        let err = parse_sizes(&b).unwrap_err();
        assert!(matches!(err, Error::LimitExceeded { .. }), "{err}");
    }

    #[test]
    fn table_costs_24_bytes_a_sample() {
        let samples: Vec<_> = (0..1000)
            .map(|i| SampleInfo {
                offset: i * 10,
                size: 10,
                duration: 1,
                composition_offset: 0,
                sync: i % 50 == 0,
            })
            .collect();
        let t = SampleTable::from_samples(&samples);
        assert!(
            t.heap_bytes() <= 1000 * 24 + 20 * 4 + 64,
            "{}",
            t.heap_bytes()
        );
    }
}
