//! Any bytes given as a `moov` must parse or fail with an error, and a parsed movie must plan
//! and write manifests without panicking.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use packager::presentation::{PackagingOptions, Presentation, SourceFile};

fuzz_target!(|data: &[u8]| {
    let moov = bytes::Bytes::copy_from_slice(data);
    let Ok(movie) = packager::mp4::parse_movie(&moov, 0, u64::MAX / 2) else {
        return;
    };
    let source = SourceFile {
        name: String::new(),
        movie: Arc::new(movie),
    };
    if let Ok(p) = Presentation::build(vec![source], Vec::new(), PackagingOptions::default()) {
        let _ = packager::dash::write_mpd(&p, None);
        let _ = packager::ts_package::ts_multivariant(&p, None);
    }
});
