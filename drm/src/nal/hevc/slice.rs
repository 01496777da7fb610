//! The HEVC slice segment header (H.265 7.3.6.1), read through its `byte_alignment()` to
//! find where the slice segment data starts.

use crate::error::Result;
use crate::nal::bits::{ceil_log2, BitReader};
use crate::nal::hevc::refs::{long_term_refs, pred_weight_table, ref_pic_lists_modification};
use crate::nal::hevc::rps::ShortTermRps;
use crate::nal::hevc::{Pps, Sps};
use crate::nal::{HeaderAlignment, SliceHeader, SliceType};

/// Reads the header of a slice segment NAL unit (`nal_unit_type` 0 to 21, 2-byte header
/// included). `lookup` finds the PPS (and its SPS) a `slice_pic_parameter_set_id` names;
/// `previous` is the type of the last independent slice segment, which a dependent one
/// takes.
pub(crate) fn parse<'s>(
    nal: &[u8],
    nal_type: u8,
    lookup: impl FnOnce(u32) -> Result<(&'s Sps, &'s Pps)>,
    previous: Option<SliceType>,
) -> Result<SliceHeader> {
    let mut r = BitReader::new(nal, "HEVC slice segment header");
    r.skip(16, "nal_unit_header")?;
    let first_in_pic = r.flag("first_slice_segment_in_pic_flag")?;
    if (16..=23).contains(&nal_type) {
        r.flag("no_output_of_prior_pics_flag")?;
    }
    let pps_id = r.ue_max("slice_pic_parameter_set_id", 63)?;
    let (sps, pps) = lookup(pps_id)?;
    let mut dependent = false;
    let mut first_block = 0;
    if !first_in_pic {
        if pps.dependent_slice_segments_enabled {
            dependent = r.flag("dependent_slice_segment_flag")?;
        }
        first_block = r.bits(sps.slice_address_bits, "slice_segment_address")?;
        if u64::from(first_block) >= sps.pic_size_in_ctbs {
            return Err(r.malformed(format!(
                "slice_segment_address {first_block} is past the {} CTBs of the picture",
                sps.pic_size_in_ctbs
            )));
        }
    }
    let slice_type = if dependent {
        previous.ok_or_else(|| {
            r.malformed("a dependent slice segment without an independent one before it")
        })?
    } else {
        independent_fields(&mut r, nal_type, sps, pps)?
    };
    if pps.entry_points {
        let n = r.ue("num_entry_point_offsets")?;
        if u64::from(n) >= sps.pic_size_in_ctbs {
            return Err(r.malformed(format!(
                "{n} entry points for a picture of {} CTBs",
                sps.pic_size_in_ctbs
            )));
        }
        if n > 0 {
            let len = r.ue_max("offset_len_minus1", 31)? + 1;
            r.skip(u64::from(n) * u64::from(len), "entry_point_offset_minus1")?;
        }
    }
    if pps.slice_segment_header_extension_present {
        let len = r.ue_max("slice_segment_header_extension_length", 256)?;
        r.skip(
            u64::from(len) * 8,
            "slice_segment_header_extension_data_byte",
        )?;
    }
    let end_bit = r.escaped_bit_position();
    if !r.flag("alignment_bit_equal_to_one")? {
        return Err(misaligned(&r, end_bit, pps_id, sps.id));
    }
    while !r.byte_aligned() {
        if r.flag("alignment_bit_equal_to_zero")? {
            return Err(misaligned(&r, end_bit, pps_id, sps.id));
        }
    }
    Ok(SliceHeader {
        slice_type,
        first_block,
        end_bit,
        data_offset: r.escaped_bit_position() / 8,
        alignment: HeaderAlignment::ByteAlignment,
    })
}

