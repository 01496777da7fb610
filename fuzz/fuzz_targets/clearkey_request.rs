//! Any bytes as a ClearKey license request body must parse or fail, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = drm::clearkey::parse_request(data) {
        let _ = drm::clearkey::license_response(&req, &[]);
    }
});
