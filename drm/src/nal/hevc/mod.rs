//! HEVC NAL units: the sequence and picture parameter sets seen so far, and the slice segment
//! headers that need them (ITU-T H.265 7.3.1 to 7.3.7). Only the base layer
//! (`nuh_layer_id` 0) is read; the VPS is not needed.

mod pps;
mod refs;
mod rps;
mod skipped;
mod slice;
mod sps;
#[cfg(test)]
mod tests;

use crate::error::{Error, Result};
use crate::nal::{SliceHeader, SliceType};

pub(crate) use pps::Pps;
pub(crate) use sps::Sps;

const WHAT: &str = "HEVC NAL unit";

/// The SPS (ids 0..16) and PPS (ids 0..64) last seen, and the type of the last independent
/// slice segment (which dependent ones share).
#[derive(Debug, Clone)]
pub(crate) struct ParameterSets {
    sps: Vec<Option<Sps>>,
    pps: Vec<Option<Pps>>,
    last_slice_type: Option<SliceType>,
}

impl Default for ParameterSets {
    fn default() -> Self {
        ParameterSets {
            sps: vec![None; 16],
            pps: vec![None; 64],
            last_slice_type: None,
        }
    }
}

impl ParameterSets {
    /// Reads one NAL unit (header included, not empty): keeps an SPS or PPS, reads the header
    /// of a slice segment. Returns `nal_unit_type` and, for a slice segment, where its header
    /// ends.
    pub(crate) fn unit(&mut self, nal: &[u8]) -> Result<(u8, Option<SliceHeader>)> {
        let (Some(&b0), Some(&b1)) = (nal.first(), nal.get(1)) else {
            return Err(Error::malformed(
                WHAT,
                format!(
                    "{} bytes, too short for a 2-byte NAL unit header",
                    nal.len()
                ),
            ));
        };
        if b0 & 0x80 != 0 {
            return Err(Error::malformed(WHAT, "forbidden_zero_bit is 1"));
        }
        let nal_type = (b0 >> 1) & 0x3f;
        let layer = ((b0 & 1) << 5) | (b1 >> 3);
        match nal_type {
            0..=31 if layer != 0 => Err(Error::unsupported(
                WHAT,
                format!("a slice of layer {layer} (multi-layer HEVC: SHVC, MV-HEVC)"),
            )),
            0..=9 | 16..=21 => {
                let previous = self.last_slice_type;
                let (sps, pps) = (&self.sps, &self.pps);
                let slice = slice::parse(nal, nal_type, |id| lookup(sps, pps, id), previous)?;
                self.last_slice_type = Some(slice.slice_type);
                Ok((nal_type, Some(slice)))
            }
            10..=15 | 22..=31 => Err(Error::unsupported(
                WHAT,
                format!("reserved video coding layer nal_unit_type {nal_type}"),
            )),
            33 if layer == 0 => {
                let sps = Sps::parse(nal)?;
                if let Some(slot) = self.sps.get_mut(usize::from(sps.id)) {
                    *slot = Some(sps);
                }
                Ok((nal_type, None))
            }
            34 if layer == 0 => {
                let pps = Pps::parse(nal)?;
                if let Some(slot) = self.pps.get_mut(usize::from(pps.id)) {
                    *slot = Some(pps);
                }
                Ok((nal_type, None))
            }
            _ => Ok((nal_type, None)),
        }
    }
}

/// The PPS with this id and the SPS it refers to.
fn lookup<'s>(
    sps: &'s [Option<Sps>],
    pps: &'s [Option<Pps>],
    pps_id: u32,
) -> Result<(&'s Sps, &'s Pps)> {
    let what = "HEVC slice segment header";
    let pps = usize::try_from(pps_id)
        .ok()
        .and_then(|i| pps.get(i))
        .and_then(Option::as_ref)
        .ok_or_else(|| {
            Error::malformed(what, format!("refers to PPS {pps_id}, which was not seen"))
        })?;
    let sps = sps
        .get(usize::from(pps.sps_id))
        .and_then(Option::as_ref)
        .ok_or_else(|| {
            Error::malformed(
                what,
                format!(
                    "PPS {pps_id} refers to SPS {}, which was not seen",
                    pps.sps_id
                ),
            )
        })?;
    Ok((sps, pps))
}
