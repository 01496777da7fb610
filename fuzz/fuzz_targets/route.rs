//! Any request path must route or give a problem, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(path) = std::str::from_utf8(data) {
        let _ = edge::pipeline::route::parse_route(path);
    }
});
