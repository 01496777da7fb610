//! Audio frames to PES packets: ADTS headers for AAC, and the grouping of consecutive frames.

use super::pes::MAX_PES_PACKET_LENGTH;
use super::{TsError, TsSample};

/// Size of an ADTS header without CRC (protection_absent = 1).
pub const ADTS_HEADER_LEN: usize = 7;
/// frame_length is a 13-bit field that counts the header too.
pub const MAX_ADTS_FRAME_LEN: usize = (1 << 13) - 1;
/// Largest elementary stream payload of an audio PES with a PTS-only header, so that
/// PES_packet_length (flags, header length, PTS, payload) still fits 16 bits.
pub const MAX_AUDIO_PES_PAYLOAD: usize = MAX_PES_PACKET_LENGTH - 3 - 5;

/// The 7-byte ADTS header (ISO/IEC 13818-7 / 14496-3 §1.A.2) of one raw AAC frame:
/// MPEG-4, layer 0, no CRC, buffer fullness 0x7FF (variable rate), one raw data block.
/// `frame_len` counts the header. The caller has checked the field ranges.
pub fn adts_header(
    profile: u8,
    sampling_index: u8,
    channel_config: u8,
    frame_len: usize,
) -> [u8; 7] {
    let len = frame_len & MAX_ADTS_FRAME_LEN;
    [
        0xff,
        0xf1, // syncword low nibble, ID 0 (MPEG-4), layer 00, protection_absent 1
        ((profile & 0x03) << 6) | ((sampling_index & 0x0f) << 2) | ((channel_config >> 2) & 0x01),
        ((channel_config & 0x03) << 6) | ((len >> 11) & 0x03) as u8,
        ((len >> 3) & 0xff) as u8,
        (((len & 0x07) as u8) << 5) | 0x1f,
        0xfc,
    ]
}

/// Consecutive frames `start..end` of the audio track that go into one PES packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioGroup {
    pub start: usize,
    pub end: usize,
    /// Elementary stream bytes (frames plus any per-frame headers).
    pub payload_len: usize,
}

/// Limits for [`group_frames`].
#[derive(Debug, Clone, Copy)]
pub struct GroupLimits {
    /// Bytes the muxer adds to each frame (7 for ADTS).
    pub frame_overhead: usize,
    /// Largest frame accepted, `frame_overhead` included.
    pub max_frame_len: usize,
    pub max_frames: usize,
    /// Longest PES duration in 90 kHz ticks, the last frame's (estimated) duration included.
    pub max_duration: u64,
}

