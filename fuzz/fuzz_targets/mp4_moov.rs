//! Any bytes given as a `moov` must parse or fail with an error, whole or as an opening
//! (its first seconds), and a parsed movie must plan and write manifests, and an opening
//! the segment plans it offers, without panicking.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use packager::mp4::Movie;
use packager::presentation::{PackagingOptions, Presentation, SourceFile};

fn plan(movie: Movie) -> Option<Presentation> {
    let source = SourceFile {
        name: String::new(),
        movie: Arc::new(movie),
    };
    Presentation::build(vec![source], Vec::new(), PackagingOptions::default()).ok()
}

fuzz_target!(|data: &[u8]| {
    let moov = bytes::Bytes::copy_from_slice(data);
    let len = u64::MAX / 2;
    // The opening length comes from the input too, so short and long openings are tried.
    let seconds = u32::from(data.last().copied().unwrap_or(0) % 16);
    if let Ok(opening) = packager::mp4::parse_movie_opening(&moov, 0, len, seconds) {
        if let Some(p) = plan(opening) {
            let held = p.opening_segments().unwrap_or(usize::MAX);
            for r in p.video.iter().chain(&p.audio) {
                for number in (1..=r.segments.len().min(held)).map(|n| n as u32) {
                    let _ = packager::ts_package::plan_ts_segment(&p, r, number);
                }
            }
        }
    }
    let Ok(movie) = packager::mp4::parse_movie(&moov, 0, len) else {
        return;
    };
    if let Some(p) = plan(movie) {
        let _ = packager::dash::write_mpd(&p, None);
        let _ = packager::ts_package::ts_multivariant(&p, None);
    }
});
