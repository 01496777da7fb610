//! Any bytes as parameter sets and a sample: subsample maps or typed errors, never a panic.
//!
//! Input: one byte picks the codec (bit 0: H.264 or HEVC) and the NAL length size
//! (`[1, 2, 4][(byte >> 1) % 3]`), the next byte is the number of parameter sets, then each
//! parameter set and then each sample follow as a 16-bit big-endian length and its bytes
//! (as avcC and hvcC store parameter sets); a length running past the end takes what is left.
#![no_main]

use drm::cenc::subsample::{NalFormat, VideoSubsampler};
use drm::cenc::Scheme;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [first, set_count, rest @ ..] = data else {
        return;
    };
    let format = if first & 1 == 0 {
        NalFormat::H264
    } else {
        NalFormat::Hevc
    };
    let nal_length_size = [1u8, 2, 4][usize::from(first >> 1) % 3];
    let mut records = Records(rest);
    let sets: Vec<&[u8]> = records.by_ref().take(usize::from(*set_count)).collect();
    let Ok(mut subsampler) = VideoSubsampler::new(format, nal_length_size, &sets) else {
        return;
    };
    for sample in records {
        for scheme in [Scheme::Cenc, Scheme::Cbcs] {
            if let Ok(map) = subsampler.subsamples(scheme, sample) {
                let total: u64 = map
                    .iter()
                    .map(|s| u64::from(s.clear) + u64::from(s.protected))
                    .sum();
                assert_eq!(total, sample.len() as u64);
            }
        }
    }
});

/// The 16-bit-length-prefixed records of the input, in order.
struct Records<'a>(&'a [u8]);

impl<'a> Iterator for Records<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let [hi, lo, rest @ ..] = self.0 else {
            return None;
        };
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(rest.len());
        let (record, rest) = rest.split_at(len);
        self.0 = rest;
        Some(record)
    }
}
