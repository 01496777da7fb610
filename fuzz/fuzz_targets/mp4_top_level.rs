//! Top-level box headers of any shape must give a next step or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let len = data.len() as u64 * 1000;
    let _ = packager::mp4::next_top_level(data, 0, len);
});
