//! Offsets read from the chunk table: walks along ranges against one lookup a sample, huge
//! chunks, and every way the chunk table can disagree with the other boxes.

use super::*;

/// A table of `count` samples of `sizes` (cycled) in chunks of `per_chunk` (cycled, as
/// written in `stsc`) at `offsets`, in a source of `source_len` bytes.
fn chunked(
    count: u32,
    sizes: &[u32],
    stsc: &[(u32, u32)],
    offsets: &[u64],
    source_len: u64,
) -> Result<SampleTable> {
    let mut stsc_values = vec![stsc.len() as u32];
    for &(first, per) in stsc {
        stsc_values.extend([first, per, 1]);
    }
    let mut stsz = vec![0, count];
    stsz.extend((0..count as usize).map(|i| sizes[i % sizes.len()]));
    let wide = offsets.iter().any(|&o| o > u64::from(u32::MAX));
    let chunks = if wide {
        let mut p = be(&[offsets.len() as u32]);
        p.extend(offsets.iter().flat_map(|o| o.to_be_bytes()));
        (b"co64", p)
    } else {
        let mut v = vec![offsets.len() as u32];
        v.extend(offsets.iter().map(|&o| o as u32));
        (b"stco", be(&v))
    };
    Payloads {
        stts: be(&[1, count, 1]),
        ctts: None,
        stsc: be(&stsc_values),
        sizes: (b"stsz", be(&stsz)),
        chunks,
        stss: None,
    }
    .check(source_len)
}

fn malformed(err: Error) -> (String, u64, String) {
    match err {
        Error::Malformed {
            path,
            offset,
            reason,
        } => (path, offset, reason),
        other => panic!("not a malformed-box error: {other}"),
    }
}

#[test]
fn walks_along_ranges_agree_with_one_lookup_a_sample() {
    let mut rng = Rng(0xdead_beef_1234_5678);
    for (k, shape) in shapes().iter().enumerate() {
        let n = shape.sizes.len();
        for per_sample_entries in [false, true] {
            let t = shape
                .payloads(per_sample_entries, false)
                .check(u64::MAX)
                .unwrap();
            let each: Vec<u64> = (0..n).map(|i| t.offset(i)).collect();
            assert_eq!(t.offsets(0..n).collect::<Vec<_>>(), each, "shape {k}");
            for _ in 0..20 {
                let a = rng.below(n as u64 + 1) as usize;
                let b = a + rng.below((n - a) as u64 + 1) as usize;
                let walk: Vec<u64> = t.offsets(a..b).collect();
                assert_eq!(walk, each[a..b], "shape {k}, samples {a}..{b}");
            }
        }
    }
}

#[test]
fn one_huge_chunk_is_read_from_its_marks() {
    // 200,000 samples in one chunk that `stsc` says holds 2^32 - 1: every lookup starts
    // at the mark at or before it, so this stays linear.
    let n = 200_000u32;
    let sizes = [3, 1000, 70_000, 0, 12];
    let t = chunked(n, &sizes, &[(1, u32::MAX)], &[1 << 33], u64::MAX).unwrap();
    assert!(matches!(&t.offsets, Offsets::Chunks(_)), "{:?}", t.offsets);
    let mut expected = Vec::with_capacity(n as usize);
    let mut pos = 1u64 << 33;
    for i in 0..n as usize {
        expected.push(pos);
        pos += u64::from(sizes[i % sizes.len()]);
    }
    for i in (0..n as usize).step_by(7).chain([n as usize - 1]) {
        assert_eq!(t.offset(i), expected[i], "sample {i}");
    }
    assert_eq!(t.offsets(0..n as usize).collect::<Vec<_>>(), expected);
    let (a, b) = (123_457, 199_000);
    assert!(t.offsets(a..b).eq(expected[a..b].iter().copied()));
    assert_eq!(t.byte_span(a..b), Some((expected[a], expected[b])));
}

#[test]
fn alternating_stsc_entries_as_ffmpeg_writes_aac() {
    // Chunk 1 holds one sample, chunks 2..=8 two, chunk 9 one, and so on.
    let chunks = 700u32;
    let mut stsc = Vec::new();
    for c in (1..=chunks).step_by(8) {
        stsc.push((c, 1));
        stsc.push((c + 1, 2));
    }
    let count: u32 = (1..=chunks).map(|c| if c % 8 == 1 { 1 } else { 2 }).sum();
    let offsets: Vec<u64> = (0..u64::from(chunks)).map(|c| 5000 + c * 10_000).collect();
    let t = chunked(count, &[371, 380, 365], &stsc, &offsets, 1 << 30).unwrap();
    assert!(matches!(&t.offsets, Offsets::Chunks(_)));
    let mut expected = Vec::new();
    for (c, &at) in offsets.iter().enumerate() {
        let mut pos = at;
        for _ in 0..if c % 8 == 0 { 1 } else { 2 } {
            let i = expected.len();
            expected.push(pos);
            pos += [371u64, 380, 365][i % 3];
        }
    }
    assert_eq!(t.offsets(0..count as usize).collect::<Vec<_>>(), expected);
}

