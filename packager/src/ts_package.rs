//! HLS with MPEG-TS segments: which samples go into each TS segment (a video rendition's
//! segment carries the default audio muxed in; other audio languages get audio-only TS), the
//! TS playlists, and the conversion of MP4 samples into the muxer's 90 kHz input.

use crate::error::{Error, Result};
use crate::hls::flavor::HlsFlavor;
use crate::hls::keys::{key_lines, KeyTag};
use crate::hls::{write_media_playlist, write_multivariant, VariantRates};
use crate::mp4::{AudioKind, Codec, Track, VideoKind};
use crate::muxed_audio::muxed_audio_span;
use crate::presentation::{Presentation, Rendition};
use crate::protection::Protection;
use crate::segment::{SegmentSpan, SourceRange};
use crate::ts::{
    write_ts_segment, TsAudio, TsAudioCodec, TsSample, TsSegmentOptions, TsVideo, TsVideoCodec,
};
use drm::sample_aes::SampleAesKey;
use drm::Method;

/// Every TS timestamp is this much (10 s in the 90 kHz clock) past the output timeline, so
/// decode times before presentation times never go below zero.
pub const TS_TIMESTAMP_OFFSET: u64 = 900_000;

/// One track's share of a TS segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsPart {
    pub rendition_id: String,
    pub span: SegmentSpan,
}

/// What one TS segment is made of: the parts to read, in order, video first when present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsSegmentPlan {
    pub parts: Vec<TsPart>,
    pub has_video: bool,
    /// Segment number (from 1); continuity counters run on across segments with it.
    pub number: u32,
}

fn not_found(what: String) -> Error {
    Error::NotFound(what)
}

/// Plans TS segment `number` (from 1) of rendition `r`.
pub fn plan_ts_segment(p: &Presentation, r: &Rendition, number: u32) -> Result<TsSegmentPlan> {
    let index = (number as usize)
        .checked_sub(1)
        .filter(|&i| i < r.segments.len())
        .ok_or_else(|| not_found(format!("TS segment {number} of rendition '{}'", r.id)))?;
    let mut parts = vec![TsPart {
        rendition_id: r.id.clone(),
        span: r.segments[index],
    }];
    let has_video = p.track(r).is_video();
    if has_video {
        if let Some(audio) = p.audio.first() {
            parts.push(TsPart {
                rendition_id: audio.id.clone(),
                span: muxed_audio_span(p.placed(r), p.placed(audio), index),
            });
        }
    }
    Ok(TsSegmentPlan {
        parts,
        has_video,
        number,
    })
}

/// Converts a track time on the output timeline to the 90 kHz TS clock.
fn to_90k(t: i128, timescale: u32) -> u64 {
    let timescale = timescale.max(1);
    // 64-bit arithmetic whenever it cannot overflow (every real source): a 128-bit division
    // per sample showed in TS segment profiles.
    let fast = i64::try_from(t)
        .ok()
        .and_then(|t| t.checked_mul(90_000))
        .and_then(|scaled| (scaled / i64::from(timescale)).checked_add(TS_TIMESTAMP_OFFSET as i64));
    if let Some(v) = fast {
        return u64::try_from(v.max(0)).unwrap_or(0);
    }
    let v = t * 90_000 / i128::from(timescale) + i128::from(TS_TIMESTAMP_OFFSET);
    u64::try_from(v.max(0)).unwrap_or(0)
}

fn ts_samples<'a>(
    track: &Track,
    offset: u64,
    span: &SegmentSpan,
    source: &'a SourceRange,
) -> Result<Vec<TsSample<'a>>> {
    let s = &track.samples;
    let decode_shift = i128::from(s.min_composition_offset());
    // One walk of each column, not one search of it per sample.
    let columns = s
        .sync_flags(span.samples())
        .zip(s.offsets(span.samples()))
        .zip(s.times(span.samples()))
        .zip(s.composition_offsets(span.samples()));
    // A plain loop: collecting `Result`s called the closure out of line for every sample.
    let mut samples = Vec::with_capacity(span.samples().len());
    for (i, (((keyframe, at), (time, _)), composition)) in span.samples().zip(columns) {
        let size = s.size(i);
        let start = source.position(at, size)?;
        let dts = i128::from(time) + i128::from(offset);
        samples.push(TsSample {
            dts: to_90k(dts + decode_shift, track.timescale),
            pts: to_90k(dts + i128::from(composition), track.timescale),
            keyframe,
            data: &source.data[start..start + size as usize],
        });
    }
    Ok(samples)
}

