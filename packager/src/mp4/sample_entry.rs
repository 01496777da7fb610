//! Sample entries (`stsd`): which codec a track uses, its decoder configuration, and the
//! RFC 6381 codec string that HLS `CODECS` and DASH `@codecs` carry.

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::mp4::boxes::{find, fourcc_str, FourCc, Mp4Box};

/// What a track carries, as far as packaging cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Codec {
    Video(VideoCodec),
    Audio(AudioCodec),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoCodec {
    pub kind: VideoKind,
    /// `avc1`, `avc3`, `hvc1` or `hev1`.
    pub fourcc: FourCc,
    pub width: u16,
    pub height: u16,
    /// Size in bytes of each NAL unit's length prefix (1, 2 or 4).
    pub nal_length_size: u8,
    /// Parameter set NAL units from avcC/hvcC (VPS, SPS, PPS), without prefixes.
    pub parameter_sets: Vec<Bytes>,
    pub codec_string: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoKind {
    H264,
    Hevc,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioCodec {
    pub kind: AudioKind,
    pub channels: u16,
    pub sample_rate: u32,
    pub codec_string: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioKind {
    /// AAC of any profile. `object_type` is the AudioSpecificConfig object type (2 = LC,
    /// 5 = SBR/HE-AAC, 29 = PS/HE-AACv2); `core_*` describe the AAC-LC core that an ADTS
    /// header names.
    Aac {
        object_type: u8,
        core_object_type: u8,
        core_sampling_index: u8,
        channel_config: u8,
    },
    Ac3,
    Eac3,
}

impl Codec {
    pub fn codec_string(&self) -> &str {
        match self {
            Codec::Video(v) => &v.codec_string,
            Codec::Audio(a) => &a.codec_string,
        }
    }
}

/// Reads the first (and only supported) sample entry of `stsd`, returning the parsed codec
/// and the raw entry bytes (header included) for copying into an init segment.
pub fn parse_stsd(stsd: &Mp4Box<'_>, handler: &FourCc) -> Result<(Codec, Bytes)> {
    let mut f = stsd.fields();
    f.version_flags()?;
    let count = f.u32()?;
    if count == 0 {
        return Err(f.error("sample description box has no entries"));
    }
    let entries = stsd.children_after(8)?;
    let entry = entries
        .first()
        .ok_or_else(|| f.error("sample description box has no entries"))?;
    let raw_len = entry.payload.len() + (entry.payload_offset - entry.offset) as usize;
    let start = (entry.offset - stsd.payload_offset) as usize;
    let raw = stsd
        .payload
        .get(start..start + raw_len)
        .map(Bytes::copy_from_slice)
        .ok_or_else(|| f.error("sample entry lies outside its box"))?;
    let codec = match handler {
        b"vide" => Codec::Video(parse_visual(entry)?),
        b"soun" => Codec::Audio(parse_audio(entry)?),
        other => {
            return Err(Error::unsupported(
                &stsd.path,
                format!("track handler '{}'", fourcc_str(other)),
            ))
        }
    };
    Ok((codec, raw))
}

fn parse_visual(entry: &Mp4Box<'_>) -> Result<VideoCodec> {
    let kind =
        match &entry.kind {
            b"avc1" | b"avc3" => VideoKind::H264,
            b"hvc1" | b"hev1" => VideoKind::Hevc,
            b"encv" => return Err(Error::unsupported(
                &entry.path,
                "the source is already encrypted (encv); edgepack packages clear mezzanine files",
            )),
            other => {
                return Err(Error::unsupported(
                    &entry.path,
                    format!(
                        "video codec '{}' (supported: avc1, avc3, hvc1, hev1)",
                        fourcc_str(other)
                    ),
                ))
            }
        };
    let mut f = entry.fields();
    f.skip(6 + 2 + 16)?;
    let width = f.u16()?;
    let height = f.u16()?;
    let children = entry.children_after(78)?;
    let (config_kind, parse): (&FourCc, fn(&Mp4Box<'_>) -> Result<ParamSets>) = match kind {
        VideoKind::H264 => (b"avcC", parse_avcc),
        VideoKind::Hevc => (b"hvcC", parse_hvcc),
    };
    let config = find(&children, config_kind).ok_or_else(|| {
        Error::malformed(
            &entry.path,
            entry.offset,
            format!(
                "missing decoder configuration '{}'",
                fourcc_str(config_kind)
            ),
        )
    })?;
    let sets = parse(config)?;
    let codec_string = format!("{}.{}", fourcc_str(&entry.kind), sets.codec_suffix);
    Ok(VideoCodec {
        kind,
        fourcc: entry.kind,
        width,
        height,
        nal_length_size: sets.nal_length_size,
        parameter_sets: sets.nal_units,
        codec_string,
    })
}

struct ParamSets {
    nal_length_size: u8,
    nal_units: Vec<Bytes>,
    codec_suffix: String,
}

fn parse_avcc(b: &Mp4Box<'_>) -> Result<ParamSets> {
    let mut f = b.fields();
    let version = f.u8()?;
    if version != 1 {
        return Err(f.error(format!("avcC configurationVersion {version} is not 1")));
    }
    let profile = f.u8()?;
    let compat = f.u8()?;
    let level = f.u8()?;
    let nal_length_size = (f.u8()? & 3) + 1;
    if nal_length_size == 3 {
        return Err(f.error("NAL length size 3 is not allowed"));
    }
    let mut nal_units = Vec::new();
    let sps_count = f.u8()? & 0x1f;
    for _ in 0..sps_count {
        let len = usize::from(f.u16()?);
        nal_units.push(Bytes::copy_from_slice(f.bytes(len)?));
    }
    let pps_count = f.u8()?;
    for _ in 0..pps_count {
        let len = usize::from(f.u16()?);
        nal_units.push(Bytes::copy_from_slice(f.bytes(len)?));
    }
    Ok(ParamSets {
        nal_length_size,
        nal_units,
        codec_suffix: format!("{profile:02x}{compat:02x}{level:02x}"),
    })
}

fn parse_hvcc(b: &Mp4Box<'_>) -> Result<ParamSets> {
    let mut f = b.fields();
    let version = f.u8()?;
    if version != 1 {
        return Err(f.error(format!("hvcC configurationVersion {version} is not 1")));
    }
    let byte = f.u8()?;
    let profile_space = byte >> 6;
    let tier = (byte >> 5) & 1;
    let profile_idc = byte & 0x1f;
    let compat = f.u32()?;
    let constraints = f.bytes(6)?;
    let level = f.u8()?;
    f.skip(2 + 1 + 1 + 1 + 1 + 2)?;
    let nal_length_size = (f.u8()? & 3) + 1;
    if nal_length_size == 3 {
        return Err(f.error("NAL length size 3 is not allowed"));
    }
    let arrays = f.u8()?;
    let mut nal_units = Vec::new();
    for _ in 0..arrays {
        let nal_type = f.u8()? & 0x3f;
        let n = f.u16()?;
        for _ in 0..n {
            let len = usize::from(f.u16()?);
            let nal = f.bytes(len)?;
            // VPS 32, SPS 33, PPS 34: what a TS stream needs before each keyframe.
            if (32..=34).contains(&nal_type) {
                nal_units.push(Bytes::copy_from_slice(nal));
            }
        }
    }
    // ISO/IEC 14496-15 Annex E: profile space letter, profile, reversed compatibility
    // flags in hex, tier letter and level, then constraint bytes without trailing zeros.
    let space = ["", "A", "B", "C"][usize::from(profile_space)];
    let compat_reversed = compat.reverse_bits();
    let tier_letter = if tier == 1 { 'H' } else { 'L' };
    let mut suffix = format!("{space}{profile_idc}.{compat_reversed:x}.{tier_letter}{level}");
    let keep = constraints
        .iter()
        .rposition(|&c| c != 0)
        .map_or(0, |i| i + 1);
    for c in &constraints[..keep] {
        suffix.push_str(&format!(".{c:x}"));
    }
    Ok(ParamSets {
        nal_length_size,
        nal_units,
        codec_suffix: suffix,
    })
}

fn parse_audio(entry: &Mp4Box<'_>) -> Result<AudioCodec> {
    let mut f = entry.fields();
    f.skip(8)?;
    let version = f.u16()?;
    if version != 0 {
        return Err(Error::unsupported(
            &entry.path,
            format!(
                "QuickTime sound description version {version} (only version 0, as MP4 writes it)"
            ),
        ));
    }
    f.skip(6)?;
    let channels = f.u16()?;
    f.skip(2 + 2 + 2)?;
    let rate_fixed = f.u32()?;
    let children = entry.children_after(28)?;
    let missing = |name: &str| {
        Error::malformed(
            &entry.path,
            entry.offset,
            format!("missing decoder configuration '{name}'"),
        )
    };
    match &entry.kind {
        b"mp4a" => {
            let esds = find(&children, b"esds").ok_or_else(|| missing("esds"))?;
            let asc = parse_esds(esds)?;
            let sample_rate = asc.sample_rate.unwrap_or(rate_fixed >> 16);
            let channels = if asc.channel_config > 0 && asc.channel_config < 7 {
                u16::from(asc.channel_config)
            } else if asc.channel_config == 7 {
                8
            } else {
                channels
            };
            Ok(AudioCodec {
                kind: AudioKind::Aac {
                    object_type: asc.object_type,
                    core_object_type: asc.core_object_type,
                    core_sampling_index: asc.core_sampling_index,
                    channel_config: asc.channel_config,
                },
                channels,
                sample_rate,
                codec_string: format!("mp4a.40.{}", asc.object_type),
            })
        }
        b"ac-3" => {
            let dac3 = find(&children, b"dac3").ok_or_else(|| missing("dac3"))?;
            let mut d = dac3.fields();
            let b = d.u24()?;
            let acmod = ((b >> 11) & 0x7) as usize;
            let lfe = ((b >> 10) & 1) as u16;
            Ok(AudioCodec {
                kind: AudioKind::Ac3,
                channels: AC3_CHANNELS[acmod] + lfe,
                sample_rate: rate_fixed >> 16,
                codec_string: "ac-3".into(),
            })
        }
        b"ec-3" => {
            let dec3 = find(&children, b"dec3").ok_or_else(|| missing("dec3"))?;
            let mut d = dec3.fields();
            d.skip(2)?;
            let b = d.u24()?;
            let acmod = ((b >> 9) & 0x7) as usize;
            let lfe = ((b >> 8) & 1) as u16;
            Ok(AudioCodec {
                kind: AudioKind::Eac3,
                channels: AC3_CHANNELS[acmod] + lfe,
                sample_rate: rate_fixed >> 16,
                codec_string: "ec-3".into(),
            })
        }
        b"enca" => Err(Error::unsupported(
            &entry.path,
            "the source is already encrypted (enca); edgepack packages clear mezzanine files",
        )),
        other => Err(Error::unsupported(
            &entry.path,
            format!(
                "audio codec '{}' (supported: mp4a AAC, ac-3, ec-3)",
                fourcc_str(other)
            ),
        )),
    }
}

/// Full-bandwidth channels for each AC-3 `acmod`.
const AC3_CHANNELS: [u16; 8] = [2, 1, 2, 3, 3, 4, 4, 5];

const AAC_SAMPLE_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

struct AudioSpecificConfig {
    object_type: u8,
    core_object_type: u8,
    core_sampling_index: u8,
    channel_config: u8,
    /// Output sample rate (the SBR rate for HE-AAC), when the index is a known one.
    sample_rate: Option<u32>,
}

fn parse_esds(esds: &Mp4Box<'_>) -> Result<AudioSpecificConfig> {
    let mut f = esds.fields();
    f.version_flags()?;
    // Walk the descriptors: ES_Descriptor (3) > DecoderConfigDescriptor (4) > DecSpecificInfo (5).
    let mut expect = 3u8;
    loop {
        let tag = f.u8()?;
        let mut len = 0usize;
        for _ in 0..4 {
            let b = f.u8()?;
            len = (len << 7) | usize::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
        if tag != expect {
            f.skip(len)?;
            continue;
        }
        match tag {
            3 => {
                f.skip(2)?;
                let flags = f.u8()?;
                if flags & 0x80 != 0 {
                    f.skip(2)?;
                }
                if flags & 0x40 != 0 {
                    let url_len = usize::from(f.u8()?);
                    f.skip(url_len)?;
                }
                if flags & 0x20 != 0 {
                    f.skip(2)?;
                }
                expect = 4;
            }
            4 => {
                let oti = f.u8()?;
                if oti != 0x40 && oti != 0x67 && oti != 0x66 && oti != 0x68 {
                    return Err(Error::unsupported(
                        &esds.path,
                        format!("MPEG-4 audio object type indication {oti:#04x} (supported: AAC)"),
                    ));
                }
                f.skip(12)?;
                expect = 5;
            }
            _ => {
                let asc = f.bytes(len)?;
                return parse_audio_specific_config(asc)
                    .ok_or_else(|| f.error("AudioSpecificConfig is truncated or invalid"));
            }
        }
    }
}

struct BitReader<'a> {
    data: &'a [u8],
    bit: usize,
}

impl BitReader<'_> {
    fn read(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let byte = *self.data.get(self.bit / 8)?;
            v = (v << 1) | u32::from((byte >> (7 - self.bit % 8)) & 1);
            self.bit += 1;
        }
        Some(v)
    }

    fn object_type(&mut self) -> Option<u8> {
        let t = self.read(5)?;
        if t == 31 {
            Some((32 + self.read(6)?) as u8)
        } else {
            Some(t as u8)
        }
    }

    fn sampling(&mut self) -> Option<(u8, Option<u32>)> {
        let index = self.read(4)? as u8;
        if index == 15 {
            let rate = self.read(24)?;
            Some((index, Some(rate)))
        } else {
            Some((index, AAC_SAMPLE_RATES.get(usize::from(index)).copied()))
        }
    }
}

fn parse_audio_specific_config(data: &[u8]) -> Option<AudioSpecificConfig> {
    let mut r = BitReader { data, bit: 0 };
    let object_type = r.object_type()?;
    let (core_index, core_rate) = r.sampling()?;
    let channel_config = r.read(4)? as u8;
    let (core_object_type, sample_rate) = if object_type == 5 || object_type == 29 {
        let (_, ext_rate) = r.sampling()?;
        (r.object_type()?, ext_rate)
    } else {
        (object_type, core_rate)
    };
    Some(AudioSpecificConfig {
        object_type,
        core_object_type,
        core_sampling_index: core_index,
        channel_config,
        sample_rate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aac_lc_config() {
        // AAC-LC, 48 kHz (index 3), stereo.
        let asc = parse_audio_specific_config(&[0x11, 0x90]).unwrap();
        assert_eq!(asc.object_type, 2);
        assert_eq!(asc.core_sampling_index, 3);
        assert_eq!(asc.channel_config, 2);
        assert_eq!(asc.sample_rate, Some(48000));
    }

    #[test]
    fn he_aac_explicit_config_reports_sbr_rate_and_lc_core() {
        // AOT 5, core 24 kHz (index 6), stereo, extension 48 kHz (index 3), core AOT 2.
        // 00101 0110 0010 0011 00010 -> 0x2B 0x11 0x88 0x00
        let asc = parse_audio_specific_config(&[0x2B, 0x11, 0x88, 0x00]).unwrap();
        assert_eq!(asc.object_type, 5);
        assert_eq!(asc.core_object_type, 2);
        assert_eq!(asc.core_sampling_index, 6);
        assert_eq!(asc.sample_rate, Some(48000));
    }

    #[test]
    fn truncated_config_is_none() {
        assert!(parse_audio_specific_config(&[0x11]).is_none());
    }

    #[test]
    fn hevc_codec_string_follows_annex_e() {
        // Main profile, compat flags 0x60000000, level 93 (3.1), constraint 0x90.
        let mut hvcc = vec![1u8, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93];
        hvcc.extend_from_slice(&[0xf0, 0, 0xfc, 0xfd, 0xf8, 0xf8, 0, 0, 0x0f, 0]);
        let b = Mp4Box {
            kind: *b"hvcC",
            path: "hvcC".into(),
            offset: 0,
            payload_offset: 8,
            payload: &hvcc,
        };
        let sets = parse_hvcc(&b).unwrap();
        assert_eq!(sets.codec_suffix, "1.6.L93.90");
        assert_eq!(sets.nal_length_size, 4);
    }
}
