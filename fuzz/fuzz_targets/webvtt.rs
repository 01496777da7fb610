//! Any text as a subtitle file must parse or fail, and segmenting must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(vtt) = packager::vtt::parse_vtt("fuzz.vtt", text) {
            let _ = vtt.segment(0, 10_000, 0);
        }
    }
});
