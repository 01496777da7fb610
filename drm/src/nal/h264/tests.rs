//! Hand-made H.264 parameter sets and slices: the reader must stop exactly where the writer
//! stopped writing the slice header, and refuse what it cannot read.

use crate::error::Error;
use crate::nal::bit_writer::{escape, BitWriter};
use crate::nal::h264::ParameterSets;
use crate::nal::{HeaderAlignment, SliceType};

/// Bytes of made-up slice data after each header.
const DATA: [u8; 40] = [0x5a; 40];

/// Baseline SPS 0: 4-bit frame_num, POC type 0 with 6-bit lsb, frames only.
fn sps_baseline() -> Vec<u8> {
    let mut w = BitWriter::new();
    w.u(8, 0x67).u(8, 66).u(8, 0xc0).u(8, 30).ue(0);
    w.ue(0).ue(0).ue(2); // log2_max_frame_num_minus4, poc type 0, lsb minus4
    w.ue(1).flag(false).ue(19).ue(10).flag(true); // refs, gaps, size, frame_mbs_only
    w.flag(true).flag(false).flag(false).flag(true); // direct_8x8, cropping, vui, stop bit
    escape(&w.align(false).bytes())
}

/// High SPS 1: scaling matrices, 16-bit frame_num, POC type 1, fields allowed (PAFF).
fn sps_high_fields() -> Vec<u8> {
    let mut w = BitWriter::new();
    w.u(8, 0x67).u(8, 100).u(8, 0).u(8, 40).ue(1);
    w.ue(1).ue(0).ue(0).flag(false); // chroma 4:2:0, 8-bit, no bypass
    w.flag(true); // seq_scaling_matrix_present_flag
    for i in 0..8 {
        w.flag(i == 0 || i == 6);
        if i == 0 {
            // a 4x4 list: one delta then zeros repeating the last scale
            w.se(8);
            for _ in 1..16 {
                w.se(0);
            }
        } else if i == 6 {
            w.se(-8); // next scale 0: use the default list, nothing more
        }
    }
    w.ue(12).ue(1); // log2_max_frame_num 16, poc type 1
    w.flag(false).se(-2).se(1).ue(2).se(2).se(-3); // poc type 1 fields, cycle of 2
    w.ue(4).flag(false).ue(119).ue(33).flag(false).flag(true); // fields + MBAFF
    w.flag(true).flag(false).flag(false).flag(true);
    escape(&w.align(false).bytes())
}

#[derive(Clone, Copy, Default)]
struct PpsOptions {
    id: u32,
    sps_id: u32,
    cabac: bool,
    bottom_field_pic_order: bool,
    l0_default_minus1: u32,
    l1_default_minus1: u32,
    weighted_pred: bool,
    weighted_bipred_idc: u64,
    deblocking_control: bool,
    redundant_pic_cnt: bool,
}

fn pps(o: PpsOptions) -> Vec<u8> {
    let mut w = BitWriter::new();
    w.u(8, 0x68)
        .ue(o.id)
        .ue(o.sps_id)
        .flag(o.cabac)
        .flag(o.bottom_field_pic_order);
    w.ue(0).ue(o.l0_default_minus1).ue(o.l1_default_minus1);
    w.flag(o.weighted_pred)
        .u(2, o.weighted_bipred_idc)
        .se(0)
        .se(0)
        .se(-2);
    w.flag(o.deblocking_control)
        .flag(false)
        .flag(o.redundant_pic_cnt);
    w.flag(true);
    escape(&w.align(false).bytes())
}

/// Ends a slice header: returns the escaped NAL unit and the header's end in RBSP bits.
fn finish(mut w: BitWriter, cabac: bool) -> (Vec<u8>, usize) {
    let end = w.len();
    if cabac {
        w.align(true);
    }
    for b in DATA {
        w.u(8, u64::from(b));
    }
    (escape(&w.bytes()), end)
}

fn sets(units: &[Vec<u8>]) -> ParameterSets {
    let mut sets = ParameterSets::default();
    for u in units {
        sets.unit(u).unwrap();
    }
    sets
}

