//! Any bytes as parameter sets and a sample: subsample maps or typed errors, never a panic.
//! The first byte picks the codec and length-prefix size, then a parameter-set blob and the
//! samples follow, split at 0xFF 0xFF.
#![no_main]

use drm::cenc::subsample::{NalFormat, VideoSubsampler};
use drm::cenc::Scheme;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let format = if first & 1 == 0 { NalFormat::H264 } else { NalFormat::Hevc };
    let nal_length_size = [1u8, 2, 4][usize::from(first >> 1) % 3];
    let mut parts = rest.split(|&b| b == 0xff);
    let sets: Vec<&[u8]> = parts.next().into_iter().collect();
    let Ok(mut subsampler) = VideoSubsampler::new(format, nal_length_size, &sets) else {
        return;
    };
    for sample in parts {
        for scheme in [Scheme::Cenc, Scheme::Cbcs] {
            if let Ok(map) = subsampler.subsamples(scheme, sample) {
                let total: u64 = map.iter().map(|s| u64::from(s.clear) + u64::from(s.protected)).sum();
                assert_eq!(total, sample.len() as u64);
            }
        }
    }
});
