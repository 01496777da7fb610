//! Hand-made HEVC parameter sets and slice segments: the reader must stop exactly where the
//! writer stopped writing the header, derive predicted reference picture sets as the spec
//! does, and refuse what it cannot read.

use crate::error::Error;
use crate::nal::bit_writer::{escape, BitWriter};
use crate::nal::hevc::rps::{Delta, ShortTermRps};
use crate::nal::hevc::{ParameterSets, Sps};
use crate::nal::{HeaderAlignment, SliceType};

const DATA: [u8; 40] = [0x5a; 40];

/// SPS 0: two temporal sub-layers, 320x180 in 16x16 CTBs (240 of them), 8-bit POC lsb,
/// scaling lists, PCM, three short-term RPS (the second predicted from the first) and two
/// long-term pictures (the first used).
fn sps() -> Vec<u8> {
    let mut w = BitWriter::new();
    w.u(16, 0x4201).u(4, 0).u(3, 1).flag(true);
    w.u(8, 1).u(32, 0x6000_0000).u(4, 0b1001).u(44, 0).u(8, 60); // general PTL
    w.flag(true).flag(true); // sub-layer profile and level present
    for _ in 1..8 {
        w.u(2, 0);
    }
    w.u(32, 0x0100_0000).u(32, 0).u(24, 0).u(8, 30); // sub-layer profile, level
    w.ue(0)
        .ue(1)
        .ue(320)
        .ue(180)
        .flag(true)
        .ue(0)
        .ue(0)
        .ue(0)
        .ue(2);
    w.ue(0).ue(0).ue(4).flag(true); // bit depths, POC lsb 8 bits, ordering for each layer
    w.ue(4).ue(2).ue(0).ue(4).ue(2).ue(0);
    w.ue(0).ue(1).ue(0).ue(2).ue(1).ue(1); // 8..16 CB, 4..16 TB, depths
    w.flag(true).flag(true); // scaling lists in the SPS
    for size_id in 0..4 {
        for matrix_id in (0..6).step_by(if size_id == 3 { 3 } else { 1 }) {
            let explicit = matrix_id == 0 && (size_id == 0 || size_id == 2);
            w.flag(explicit);
            if !explicit {
                w.ue(0);
                continue;
            }
            if size_id == 2 {
                w.se(8);
            }
            for i in 0..if size_id == 0 { 16 } else { 64 } {
                w.se(i % 3 - 1);
            }
        }
    }
    w.flag(true)
        .flag(true)
        .flag(true)
        .u(4, 7)
        .u(4, 7)
        .ue(0)
        .ue(1)
        .flag(true); // amp, SAO, PCM
    w.ue(3);
    w.ue(2)
        .ue(1)
        .ue(0)
        .flag(true)
        .ue(1)
        .flag(true)
        .ue(0)
        .flag(false); // set 0: -1 -3 | +1
    w.flag(true).flag(true).ue(0); // set 1: predicted from set 0, delta_rps -1
    w.flag(true)
        .flag(false)
        .flag(true)
        .flag(true)
        .flag(false)
        .flag(false);
    w.flag(false).ue(1).ue(0).ue(0).flag(true); // set 2: -1
    w.flag(true).ue(2).u(8, 7).flag(true).u(8, 9).flag(false); // long-term pictures
    w.flag(true).flag(true).flag(false).flag(false).flag(true); // tmvp, smoothing, stop bit
    escape(&w.align(false).bytes())
}

/// PPS 0 turns on everything a slice header may depend on; PPS 1 is plain (as x265 writes).
fn pps(everything: bool) -> Vec<u8> {
    let e = everything;
    let mut w = BitWriter::new();
    w.u(16, 0x4401)
        .ue(u32::from(!e))
        .ue(0)
        .flag(e)
        .flag(e)
        .u(3, if e { 2 } else { 0 });
    w.flag(true)
        .flag(e)
        .ue(0)
        .ue(0)
        .se(0)
        .flag(false)
        .flag(e)
        .flag(true)
        .ue(1);
    w.se(0)
        .se(0)
        .flag(e)
        .flag(e)
        .flag(e)
        .flag(false)
        .flag(e)
        .flag(e);
    if e {
        w.ue(1).ue(1).flag(false).ue(9).ue(4).flag(true); // 2x2 tiles, explicit spacing
    }
    w.flag(true).flag(true).flag(e).flag(false).se(-1).se(2); // deblocking
    w.flag(false).flag(e).ue(0).flag(e).flag(e);
    if e {
        w.flag(true).flag(false).flag(false).flag(false).u(4, 0); // range extension only
        w.ue(0)
            .flag(false)
            .flag(true)
            .ue(0)
            .ue(0)
            .se(1)
            .se(-1)
            .ue(0)
            .ue(0);
    }
    escape(&w.flag(true).align(false).bytes())
}

