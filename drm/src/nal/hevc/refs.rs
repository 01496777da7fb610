//! The reference picture parts of an HEVC slice segment header: long-term pictures (H.265
//! 7.3.6.1), `ref_pic_lists_modification()` (7.3.6.2) and `pred_weight_table()` (7.3.6.3).

use crate::error::Result;
use crate::nal::bits::{ceil_log2, BitReader};
use crate::nal::hevc::Sps;

/// Most long-term pictures one slice may list.
const MAX_LONG_TERM: u32 = 32;

/// Reads the long-term picture fields; returns how many of them the current picture uses.
pub(crate) fn long_term_refs(r: &mut BitReader<'_>, sps: &Sps) -> Result<u32> {
    let in_sps = u32::try_from(sps.long_term_used.len()).unwrap_or(u32::MAX);
    let from_sps = if in_sps > 0 {
        r.ue_max("num_long_term_sps", in_sps)?
    } else {
        0
    };
    let own = r.ue_max(
        "num_long_term_pics",
        MAX_LONG_TERM - from_sps.min(MAX_LONG_TERM),
    )?;
    let mut used = 0;
    for i in 0..from_sps + own {
        if i < from_sps {
            let idx = if in_sps > 1 {
                r.bits(ceil_log2(u64::from(in_sps)), "lt_idx_sps")?
            } else {
                0
            };
            let flag = sps.long_term_used.get(idx as usize).ok_or_else(|| {
                r.malformed(format!("lt_idx_sps {idx} of {in_sps} long-term pictures"))
            })?;
            used += u32::from(*flag);
        } else {
            r.skip(u64::from(sps.log2_max_pic_order_cnt_lsb), "poc_lsb_lt")?;
            used += u32::from(r.flag("used_by_curr_pic_lt_flag")?);
        }
        if r.flag("delta_poc_msb_present_flag")? {
            r.ue("delta_poc_msb_cycle_lt")?;
        }
    }
    Ok(used)
}

/// `ref_pic_lists_modification()`; `l0`, `l1` are `num_ref_idx_lX_active_minus1` (`l1`
/// only for B slices).
pub(crate) fn ref_pic_lists_modification(
    r: &mut BitReader<'_>,
    num_pic_total_curr: u32,
    l0: u32,
    l1: Option<u32>,
) -> Result<()> {
    let bits = ceil_log2(u64::from(num_pic_total_curr));
    for minus1 in std::iter::once(l0).chain(l1) {
        if r.flag("ref_pic_list_modification_flag")? {
            for _ in 0..=minus1 {
                let entry = r.bits(bits, "list_entry")?;
                if entry >= num_pic_total_curr {
                    return Err(r.malformed(format!(
                        "list_entry {entry} of {num_pic_total_curr} reference pictures"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// `pred_weight_table()`; `l0`, `l1` are `num_ref_idx_lX_active_minus1` (at most 14).
pub(crate) fn pred_weight_table(
    r: &mut BitReader<'_>,
    chroma_array_type: u8,
    l0: u32,
    l1: Option<u32>,
) -> Result<()> {
    r.ue_max("luma_log2_weight_denom", 7)?;
    let chroma = chroma_array_type != 0;
    if chroma {
        r.se_range("delta_chroma_log2_weight_denom", -7, 7)?;
    }
    for minus1 in std::iter::once(l0).chain(l1) {
        let n = (minus1 as usize + 1).min(16);
        let mut luma = [false; 16];
        let mut chroma_flags = [false; 16];
        for flag in luma.iter_mut().take(n) {
            *flag = r.flag("luma_weight_flag")?;
        }
        if chroma {
            for flag in chroma_flags.iter_mut().take(n) {
                *flag = r.flag("chroma_weight_flag")?;
            }
        }
        for (&luma, &chroma) in luma.iter().zip(&chroma_flags).take(n) {
            if luma {
                r.se_range("delta_luma_weight", -128, 127)?;
                r.se_range("luma_offset", -(1 << 15), (1 << 15) - 1)?;
            }
            if chroma {
                for _ in 0..2 {
                    r.se_range("delta_chroma_weight", -128, 127)?;
                    r.se_range("delta_chroma_offset", -(1 << 17), (1 << 17) - 1)?;
                }
            }
        }
    }
    Ok(())
}