#[test]
fn cavlc_idr_slice_ends_mid_byte() {
    let pps0 = pps(PpsOptions {
        deblocking_control: true,
        ..Default::default()
    });
    let mut s = sets(&[sps_baseline(), pps0]);
    let mut w = BitWriter::new();
    w.u(8, 0x65).ue(0).ue(7).ue(0); // first_mb, I (all I), pps 0
    w.u(4, 0).ue(3).u(6, 0); // frame_num, idr_pic_id, poc lsb
    w.flag(false).flag(false); // dec_ref_pic_marking (IDR)
    w.se(-3).ue(0).se(1).se(-1); // qp delta, deblocking idc 0, alpha, beta
    let (nal, end) = finish(w, false);
    let (nal_type, slice) = s.unit(&nal).unwrap();
    let slice = slice.unwrap();
    assert_eq!(nal_type, 5);
    assert_eq!(slice.slice_type, SliceType::I);
    assert_eq!(slice.alignment, HeaderAlignment::None);
    assert_eq!(slice.end_bit, end);
    assert_ne!(end % 8, 0, "the test wants a header ending mid-byte");
    assert_eq!(slice.data_offset, end.div_ceil(8));
}

#[test]
fn cabac_p_slice_with_weights_modifications_and_marking() {
    let pps1 = pps(PpsOptions {
        id: 1,
        cabac: true,
        weighted_pred: true,
        l0_default_minus1: 2,
        deblocking_control: true,
        ..Default::default()
    });
    let mut s = sets(&[sps_baseline(), pps1]);
    let mut w = BitWriter::new();
    w.u(8, 0x41).ue(30).ue(0).ue(1); // nal_ref_idc 2, first_mb 30, P, pps 1
    w.u(4, 5).u(6, 10); // frame_num, poc lsb
    w.flag(true).ue(1); // override: 2 references
    w.flag(true).ue(0).ue(0).ue(2).ue(1).ue(3); // ref_pic_list_modification l0
    w.ue(5).ue(3); // luma/chroma log2 denominators
    for i in 0..2 {
        w.flag(i == 1);
        if i == 1 {
            w.se(-3).se(4);
        }
        w.flag(i == 0);
        if i == 0 {
            w.se(1).se(2).se(-1).se(0);
        }
    }
    w.flag(true).ue(1).ue(0).ue(6).ue(2).ue(4).ue(2).ue(0); // adaptive marking
    w.ue(2).se(4).ue(1); // cabac_init_idc, qp delta, deblocking off
    let (nal, end) = finish(w, true);
    let slice = s.unit(&nal).unwrap().1.unwrap();
    assert_eq!(slice.slice_type, SliceType::P);
    assert_eq!(slice.first_block, 30);
    assert_eq!(slice.alignment, HeaderAlignment::CabacOnes);
    assert_eq!(slice.end_bit, end);
    assert_eq!(slice.data_offset, end.div_ceil(8));
}

#[test]
fn b_slices_with_poc_type_1_fields_and_explicit_bipred_weights() {
    let pps7 = pps(PpsOptions {
        id: 7,
        sps_id: 1,
        bottom_field_pic_order: true,
        weighted_bipred_idc: 1,
        redundant_pic_cnt: true,
        ..Default::default()
    });
    let mut s = sets(&[sps_high_fields(), pps7]);
    // the rest of a B slice header after the POC fields
    let tail = |w: &mut BitWriter| {
        w.ue(1).flag(true).flag(false); // redundant_pic_cnt, direct spatial, no override
        w.flag(false).flag(false); // no list modifications
        w.ue(0).ue(0).flag(true).se(1).se(0).flag(false); // weights: l0 (1 ref)
        w.flag(false).flag(true).se(2).se(2).se(3).se(3); // l1 (1 ref)
        w.se(0); // qp delta
    };
    // a frame: both POC deltas; pps 7's trailing zeros, frame_num 0, field_pic_flag 0 and
    // se(-2) make 00 00 02, stored with an emulation prevention byte inside the header
    let mut w = BitWriter::new();
    w.u(8, 0x01).ue(0).ue(1).ue(7); // non-reference, B, pps 7
    w.u(16, 0).flag(false).se(-2).se(1);
    tail(&mut w);
    let (nal, end) = finish(w, false);
    assert_eq!(&nal[2..6], &[0, 0, 3, 2]);
    let slice = s.unit(&nal).unwrap().1.unwrap();
    assert_eq!(slice.slice_type, SliceType::B);
    assert_eq!(slice.end_bit, end + 8);
    assert_eq!(slice.data_offset, (end + 8).div_ceil(8));
    // a bottom field: delta_pic_order_cnt[0] only
    let mut w = BitWriter::new();
    w.u(8, 0x01).ue(0).ue(6).ue(7); // B (all B)
    w.u(16, 0xffff).flag(true).flag(true).se(3);
    tail(&mut w);
    let (nal, end) = finish(w, false);
    let slice = s.unit(&nal).unwrap().1.unwrap();
    assert_eq!(slice.slice_type, SliceType::B);
    assert_eq!(slice.end_bit, end);
}

