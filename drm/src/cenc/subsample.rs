//! Subsample maps for video samples: which bytes of each NAL unit stay clear (ISO/IEC
//! 23001-7 9.5 and 10.2). Length prefixes, NAL headers, slice headers and every non-slice
//! unit stay clear; the rest of each slice is protected, under `cenc` in whole 16-byte
//! blocks ending at the end of the unit.

use crate::cenc::{Scheme, Subsample};
use crate::error::{Error, Result};
use crate::nal::{NalParser, NalUnit};

pub use crate::nal::NalFormat;

/// Smallest protected range: one AES block. A slice with less data after its header stays
/// clear (there would be nothing to encrypt).
const BLOCK: usize = 16;

/// Makes the subsample maps of one video track's samples. Keeps the parameter sets seen so
/// far (from the sample entry, then any in-band SPS/PPS/VPS in samples, as avc3/hev1 carry
/// them), so samples must be given in decoding order.
#[derive(Debug, Clone)]
pub struct VideoSubsampler {
    parser: NalParser,
}

impl VideoSubsampler {
    /// `parameter_sets`: raw NAL units (no length prefix, no start code) from avcC/hvcC:
    /// VPS/SPS/PPS.
    pub fn new(format: NalFormat, nal_length_size: u8, parameter_sets: &[&[u8]]) -> Result<Self> {
        Ok(VideoSubsampler {
            parser: NalParser::new(format, nal_length_size, parameter_sets)?,
        })
    }

    /// The subsample map of one length-prefixed sample (as stored in MP4). The clear and
    /// protected sizes add up to the sample's length.
    pub fn subsamples(&mut self, scheme: Scheme, sample: &[u8]) -> Result<Vec<Subsample>> {
        let units = self.parser.parse_sample(sample)?;
        subsample_map(scheme, &units, sample.len())
    }

    /// The NAL units of one length-prefixed sample, with where each slice header ends: what
    /// [`subsamples`](Self::subsamples) builds its map from.
    pub fn nal_units(&mut self, sample: &[u8]) -> Result<Vec<NalUnit>> {
        self.parser.parse_sample(sample)
    }
}

/// The map of a sample of `sample_len` bytes made of `units` (contiguous, in order).
fn subsample_map(scheme: Scheme, units: &[NalUnit], sample_len: usize) -> Result<Vec<Subsample>> {
    let mut map = Vec::new();
    let mut clear = 0usize;
    let mut pos = 0usize;
    for unit in units {
        if unit.offset != pos {
            return Err(Error::malformed(
                "video sample",
                format!("NAL unit at {} after one ending at {pos}", unit.offset),
            ));
        }
        let end = unit.end();
        let protected = unit
            .slice
            .map_or(0, |s| protected_len(scheme, unit.len, s.data_offset));
        clear += end - pos - protected;
        if protected > 0 {
            let protected = u32::try_from(protected).map_err(|_| {
                Error::malformed(
                    "video sample",
                    format!("slice of {protected} bytes (more than 2^32 - 1)"),
                )
            })?;
            push(&mut map, clear, protected);
            clear = 0;
        }
        pos = end;
    }
    if pos != sample_len {
        return Err(Error::malformed(
            "video sample",
            format!("NAL units end at {pos} in a {sample_len}-byte sample"),
        ));
    }
    if clear > 0 {
        push(&mut map, clear, 0);
    }
    Ok(map)
}

/// Protected bytes at the end of a slice unit of `len` bytes whose data starts at
/// `data_offset` (both counted from the unit's header).
fn protected_len(scheme: Scheme, len: usize, data_offset: usize) -> usize {
    let data = len.saturating_sub(data_offset);
    let protected = match scheme {
        Scheme::Cenc => data - data % BLOCK,
        Scheme::Cbcs => data,
    };
    if protected < BLOCK {
        0
    } else {
        protected
    }
}

