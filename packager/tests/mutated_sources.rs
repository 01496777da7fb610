//! Robustness in every CI run (the fuzz targets in fuzz/ go further): thousands of corrupted
//! variants of real `moov` boxes must parse or fail with an error, never panic, and anything
//! that parses must plan and write manifests and segments.

mod common;

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use common::moov_of;
use packager::mp4::{parse_movie, parse_movie_opening};
use packager::presentation::{PackagingOptions, Presentation, SourceFile};
use packager::segment::SourceRange;

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn corrupted_moovs_never_panic() {
    let media = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/media");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut parsed = 0;
    for name in [
        "two_audio_languages.mp4",
        "hevc_hev1_25fps.mp4",
        "h264_co64.mp4",
        "eac3_48k.mp4",
        "aac_he_signalled.mp4",
    ] {
        let file = std::fs::read(media.join(name)).unwrap();
        let (moov, offset) = moov_of(&file);
        let whole = SourceRange {
            offset: 0,
            data: Bytes::from(file.clone()),
        };
        for _ in 0..1500 {
            let mut m = moov.clone();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(m.len());
                match rng.below(3) {
                    0 => m[i] = rng.next() as u8,
                    1 => m[i] ^= 0x80,
                    _ => {
                        let v = [0u8, 0xff, 1, 0x7f][rng.below(4)];
                        let end = (i + 4).min(m.len());
                        m[i..end].fill(v);
                    }
                }
            }
            if rng.below(10) == 0 {
                m.truncate(rng.below(m.len()));
            }
            let m = Bytes::from(m);
            // The opening of a mutant parses or fails alike, and writes what it offers.
            if let Ok(movie) = parse_movie_opening(&m, offset, file.len() as u64, 2) {
                let source = SourceFile {
                    name: String::new(),
                    movie: Arc::new(movie),
                };
                if let Ok(p) =
                    Presentation::build(vec![source], Vec::new(), PackagingOptions::default())
                {
                    let offered = p.opening_segments().unwrap_or(usize::MAX);
                    for r in p.video.iter().chain(&p.audio) {
                        for (n, span) in r.segments.iter().enumerate().take(offered) {
                            let _ = packager::cmaf::write_media_segment(
                                p.track(r),
                                span,
                                n as u32 + 1,
                                r.timeline_offset,
                                &whole,
                            );
                        }
                    }
                }
            }
            if let Ok(movie) = parse_movie(&m, offset, file.len() as u64) {
                parsed += 1;
                let source = SourceFile {
                    name: String::new(),
                    movie: Arc::new(movie),
                };
                if let Ok(p) =
                    Presentation::build(vec![source], Vec::new(), PackagingOptions::default())
                {
                    let _ = packager::dash::write_mpd(&p, None);
                    let _ = packager::ts_package::ts_multivariant(&p, None);
                    for r in p.video.iter().chain(&p.audio) {
                        let _ = packager::hls::cmaf_media_playlist(r, None);
                        let _ = packager::cmaf::write_init_segment(p.track(r));
                        // Segments read the sample tables (offsets of every sample of a
                        // span); the whole file is the read, so any offset may be asked.
                        let (first, last) = (r.segments.first(), r.segments.last());
                        for span in first.into_iter().chain(last) {
                            let track = p.track(r);
                            let _ = track.samples.byte_span(span.samples());
                            let _ = packager::cmaf::write_media_segment(
                                track,
                                span,
                                1,
                                r.timeline_offset,
                                &whole,
                            );
                        }
                    }
                }
            }
        }
    }
    // Mutations that land in sample data or padding leave a valid moov: the test must have
    // exercised the whole path too.
    assert!(parsed > 100, "only {parsed} mutants parsed");
}