#[test]
fn a_cabac_header_not_followed_by_one_bits_is_refused() {
    let mut s = sets(&[
        sps_baseline(),
        pps(PpsOptions {
            cabac: true,
            ..Default::default()
        }),
    ]);
    let mut w = BitWriter::new();
    w.u(8, 0x65)
        .ue(0)
        .ue(2)
        .ue(0)
        .u(4, 0)
        .ue(0)
        .u(6, 0)
        .flag(false)
        .flag(false)
        .se(0);
    w.align(false);
    w.u(8, 0xff);
    let err = s.unit(&escape(&w.bytes())).unwrap_err();
    assert!(err.to_string().contains("cabac_alignment_one_bit"), "{err}");
}

#[test]
fn unknown_parameter_sets_are_malformed() {
    let mut s = sets(&[sps_baseline()]);
    let mut w = BitWriter::new();
    w.u(8, 0x65).ue(0).ue(2).ue(3).u(8, 0);
    let err = s.unit(&w.bytes()).unwrap_err();
    assert!(matches!(err, Error::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("PPS 3"), "{err}");
    // a PPS naming an SPS never seen
    let mut s = sets(&[pps(PpsOptions {
        sps_id: 4,
        ..Default::default()
    })]);
    let mut w = BitWriter::new();
    w.u(8, 0x65).ue(0).ue(2).ue(0).u(8, 0);
    let err = s.unit(&w.bytes()).unwrap_err();
    assert!(err.to_string().contains("SPS 4"), "{err}");
}

#[test]
fn truncated_and_out_of_range_headers_are_malformed() {
    let mut s = sets(&[sps_baseline(), pps(PpsOptions::default())]);
    let mut w = BitWriter::new();
    w.u(8, 0x41).ue(0).ue(0).ue(0).u(4, 0);
    let err = s.unit(&w.bytes()).unwrap_err();
    assert!(err.to_string().contains("ends while reading"), "{err}");
    // 33 active references
    let mut w = BitWriter::new();
    w.u(8, 0x41)
        .ue(0)
        .ue(0)
        .ue(0)
        .u(4, 0)
        .u(6, 0)
        .flag(true)
        .ue(32);
    w.u(32, u64::MAX);
    let err = s.unit(&w.bytes()).unwrap_err();
    assert!(
        err.to_string()
            .contains("num_ref_idx_l0_active_minus1 is 32"),
        "{err}"
    );
    // slice_type 10
    let mut w = BitWriter::new();
    w.u(8, 0x41).ue(0).ue(10).u(16, 0xffff);
    assert!(matches!(s.unit(&w.bytes()), Err(Error::Malformed { .. })));
    // forbidden_zero_bit
    assert!(s.unit(&[0x85, 0xff]).is_err());
}

#[test]
fn slice_groups_partitions_and_mvc_are_unsupported() {
    let mut w = BitWriter::new();
    w.u(8, 0x68).ue(0).ue(0).flag(false).flag(false).ue(1).ue(0);
    let fmo = escape(&w.align(false).bytes());
    let mut s = ParameterSets::default();
    assert!(matches!(s.unit(&fmo), Err(Error::Unsupported { .. })));
    assert!(matches!(
        s.unit(&[0x42, 0x80]),
        Err(Error::Unsupported { .. })
    ));
    assert!(matches!(
        s.unit(&[0x74, 0x80, 0, 0, 0xff]),
        Err(Error::Unsupported { .. })
    ));
}

#[test]
fn non_slice_units_are_not_parsed() {
    let mut s = ParameterSets::default();
    for unit in [
        &[0x06u8, 0x05, 0xff][..],
        &[0x09, 0xf0],
        &[0x0c, 0xff, 0xff],
        &[0x0d],
    ] {
        let (nal_type, slice) = s.unit(unit).unwrap();
        assert_eq!(slice, None, "type {nal_type}");
    }
}
