//! The sample table as it was before the compact forms: plain per-sample arrays, built
//! the straightforward way. Every test of the compact table checks it against this.

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
        if number == 0 || number as usize > count || out.last().is_some_and(|&p| number - 1 <= p) {
            return Err(f.error(format!(
                "sync sample number {number} is out of order or outside 1..={count}"
            )));
        }
        out.push(number - 1);
    }
    Ok(out)
}
