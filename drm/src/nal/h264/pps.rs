//! The H.264 picture parameter set (7.3.2.2), read up to `redundant_pic_cnt_present_flag`:
//! all a slice header depends on. Slice groups (FMO) are not handled.

use crate::error::Result;
use crate::nal::bits::BitReader;

/// What slice headers need from a PPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pps {
    pub(crate) id: u8,
    pub(crate) sps_id: u8,
    /// CABAC (`true`) or CAVLC.
    pub(crate) entropy_coding_mode: bool,
    pub(crate) bottom_field_pic_order_in_frame_present: bool,
    pub(crate) num_ref_idx_l0_default_active_minus1: u8,
    pub(crate) num_ref_idx_l1_default_active_minus1: u8,
    pub(crate) weighted_pred: bool,
    pub(crate) weighted_bipred_idc: u8,
    pub(crate) deblocking_filter_control_present: bool,
    pub(crate) redundant_pic_cnt_present: bool,
}

impl Pps {
    /// Parses a PPS NAL unit (header byte included).
    pub(crate) fn parse(nal: &[u8]) -> Result<Pps> {
        let mut r = BitReader::new(nal, "H.264 PPS");
        r.skip(8, "nal_unit_header")?;
        let id = r.ue_max("pic_parameter_set_id", 255)?;
        let sps_id = r.ue_max("seq_parameter_set_id", 31)?;
        let entropy_coding_mode = r.flag("entropy_coding_mode_flag")?;
        let bottom_field_pic_order_in_frame_present =
            r.flag("bottom_field_pic_order_in_frame_present_flag")?;
        let num_slice_groups_minus1 = r.ue("num_slice_groups_minus1")?;
        if num_slice_groups_minus1 > 0 {
            return Err(r.unsupported(format!(
                "PPS {id} uses {} slice groups (flexible macroblock ordering)",
                u64::from(num_slice_groups_minus1) + 1
            )));
        }
        let l0 = r.ue_max("num_ref_idx_l0_default_active_minus1", 31)?;
        let l1 = r.ue_max("num_ref_idx_l1_default_active_minus1", 31)?;
        let weighted_pred = r.flag("weighted_pred_flag")?;
        let weighted_bipred_idc = r.bits(2, "weighted_bipred_idc")?;
        if weighted_bipred_idc == 3 {
            return Err(r.malformed("weighted_bipred_idc is 3 (reserved)"));
        }
        r.se_range("pic_init_qp_minus26", -62, 25)?;
        r.se_range("pic_init_qs_minus26", -26, 25)?;
        r.se_range("chroma_qp_index_offset", -12, 12)?;
        let deblocking_filter_control_present = r.flag("deblocking_filter_control_present_flag")?;
        r.flag("constrained_intra_pred_flag")?;
        let redundant_pic_cnt_present = r.flag("redundant_pic_cnt_present_flag")?;
        Ok(Pps {
            id: small(id),
            sps_id: small(sps_id),
            entropy_coding_mode,
            bottom_field_pic_order_in_frame_present,
            num_ref_idx_l0_default_active_minus1: small(l0),
            num_ref_idx_l1_default_active_minus1: small(l1),
            weighted_pred,
            weighted_bipred_idc: small(weighted_bipred_idc),
            deblocking_filter_control_present,
            redundant_pic_cnt_present,
        })
    }
}

/// A value already checked to be below 256.
fn small(v: u32) -> u8 {
    u8::try_from(v).unwrap_or(u8::MAX)
}
