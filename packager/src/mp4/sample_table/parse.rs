//! Reading the sample-table boxes into a [`SampleTable`](super::SampleTable): every check
//! that the boxes agree with each other and that every sample lies inside the source, in
//! one pass over each box where it can be. Sizes and offsets stay in the boxes (views of
//! the `moov`); the other columns are built.

use bytes::Bytes;

use super::build::{
    build_column, build_composition, build_sizes, build_timing, OffsetStats, Values,
};
use super::chunks::ChunkTable;
use super::views::Be32s;
use super::{Composition, Offsets, SampleTableBoxes, Sizes, Timing, MAX_SAMPLES_PER_TRACK};
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

/// The sample sizes (`stsz` or `stz2`) and how many samples there are. Those of an `stsz`
/// stay in the box (`moov`'s bytes; [`constant_if_uniform`] then finds whether they are all
/// the same); those of an `stz2` are built.
pub(super) fn parse_sizes(b: &Mp4Box<'_>, moov: &Bytes) -> Result<(Sizes, usize)> {
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
    let sizes = match data.is_empty() {
        true => Sizes::Constant(0),
        false => Sizes::View(Be32s::new(moov, data)),
    };
    Ok((sizes, count))
}

/// `sizes`, or one constant when the entries of an `stsz` are all the same (this looks at
/// the samples kept, so at only an opening's).
pub(super) fn constant_if_uniform(sizes: Sizes) -> Sizes {
    let Sizes::View(view) = &sizes else {
        return sizes;
    };
    let entries = view.as_chunks();
    match entries.first() {
        // Usually stops in the first block.
        Some(&first)
            if entries
                .chunks(64)
                .all(|b| b.iter().fold(true, |all, &s| all & (s == first))) =>
        {
            Sizes::Constant(u32::from_be_bytes(first))
        }
        _ => sizes,
    }
}

/// Entries `(n, value)` clipped to describe `count` samples in all: the entry that crosses
/// `count` is cut short and later ones left out.
fn clip<T>(
    entries: impl Iterator<Item = (u32, T)> + Clone,
    count: usize,
) -> impl Iterator<Item = (u32, T)> + Clone {
    entries
        .scan(0usize, move |placed, (n, value)| {
            let take = (n as usize).min(count - *placed);
            *placed += take;
            (take > 0 || *placed < count).then_some((take as u32, value))
        })
        .fuse()
}

/// The decode times (`stts`) of the samples, the decode time past the last, and how many
/// samples they are: all `count` of the size table, or, when `before` is given, only those
/// that decode before it (at least one) -- the opening of a long track, whose later entries
/// are neither read nor checked.
pub(super) fn parse_decode_times(
    b: &Mp4Box<'_>,
    count: usize,
    before: Option<u64>,
) -> Result<(Timing, u64, usize)> {
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
        let mut n = n as usize;
        if samples + n > count {
            return Err(error(
                k,
                format!(
                    "time-to-sample entries describe more samples than the {count} in the size table"
                ),
            ));
        }
        // The samples of this entry that decode before `before` (the first always does).
        let opening = before.and_then(|before| {
            let wanted = match delta {
                0 if t < before => n as u64,
                _ => before.saturating_sub(t).div_ceil(u64::from(delta).max(1)),
            };
            let wanted = wanted.max(u64::from(samples == 0));
            (wanted < n as u64).then_some(wanted as usize)
        });
        if let Some(wanted) = opening {
            n = wanted;
        }
        samples += n;
        t = t
            .checked_add(n as u64 * u64::from(delta))
            .ok_or_else(|| error(k, "decode time overflows 64 bits".into()))?;
        if n > 0 && previous != Some(delta) {
            runs += 1;
            previous = Some(delta);
        }
        if opening.is_some() {
            if samples == count {
                // The opening is the whole track: read it whole, with every check.
                return parse_decode_times(b, count, None);
            }
            let timing = build_timing(clip(be32_pairs(data), samples), samples, runs);
            return Ok((timing, t, samples));
        }
    }
    if samples != count {
        return Err(f.error(format!(
            "time-to-sample entries describe {samples} samples but the size table has {count}"
        )));
    }
    Ok((build_timing(be32_pairs(data), count, runs), t, count))
}

