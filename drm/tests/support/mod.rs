//! Test-only support for the drm crate's integration tests: where the CENC test vectors
//! live, and a small fragmented-MP4 reader ([`fmp4`]) that finds each sample's bytes and
//! its Common Encryption parameters.

// Each test binary that declares `mod support;` uses only part of it.
#![allow(dead_code)]

pub mod fmp4;

use std::path::{Path, PathBuf};

/// `testdata/cenc` of the repository: mp4ff's known-answer files, with their licence.
pub const CENC_VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/cenc");

/// The path of one file in [`CENC_VECTORS`].
pub fn cenc_vector_path(name: &str) -> PathBuf {
    Path::new(CENC_VECTORS).join(name)
}

/// Reads one file of [`CENC_VECTORS`]. A missing directory or file fails the test loudly:
/// these known-answer tests must never pass by skipping.
pub fn read_cenc_vector(name: &str) -> Vec<u8> {
    let path = cenc_vector_path(name);
    match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => panic!(
            "cannot read the CENC test vector {} ({e}); they are committed in \
             `testdata/cenc` (expected {CENC_VECTORS})",
            path.display()
        ),
    }
}
