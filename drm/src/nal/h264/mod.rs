//! H.264 NAL units: the sequence and picture parameter sets seen so far, and the slice
//! headers that need them (ITU-T H.264 7.3.1 to 7.3.4).

mod pps;
mod slice;
mod sps;
#[cfg(test)]
mod tests;

use crate::error::{Error, Result};
use crate::nal::SliceHeader;

pub(crate) use pps::Pps;
pub(crate) use sps::Sps;

const WHAT: &str = "H.264 NAL unit";

/// The SPS (ids 0..32) and PPS (ids 0..256) last seen.
#[derive(Debug, Clone)]
pub(crate) struct ParameterSets {
    sps: Vec<Option<Sps>>,
    pps: Vec<Option<Pps>>,
}

impl Default for ParameterSets {
    fn default() -> Self {
        ParameterSets {
            sps: vec![None; 32],
            pps: vec![None; 256],
        }
    }
}

impl ParameterSets {
    /// Reads one NAL unit (header included, not empty): keeps an SPS or PPS, reads the header
    /// of a slice. Returns `nal_unit_type` and, for a slice, where its header ends.
    pub(crate) fn unit(&mut self, nal: &[u8]) -> Result<(u8, Option<SliceHeader>)> {
        let header = *nal
            .first()
            .ok_or_else(|| Error::malformed(WHAT, "empty NAL unit"))?;
        if header & 0x80 != 0 {
            return Err(Error::malformed(WHAT, "forbidden_zero_bit is 1"));
        }
        let nal_type = header & 0x1f;
        let nal_ref_idc = (header >> 5) & 0x3;
        match nal_type {
            1 | 5 => {
                let slice = slice::parse(nal, nal_type, nal_ref_idc, |id| self.lookup(id))?;
                Ok((nal_type, Some(slice)))
            }
            2..=4 => Err(Error::unsupported(
                WHAT,
                format!("slice data partitioning (nal_unit_type {nal_type}, Extended profile)"),
            )),
            20 | 21 => Err(Error::unsupported(
                WHAT,
                format!("coded slice extension (nal_unit_type {nal_type}: MVC, SVC or 3D-AVC)"),
            )),
            7 => {
                let sps = Sps::parse(nal)?;
                let id = usize::from(sps.id);
                if let Some(slot) = self.sps.get_mut(id) {
                    *slot = Some(sps);
                }
                Ok((nal_type, None))
            }
            8 => {
                let pps = Pps::parse(nal)?;
                let id = usize::from(pps.id);
                if let Some(slot) = self.pps.get_mut(id) {
                    *slot = Some(pps);
                }
                Ok((nal_type, None))
            }
            _ => Ok((nal_type, None)),
        }
    }

    /// The PPS with this id and the SPS it refers to.
    fn lookup(&self, pps_id: u32) -> Result<(&Sps, &Pps)> {
        let what = "H.264 slice header";
        let pps = usize::try_from(pps_id)
            .ok()
            .and_then(|i| self.pps.get(i))
            .and_then(Option::as_ref)
            .ok_or_else(|| {
                Error::malformed(what, format!("refers to PPS {pps_id}, which was not seen"))
            })?;
        let sps = self
            .sps
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
}
