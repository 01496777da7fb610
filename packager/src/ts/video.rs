//! MP4 video samples (length-prefixed NAL units) to Annex B access units for TS.

use drm::sample_aes::SampleAesCipher;

use super::packet::{Chunk, SmallBuf};
use super::{TsError, TsVideoCodec};

/// The 4-byte Annex B start code written before every NAL unit.
pub const START_CODE: &[u8] = &[0, 0, 0, 1];
/// H.264 access unit delimiter, primary_pic_type 7 (any slice type).
pub const H264_AUD: &[u8] = &[0x09, 0xf0];

const H264_NAL_AUD: u8 = 9;
const H264_NAL_SPS: u8 = 7;
const H264_NAL_PPS: u8 = 8;
const HEVC_NAL_VPS: u8 = 32;
const HEVC_NAL_SPS: u8 = 33;
const HEVC_NAL_PPS: u8 = 34;
const HEVC_NAL_AUD: u8 = 35;

/// NAL unit type from the first header byte(s).
pub fn nal_type(codec: TsVideoCodec, nal: &[u8]) -> Option<u8> {
    let first = *nal.first()?;
    Some(match codec {
        TsVideoCodec::H264 => first & 0x1f,
        TsVideoCodec::Hevc => (first >> 1) & 0x3f,
    })
}

fn is_aud(codec: TsVideoCodec, nal: &[u8]) -> bool {
    let aud = match codec {
        TsVideoCodec::H264 => H264_NAL_AUD,
        TsVideoCodec::Hevc => HEVC_NAL_AUD,
    };
    nal_type(codec, nal) == Some(aud)
}

fn is_parameter_set(codec: TsVideoCodec, nal: &[u8]) -> bool {
    match (codec, nal_type(codec, nal)) {
        (TsVideoCodec::H264, Some(t)) => t == H264_NAL_SPS || t == H264_NAL_PPS,
        (TsVideoCodec::Hevc, Some(t)) => matches!(t, HEVC_NAL_VPS | HEVC_NAL_SPS | HEVC_NAL_PPS),
        (_, None) => false,
    }
}

/// Splits a length-prefixed MP4 sample into NAL units. Zero-length NAL units are dropped.
pub fn split_nals(data: &[u8], nal_length_size: u8, sample: usize) -> Result<Vec<&[u8]>, TsError> {
    let mut nals = Vec::new();
    split_nals_into(data, nal_length_size, sample, &mut nals)?;
    Ok(nals)
}

/// [`split_nals`] into a vector the caller reuses from sample to sample (cleared first).
pub fn split_nals_into<'a>(
    data: &'a [u8],
    nal_length_size: u8,
    sample: usize,
    nals: &mut Vec<&'a [u8]>,
) -> Result<(), TsError> {
    nals.clear();
    let size = usize::from(nal_length_size);
    if !matches!(nal_length_size, 1 | 2 | 4) {
        return Err(TsError::InvalidNalLengthSize(nal_length_size));
    }
    let mut offset = 0usize;
    while offset < data.len() {
        let prefix = data
            .get(offset..offset + size)
            .ok_or(TsError::TruncatedNalLength {
                sample,
                offset,
                remaining: data.len() - offset,
                nal_length_size,
            })?;
        let length = prefix
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        let start = offset + size;
        let nal = start
            .checked_add(length)
            .and_then(|end| data.get(start..end))
            .ok_or(TsError::NalLengthOverrun {
                sample,
                offset,
                nal_length: length,
                available: data.len() - start,
            })?;
        if !nal.is_empty() {
            nals.push(nal);
        }
        offset = start + length;
    }
    Ok(())
}

/// The access unit delimiter for this access unit. For HEVC its TemporalId must match the
/// access unit's, so it is copied from the first VCL NAL unit.
fn access_unit_delimiter(codec: TsVideoCodec, nals: &[&[u8]]) -> Chunk<'static> {
    match codec {
        TsVideoCodec::H264 => Chunk::Data(H264_AUD),
        TsVideoCodec::Hevc => {
            let temporal_id_plus1 = nals
                .iter()
                .find(|nal| nal_type(codec, nal).is_some_and(|t| t < 32))
                .and_then(|nal| nal.get(1))
                .map_or(1, |b| b & 0x07)
                .max(1);
            let mut aud = SmallBuf::new();
            // nal_unit_type 35, layer 0; pic_type 2 (I, P, B), rbsp stop bit.
            aud.extend(&[HEVC_NAL_AUD << 1, temporal_id_plus1, 0x50]);
            Chunk::Small(aud)
        }
    }
}