fn sets() -> ParameterSets {
    let mut sets = ParameterSets::default();
    for unit in [sps(), pps(true), pps(false)] {
        sets.unit(&unit).unwrap();
    }
    sets
}

/// Ends a slice segment header with byte_alignment() and data; returns the escaped unit and
/// where the header ended (RBSP bits).
fn finish(mut w: BitWriter) -> (Vec<u8>, usize) {
    let end = w.len();
    w.flag(true).align(false);
    for b in DATA {
        w.u(8, u64::from(b));
    }
    (escape(&w.bytes()), end)
}

#[test]
fn predicted_reference_picture_sets_follow_the_spec_derivation() {
    let sps = Sps::parse(&sps()).unwrap();
    let d = |poc, used| Delta { poc, used };
    assert_eq!(sps.short_term_rps.len(), 3);
    assert_eq!(
        sps.short_term_rps[1],
        ShortTermRps {
            negative: vec![d(-2, true), d(-4, false)],
            positive: vec![],
        }
    );
    assert_eq!(sps.short_term_rps[2].negative, vec![d(-1, true)]);
    assert_eq!((sps.pic_size_in_ctbs, sps.slice_address_bits), (240, 8));
    assert_eq!(sps.long_term_used, vec![true, false]);
}

#[test]
fn idr_slice_with_a_plain_pps() {
    let mut s = sets();
    let mut w = BitWriter::new();
    w.u(16, 0x2601).flag(true).flag(false).ue(1).ue(2); // IDR_W_RADL, PPS 1, I
    w.flag(true).flag(false).se(2).flag(true); // SAO luma, chroma, qp, across slices
    let (nal, end) = finish(w);
    let (nal_type, slice) = s.unit(&nal).unwrap();
    let slice = slice.unwrap();
    assert_eq!((nal_type, slice.slice_type), (19, SliceType::I));
    assert_eq!(slice.alignment, HeaderAlignment::ByteAlignment);
    assert_eq!(slice.end_bit, end);
    assert_eq!(slice.data_offset, end / 8 + 1);
}

#[test]
fn p_slice_with_sps_rps_long_term_pictures_and_list_modification() {
    let mut s = sets();
    let mut w = BitWriter::new();
    w.u(16, 0x0201).flag(false).ue(0).flag(false).u(8, 120); // TRAIL_R, PPS 0, address
    w.u(2, 3).ue(1).flag(false).u(8, 77); // reserved bits, P, pic_output_flag, POC lsb
    w.flag(true).u(2, 1); // SPS set 1: one picture used
    w.ue(1)
        .ue(1)
        .u(1, 0)
        .flag(false)
        .u(8, 5)
        .flag(false)
        .flag(true)
        .ue(3); // long-term
    w.flag(true).flag(true).flag(false); // tmvp, SAO
    w.flag(true).ue(2); // three references
    w.flag(true).u(3, 0b101); // NumPicTotalCurr 2: 1-bit list entries
    w.flag(true).ue(2); // cabac_init_flag, collocated_ref_idx
    w.ue(3).se(1); // weights: denominators
    w.u(3, 0b010)
        .u(3, 0b001)
        .se(2)
        .se(-2)
        .se(1)
        .se(1)
        .se(-1)
        .se(-1);
    w.ue(0).se(-4).se(1).se(2).flag(true); // merge cand, qp, cb, cr, cu chroma offsets
    w.flag(false).flag(false); // no deblocking override, across slices
    w.ue(1).ue(13).u(14, 1000); // one entry point, 14-bit offsets
    w.ue(1).u(8, 0xee); // header extension
    let (nal, end) = finish(w);
    let slice = s.unit(&nal).unwrap().1.unwrap();
    assert_eq!(slice.slice_type, SliceType::P);
    assert_eq!(slice.first_block, 120);
    assert_eq!(slice.end_bit, end);
}