/// Groups audio frames into PES packets. A frame joins the current PES when the PES has fewer
/// than `max_frames` frames, the frame follows its predecessor at the same spacing as the
/// PES's first two frames (±1 tick of rounding; a gap or a jump starts a new PES so that
/// demuxers, which derive each frame's time from the PES PTS and the frame duration, stay
/// right), the PES still lasts at most `max_duration`, and PES_packet_length still fits.
/// Empty frames are skipped (and end the current PES).
pub fn group_frames(
    samples: &[TsSample<'_>],
    limits: &GroupLimits,
) -> Result<Vec<AudioGroup>, TsError> {
    let mut groups = Vec::new();
    let mut current: Option<AudioGroup> = None;
    for (index, sample) in samples.iter().enumerate() {
        if sample.data.is_empty() {
            groups.extend(current.take());
            continue;
        }
        let len = sample.data.len() + limits.frame_overhead;
        if len > limits.max_frame_len {
            return Err(TsError::AudioFrameTooLarge {
                sample: index,
                size: sample.data.len(),
                max: limits.max_frame_len - limits.frame_overhead,
            });
        }
        if let Some(group) = current.as_mut() {
            if joins(samples, group, sample, len, limits) {
                group.end = index + 1;
                group.payload_len += len;
                continue;
            }
            groups.extend(current.take());
        }
        current = Some(AudioGroup {
            start: index,
            end: index + 1,
            payload_len: len,
        });
    }
    groups.extend(current);
    Ok(groups)
}

fn joins(
    samples: &[TsSample<'_>],
    group: &AudioGroup,
    sample: &TsSample<'_>,
    len: usize,
    limits: &GroupLimits,
) -> bool {
    let (Some(first), Some(previous)) = (
        samples.get(group.start),
        samples.get(group.end.wrapping_sub(1)),
    ) else {
        return false;
    };
    let count = group.end - group.start;
    let delta = sample.dts.saturating_sub(previous.dts);
    let regular = match samples.get(group.start + 1) {
        Some(second) if count >= 2 => second.dts.saturating_sub(first.dts).abs_diff(delta) <= 1,
        _ => true,
    };
    count < limits.max_frames
        && delta > 0
        && regular
        && sample.dts.saturating_sub(first.dts).saturating_add(delta) <= limits.max_duration
        && group.payload_len + len <= MAX_AUDIO_PES_PAYLOAD
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adts_header_bits() {
        // AAC LC (profile 1), 48 kHz (index 3), stereo, 100-byte frame + 7.
        let h = adts_header(1, 3, 2, 107);
        assert_eq!(h, [0xff, 0xf1, 0x4c, 0x80, 0x0d, 0x7f, 0xfc]);
        // Parse the fields back.
        let bits = h.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let field = |shift: u32, width: u32| (bits >> (56 - shift - width)) & ((1 << width) - 1);
        assert_eq!(field(0, 12), 0xfff);
        assert_eq!(field(12, 1), 0, "MPEG-4");
        assert_eq!(field(13, 2), 0, "layer");
        assert_eq!(field(15, 1), 1, "protection_absent");
        assert_eq!(field(16, 2), 1, "profile");
        assert_eq!(field(18, 4), 3, "sampling_frequency_index");
        assert_eq!(field(23, 3), 2, "channel_configuration");
        assert_eq!(field(30, 13), 107, "frame_length");
        assert_eq!(field(43, 11), 0x7ff, "buffer fullness");
        assert_eq!(field(54, 2), 0, "raw data blocks - 1");
        // 5.1 (channel config 6 spans two bytes), 44.1 kHz, the largest frame.
        let h = adts_header(1, 4, 6, MAX_ADTS_FRAME_LEN);
        let bits = h.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let field = |shift: u32, width: u32| (bits >> (56 - shift - width)) & ((1 << width) - 1);
        assert_eq!(field(18, 4), 4);
        assert_eq!(field(23, 3), 6);
        assert_eq!(field(30, 13), 8191);
    }

    fn frames(dts: &[u64], data: &'static [u8]) -> Vec<TsSample<'static>> {
        dts.iter()
            .map(|&d| TsSample {
                dts: d,
                pts: d,
                keyframe: true,
                data,
            })
            .collect()
    }

    const LIMITS: GroupLimits = GroupLimits {
        frame_overhead: 7,
        max_frame_len: MAX_ADTS_FRAME_LEN,
        max_frames: 5,
        max_duration: 9000,
    };

    fn ranges(groups: &[AudioGroup]) -> Vec<(usize, usize)> {
        groups.iter().map(|g| (g.start, g.end)).collect()
    }

    #[test]
    fn groups_at_most_100_ms() {
        // AAC 48 kHz: 1920 ticks per frame; 4 frames = 85 ms, a 5th would end at 106 ms.
        let dts: Vec<u64> = (0..10).map(|i| 1000 + i * 1920).collect();
        let groups = group_frames(&frames(&dts, &[1, 2, 3]), &LIMITS).unwrap();
        assert_eq!(ranges(&groups), [(0, 4), (4, 8), (8, 10)]);
        assert_eq!(groups[0].payload_len, 4 * 10);
        // 44.1 kHz with rounding jitter: 2089/2090.
        let dts: Vec<u64> = (0..8u64).map(|i| i * 1024 * 90_000 / 44_100).collect();
        let groups = group_frames(&frames(&dts, &[1]), &LIMITS).unwrap();
        assert_eq!(ranges(&groups), [(0, 4), (4, 8)]);
        // Short frames: the frame count limit.
        let dts: Vec<u64> = (0..7).map(|i| i * 100).collect();
        let groups = group_frames(&frames(&dts, &[1]), &LIMITS).unwrap();
        assert_eq!(ranges(&groups), [(0, 5), (5, 7)]);
    }

    #[test]
    fn gaps_and_empty_frames_split() {
        let dts = [0, 1920, 3840, 9000, 10920];
        let groups = group_frames(&frames(&dts, &[1]), &LIMITS).unwrap();
        assert_eq!(ranges(&groups), [(0, 3), (3, 5)]);
        let mut samples = frames(&[0, 1920, 3840, 5760], &[1]);
        samples[1].data = &[];
        let groups = group_frames(&samples, &LIMITS).unwrap();
        assert_eq!(ranges(&groups), [(0, 1), (2, 4)]);
    }

    #[test]
    fn oversized_frames() {
        static BIG: [u8; 8185] = [0; 8185];
        let err = group_frames(&frames(&[0], &BIG), &LIMITS).unwrap_err();
        assert_eq!(
            err,
            TsError::AudioFrameTooLarge {
                sample: 0,
                size: 8185,
                max: 8184
            }
        );
        // Without a per-frame header, big frames each get their own PES below 64 KiB.
        static AC3: [u8; 30_000] = [0; 30_000];
        let limits = GroupLimits {
            frame_overhead: 0,
            max_frame_len: MAX_AUDIO_PES_PAYLOAD,
            ..LIMITS
        };
        let groups = group_frames(&frames(&[0, 10, 20, 30], &AC3), &limits).unwrap();
        assert_eq!(ranges(&groups), [(0, 2), (2, 4)]);
    }
}
