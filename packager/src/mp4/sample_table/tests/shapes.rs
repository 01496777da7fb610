//! Generated sample-table shapes for the tests: box payloads written from per-sample
//! values in several ways, and a small deterministic generator.

use super::*;

pub(super) fn full_box<'a>(kind: &[u8; 4], payload: &'a [u8]) -> Mp4Box<'a> {
    Mp4Box {
        kind: *kind,
        path: crate::mp4::boxes::fourcc_str(kind),
        offset: 0,
        payload_offset: 8,
        payload,
    }
}

pub(super) fn be(values: &[u32]) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 0];
    for x in values {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v
}

/// Box payloads of one track's sample table.
#[derive(Clone)]
pub(super) struct Payloads {
    pub(super) stts: Vec<u8>,
    pub(super) ctts: Option<Vec<u8>>,
    pub(super) stsc: Vec<u8>,
    pub(super) sizes: (&'static [u8; 4], Vec<u8>),
    pub(super) chunks: (&'static [u8; 4], Vec<u8>),
    pub(super) stss: Option<Vec<u8>>,
}

impl Payloads {
    /// Parses with both the compact table and the reference; they must agree. The boxes
    /// lie in one buffer, as in a `moov`, so the table's views of them are not copies.
    pub(super) fn check(&self, source_len: u64) -> Result<SampleTable> {
        let mut all = Vec::new();
        let mut place = |payload: &[u8]| {
            let at = all.len();
            all.extend_from_slice(payload);
            at..all.len()
        };
        let at = (
            place(&self.stts),
            self.ctts.as_ref().map(|c| place(c)),
            place(&self.stsc),
            place(&self.sizes.1),
            place(&self.chunks.1),
            self.stss.as_ref().map(|s| place(s)),
        );
        let moov = Bytes::from(all);
        let stts = full_box(b"stts", &moov[at.0]);
        let ctts = at.1.map(|c| full_box(b"ctts", &moov[c]));
        let stsc = full_box(b"stsc", &moov[at.2]);
        let sizes = full_box(self.sizes.0, &moov[at.3]);
        let chunks = full_box(self.chunks.0, &moov[at.4]);
        let stss = at.5.map(|s| full_box(b"stss", &moov[s]));
        let boxes = SampleTableBoxes {
            moov: &moov,
            stts: &stts,
            ctts: ctts.as_ref(),
            stsc: &stsc,
            sizes: &sizes,
            chunk_offsets: &chunks,
            stss: stss.as_ref(),
        };
        let table = SampleTable::parse(&boxes, source_len);
        match (&table, Reference::parse(&boxes, source_len)) {
            (Ok(t), Ok(r)) => {
                assert_same(t, &r);
                // Sizes and chunk offsets of an `stsz` and `stco`/`co64` are views of the
                // boxes, not copies.
                let within = |p: *const u8| moov.as_ptr_range().contains(&p);
                if let Sizes::View(v) = &t.sizes {
                    assert!(within(v.as_chunks().as_ptr().cast()));
                }
                if let Offsets::Chunks(c) = &t.offsets {
                    assert!(c.views().all(|v| v.is_empty() || within(v.as_ptr())));
                }
            }
            (Err(a), Err(b)) => assert_eq!(a, &b),
            (a, b) => panic!("compact {a:?} but reference {b:?}"),
        }
        check_openings(&boxes, source_len, table.as_ref().ok());
        table
    }
}

/// Openings of the boxes at a few decode times never panic; when the whole table parses,
/// each opening parses too and holds exactly its first samples.
fn check_openings(boxes: &SampleTableBoxes<'_, '_>, source_len: u64, whole: Option<&SampleTable>) {
    let limits = match whole {
        Some(w) if !w.is_empty() => {
            let n = w.len();
            vec![
                1,
                w.decode_time(n / 3),
                w.decode_time(n * 2 / 3),
                w.duration(),
            ]
        }
        _ => vec![1, 1000, 100_000],
    };
    for before in limits {
        let opening = SampleTable::parse_extent(boxes, source_len, Extent::DecodingBefore(before));
        let (Some(w), opening) = (whole, opening) else {
            continue;
        };
        let o = opening.unwrap_or_else(|e| panic!("the whole table parses, its opening not: {e}"));
        if !o.is_opening() {
            assert_eq!(&o, w, "an opening of every sample is the whole table");
            continue;
        }
        let n = o.len();
        assert!(n >= 1 && n < w.len(), "{n} samples of {}", w.len());
        assert!(
            n == 1 || w.decode_time(n - 1) < before,
            "sample {} is past {before}",
            n - 1
        );
        assert!(
            w.decode_time(n) >= before,
            "sample {n} decodes before {before}"
        );
        assert_eq!(o.min_composition_offset(), w.min_composition_offset());
        assert_eq!(o.duration(), w.decode_time(n));
        for i in 0..n {
            assert_eq!(
                (
                    o.size(i),
                    o.decode_time(i),
                    o.composition_offset(i),
                    o.is_sync(i)
                ),
                (
                    w.size(i),
                    w.decode_time(i),
                    w.composition_offset(i),
                    w.is_sync(i)
                ),
                "sample {i} of {n}"
            );
            assert_eq!(
                o.sample_duration(i),
                w.sample_duration(i),
                "sample {i} of {n}"
            );
        }
        assert!(
            o.offsets(0..n).eq(w.offsets(0..n)),
            "offsets of {n} samples"
        );
        assert_eq!(
            o.sync_indices().collect::<Vec<_>>(),
            w.sync_indices().take_while(|&i| i < n).collect::<Vec<_>>()
        );
    }
}

/// Run-length entries of `values`: (count, value), one per run.
pub(super) fn runs_of<T: PartialEq + Copy>(values: &[T]) -> Vec<(u32, T)> {
    let mut out: Vec<(u32, T)> = Vec::new();
    for &v in values {
        match out.last_mut() {
            Some((n, last)) if *last == v => *n += 1,
            _ => out.push((1, v)),
        }
    }
    out
}

pub(super) fn entries(pairs: impl IntoIterator<Item = (u32, u32)>) -> Vec<u8> {
    let pairs: Vec<_> = pairs.into_iter().collect();
    let mut values = vec![pairs.len() as u32];
    for (a, b) in pairs {
        values.extend([a, b]);
    }
    be(&values)
}

/// A track's sample values, to write as boxes in several ways.
pub(super) struct Shape {
    pub(super) durations: Vec<u32>,
    pub(super) composition: Option<Vec<i32>>,
    pub(super) sizes: Vec<u32>,
    pub(super) sync: Option<Vec<bool>>,
    /// Samples per chunk, cycled (0: an empty chunk), and the gap between chunks.
    pub(super) per_chunk: Vec<u32>,
    pub(super) gap: u64,
    pub(super) first_offset: u64,
}

/// A small deterministic generator (xorshift), so failures reproduce.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

impl Shape {
    /// Writes the shape as boxes: `stts`/`ctts` run-length (or one entry a sample when
    /// `per_sample_entries`), `stsz` or `stz2`, `stco` or `co64`.
    pub(super) fn payloads(&self, per_sample_entries: bool, compact_sizes: bool) -> Payloads {
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

    pub(super) fn samples(&self) -> Vec<SampleInfo> {
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
pub(super) fn shapes() -> Vec<Shape> {
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
            let (per_chunk, gap, first_offset) = match kind % 8 {
                0 => (vec![1], 0, 48),
                1 => (vec![7, 3, 20], 1000, 1 << 20),
                2 => (vec![1], 3 << 30, 100), // past 4 GiB: co64, wide offsets
                3 => (vec![25, 24], 0, (1 << 32) + 5),
                4 => (vec![1000], 1 << 31, 8),
                // As ffmpeg interleaves AAC: one `stsc` entry every chunk or few.
                5 => (vec![1, 2, 2, 2, 2, 2, 2, 2], 17, 0),
                // The whole track in one chunk.
                6 => (vec![u32::MAX], 0, 4096),
                // Empty chunks between full ones.
                _ => (vec![3, 0, 0, 1, 0, 2], 5, 77),
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
