//! Any bytes as a key server's CPIX answer must give a key or a typed error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = drm::cpix::parse_response(data, drm::KeyId([0x11; 16]));
});