#[test]
fn sample_past_the_end_in_the_middle_of_a_chunk_is_named() {
    // Samples 0..5 of 100 bytes in one chunk at 1000; the source ends at 1250: sample 2
    // (1200..1300) is the first outside.
    let err = chunked(5, &[100], &[(1, 5)], &[1000], 1250).unwrap_err();
    let (path, offset, reason) = malformed(err);
    assert_eq!((path.as_str(), offset), ("stco", 8));
    assert_eq!(
        reason,
        "sample 2 lies at bytes 1200..1300, past the end of the 1250-byte file"
    );
    // The same in the second of two chunks, one sample a chunk and many.
    let err = chunked(4, &[100], &[(1, 1)], &[0, 100, 5000, 300], 5050).unwrap_err();
    assert!(malformed(err)
        .2
        .starts_with("sample 2 lies at bytes 5000..5100"));
    let err = chunked(9, &[10], &[(1, 3)], &[0, 100, 200], 225).unwrap_err();
    assert!(malformed(err)
        .2
        .starts_with("sample 8 lies at bytes 220..230"));
    // Exactly at the end is inside, a byte short is not: one sample a chunk, a few, and
    // one chunk of many (with marks inside).
    type Layout<'a> = (u32, &'a [(u32, u32)], &'a [u64]);
    let layouts: [Layout; 3] = [
        (3, &[(1, 1)], &[0, 100, 200]),
        (9, &[(1, 3)], &[0, 100, 200]),
        (300, &[(1, 300)], &[5]),
    ];
    for (count, stsc, offsets) in layouts {
        let t = chunked(count, &[10], stsc, offsets, u64::MAX).unwrap();
        let end = t.byte_span(0..count as usize).unwrap().1;
        assert!(
            chunked(count, &[10], stsc, offsets, end).is_ok(),
            "{stsc:?}"
        );
        let err = chunked(count, &[10], stsc, offsets, end - 1).unwrap_err();
        let last = count - 1;
        let reason = malformed(err).2;
        assert!(reason.starts_with(&format!("sample {last} ")), "{reason}");
    }
}

#[test]
fn stsc_naming_chunks_past_the_chunk_table_is_malformed() {
    // Two samples a chunk from chunk 1, then one from chunk 5: chunk 4 is not in a table
    // of 3.
    let err = chunked(7, &[10], &[(1, 2), (5, 1)], &[0, 100, 200], 1000).unwrap_err();
    let (path, _, reason) = malformed(err);
    assert_eq!(path, "stsc");
    assert_eq!(reason, "refers to chunk 4 but the chunk offset table has 3");
    // An entry that starts past the table, even once every sample is placed.
    let err = chunked(5, &[10], &[(1, 2), (3, 1), (9, 1)], &[0, 100, 200], 1000).unwrap_err();
    assert!(malformed(err).2.starts_with("refers to chunk 4"));
}

#[test]
fn chunks_that_hold_other_than_the_size_tables_samples_are_malformed() {
    // Three chunks of two hold six samples; the size table has ten.
    let err = chunked(10, &[10], &[(1, 2)], &[0, 100, 200], 1000).unwrap_err();
    let (path, _, reason) = malformed(err);
    assert_eq!(path, "stsc");
    assert_eq!(reason, "chunks hold 6 samples but the size table has 10");
    // More room than samples is fine (the last chunk is not full), as readers allow.
    assert!(chunked(5, &[10], &[(1, 2)], &[0, 100, 200], 1000).is_ok());
    // Entries not ascending.
    let err = chunked(4, &[10], &[(2, 2), (2, 1)], &[0, 100, 200], 1000).unwrap_err();
    assert!(malformed(err).2.contains("is zero or not increasing"));
}

#[test]
fn empty_chunks_before_the_last_sample_build_the_offsets() {
    // Ten samples a chunk, but chunk 500 holds none (and may lie anywhere).
    let mut offsets: Vec<u64> = (0..1001).map(|c| 64 + c * 1000).collect();
    offsets[499] = u64::MAX;
    let stsc = [(1, 10), (500, 0), (501, 10)];
    let t = chunked(10_000, &[7, 90], &stsc, &offsets, 1 << 30).unwrap();
    assert!(matches!(t.offsets, Offsets::Column(_)), "{:?}", t.offsets);
    let at = |i: usize| {
        let chunk = i / 10 + usize::from(i >= 4990);
        offsets[chunk] + [0, 7, 97, 104, 194, 201, 291, 298, 388, 395][i % 10]
    };
    for i in 0..10_000 {
        assert_eq!(t.offset(i), at(i), "sample {i}");
    }
    // The same without the empty chunk keeps the boxes.
    let plain: Vec<u64> = (0..999).map(|c| 64 + c * 1000).collect();
    let t = chunked(9990, &[7, 90], &[(1, 10)], &plain, 1 << 30).unwrap();
    assert!(matches!(t.offsets, Offsets::Chunks(_)), "{:?}", t.offsets);
}