#[test]
fn b_slice_with_a_predicted_rps_then_a_dependent_segment() {
    let mut s = sets();
    let mut w = BitWriter::new();
    w.u(16, 0x0001)
        .flag(true)
        .ue(0)
        .u(2, 0)
        .ue(0)
        .flag(true)
        .u(8, 3); // TRAIL_N, B
    w.flag(false).flag(true).ue(2).flag(false).ue(0); // slice RPS from set 0, delta +1
    w.flag(true).flag(false).flag(true).flag(true).flag(true); // -> -2 | +1 +2, 2 used
    w.ue(0).ue(0).flag(true).flag(false).flag(true); // no long-term; tmvp; SAO chroma only
    w.flag(true).ue(1).ue(0); // two l0, one l1 reference
    w.flag(true).u(2, 0b10).flag(true).u(1, 1); // list entries of 1 bit
    w.flag(false).flag(true).flag(true).ue(1); // mvd_l1_zero, cabac_init, from l0, idx
    w.ue(6)
        .se(-1)
        .u(2, 0b10)
        .u(2, 0b01)
        .se(3)
        .se(-3)
        .se(1)
        .se(1)
        .se(2)
        .se(2);
    w.flag(false).flag(false).ue(2); // l1 flags, merge cand
    w.se(-1)
        .se(1)
        .se(-1)
        .flag(false)
        .flag(true)
        .flag(false)
        .se(1)
        .se(-1)
        .flag(true);
    w.ue(2).ue(9).u(20, 0xabcde).ue(2).u(16, 0xbeef); // entry points, extension
    let (nal, end) = finish(w);
    let slice = s.unit(&nal).unwrap().1.unwrap();
    assert_eq!(slice.slice_type, SliceType::B);
    assert_eq!(slice.end_bit, end);

    let mut w = BitWriter::new();
    w.u(16, 0x0001)
        .flag(false)
        .ue(0)
        .flag(true)
        .u(8, 200)
        .ue(0)
        .ue(0);
    let (nal, end) = finish(w);
    let slice = s.unit(&nal).unwrap().1.unwrap();
    assert_eq!((slice.slice_type, slice.first_block), (SliceType::B, 200));
    assert_eq!(slice.end_bit, end);
}

#[test]
fn bad_alignment_unknown_pps_and_bad_addresses_are_malformed() {
    let mut s = sets();
    let mut w = BitWriter::new();
    w.u(16, 0x2601)
        .flag(true)
        .flag(false)
        .ue(1)
        .ue(2)
        .flag(true)
        .flag(false)
        .se(2);
    w.flag(true).flag(true).align(true); // 1 then ones instead of zeros
    let err = s.unit(&w.bytes()).unwrap_err();
    assert!(err.to_string().contains("byte_alignment"), "{err}");

    let mut w = BitWriter::new();
    w.u(16, 0x2601).flag(true).flag(false).ue(5).u(8, 0xff);
    let err = s.unit(&w.bytes()).unwrap_err();
    assert!(err.to_string().contains("PPS 5"), "{err}");

    let mut w = BitWriter::new();
    w.u(16, 0x0201).flag(false).ue(1).u(8, 250).u(16, 0xffff);
    let err = s.unit(&w.bytes()).unwrap_err();
    assert!(
        err.to_string().contains("slice_segment_address 250"),
        "{err}"
    );

    // a dependent segment with no independent one before it
    let mut fresh = sets();
    let mut w = BitWriter::new();
    w.u(16, 0x0001)
        .flag(false)
        .ue(0)
        .flag(true)
        .u(8, 20)
        .ue(0)
        .ue(0)
        .flag(true);
    let err = fresh.unit(&w.align(false).bytes()).unwrap_err();
    assert!(matches!(err, Error::Malformed { .. }), "{err}");

    assert!(s.unit(&[0x02]).is_err());
    assert!(s.unit(&[0x02, 0x01]).is_err());
}

#[test]
fn layers_reserved_types_and_other_units() {
    let mut s = sets();
    // nuh_layer_id 1
    let err = s.unit(&[0x02, 0x09, 0xff]).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    // RSV_VCL_N10
    let err = s.unit(&[0x14, 0x01, 0xff]).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    // AUD, prefix SEI, VPS, an SPS of layer 1: kept clear, not parsed
    for unit in [
        &[0x46u8, 0x01, 0x50][..],
        &[0x4e, 0x01, 0x05],
        &[0x40, 0x01],
        &[0x42, 0x09],
    ] {
        assert_eq!(s.unit(unit).unwrap().1, None);
    }
}