/// The composition offsets (`ctts`) of `count` samples, and the smallest of them and 0.
/// For the opening of a track (`opening`), the entries past its `count` samples are not
/// checked, only searched for the smallest offset: TS segments move every decode time
/// back by that of the whole track, so the opening's segments must too.
pub(super) fn parse_composition_offsets(
    b: &Mp4Box<'_>,
    count: usize,
    opening: bool,
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
    let (mut tail_min, mut last) = (0, false);
    for (k, (mut n, offset)) in entries.clone().enumerate() {
        let at = samples;
        if opening && at + n as usize >= count {
            // The last entry the opening needs: the rest only for their smallest offset.
            tail_min = smallest_offset(data.get((k + 1) * 8..).unwrap_or_default());
            n = (count - at) as u32;
            last = true;
        }
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
            if last {
                break;
            }
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
        if last {
            break;
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
    let all = clip(entries, samples).chain(std::iter::once((rest, 0)));
    let composition = build_composition(all, count, &stats, expanded);
    Ok((composition, stats.min.min(tail_min)))
}

/// The smallest offset (and 0) of the `ctts` entries `data` that hold samples: one pass
/// without branches, which vectorises.
fn smallest_offset(data: &[u8]) -> i32 {
    data.as_chunks::<8>()
        .0
        .iter()
        .map(|&[a, b, c, d, e, f, g, h]| {
            let held = u32::from_be_bytes([a, b, c, d]) != 0;
            i32::from_be_bytes([e, f, g, h]) * i32::from(held)
        })
        .fold(0, i32::min)
}

/// Most bytes a sample the chunk table's views (`stco`/`co64` and `stsc`) may cost before
/// the offsets are kept a value a sample instead (at most 8 bytes): a `co64` of one sample a
/// chunk costs 8, ffmpeg's AAC about 4, an `stsc` entry for every chunk 16 or more.
const MAX_VIEW_BYTES_PER_SAMPLE: usize = 12;

/// The file offsets of the samples of `sizes`, from `stsc` and the chunk offsets, each
/// sample checked to lie inside a source of `source_len` bytes: the chunk table's own
/// boxes, or a value a sample when the boxes are large for the samples they place, or
/// when some chunk before the last sample is empty (a walk from one sample to the next
/// could then cross any number of `stsc` entries).
///
/// For the opening of a track (`opening`), only the chunks that hold its `count` samples
/// (and their `stsc` entries) are read and checked.
pub(super) fn parse_offsets(
    boxes: &SampleTableBoxes<'_, '_>,
    sizes: &Sizes,
    count: usize,
    source_len: u64,
    opening: bool,
) -> Result<Offsets> {
    let (stsc, chunk_box) = (boxes.stsc, boxes.chunk_offsets);
    let parsed = ChunkTable::parse(
        stsc, chunk_box, boxes.moov, sizes, count, source_len, opening,
    )?;
    let views = parsed.table.view_bytes();
    if !parsed.empty_chunks && views <= count.saturating_mul(MAX_VIEW_BYTES_PER_SAMPLE) {
        return Ok(Offsets::Chunks(parsed.table));
    }
    let walk = Values(parsed.table.cursor(sizes, 0..count));
    let Ok((column, _)) = build_column(count, &walk);
    Ok(Offsets::Column(column))
}

/// The sync sample list (`stss`): ascending sample indices from 0. For the opening of a
/// track (`opening`), those of its `count` samples: the list stops at the first past them.
pub(super) fn parse_sync_samples(
    b: &Mp4Box<'_>,
    count: usize,
    opening: bool,
) -> Result<Box<[u32]>> {
    let mut f = b.fields();
    f.version_flags()?;
    let n = f.entry_count(4)?;
    let start = f.offset();
    let data = f.bytes(n * 4)?;
    let mut out = Vec::with_capacity(n.min(count));
    for (k, number) in be32s(data).enumerate() {
        if opening && number as usize > count && out.last().is_none_or(|&p| number - 1 > p) {
            break;
        }
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
