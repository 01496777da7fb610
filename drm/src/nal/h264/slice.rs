//! The H.264 slice header (7.3.3) with its reference list modification (7.3.3.1), prediction
//! weight table (7.3.3.2) and decoded reference picture marking (7.3.3.3), read to find
//! where the slice data starts.

use crate::error::Result;
use crate::nal::bits::BitReader;
use crate::nal::h264::{Pps, Sps};
use crate::nal::{HeaderAlignment, SliceHeader, SliceType};

/// Reads the header of a slice NAL unit (`nal_unit_type` 1 or 5, header byte included);
/// `lookup` finds the PPS (and its SPS) a `pic_parameter_set_id` names.
pub(crate) fn parse<'s>(
    nal: &[u8],
    nal_type: u8,
    nal_ref_idc: u8,
    lookup: impl FnOnce(u32) -> Result<(&'s Sps, &'s Pps)>,
) -> Result<SliceHeader> {
    let mut r = BitReader::new(nal, "H.264 slice header");
    r.skip(8, "nal_unit_header")?;
    let first_block = r.ue("first_mb_in_slice")?;
    let raw_type = r.ue_max("slice_type", 9)?;
    let slice_type = match raw_type % 5 {
        0 => SliceType::P,
        1 => SliceType::B,
        2 => SliceType::I,
        3 => SliceType::Sp,
        _ => SliceType::Si,
    };
    let pps_id = r.ue_max("pic_parameter_set_id", 255)?;
    let (sps, pps) = lookup(pps_id)?;
    if sps.separate_colour_plane {
        r.skip(2, "colour_plane_id")?;
    }
    r.skip(u64::from(sps.log2_max_frame_num), "frame_num")?;
    let mut field_pic = false;
    if !sps.frame_mbs_only {
        field_pic = r.flag("field_pic_flag")?;
        if field_pic {
            r.flag("bottom_field_flag")?;
        }
    }
    let idr = nal_type == 5;
    if idr {
        r.ue_max("idr_pic_id", 65535)?;
    }
    let bottom_present = pps.bottom_field_pic_order_in_frame_present && !field_pic;
    if sps.pic_order_cnt_type == 0 {
        r.skip(
            u64::from(sps.log2_max_pic_order_cnt_lsb),
            "pic_order_cnt_lsb",
        )?;
        if bottom_present {
            r.se("delta_pic_order_cnt_bottom")?;
        }
    }
    if sps.pic_order_cnt_type == 1 && !sps.delta_pic_order_always_zero {
        r.se("delta_pic_order_cnt[0]")?;
        if bottom_present {
            r.se("delta_pic_order_cnt[1]")?;
        }
    }
    if pps.redundant_pic_cnt_present {
        r.ue_max("redundant_pic_cnt", 127)?;
    }
    let b = slice_type == SliceType::B;
    let p_like = matches!(slice_type, SliceType::P | SliceType::Sp);
    if b {
        r.flag("direct_spatial_mv_pred_flag")?;
    }
    let mut l0 = u32::from(pps.num_ref_idx_l0_default_active_minus1);
    let mut l1 = u32::from(pps.num_ref_idx_l1_default_active_minus1);
    if (p_like || b) && r.flag("num_ref_idx_active_override_flag")? {
        l0 = r.ue_max("num_ref_idx_l0_active_minus1", 31)?;
        if b {
            l1 = r.ue_max("num_ref_idx_l1_active_minus1", 31)?;
        }
    }
    if p_like || b {
        ref_pic_list_modification(&mut r, l0)?;
    }
    if b {
        ref_pic_list_modification(&mut r, l1)?;
    }
    if (pps.weighted_pred && p_like) || (pps.weighted_bipred_idc == 1 && b) {
        pred_weight_table(&mut r, sps.chroma_array_type, l0, b.then_some(l1))?;
    }
    if nal_ref_idc != 0 {
        dec_ref_pic_marking(&mut r, idr)?;
    }
    if pps.entropy_coding_mode && (p_like || b) {
        r.ue_max("cabac_init_idc", 2)?;
    }
    r.se_range("slice_qp_delta", -87, 87)?;
    if matches!(slice_type, SliceType::Sp | SliceType::Si) {
        if slice_type == SliceType::Sp {
            r.flag("sp_for_switch_flag")?;
        }
        r.se_range("slice_qs_delta", -51, 51)?;
    }
    if pps.deblocking_filter_control_present {
        let idc = r.ue_max("disable_deblocking_filter_idc", 6)?;
        if idc != 1 {
            r.se_range("slice_alpha_c0_offset_div2", -6, 6)?;
            r.se_range("slice_beta_offset_div2", -6, 6)?;
        }
    }
    // slice_group_change_cycle is only present with slice groups, which Pps rejects.
    let end_bit = r.escaped_bit_position();
    let alignment = if pps.entropy_coding_mode {
        while !r.byte_aligned() {
            if !r.flag("cabac_alignment_one_bit")? {
                return Err(r.malformed(format!(
                    "cabac_alignment_one_bit at bit {} is 0: the slice header does not end \
                     where its PPS {pps_id} and SPS {} say",
                    r.escaped_bit_position() - 1,
                    sps.id
                )));
            }
        }
        HeaderAlignment::CabacOnes
    } else {
        HeaderAlignment::None
    };
    Ok(SliceHeader {
        slice_type,
        first_block,
        end_bit,
        data_offset: end_bit.div_ceil(8),
        alignment,
    })
}

