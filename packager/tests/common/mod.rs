//! What the packager's behaviour tests share: the test media and finding a file's `moov`.
#![allow(dead_code)]

use std::path::Path;

use packager::mp4::{next_top_level, TopLevelStep};

/// The bytes of `testdata/media/{name}`.
pub fn media(name: &str) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/media");
    std::fs::read(dir.join(name)).unwrap()
}

/// The `moov` of `file`, copied, and where it starts.
pub fn moov_of(file: &[u8]) -> (Vec<u8>, u64) {
    let mut offset = 0;
    loop {
        let header = &file[offset as usize..(offset as usize + 16).min(file.len())];
        match next_top_level(header, offset, file.len() as u64).unwrap() {
            TopLevelStep::Next { offset: next } => offset = next,
            TopLevelStep::Moov { offset, size } => {
                return (
                    file[offset as usize..(offset + size) as usize].to_vec(),
                    offset,
                )
            }
        }
    }
}
