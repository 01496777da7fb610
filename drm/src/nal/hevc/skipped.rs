//! HEVC syntax structures read only to step over them: `profile_tier_level()` (H.265 7.3.3)
//! and `scaling_list_data()` (7.3.4).

use crate::error::Result;
use crate::nal::bits::BitReader;

/// Reads `profile_tier_level(1, max_sub_layers_minus1)`; returns `general_profile_idc`.
pub(crate) fn profile_tier_level(r: &mut BitReader<'_>, max_sub_layers_minus1: u32) -> Result<u8> {
    r.skip(3, "general_profile_space and general_tier_flag")?;
    let profile_idc = r.bits(5, "general_profile_idc")?;
    // compatibility flags (32), source flags (4), constraint flags (43), inbld/reserved (1)
    r.skip(80, "general profile flags")?;
    r.skip(8, "general_level_idc")?;
    let mut present = Vec::with_capacity(8);
    for _ in 0..max_sub_layers_minus1 {
        let profile = r.flag("sub_layer_profile_present_flag")?;
        let level = r.flag("sub_layer_level_present_flag")?;
        present.push((profile, level));
    }
    if max_sub_layers_minus1 > 0 {
        for _ in max_sub_layers_minus1..8 {
            r.skip(2, "reserved_zero_2bits")?;
        }
    }
    for (profile, level) in present {
        if profile {
            r.skip(88, "sub-layer profile")?;
        }
        if level {
            r.skip(8, "sub_layer_level_idc")?;
        }
    }
    Ok(u8::try_from(profile_idc).unwrap_or(u8::MAX))
}

/// Reads `scaling_list_data()`.
pub(crate) fn scaling_list_data(r: &mut BitReader<'_>) -> Result<()> {
    for size_id in 0..4u32 {
        let step = if size_id == 3 { 3 } else { 1 };
        for _matrix in (0..6).step_by(step) {
            if !r.flag("scaling_list_pred_mode_flag")? {
                r.ue_max("scaling_list_pred_matrix_id_delta", 5)?;
                continue;
            }
            let coefs = 64.min(1u32 << (4 + (size_id << 1)));
            if size_id > 1 {
                r.se_range("scaling_list_dc_coef_minus8", -7, 247)?;
            }
            for _ in 0..coefs {
                r.se_range("scaling_list_delta_coef", -128, 127)?;
            }
        }
    }
    Ok(())
}