/// Appends `clear` bytes then `protected` bytes, splitting clear runs above 65535.
fn push(map: &mut Vec<Subsample>, mut clear: usize, protected: u32) {
    while clear > usize::from(u16::MAX) {
        map.push(Subsample {
            clear: u16::MAX,
            protected: 0,
        });
        clear -= usize::from(u16::MAX);
    }
    map.push(Subsample {
        clear: u16::try_from(clear).unwrap_or(u16::MAX),
        protected,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nal::bit_writer::{escape, BitWriter};

    /// Baseline SPS 0 (4-bit frame_num and POC lsb) and CAVLC PPS 0.
    fn parameter_sets() -> [Vec<u8>; 2] {
        let mut sps = BitWriter::new();
        sps.u(8, 0x67)
            .u(8, 66)
            .u(8, 0)
            .u(8, 30)
            .ue(0)
            .ue(0)
            .ue(0)
            .ue(0);
        sps.ue(1)
            .flag(false)
            .ue(19)
            .ue(10)
            .flag(true)
            .flag(true)
            .flag(false)
            .flag(false);
        let mut pps = BitWriter::new();
        pps.u(8, 0x68)
            .ue(0)
            .ue(0)
            .flag(false)
            .flag(false)
            .ue(0)
            .ue(0)
            .ue(0)
            .flag(false);
        pps.u(2, 0)
            .se(0)
            .se(0)
            .se(0)
            .flag(false)
            .flag(false)
            .flag(false);
        [sps, pps].map(|mut w| escape(&w.flag(true).align(false).bytes()))
    }

    /// An IDR slice: a 29-bit header (data from byte 4), then `data` bytes.
    fn idr_slice(data: usize) -> Vec<u8> {
        let mut w = BitWriter::new();
        w.u(8, 0x65)
            .ue(0)
            .ue(7)
            .ue(0)
            .u(4, 0)
            .ue(0)
            .u(4, 0)
            .flag(false)
            .flag(false)
            .se(0);
        for _ in 0..data {
            w.u(8, 0x5a);
        }
        let nal = escape(&w.bytes());
        assert_eq!(nal.len(), 4 + data);
        nal
    }

    fn sample(units: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for u in units {
            out.extend_from_slice(&u32::try_from(u.len()).unwrap().to_be_bytes());
            out.extend_from_slice(u);
        }
        out
    }

    fn subsampler() -> VideoSubsampler {
        let [sps, pps] = parameter_sets();
        VideoSubsampler::new(NalFormat::H264, 4, &[&sps, &pps]).unwrap()
    }

    fn ss(clear: u16, protected: u32) -> Subsample {
        Subsample { clear, protected }
    }

    fn total(map: &[Subsample]) -> usize {
        map.iter()
            .map(|s| usize::from(s.clear) + s.protected as usize)
            .sum()
    }

    #[test]
    fn cenc_protects_whole_blocks_ending_at_the_unit_end_cbcs_all_slice_data() {
        let aud = [0x09u8, 0xf0];
        let sei = [0x06u8, 0x05, 0x02, 0xaa, 0xbb, 0x80];
        let s = sample(&[&aud, &sei, &idr_slice(100), &idr_slice(37), &sei]);
        let mut sub = subsampler();
        // clear: 6 (AUD) + 10 (SEI) + 4 + 4 (slice header) + 100 % 16
        let cenc = sub.subsamples(Scheme::Cenc, &s).unwrap();
        assert_eq!(cenc, [ss(28, 96), ss(4 + 4 + 5, 32), ss(10, 0)]);
        let cbcs = sub.subsamples(Scheme::Cbcs, &s).unwrap();
        assert_eq!(cbcs, [ss(24, 100), ss(8, 37), ss(10, 0)]);
        assert_eq!(total(&cenc), s.len());
        assert_eq!(total(&cbcs), s.len());
    }

    #[test]
    fn slices_with_less_than_a_block_of_data_stay_clear() {
        let s = sample(&[&idr_slice(15), &idr_slice(16)]);
        let mut sub = subsampler();
        for scheme in [Scheme::Cenc, Scheme::Cbcs] {
            assert_eq!(
                sub.subsamples(scheme, &s).unwrap(),
                [ss(4 + 19 + 4 + 4, 16)]
            );
        }
        let s = sample(&[&idr_slice(3)]);
        assert_eq!(sub.subsamples(Scheme::Cenc, &s).unwrap(), [ss(11, 0)]);
    }

    #[test]
    fn clear_runs_longer_than_65535_are_split() {
        let mut filler = vec![0xffu8; 70_000];
        filler[0] = 0x0c;
        let s = sample(&[&filler, &idr_slice(32), &filler, &filler]);
        let mut sub = subsampler();
        let map = sub.subsamples(Scheme::Cenc, &s).unwrap();
        assert_eq!(
            map,
            [
                ss(65535, 0),
                ss((70_004 - 65535 + 8) as u16, 32),
                ss(65535, 0),
                ss(65535, 0),
                ss((140_008 - 2 * 65535) as u16, 0),
            ]
        );
        assert_eq!(total(&map), s.len());
    }

    #[test]
    fn in_band_parameter_sets_serve_the_slices_after_them() {
        let [sps, pps] = parameter_sets();
        let s = sample(&[&sps, &pps, &idr_slice(64)]);
        let mut sub = VideoSubsampler::new(NalFormat::H264, 4, &[]).unwrap();
        let map = sub.subsamples(Scheme::Cbcs, &s).unwrap();
        assert_eq!(map, [ss((s.len() - 64) as u16, 64)]);
        // and they stay for the next samples
        let s = sample(&[&idr_slice(64)]);
        assert_eq!(sub.subsamples(Scheme::Cbcs, &s).unwrap(), [ss(8, 64)]);
    }

    #[test]
    fn shorter_length_prefixes() {
        let slice = idr_slice(40);
        let mut s = vec![0u8, u8::try_from(slice.len()).unwrap()];
        s.extend_from_slice(&slice);
        let [sps, pps] = parameter_sets();
        let mut sub = VideoSubsampler::new(NalFormat::H264, 2, &[&sps, &pps]).unwrap();
        assert_eq!(sub.subsamples(Scheme::Cenc, &s).unwrap(), [ss(14, 32)]);
        for size in [0, 5] {
            assert!(VideoSubsampler::new(NalFormat::H264, size, &[]).is_err());
        }
    }

    #[test]
    fn bad_samples_are_malformed_errors() {
        let mut sub = subsampler();
        let good = sample(&[&idr_slice(20)]);
        // a length cut short
        let mut s = good.clone();
        s.extend_from_slice(&[0, 0]);
        let err = sub.subsamples(Scheme::Cenc, &s).unwrap_err();
        assert!(
            err.to_string()
                .contains("too few for a 4-byte NAL unit length"),
            "{err}"
        );
        // a unit running past the sample
        let err = sub
            .subsamples(Scheme::Cenc, &good[..good.len() - 1])
            .unwrap_err();
        assert!(err.to_string().contains("only 23 bytes follow"), "{err}");
        // a slice whose PPS was never seen
        let mut fresh = VideoSubsampler::new(NalFormat::H264, 4, &[]).unwrap();
        let err = fresh.subsamples(Scheme::Cbcs, &good).unwrap_err();
        assert!(matches!(err, Error::Malformed { .. }), "{err}");
        assert!(err.to_string().contains("PPS 0"), "{err}");
        assert!(err.to_string().contains("offset 0 of the sample"), "{err}");
        // a slice header cut short
        let s = sample(&[&idr_slice(0)[..2]]);
        assert!(sub.subsamples(Scheme::Cenc, &s).is_err());
        // a broken parameter set in the sample entry
        let err = VideoSubsampler::new(NalFormat::Hevc, 4, &[&[0x42, 0x01, 0x01]]).unwrap_err();
        assert!(err.to_string().contains("parameter set 0"), "{err}");
    }

    #[test]
    fn maps_always_add_up_to_the_sample() {
        // every mix of a few unit kinds and sizes
        let units: Vec<Vec<u8>> = vec![
            vec![0x09, 0xf0],
            idr_slice(0),
            idr_slice(15),
            idr_slice(17),
            idr_slice(250),
            vec![0x0c; 300],
            Vec::new(),
        ];
        let mut sub = subsampler();
        for a in &units {
            for b in &units {
                for c in &units {
                    let s = sample(&[a, b, c]);
                    for scheme in [Scheme::Cenc, Scheme::Cbcs] {
                        let map = sub.subsamples(scheme, &s).unwrap();
                        assert_eq!(total(&map), s.len());
                        assert!(map.iter().all(|m| m.clear > 0 || m.protected > 0));
                        if scheme == Scheme::Cenc {
                            assert!(map.iter().all(|m| m.protected % 16 == 0));
                        }
                    }
                }
            }
        }
        assert_eq!(sub.subsamples(Scheme::Cenc, &[]).unwrap(), []);
    }
}