/// Appends the Annex B form of one sample to `chunks`: an access unit delimiter first (unless
/// the sample starts with one), then, for a keyframe whose sample carries no parameter set of
/// its own, `parameter_sets`, then the sample's NAL units, each after a 4-byte start code.
/// Returns `false`, appending nothing, for a sample with no NAL units.
pub fn append_annexb<'a>(
    codec: TsVideoCodec,
    parameter_sets: &[&'a [u8]],
    keyframe: bool,
    nals: &[&'a [u8]],
    chunks: &mut Vec<Chunk<'a>>,
) -> bool {
    let Some((&first, rest)) = nals.split_first() else {
        return false;
    };
    let (aud, body) = if is_aud(codec, first) {
        (Chunk::Data(first), rest)
    } else {
        (access_unit_delimiter(codec, nals), nals)
    };
    chunks.push(Chunk::Data(START_CODE));
    chunks.push(aud);
    if keyframe && !nals.iter().any(|nal| is_parameter_set(codec, nal)) {
        for &set in parameter_sets.iter().filter(|set| !set.is_empty()) {
            chunks.push(Chunk::Data(START_CODE));
            chunks.push(Chunk::Data(set));
        }
    }
    for &nal in body {
        chunks.push(Chunk::Data(START_CODE));
        chunks.push(Chunk::Data(nal));
    }
    true
}

/// Appends the Annex B bytes of `chunks` (what [`append_annexb`] makes: start codes and whole
/// NAL units, one per chunk) to `out`, with each H.264 slice NAL unit SAMPLE-AES encrypted;
/// start codes and every other NAL unit are copied as they are.
pub fn encrypt_annexb(chunks: &[Chunk<'_>], cipher: &mut SampleAesCipher, out: &mut Vec<u8>) {
    for chunk in chunks {
        let bytes = chunk.bytes();
        if bytes == START_CODE {
            out.extend_from_slice(bytes);
        } else {
            cipher.encrypt_h264_nal(bytes, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flatten(chunks: &[Chunk<'_>]) -> Vec<u8> {
        chunks.iter().flat_map(|c| c.bytes().to_vec()).collect()
    }

    fn annexb(
        codec: TsVideoCodec,
        sets: &[&[u8]],
        keyframe: bool,
        sample: &[u8],
        size: u8,
    ) -> Vec<u8> {
        let nals = split_nals(sample, size, 0).unwrap();
        let mut chunks = Vec::new();
        assert!(append_annexb(codec, sets, keyframe, &nals, &mut chunks));
        flatten(&chunks)
    }

    const SPS: &[u8] = &[0x67, 0x64, 0x00, 0x1f];
    const PPS: &[u8] = &[0x68, 0xee, 0x3c, 0x80];

    #[test]
    fn h264_keyframe_gets_aud_and_parameter_sets() {
        // IDR slice and SEI, 4-byte lengths.
        let sample = [0, 0, 0, 2, 0x06, 0x05, 0, 0, 0, 3, 0x65, 0x88, 0x84];
        let out = annexb(TsVideoCodec::H264, &[SPS, PPS], true, &sample, 4);
        let expected: Vec<u8> = [
            &[0, 0, 0, 1, 0x09, 0xf0][..],
            &[0, 0, 0, 1],
            SPS,
            &[0, 0, 0, 1],
            PPS,
            &[0, 0, 0, 1, 0x06, 0x05],
            &[0, 0, 0, 1, 0x65, 0x88, 0x84],
        ]
        .concat();
        assert_eq!(out, expected);
    }

    #[test]
    fn h264_non_keyframe_has_no_parameter_sets() {
        let sample = [0, 3, 0x41, 0x9a, 0x00];
        let out = annexb(TsVideoCodec::H264, &[SPS, PPS], false, &sample, 2);
        assert_eq!(out, [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x41, 0x9a, 0x00]);
    }

    #[test]
    fn in_band_parameter_sets_and_aud_are_not_duplicated() {
        // avc3-style sample: AUD, SPS, PPS, IDR; 1-byte lengths.
        let mut sample = vec![2, 0x09, 0x10, 4];
        sample.extend_from_slice(SPS);
        sample.push(4);
        sample.extend_from_slice(PPS);
        sample.extend_from_slice(&[2, 0x65, 0x11]);
        let out = annexb(TsVideoCodec::H264, &[SPS, PPS], true, &sample, 1);
        let expected: Vec<u8> = [
            &[0, 0, 0, 1, 0x09, 0x10][..],
            &[0, 0, 0, 1],
            SPS,
            &[0, 0, 0, 1],
            PPS,
            &[0, 0, 0, 1, 0x65, 0x11],
        ]
        .concat();
        assert_eq!(out, expected);
        // Without the AUD in band, one is added; parameter sets still come from the sample only.
        let out = annexb(TsVideoCodec::H264, &[], true, &sample[3..], 1);
        let expected: Vec<u8> = [
            &[0, 0, 0, 1, 0x09, 0xf0][..],
            &[0, 0, 0, 1],
            SPS,
            &[0, 0, 0, 1],
            PPS,
            &[0, 0, 0, 1, 0x65, 0x11],
        ]
        .concat();
        assert_eq!(out, expected);
    }

    #[test]
    fn sample_starting_with_aud_gets_parameter_sets_after_it() {
        let sample = [0, 0, 0, 2, 0x09, 0xf0, 0, 0, 0, 2, 0x65, 0x01];
        let out = annexb(TsVideoCodec::H264, &[SPS, PPS], true, &sample, 4);
        let expected: Vec<u8> = [
            &[0, 0, 0, 1, 0x09, 0xf0][..],
            &[0, 0, 0, 1],
            SPS,
            &[0, 0, 0, 1],
            PPS,
            &[0, 0, 0, 1, 0x65, 0x01],
        ]
        .concat();
        assert_eq!(out, expected);
    }

    #[test]
    fn hevc_aud_copies_temporal_id() {
        // IDR_W_RADL (19), temporal id plus 1 = 1; then a TRAIL_R (1) with TemporalId 2.
        let vps: &[u8] = &[0x40, 0x01, 0x0c];
        let sample = [0, 0, 0, 3, 0x26, 0x01, 0xaf];
        let out = annexb(TsVideoCodec::Hevc, &[vps], true, &sample, 4);
        assert_eq!(
            out,
            [
                0, 0, 0, 1, 0x46, 0x01, 0x50, 0, 0, 0, 1, 0x40, 0x01, 0x0c, 0, 0, 0, 1, 0x26, 0x01,
                0xaf
            ]
        );
        let sample = [0, 0, 0, 3, 0x02, 0x03, 0xaf];
        let out = annexb(TsVideoCodec::Hevc, &[vps], false, &sample, 4);
        assert_eq!(
            out,
            [0, 0, 0, 1, 0x46, 0x03, 0x50, 0, 0, 0, 1, 0x02, 0x03, 0xaf]
        );
        // In-band VPS on a keyframe: the configured one is not added.
        let sample = [0, 0, 0, 3, 0x40, 0x01, 0x0d, 0, 0, 0, 3, 0x26, 0x01, 0xaf];
        let out = annexb(TsVideoCodec::Hevc, &[vps], true, &sample, 4);
        assert_eq!(
            out,
            [
                0, 0, 0, 1, 0x46, 0x01, 0x50, 0, 0, 0, 1, 0x40, 0x01, 0x0d, 0, 0, 0, 1, 0x26, 0x01,
                0xaf
            ]
        );
    }

    #[test]
    fn bad_lengths_are_errors() {
        // Length 5 but only 2 bytes follow.
        let err = split_nals(&[0, 0, 0, 2, 0x65, 0x00, 0, 0, 0, 5, 0x41, 0x00], 4, 7).unwrap_err();
        assert_eq!(
            err,
            TsError::NalLengthOverrun {
                sample: 7,
                offset: 6,
                nal_length: 5,
                available: 2
            }
        );
        assert!(err.to_string().contains("sample 7"), "{err}");
        assert!(err.to_string().contains("offset 6"), "{err}");
        // A length prefix cut short.
        let err = split_nals(&[0, 1, 0x65, 0], 2, 1).unwrap_err();
        assert!(
            matches!(
                err,
                TsError::TruncatedNalLength {
                    sample: 1,
                    offset: 3,
                    remaining: 1,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            split_nals(&[0], 3, 0).unwrap_err(),
            TsError::InvalidNalLengthSize(3)
        );
        // Maximum 4-byte length must not overflow.
        assert!(split_nals(&[0xff, 0xff, 0xff, 0xff, 1], 4, 0).is_err());
        // Zero-length NAL units are skipped; an empty sample has none.
        assert_eq!(
            split_nals(&[0, 0, 0, 1, 0x41], 2, 0).unwrap(),
            vec![&[0x41][..]]
        );
        assert!(split_nals(&[], 4, 0).unwrap().is_empty());
        let mut chunks = Vec::new();
        assert!(!append_annexb(
            TsVideoCodec::H264,
            &[SPS],
            true,
            &[],
            &mut chunks
        ));
        assert!(chunks.is_empty());
    }
}