fn ts_error(e: crate::ts::TsError) -> Error {
    if let crate::ts::TsError::SampleAes(drm::Error::Unsupported { what, reason }) = &e {
        return Error::unsupported("SAMPLE-AES in MPEG-TS", format!("{what}: {reason}"));
    }
    Error::Output {
        what: "MPEG-TS segment",
        reason: e.to_string(),
    }
}

/// Muxes a planned segment; `reads[i]` covers the bytes of `plan.parts[i]`. With a
/// SAMPLE-AES (or `cbcs`) protection the samples are encrypted the Apple way, with the
/// rendition's IV that its playlist's EXT-X-KEY lines carry.
pub fn write_ts(
    p: &Presentation,
    plan: &TsSegmentPlan,
    reads: &[SourceRange],
    protection: Option<&Protection>,
) -> Result<Vec<u8>> {
    let mut video = None;
    let mut audio = None;
    for (part, read) in plan.parts.iter().zip(reads) {
        let r = p
            .rendition(&part.rendition_id)
            .ok_or_else(|| not_found(format!("rendition '{}'", part.rendition_id)))?;
        let track = p.track(r);
        let samples = ts_samples(track, r.timeline_offset, &part.span, read)?;
        match &track.codec {
            Codec::Video(v) => {
                video = Some(TsVideo {
                    codec: match v.kind {
                        VideoKind::H264 => TsVideoCodec::H264,
                        VideoKind::Hevc => TsVideoCodec::Hevc,
                    },
                    nal_length_size: v.nal_length_size,
                    parameter_sets: v.parameter_sets.iter().map(|b| b.as_ref()).collect(),
                    samples,
                });
            }
            Codec::Audio(a) => {
                audio = Some(TsAudio {
                    codec: ts_audio_codec(a.kind)?,
                    samples,
                });
            }
        }
    }
    let sample_aes = protection
        .filter(|pr| matches!(pr.method, Method::SampleAes | Method::Cbcs))
        .zip(plan.parts.first())
        .map(|(pr, part)| {
            SampleAesKey::from_content_key(&pr.key.key, pr.sample_aes_iv(&part.rendition_id))
        });
    let options = TsSegmentOptions {
        sequence_number: u64::from(plan.number),
        sample_aes,
        ..TsSegmentOptions::default()
    };
    write_ts_segment(video.as_ref(), audio.as_ref(), &options)
        .map(|s| s.bytes)
        .map_err(ts_error)
}

fn ts_audio_codec(kind: AudioKind) -> Result<TsAudioCodec> {
    Ok(match kind {
        AudioKind::Aac {
            core_object_type,
            core_sampling_index,
            channel_config,
            ..
        } => TsAudioCodec::Aac {
            profile: core_object_type.saturating_sub(1),
            sampling_index: core_sampling_index,
            channel_config,
        },
        AudioKind::Ac3 => TsAudioCodec::Ac3,
        AudioKind::Eac3 => TsAudioCodec::Eac3,
    })
}

/// The multivariant playlist of the TS flavor.
pub fn ts_multivariant(p: &Presentation, protection: Option<&Protection>) -> String {
    let rate = |r: &Rendition| r.ts_bandwidth;
    write_multivariant(
        p,
        HlsFlavor::Ts,
        &VariantRates {
            video: &rate,
            audio: &rate,
        },
        protection,
    )
}

/// The TS media playlist of a rendition: `1.ts`, `2.ts`, ...
pub fn ts_media_playlist(r: &Rendition, protection: Option<&Protection>) -> String {
    let keys = protection
        .map(|pr| {
            key_lines(
                pr,
                HlsFlavor::Ts,
                KeyTag::Key,
                "../../",
                Some(pr.sample_aes_iv(&r.id)),
            )
        })
        .unwrap_or_default();
    write_media_playlist(&r.entries, "ts", None, false, &keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 64-bit fast path of `to_90k` gives exactly what 128-bit arithmetic gives.
    #[test]
    fn timestamps_to_90k_agree_with_wide_arithmetic() {
        let wide = |t: i128, ts: u32| {
            let v = t * 90_000 / i128::from(ts.max(1)) + i128::from(TS_TIMESTAMP_OFFSET);
            u64::try_from(v.max(0)).unwrap_or(0)
        };
        let times = [
            0i128,
            1,
            -1,
            -1_000_000,
            1001,
            90_000,
            48_000 * 7200,
            i128::from(i64::MAX / 90_000),
            i128::from(i64::MAX / 90_000) + 1,
            i128::from(i64::MAX),
            i128::from(u64::MAX),
            i128::from(i64::MIN),
        ];
        for t in times {
            for ts in [0u32, 1, 1000, 25, 30_000, 44_100, 48_000, 90_000, u32::MAX] {
                assert_eq!(to_90k(t, ts), wide(t, ts), "t={t} timescale={ts}");
            }
        }
    }
}