/// The fields only an independent slice segment carries; returns its slice type.
fn independent_fields(
    r: &mut BitReader<'_>,
    nal_type: u8,
    sps: &Sps,
    pps: &Pps,
) -> Result<SliceType> {
    r.skip(
        u64::from(pps.num_extra_slice_header_bits),
        "slice_reserved_flag",
    )?;
    let slice_type = match r.ue_max("slice_type", 2)? {
        0 => SliceType::B,
        1 => SliceType::P,
        _ => SliceType::I,
    };
    if pps.output_flag_present {
        r.flag("pic_output_flag")?;
    }
    if sps.separate_colour_plane {
        r.skip(2, "colour_plane_id")?;
    }
    let mut temporal_mvp = false;
    let mut num_pic_total_curr = 0;
    if nal_type != 19 && nal_type != 20 {
        r.skip(
            u64::from(sps.log2_max_pic_order_cnt_lsb),
            "slice_pic_order_cnt_lsb",
        )?;
        let in_slice;
        let short_term = if !r.flag("short_term_ref_pic_set_sps_flag")? {
            let count = sps.short_term_rps.len();
            in_slice = ShortTermRps::parse(r, count, count, &sps.short_term_rps)?;
            &in_slice
        } else {
            let count = sps.short_term_rps.len();
            let idx = r.bits(ceil_log2(count as u64), "short_term_ref_pic_set_idx")?;
            sps.short_term_rps.get(idx as usize).ok_or_else(|| {
                r.malformed(format!("short_term_ref_pic_set_idx {idx} of {count} sets"))
            })?
        };
        num_pic_total_curr = short_term.used_by_curr();
        if sps.long_term_ref_pics_present {
            num_pic_total_curr += long_term_refs(r, sps)?;
        }
        if sps.temporal_mvp {
            temporal_mvp = r.flag("slice_temporal_mvp_enabled_flag")?;
        }
    }
    let mut sao = false;
    if sps.sample_adaptive_offset {
        sao = r.flag("slice_sao_luma_flag")?;
        if sps.chroma_array_type != 0 {
            sao |= r.flag("slice_sao_chroma_flag")?;
        }
    }
    if slice_type != SliceType::I {
        inter_fields(r, slice_type, sps, pps, temporal_mvp, num_pic_total_curr)?;
    }
    r.se_range("slice_qp_delta", -87, 87)?;
    if pps.slice_chroma_qp_offsets_present {
        r.se_range("slice_cb_qp_offset", -12, 12)?;
        r.se_range("slice_cr_qp_offset", -12, 12)?;
    }
    if pps.chroma_qp_offset_list_enabled {
        r.flag("cu_chroma_qp_offset_enabled_flag")?;
    }
    let mut deblocking_disabled = pps.deblocking_filter_disabled;
    if pps.deblocking_filter_override_enabled && r.flag("deblocking_filter_override_flag")? {
        deblocking_disabled = r.flag("slice_deblocking_filter_disabled_flag")?;
        if !deblocking_disabled {
            r.se_range("slice_beta_offset_div2", -6, 6)?;
            r.se_range("slice_tc_offset_div2", -6, 6)?;
        }
    }
    if pps.loop_filter_across_slices_enabled && (sao || !deblocking_disabled) {
        r.flag("slice_loop_filter_across_slices_enabled_flag")?;
    }
    Ok(slice_type)
}

/// The P and B slice fields from `num_ref_idx_active_override_flag` to
/// `five_minus_max_num_merge_cand`.
fn inter_fields(
    r: &mut BitReader<'_>,
    slice_type: SliceType,
    sps: &Sps,
    pps: &Pps,
    temporal_mvp: bool,
    num_pic_total_curr: u32,
) -> Result<()> {
    let b = slice_type == SliceType::B;
    let mut l0 = u32::from(pps.num_ref_idx_l0_default_active_minus1);
    let mut l1 = u32::from(pps.num_ref_idx_l1_default_active_minus1);
    if r.flag("num_ref_idx_active_override_flag")? {
        l0 = r.ue_max("num_ref_idx_l0_active_minus1", 14)?;
        if b {
            l1 = r.ue_max("num_ref_idx_l1_active_minus1", 14)?;
        }
    }
    if pps.lists_modification_present && num_pic_total_curr > 1 {
        ref_pic_lists_modification(r, num_pic_total_curr, l0, b.then_some(l1))?;
    }
    if b {
        r.flag("mvd_l1_zero_flag")?;
    }
    if pps.cabac_init_present {
        r.flag("cabac_init_flag")?;
    }
    if temporal_mvp {
        let from_l0 = !b || r.flag("collocated_from_l0_flag")?;
        if (from_l0 && l0 > 0) || (!from_l0 && l1 > 0) {
            r.ue_max("collocated_ref_idx", if from_l0 { l0 } else { l1 })?;
        }
    }
    if (pps.weighted_pred && !b) || (pps.weighted_bipred && b) {
        pred_weight_table(r, sps.chroma_array_type, l0, b.then_some(l1))?;
    }
    r.ue_max("five_minus_max_num_merge_cand", 4)?;
    Ok(())
}

fn misaligned(r: &BitReader<'_>, end_bit: usize, pps_id: u32, sps_id: u8) -> crate::Error {
    r.malformed(format!(
        "byte_alignment() after the header (from bit {end_bit}) is not a 1 then 0s: the \
         header does not end where its PPS {pps_id} and SPS {sps_id} say"
    ))
}
