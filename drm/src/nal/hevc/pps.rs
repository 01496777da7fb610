//! The HEVC picture parameter set (H.265 7.3.2.3), read through its range extension: all a
//! slice segment header depends on. The screen content coding extension is not handled.

use crate::error::Result;
use crate::nal::bits::BitReader;
use crate::nal::hevc::skipped::scaling_list_data;

/// What slice segment headers need from a PPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pps {
    pub(crate) id: u8,
    pub(crate) sps_id: u8,
    pub(crate) dependent_slice_segments_enabled: bool,
    pub(crate) output_flag_present: bool,
    pub(crate) num_extra_slice_header_bits: u8,
    pub(crate) cabac_init_present: bool,
    pub(crate) num_ref_idx_l0_default_active_minus1: u8,
    pub(crate) num_ref_idx_l1_default_active_minus1: u8,
    pub(crate) weighted_pred: bool,
    pub(crate) weighted_bipred: bool,
    /// `tiles_enabled_flag || entropy_coding_sync_enabled_flag`: slices list entry points.
    pub(crate) entry_points: bool,
    pub(crate) slice_chroma_qp_offsets_present: bool,
    pub(crate) loop_filter_across_slices_enabled: bool,
    pub(crate) deblocking_filter_override_enabled: bool,
    pub(crate) deblocking_filter_disabled: bool,
    pub(crate) lists_modification_present: bool,
    pub(crate) slice_segment_header_extension_present: bool,
    /// From the range extension.
    pub(crate) chroma_qp_offset_list_enabled: bool,
}

impl Pps {
    /// Parses a PPS NAL unit (2-byte header included, `nuh_layer_id` 0).
    pub(crate) fn parse(nal: &[u8]) -> Result<Pps> {
        let mut r = BitReader::new(nal, "HEVC PPS");
        r.skip(16, "nal_unit_header")?;
        let id = r.ue_max("pps_pic_parameter_set_id", 63)?;
        let sps_id = r.ue_max("pps_seq_parameter_set_id", 15)?;
        let dependent_slice_segments_enabled = r.flag("dependent_slice_segments_enabled_flag")?;
        let output_flag_present = r.flag("output_flag_present_flag")?;
        let num_extra_slice_header_bits = r.bits(3, "num_extra_slice_header_bits")?;
        r.flag("sign_data_hiding_enabled_flag")?;
        let cabac_init_present = r.flag("cabac_init_present_flag")?;
        let l0 = r.ue_max("num_ref_idx_l0_default_active_minus1", 14)?;
        let l1 = r.ue_max("num_ref_idx_l1_default_active_minus1", 14)?;
        r.se_range("init_qp_minus26", -62, 25)?;
        r.flag("constrained_intra_pred_flag")?;
        let transform_skip_enabled = r.flag("transform_skip_enabled_flag")?;
        if r.flag("cu_qp_delta_enabled_flag")? {
            r.ue_max("diff_cu_qp_delta_depth", 3)?;
        }
        r.se_range("pps_cb_qp_offset", -12, 12)?;
        r.se_range("pps_cr_qp_offset", -12, 12)?;
        let slice_chroma_qp_offsets_present = r.flag("pps_slice_chroma_qp_offsets_present_flag")?;
        let weighted_pred = r.flag("weighted_pred_flag")?;
        let weighted_bipred = r.flag("weighted_bipred_flag")?;
        r.flag("transquant_bypass_enabled_flag")?;
        let tiles = r.flag("tiles_enabled_flag")?;
        let entropy_coding_sync = r.flag("entropy_coding_sync_enabled_flag")?;
        if tiles {
            let columns = r.ue_max("num_tile_columns_minus1", 19)?;
            let rows = r.ue_max("num_tile_rows_minus1", 21)?;
            if !r.flag("uniform_spacing_flag")? {
                for _ in 0..columns {
                    r.ue("column_width_minus1")?;
                }
                for _ in 0..rows {
                    r.ue("row_height_minus1")?;
                }
            }
            r.flag("loop_filter_across_tiles_enabled_flag")?;
        }
        let loop_filter_across_slices_enabled =
            r.flag("pps_loop_filter_across_slices_enabled_flag")?;
        let mut deblocking_filter_override_enabled = false;
        let mut deblocking_filter_disabled = false;
        if r.flag("deblocking_filter_control_present_flag")? {
            deblocking_filter_override_enabled =
                r.flag("deblocking_filter_override_enabled_flag")?;
            deblocking_filter_disabled = r.flag("pps_deblocking_filter_disabled_flag")?;
            if !deblocking_filter_disabled {
                r.se_range("pps_beta_offset_div2", -6, 6)?;
                r.se_range("pps_tc_offset_div2", -6, 6)?;
            }
        }
        if r.flag("pps_scaling_list_data_present_flag")? {
            scaling_list_data(&mut r)?;
        }
        let lists_modification_present = r.flag("lists_modification_present_flag")?;
        r.ue("log2_parallel_merge_level_minus2")?;
        let slice_segment_header_extension_present =
            r.flag("slice_segment_header_extension_present_flag")?;
        let mut chroma_qp_offset_list_enabled = false;
        if r.flag("pps_extension_present_flag")? {
            let range = r.flag("pps_range_extension_flag")?;
            r.flag("pps_multilayer_extension_flag")?;
            r.flag("pps_3d_extension_flag")?;
            if r.flag("pps_scc_extension_flag")? {
                return Err(
                    r.unsupported(format!("PPS {id} has a screen content coding extension"))
                );
            }
            r.skip(4, "pps_extension_4bits")?;
            if range {
                if transform_skip_enabled {
                    r.ue("log2_max_transform_skip_block_size_minus2")?;
                }
                r.flag("cross_component_prediction_enabled_flag")?;
                chroma_qp_offset_list_enabled = r.flag("chroma_qp_offset_list_enabled_flag")?;
            }
        }
        Ok(Pps {
            id: small(id),
            sps_id: small(sps_id),
            dependent_slice_segments_enabled,
            output_flag_present,
            num_extra_slice_header_bits: small(num_extra_slice_header_bits),
            cabac_init_present,
            num_ref_idx_l0_default_active_minus1: small(l0),
            num_ref_idx_l1_default_active_minus1: small(l1),
            weighted_pred,
            weighted_bipred,
            entry_points: tiles || entropy_coding_sync,
            slice_chroma_qp_offsets_present,
            loop_filter_across_slices_enabled,
            deblocking_filter_override_enabled,
            deblocking_filter_disabled,
            lists_modification_present,
            slice_segment_header_extension_present,
            chroma_qp_offset_list_enabled,
        })
    }
}

/// A value already checked to be below 256.
fn small(v: u32) -> u8 {
    u8::try_from(v).unwrap_or(u8::MAX)
}
