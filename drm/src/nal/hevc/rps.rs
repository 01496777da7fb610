//! HEVC short-term reference picture sets (`st_ref_pic_set()`, H.265 7.3.7 and 7.4.8),
//! including sets predicted from an earlier one (inter RPS): the slice header needs how many
//! pictures each set holds and which of them the current picture uses.

use crate::error::Result;
use crate::nal::bits::BitReader;

/// Most pictures one set may list (a DPB holds at most 16).
const MAX_PICTURES: usize = 16;

/// One reference picture of a set: its POC distance and whether the current picture uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delta {
    pub(crate) poc: i32,
    pub(crate) used: bool,
}

/// A short-term reference picture set: pictures before (`negative`, nearest first) and after
/// (`positive`, nearest first) the current one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ShortTermRps {
    pub(crate) negative: Vec<Delta>,
    pub(crate) positive: Vec<Delta>,
}

impl ShortTermRps {
    /// `NumDeltaPocs`.
    pub(crate) fn len(&self) -> usize {
        self.negative.len() + self.positive.len()
    }

    /// Pictures the current picture uses (its part of `NumPicTotalCurr`).
    pub(crate) fn used_by_curr(&self) -> u32 {
        let used = self
            .negative
            .iter()
            .chain(&self.positive)
            .filter(|d| d.used);
        u32::try_from(used.count()).unwrap_or(u32::MAX)
    }

    /// Reads `st_ref_pic_set(idx)` of an SPS listing `num_sets` sets (`idx == num_sets` for
    /// the set in a slice header); `earlier` are the SPS's sets before `idx`.
    pub(crate) fn parse(
        r: &mut BitReader<'_>,
        idx: usize,
        num_sets: usize,
        earlier: &[ShortTermRps],
    ) -> Result<ShortTermRps> {
        if idx != 0 && r.flag("inter_ref_pic_set_prediction_flag")? {
            return Self::predicted(r, idx, num_sets, earlier);
        }
        let negatives = r.ue_max("num_negative_pics", MAX_PICTURES as u32)?;
        let positives = r.ue_max("num_positive_pics", MAX_PICTURES as u32 - negatives)?;
        let mut set = ShortTermRps::default();
        let mut poc = 0i32;
        for _ in 0..negatives {
            poc -= bounded_delta(r, "delta_poc_s0_minus1")?;
            let used = r.flag("used_by_curr_pic_s0_flag")?;
            set.negative.push(Delta { poc, used });
        }
        poc = 0;
        for _ in 0..positives {
            poc += bounded_delta(r, "delta_poc_s1_minus1")?;
            let used = r.flag("used_by_curr_pic_s1_flag")?;
            set.positive.push(Delta { poc, used });
        }
        Ok(set)
    }

    /// The inter RPS case: a set derived from an earlier one (equations 7-61 and 7-62).
    fn predicted(
        r: &mut BitReader<'_>,
        idx: usize,
        num_sets: usize,
        earlier: &[ShortTermRps],
    ) -> Result<Self> {
        let delta_idx = if idx == num_sets {
            let max = u32::try_from(idx.saturating_sub(1)).unwrap_or(u32::MAX);
            r.ue_max("delta_idx_minus1", max)? as usize + 1
        } else {
            1
        };
        let reference = idx
            .checked_sub(delta_idx)
            .and_then(|i| earlier.get(i))
            .ok_or_else(|| r.malformed(format!("RPS {idx} predicted from a missing set")))?;
        let sign = r.flag("delta_rps_sign")?;
        let abs = bounded_delta(r, "abs_delta_rps_minus1")?;
        let delta_rps = if sign { -abs } else { abs };
        // used_by_curr_pic_flag and use_delta_flag for each reference picture, then for the
        // reference's own picture (delta_rps itself), in the order negatives then positives.
        let mut flags = Vec::with_capacity(reference.len() + 1);
        for _ in 0..=reference.len() {
            let used = r.flag("used_by_curr_pic_flag")?;
            let use_delta = used || r.flag("use_delta_flag")?;
            flags.push((used, use_delta));
        }
        let flag = |j: usize| flags.get(j).copied().unwrap_or((false, false));
        let n_neg = reference.negative.len();
        let own = flag(reference.len());
        let mut set = ShortTermRps::default();
        // negatives, nearest first: from the reference's positives (farthest first), the
        // reference picture itself, then the reference's negatives
        for (j, d) in reference.positive.iter().enumerate().rev() {
            set.push(d.poc + delta_rps, flag(n_neg + j), |p| p < 0);
        }
        set.push(delta_rps, own, |p| p < 0);
        for (j, d) in reference.negative.iter().enumerate() {
            set.push(d.poc + delta_rps, flag(j), |p| p < 0);
        }
        // positives, nearest first
        for (j, d) in reference.negative.iter().enumerate().rev() {
            set.push(d.poc + delta_rps, flag(j), |p| p > 0);
        }
        set.push(delta_rps, own, |p| p > 0);
        for (j, d) in reference.positive.iter().enumerate() {
            set.push(d.poc + delta_rps, flag(n_neg + j), |p| p > 0);
        }
        if set.len() > MAX_PICTURES {
            return Err(r.malformed(format!(
                "predicted RPS {idx} lists {} pictures (at most {MAX_PICTURES})",
                set.len()
            )));
        }
        Ok(set)
    }

    /// Adds a derived picture to the side `side` picks, if its use_delta_flag is set.
    fn push(&mut self, poc: i32, (used, use_delta): (bool, bool), side: fn(i32) -> bool) {
        if !use_delta || !side(poc) {
            return;
        }
        let list = if poc < 0 {
            &mut self.negative
        } else {
            &mut self.positive
        };
        list.push(Delta { poc, used });
    }
}

/// A `ue(v)` POC difference coded minus 1 (at most 2^15 - 1), plus 1.
fn bounded_delta(r: &mut BitReader<'_>, field: &str) -> Result<i32> {
    let v = r.ue_max(field, (1 << 15) - 1)?;
    Ok(i32::try_from(v).unwrap_or(i32::MAX) + 1)
}
