//! The H.264 sequence parameter set (7.3.2.1.1), read up to `frame_mbs_only_flag`: all a
//! slice header depends on.

use crate::error::Result;
use crate::nal::bits::BitReader;

/// What slice headers need from an SPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sps {
    pub(crate) id: u8,
    pub(crate) separate_colour_plane: bool,
    /// `ChromaArrayType`: 0 (monochrome or separate planes), 1, 2 or 3.
    pub(crate) chroma_array_type: u8,
    pub(crate) log2_max_frame_num: u8,
    pub(crate) pic_order_cnt_type: u8,
    pub(crate) log2_max_pic_order_cnt_lsb: u8,
    pub(crate) delta_pic_order_always_zero: bool,
    pub(crate) frame_mbs_only: bool,
}

/// Profiles whose SPS carries chroma format, bit depths and scaling matrices.
const HIGH_PROFILES: [u8; 13] = [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135];

impl Sps {
    /// Parses an SPS NAL unit (header byte included).
    pub(crate) fn parse(nal: &[u8]) -> Result<Sps> {
        let mut r = BitReader::new(nal, "H.264 SPS");
        r.skip(8, "nal_unit_header")?;
        let profile_idc = r.bits(8, "profile_idc")?;
        r.skip(16, "constraint_set_flags and level_idc")?;
        let id = r.ue_max("seq_parameter_set_id", 31)?;
        let mut chroma_format_idc = 1;
        let mut separate_colour_plane = false;
        if HIGH_PROFILES.iter().any(|&p| u32::from(p) == profile_idc) {
            chroma_format_idc = r.ue_max("chroma_format_idc", 3)?;
            if chroma_format_idc == 3 {
                separate_colour_plane = r.flag("separate_colour_plane_flag")?;
            }
            r.ue_max("bit_depth_luma_minus8", 6)?;
            r.ue_max("bit_depth_chroma_minus8", 6)?;
            r.flag("qpprime_y_zero_transform_bypass_flag")?;
            if r.flag("seq_scaling_matrix_present_flag")? {
                let lists = if chroma_format_idc == 3 { 12 } else { 8 };
                for i in 0..lists {
                    if r.flag("seq_scaling_list_present_flag")? {
                        skip_scaling_list(&mut r, if i < 6 { 16 } else { 64 })?;
                    }
                }
            }
        }
        let log2_max_frame_num = r.ue_max("log2_max_frame_num_minus4", 12)? + 4;
        let pic_order_cnt_type = r.ue_max("pic_order_cnt_type", 2)?;
        let mut log2_max_pic_order_cnt_lsb = 0;
        let mut delta_pic_order_always_zero = false;
        if pic_order_cnt_type == 0 {
            log2_max_pic_order_cnt_lsb = r.ue_max("log2_max_pic_order_cnt_lsb_minus4", 12)? + 4;
        } else if pic_order_cnt_type == 1 {
            delta_pic_order_always_zero = r.flag("delta_pic_order_always_zero_flag")?;
            r.se("offset_for_non_ref_pic")?;
            r.se("offset_for_top_to_bottom_field")?;
            let cycle = r.ue_max("num_ref_frames_in_pic_order_cnt_cycle", 255)?;
            for _ in 0..cycle {
                r.se("offset_for_ref_frame")?;
            }
        }
        r.ue("max_num_ref_frames")?;
        r.flag("gaps_in_frame_num_value_allowed_flag")?;
        r.ue("pic_width_in_mbs_minus1")?;
        r.ue("pic_height_in_map_units_minus1")?;
        let frame_mbs_only = r.flag("frame_mbs_only_flag")?;
        let chroma_array_type = if separate_colour_plane {
            0
        } else {
            chroma_format_idc
        };
        Ok(Sps {
            id: narrow(id),
            separate_colour_plane,
            chroma_array_type: narrow(chroma_array_type),
            log2_max_frame_num: narrow(log2_max_frame_num),
            pic_order_cnt_type: narrow(pic_order_cnt_type),
            log2_max_pic_order_cnt_lsb: narrow(log2_max_pic_order_cnt_lsb),
            delta_pic_order_always_zero,
            frame_mbs_only,
        })
    }
}

/// `scaling_list()` (7.3.2.1.1.1): read and dropped.
fn skip_scaling_list(r: &mut BitReader<'_>, size: usize) -> Result<()> {
    let mut last_scale = 8i32;
    let mut next_scale = 8i32;
    for _ in 0..size {
        if next_scale != 0 {
            let delta = r.se_range("delta_scale", -128, 127)?;
            next_scale = (last_scale + delta + 256) % 256;
        }
        if next_scale != 0 {
            last_scale = next_scale;
        }
    }
    Ok(())
}

/// A value already checked to be small.
fn narrow(v: u32) -> u8 {
    u8::try_from(v).unwrap_or(u8::MAX)
}
