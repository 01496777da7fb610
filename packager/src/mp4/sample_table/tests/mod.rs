//! The compact table against plain per-sample arrays, built the straightforward way.

use std::collections::HashMap;

use super::parse::{check_sample_count, parse_sizes};
use super::*;
use crate::error::Error;
use crate::mp4::boxes::parse_children;

mod chunk_walks;
mod reference;
mod shapes;

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
    // Out of order: one search each. In order: the first sync sample in decode order
    // presented at or after each (the same when sync samples present in decode order).
    let each: Vec<usize> = times
        .iter()
        .map(|&x| r.first_sync_presented_at_or_after(x))
        .collect();
    if !times.is_sorted() {
        assert!(t.first_syncs_presented_at_or_after(&times) == each);
    }
    let in_decode_order: Vec<usize> = sorted
        .iter()
        .map(|&x| {
            let found = sync.iter().find(|&&i| r.presentation_time(i) >= x);
            found.map_or(n, |&i| i)
        })
        .collect();
    assert!(
        t.first_syncs_presented_at_or_after(&sorted) == in_decode_order,
        "first sync samples in decode order presented at or after each threshold"
    );
    let mut ranges = vec![0..n, 0..0, n..n, 0..n / 2, n / 3..n];
    for i in (0..n).step_by(n / 50 + 1) {
        ranges.push(i..(i + 7).min(n));
    }
    let mut rng = Rng(n as u64 + 1);
    for _ in 0..40 {
        let a = rng.below(n as u64 + 1) as usize;
        let b = a + rng.below((n - a) as u64 + 1) as usize;
        ranges.push(a..b);
    }
    for range in ranges {
        assert_eq!(
            t.offsets(range.clone()).collect::<Vec<_>>(),
            r.offsets[range.clone()],
            "offsets {range:?}"
        );
        assert_eq!(t.offsets(range.clone()).len(), range.len());
        let mut runs: Vec<Range<u64>> = Vec::new();
        for i in range.clone() {
            let (start, end) = (r.offsets[i], r.offsets[i] + u64::from(r.sizes[i]));
            match runs.last_mut() {
                Some(last) if last.end == start => last.end = end,
                _ => runs.push(start..end),
            }
        }
        assert_eq!(
            t.byte_runs(range.clone()).collect::<Vec<_>>(),
            runs,
            "byte runs {range:?}"
        );
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
        let times: Vec<(u64, u32)> = range
            .clone()
            .map(|i| (r.decode_times[i], r.sample_duration(i)))
            .collect();
        assert_eq!(
            t.times(range.clone()).collect::<Vec<_>>(),
            times,
            "times {range:?}"
        );
        assert_eq!(
            t.composition_offsets(range.clone()).collect::<Vec<_>>(),
            r.composition_offsets[range.clone()],
            "composition offsets {range:?}"
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

use shapes::*;

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
    // Sizes of an `stsz` and the chunk table: views of the boxes. B-frame offsets of
    // period 3, and durations 1001 / 0 / 1000: three runs, though written one entry a
    // sample.
    let (_, t) = table(1, true);
    assert!(matches!(t.sizes, Sizes::View(_)), "{:?}", t.sizes);
    assert!(matches!(t.offsets, Offsets::Chunks(_)));
    assert!(matches!(t.composition, Composition::I16(_)));
    assert!(matches!(&t.timing, Timing::Runs(r) if r.runs.len() == 3 && r.at_block.is_empty()));
    // The same sizes in an `stz2`: built, 16 bits a sample.
    let (shape, _) = table(1, true);
    let t = shape.payloads(true, true).check(u64::MAX).unwrap();
    assert!(matches!(t.sizes, Sizes::U16(_)), "{:?}", t.sizes);
    // Every sample its own duration: per sample. Chunks 3 GiB apart: a `co64` view.
    let (shape, t) = table(2, false);
    assert_eq!(shape.gap, 3 << 30);
    assert!(matches!(t.timing, Timing::PerSample(Column::Narrow { .. })));
    assert!(
        matches!(&t.offsets, Offsets::Chunks(c) if c.views().next().is_some_and(|v| v.len() == 5000 * 8))
    );
    // Durations near 2^32: a block spans more than 32 bits of time, so decode times are
    // wide.
    let (shape, t) = table(3, false);
    assert!(shape.first_offset > u64::from(u32::MAX));
    assert!(matches!(t.timing, Timing::PerSample(Column::Wide(_))));
    // Empty chunks before the last sample: offsets a sample each.
    let (shape, t) = table(7, false);
    assert!(shape.per_chunk.contains(&0));
    assert!(matches!(t.offsets, Offsets::Column(Column::Narrow { .. })));
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
        moov: &Bytes::new(),
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
        moov: &Bytes::new(),
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
    let err = parse_sizes(&b, &Bytes::new()).unwrap_err();
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

/// The worst case is bounded by the plain arrays (24 bytes a sample plus the sync list),
/// but for offsets kept in the chunk table's boxes: up to 12 bytes a sample of views and
/// 24 bytes a mark instead of 8 bytes a sample.
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
        let marks = n.div_ceil(chunks::MARK) * 24;
        assert!(
            t.heap_bytes() <= n * 28 + marks + syncs * 4,
            "{} for {n}",
            t.heap_bytes()
        );
    }
}

/// Boxes that would cost more than the offsets a sample each (an `stsc` entry for every
/// chunk of one sample) are not kept: the offsets are built.
#[test]
fn chunk_tables_larger_than_their_offsets_are_built_instead() {
    let n = 3000u32;
    let mut stsc = vec![n];
    for c in 1..=n {
        stsc.extend([c, 1, 1]);
    }
    let p = Payloads {
        stts: be(&[1, n, 10]),
        ctts: None,
        stsc: be(&stsc),
        sizes: (b"stsz", be(&[7, n])),
        chunks: (
            b"stco",
            be(&[&[n][..], &(0..n).map(|c| 100 + 9 * c).collect::<Vec<_>>()].concat()),
        ),
        stss: None,
    };
    let t = p.check(u64::MAX).unwrap();
    assert!(matches!(t.offsets, Offsets::Column(_)), "{:?}", t.offsets);
    assert!(t.heap_bytes() <= n as usize * 8 + 64, "{}", t.heap_bytes());
    assert_eq!(t.offset(2999), 100 + 9 * 2999);
}
