//! Splitting a length-prefixed sample (as stored in MP4) into NAL units, and handing each to
//! the H.264 or HEVC reader, which keeps the parameter sets and reads slice headers.

use crate::error::{Error, Result};
use crate::nal::{h264, hevc, NalFormat, NalUnit, SliceHeader};

/// Reads the NAL units of one track's samples, in decoding order.
#[derive(Debug, Clone)]
pub struct NalParser {
    nal_length_size: u8,
    codec: Codec,
}

#[derive(Debug, Clone)]
enum Codec {
    H264(h264::ParameterSets),
    Hevc(hevc::ParameterSets),
}

impl NalParser {
    /// `nal_length_size` is 1, 2, 3 or 4; `parameter_sets` are the raw NAL units (no prefix,
    /// no start code) of the avcC/hvcC: VPS, SPS, PPS (others are ignored).
    pub fn new(format: NalFormat, nal_length_size: u8, parameter_sets: &[&[u8]]) -> Result<Self> {
        if !(1..=4).contains(&nal_length_size) {
            return Err(Error::malformed(
                "sample entry",
                format!("NAL length size {nal_length_size} (must be 1 to 4)"),
            ));
        }
        let codec = match format {
            NalFormat::H264 => Codec::H264(h264::ParameterSets::default()),
            NalFormat::Hevc => Codec::Hevc(hevc::ParameterSets::default()),
        };
        let mut parser = NalParser {
            nal_length_size,
            codec,
        };
        for (i, unit) in parameter_sets.iter().enumerate() {
            if unit.is_empty() {
                continue;
            }
            parser
                .unit(unit)
                .map_err(|e| in_context(e, &format!("parameter set {i} of the sample entry")))?;
        }
        Ok(parser)
    }

    /// The NAL units of one sample, in order; parameter sets among them are kept for the
    /// slices that follow. Fails on a truncated length, a unit running past the sample, or a
    /// slice header that cannot be read.
    pub fn parse_sample(&mut self, sample: &[u8]) -> Result<Vec<NalUnit>> {
        let prefix_len = usize::from(self.nal_length_size);
        let mut units = Vec::new();
        let mut offset = 0;
        while offset < sample.len() {
            let left = sample.len() - offset;
            let Some(prefix) = sample.get(offset..offset + prefix_len) else {
                return Err(Error::malformed(
                    "video sample",
                    format!(
                        "{left} bytes left at offset {offset} of the {}-byte sample, too few \
                         for a {prefix_len}-byte NAL unit length",
                        sample.len()
                    ),
                ));
            };
            let len = prefix
                .iter()
                .fold(0usize, |n, &b| (n << 8) | usize::from(b));
            let start = offset + prefix_len;
            let Some(nal) = sample.get(start..).and_then(|rest| rest.get(..len)) else {
                return Err(Error::malformed(
                    "video sample",
                    format!(
                        "NAL unit at offset {offset} is {len} bytes long but only {} bytes \
                         follow its length in the {}-byte sample",
                        left - prefix_len,
                        sample.len()
                    ),
                ));
            };
            let (nal_type, slice) = if nal.is_empty() {
                (0, None)
            } else {
                self.unit(nal).map_err(|e| {
                    in_context(e, &format!("NAL unit at offset {offset} of the sample"))
                })?
            };
            units.push(NalUnit {
                offset,
                prefix_len,
                len,
                nal_type,
                slice,
            });
            offset = start + len;
        }
        Ok(units)
    }

    fn unit(&mut self, nal: &[u8]) -> Result<(u8, Option<SliceHeader>)> {
        match &mut self.codec {
            Codec::H264(sets) => sets.unit(nal),
            Codec::Hevc(sets) => sets.unit(nal),
        }
    }
}

/// Adds where the failing bytes are to an error's reason.
fn in_context(e: Error, place: &str) -> Error {
    match e {
        Error::Malformed { what, reason } => Error::Malformed {
            what,
            reason: format!("{reason} ({place})"),
        },
        Error::Unsupported { what, reason } => Error::Unsupported {
            what,
            reason: format!("{reason} ({place})"),
        },
    }
}