/// `ref_pic_list_modification()` for one list of `num_ref_idx_minus1 + 1` entries.
fn ref_pic_list_modification(r: &mut BitReader<'_>, num_ref_idx_minus1: u32) -> Result<()> {
    if !r.flag("ref_pic_list_modification_flag")? {
        return Ok(());
    }
    let mut ops = 0u32;
    loop {
        let idc = r.ue_max("modification_of_pic_nums_idc", 3)?;
        match idc {
            0 | 1 => {
                r.ue("abs_diff_pic_num_minus1")?;
            }
            2 => {
                r.ue("long_term_pic_num")?;
            }
            _ => return Ok(()),
        }
        ops += 1;
        if ops > num_ref_idx_minus1 + 1 {
            return Err(r.malformed(format!(
                "more reference list modifications than the {} active references",
                num_ref_idx_minus1 + 1
            )));
        }
    }
}

/// `pred_weight_table()`; `l1` is the size of list 1 for B slices.
fn pred_weight_table(
    r: &mut BitReader<'_>,
    chroma_array_type: u8,
    l0: u32,
    l1: Option<u32>,
) -> Result<()> {
    r.ue_max("luma_log2_weight_denom", 7)?;
    if chroma_array_type != 0 {
        r.ue_max("chroma_log2_weight_denom", 7)?;
    }
    for minus1 in std::iter::once(l0).chain(l1) {
        for _ in 0..=minus1 {
            if r.flag("luma_weight_flag")? {
                r.se_range("luma_weight", -128, 127)?;
                r.se_range("luma_offset", -128, 127)?;
            }
            if chroma_array_type != 0 && r.flag("chroma_weight_flag")? {
                for _ in 0..2 {
                    r.se_range("chroma_weight", -128, 127)?;
                    r.se_range("chroma_offset", -128, 127)?;
                }
            }
        }
    }
    Ok(())
}

/// `dec_ref_pic_marking()`.
fn dec_ref_pic_marking(r: &mut BitReader<'_>, idr: bool) -> Result<()> {
    if idr {
        r.flag("no_output_of_prior_pics_flag")?;
        r.flag("long_term_reference_flag")?;
        return Ok(());
    }
    if !r.flag("adaptive_ref_pic_marking_mode_flag")? {
        return Ok(());
    }
    for _ in 0..100 {
        let op = r.ue_max("memory_management_control_operation", 6)?;
        if op == 0 {
            return Ok(());
        }
        if op == 1 || op == 3 {
            r.ue("difference_of_pic_nums_minus1")?;
        }
        if op == 2 {
            r.ue("long_term_pic_num")?;
        }
        if op == 3 || op == 6 {
            r.ue("long_term_frame_idx")?;
        }
        if op == 4 {
            r.ue("max_long_term_frame_idx_plus1")?;
        }
    }
    Err(r.malformed("more than 100 memory management control operations"))
}
