//! The HEVC sequence parameter set (H.265 7.3.2.2), read up to
//! `sps_temporal_mvp_enabled_flag`: all a slice segment header depends on.

use crate::error::Result;
use crate::nal::bits::{ceil_log2, BitReader};
use crate::nal::hevc::rps::ShortTermRps;
use crate::nal::hevc::skipped::{profile_tier_level, scaling_list_data};

/// What slice segment headers need from an SPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sps {
    pub(crate) id: u8,
    pub(crate) separate_colour_plane: bool,
    /// `ChromaArrayType`: 0 (monochrome or separate planes), 1, 2 or 3.
    pub(crate) chroma_array_type: u8,
    /// Bits of `slice_segment_address`: Ceil(Log2(PicSizeInCtbsY)).
    pub(crate) slice_address_bits: u32,
    /// `PicSizeInCtbsY`.
    pub(crate) pic_size_in_ctbs: u64,
    pub(crate) log2_max_pic_order_cnt_lsb: u8,
    pub(crate) sample_adaptive_offset: bool,
    pub(crate) short_term_rps: Vec<ShortTermRps>,
    pub(crate) long_term_ref_pics_present: bool,
    /// `used_by_curr_pic_lt_sps_flag` of each `lt_ref_pic_poc_lsb_sps`.
    pub(crate) long_term_used: Vec<bool>,
    pub(crate) temporal_mvp: bool,
}

/// `general_profile_idc` of the screen content coding profiles, whose slice headers carry
/// syntax this reader does not handle.
const SCC_PROFILES: [u8; 2] = [9, 11];

impl Sps {
    /// Parses an SPS NAL unit (2-byte header included, `nuh_layer_id` 0).
    pub(crate) fn parse(nal: &[u8]) -> Result<Sps> {
        let mut r = BitReader::new(nal, "HEVC SPS");
        r.skip(16, "nal_unit_header")?;
        r.skip(4, "sps_video_parameter_set_id")?;
        let max_sub_layers_minus1 = r.bits(3, "sps_max_sub_layers_minus1")?;
        if max_sub_layers_minus1 > 6 {
            return Err(r.malformed("sps_max_sub_layers_minus1 is 7"));
        }
        r.flag("sps_temporal_id_nesting_flag")?;
        let profile = profile_tier_level(&mut r, max_sub_layers_minus1)?;
        if SCC_PROFILES.contains(&profile) {
            return Err(r.unsupported(format!(
                "screen content coding profile (general_profile_idc {profile})"
            )));
        }
        let id = r.ue_max("sps_seq_parameter_set_id", 15)?;
        let chroma_format_idc = r.ue_max("chroma_format_idc", 3)?;
        let separate_colour_plane =
            chroma_format_idc == 3 && r.flag("separate_colour_plane_flag")?;
        let width = r.ue_max("pic_width_in_luma_samples", 1 << 16)?;
        let height = r.ue_max("pic_height_in_luma_samples", 1 << 16)?;
        if r.flag("conformance_window_flag")? {
            for side in ["left", "right", "top", "bottom"] {
                r.ue(&format!("conf_win_{side}_offset"))?;
            }
        }
        r.ue_max("bit_depth_luma_minus8", 8)?;
        r.ue_max("bit_depth_chroma_minus8", 8)?;
        let log2_max_pic_order_cnt_lsb = r.ue_max("log2_max_pic_order_cnt_lsb_minus4", 12)? + 4;
        let ordering_all = r.flag("sps_sub_layer_ordering_info_present_flag")?;
        let first = if ordering_all {
            0
        } else {
            max_sub_layers_minus1
        };
        for _ in first..=max_sub_layers_minus1 {
            r.ue_max("sps_max_dec_pic_buffering_minus1", 15)?;
            r.ue_max("sps_max_num_reorder_pics", 15)?;
            r.ue("sps_max_latency_increase_plus1")?;
        }
        let min_cb_log2 = r.ue_max("log2_min_luma_coding_block_size_minus3", 3)? + 3;
        let ctb_log2 = min_cb_log2 + r.ue_max("log2_diff_max_min_luma_coding_block_size", 3)?;
        if ctb_log2 > 6 {
            return Err(r.malformed(format!("coding tree blocks of 2^{ctb_log2} samples")));
        }
        r.ue_max("log2_min_luma_transform_block_size_minus2", 3)?;
        r.ue_max("log2_diff_max_min_luma_transform_block_size", 3)?;
        r.ue_max("max_transform_hierarchy_depth_inter", 4)?;
        r.ue_max("max_transform_hierarchy_depth_intra", 4)?;
        if r.flag("scaling_list_enabled_flag")? && r.flag("sps_scaling_list_data_present_flag")? {
            scaling_list_data(&mut r)?;
        }
        r.flag("amp_enabled_flag")?;
        let sample_adaptive_offset = r.flag("sample_adaptive_offset_enabled_flag")?;
        if r.flag("pcm_enabled_flag")? {
            r.skip(8, "pcm_sample_bit_depth_luma_minus1 and chroma_minus1")?;
            r.ue_max("log2_min_pcm_luma_coding_block_size_minus3", 2)?;
            r.ue_max("log2_diff_max_min_pcm_luma_coding_block_size", 2)?;
            r.flag("pcm_loop_filter_disabled_flag")?;
        }
        let num_sets = r.ue_max("num_short_term_ref_pic_sets", 64)? as usize;
        let mut short_term_rps = Vec::with_capacity(num_sets);
        for i in 0..num_sets {
            let set = ShortTermRps::parse(&mut r, i, num_sets, &short_term_rps)?;
            short_term_rps.push(set);
        }
        let long_term_ref_pics_present = r.flag("long_term_ref_pics_present_flag")?;
        let mut long_term_used = Vec::new();
        if long_term_ref_pics_present {
            let n = r.ue_max("num_long_term_ref_pics_sps", 32)?;
            for _ in 0..n {
                r.skip(
                    u64::from(log2_max_pic_order_cnt_lsb),
                    "lt_ref_pic_poc_lsb_sps",
                )?;
                long_term_used.push(r.flag("used_by_curr_pic_lt_sps_flag")?);
            }
        }
        let temporal_mvp = r.flag("sps_temporal_mvp_enabled_flag")?;
        let ctb = 1u64 << ctb_log2;
        let pic_size_in_ctbs = u64::from(width).div_ceil(ctb) * u64::from(height).div_ceil(ctb);
        Ok(Sps {
            id: u8::try_from(id).unwrap_or(u8::MAX),
            separate_colour_plane,
            chroma_array_type: if separate_colour_plane {
                0
            } else {
                u8::try_from(chroma_format_idc).unwrap_or(u8::MAX)
            },
            slice_address_bits: ceil_log2(pic_size_in_ctbs),
            pic_size_in_ctbs,
            log2_max_pic_order_cnt_lsb: u8::try_from(log2_max_pic_order_cnt_lsb).unwrap_or(u8::MAX),
            sample_adaptive_offset,
            short_term_rps,
            long_term_ref_pics_present,
            long_term_used,
            temporal_mvp,
        })
    }
}
