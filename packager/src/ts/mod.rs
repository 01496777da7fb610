//! MPEG-TS segment muxing (ISO/IEC 13818-1 transport streams as HLS uses them).
//!
//! [`write_ts_segment`] turns one segment's worth of MP4 samples (one optional video track,
//! one optional audio track) into a self-contained transport stream: PAT and PMT first, then
//! PES packets interleaved in DTS order. [`ts_segment_len`] gives the exact size of the same
//! output without building it. Pure: no IO, no clock, and the same input always gives the
//! same bytes.
//!
//! # What the caller must know
//!
//! * **Timestamps** are in the 90 kHz clock and are written as given, modulo 2^33 (the PTS,
//!   DTS and PCR fields are 33 bits). The muxer adds no offset. For HLS the caller normally
//!   shifts both tracks by the same constant so that no DTS is negative (B-frames: the first
//!   DTS precedes the first PTS) and so that the first PCR, `DTS - pcr_delay`, does not
//!   clamp at 0 (ffmpeg's HLS output starts at 1.4 s, for example; 10 s, 900 000 ticks, is
//!   also common). Use the same offset for every segment and rendition of a presentation.
//! * Per track, DTS must not decrease and PTS must not be below DTS; otherwise
//!   [`TsError::DtsNotMonotonic`] / [`TsError::PtsBeforeDts`].
//! * **Video**: `nal_length_size` and `parameter_sets` come from `avcC`/`hvcC`. Each sample
//!   becomes one PES with an access unit delimiter and 4-byte start codes; a keyframe sample
//!   gets `parameter_sets` in front of its NAL units unless it carries any parameter set
//!   (H.264 SPS/PPS, HEVC VPS/SPS/PPS) itself. For `avc3`/`hev1` streams pass the
//!   configuration record's sets anyway when it has them (harmless: in-band sets win), or an
//!   empty list. A sample without any NAL unit is skipped.
//! * **Audio**: AAC frames get an ADTS header; AC-3 and E-AC-3 frames are written as they
//!   are. For HE-AAC (SBR/PS) pass `profile: 1` (LC) and the sampling index of the AAC core
//!   (the ADTS convention with implicit signalling). Empty frames are skipped.
//! * **Continuity counters** stay continuous from one segment to the next of the same
//!   rendition, although each segment is built alone (as nginx-vod-module does): every PES
//!   PID starts at 0 and its last PES is spread over a few more packets so that the PID ends
//!   at 15; PAT and PMT use `sequence_number mod 16`, so pass the segment's media sequence
//!   number in [`TsSegmentOptions::sequence_number`]. This costs 0 to 15 extra packets per PID
//!   per segment (about 1.4 KB per PID on average) and keeps ffmpeg's HLS demuxer, which
//!   reads the segments as one stream, from flagging packets as corrupt. Turn it off with
//!   [`TsSegmentOptions::align_continuity_counters`].
//! * [`TsSegment::keyframes`] gives each keyframe's byte range, for I-frame playlists.
//!
//! # Layout
//!
//! * PAT (PID 0) and PMT (default PID 0x1000) in the first two packets.
//! * Video on PID 0x100, stream_id 0xE0, stream_type 0x1B (H.264) or 0x24 (HEVC); one PES per
//!   sample with PTS (and DTS when it differs), PES_packet_length 0; the first packet of each
//!   video PES carries the PCR, and random_access_indicator when it is a keyframe.
//! * Audio on PID 0x101. AAC: stream_type 0x0F, stream_id 0xC0. AC-3: stream_type 0x81,
//!   E-AC-3: stream_type 0x87 (the ATSC / Apple HLS types, which ffmpeg writes and reads),
//!   both with stream_id 0xBD (private_stream_1) and a registration descriptor (`AC-3`,
//!   `EAC3`). hls.js reads 0x81 as AC-3; it does not support E-AC-3 in TS under any type.
//!   Consecutive frames share a PES, at most `audio_max_frames_per_pes` frames and
//!   `audio_max_pes_duration` ticks, with the PTS of its first frame.
//!   The first packet of each audio PES has random_access_indicator set.
//! * PCR is on the video PID, or on the audio PID for audio-only segments, with value
//!   `DTS - pcr_delay` of the PES it precedes (never decreasing). PCR-only packets (adaptation
//!   field, no payload) keep the PCR interval at most 100 ms when PES packets are further
//!   apart, and one precedes the first PES when that PES is not on the PCR PID.

mod audio;
mod packet;
mod pes;
mod psi;
mod video;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod validate;

use thiserror::Error;

pub use packet::TS_PACKET_SIZE;
use packet::{Chunk, ContinuityCounter, Counter, FirstPacket, Out, SmallBuf};
pub use psi::crc32_mpeg2;

/// Bytes of the PAT and PMT packets at the start of every segment.
pub const TS_PSI_LEN: u64 = 2 * TS_PACKET_SIZE as u64;

/// Largest PCR interval (ISO/IEC 13818-1 §2.7.2: at most 0.1 s).
const PCR_MAX_INTERVAL: u64 = 9000;
/// PCR-only packets written before one PES at most, so that a wild timestamp gap cannot
/// blow up the output (6.4 s of gap are bridged; beyond that the interval is exceeded).
const PCR_MAX_FILL_PACKETS: u64 = 64;

/// One access unit (video) or audio frame, timestamps already in the 90 kHz clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TsSample<'a> {
    pub dts: u64,
    pub pts: u64,
    /// Sync sample (IDR/IRAP). Ignored for audio.
    pub keyframe: bool,
    pub data: &'a [u8],
}

/// Video codec of a [`TsVideo`] track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsVideoCodec {
    H264,
    Hevc,
}

/// The video track of one segment.
#[derive(Debug, Clone)]
pub struct TsVideo<'a> {
    pub codec: TsVideoCodec,
    /// Size in bytes of the NAL length prefix in the MP4 samples (1, 2 or 4).
    pub nal_length_size: u8,
    /// Parameter set NAL units (H.264: SPS, PPS; HEVC: VPS, SPS, PPS) without start codes or
    /// length prefixes, from avcC/hvcC; written in Annex B before every keyframe. May be empty
    /// (avc3/hev1 streams carry them in band).
    pub parameter_sets: Vec<&'a [u8]>,
    pub samples: Vec<TsSample<'a>>,
}

/// Audio codec of a [`TsAudio`] track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsAudioCodec {
    /// AAC raw frames from MP4; the muxer adds a 7-byte ADTS header to each.
    /// profile = audio object type - 1 (LC: 1), sampling_index and channel_config as in ADTS.
    Aac {
        profile: u8,
        sampling_index: u8,
        channel_config: u8,
    },
    Ac3,
    Eac3,
}

/// The audio track of one segment.
#[derive(Debug, Clone)]
pub struct TsAudio<'a> {
    pub codec: TsAudioCodec,
    pub samples: Vec<TsSample<'a>>,
}

/// Muxer settings. The defaults suit HLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsSegmentOptions {
    /// transport_stream_id in the PAT. Default 1.
    pub transport_stream_id: u16,
    /// program_number of the single program (not 0). Default 1.
    pub program_number: u16,
    /// PID of the PMT (0x10..=0x1FFE, distinct from the stream PIDs). Default 0x1000.
    pub pmt_pid: u16,
    /// PID of the video stream. Default 0x100.
    pub video_pid: u16,
    /// PID of the audio stream. Default 0x101.
    pub audio_pid: u16,
    /// PCR = DTS - `pcr_delay` (clamped at 0, never decreasing), in 90 kHz ticks; gives the
    /// decoder model time to receive an access unit before it is decoded. Default 9000 (0.1 s).
    pub pcr_delay: u64,
    /// Most audio frames in one PES packet (at least 1). Default 5.
    pub audio_max_frames_per_pes: usize,
    /// Longest audio PES, in 90 kHz ticks, its last frame's duration included. Default 9000.
    pub audio_max_pes_duration: u64,
    /// Media sequence number of the segment; the PAT and PMT continuity counters are
    /// `sequence_number mod 16`, so consecutive segments continue each other. Default 0.
    pub sequence_number: u64,
    /// Spread the last PES of each PID over extra packets so the PID's continuity counter
    /// ends at 15 and the next segment (starting at 0) continues it. Default true.
    pub align_continuity_counters: bool,
}

impl Default for TsSegmentOptions {
    fn default() -> Self {
        TsSegmentOptions {
            transport_stream_id: 1,
            program_number: 1,
            pmt_pid: 0x1000,
            video_pid: 0x100,
            audio_pid: 0x101,
            pcr_delay: 9000,
            audio_max_frames_per_pes: 5,
            audio_max_pes_duration: 9000,
            sequence_number: 0,
            align_continuity_counters: true,
        }
    }
}

/// A muxed segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsSegment {
    /// The transport stream: a whole number of 188-byte packets, PAT and PMT first.
    pub bytes: Vec<u8>,
    /// Every video keyframe, in order.
    pub keyframes: Vec<TsKeyframe>,
}

/// Where a keyframe's transport packets lie in [`TsSegment::bytes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TsKeyframe {
    /// Index of the sample in [`TsVideo::samples`].
    pub sample: usize,
    pub pts: u64,
    pub dts: u64,
    /// Byte offset of the first packet of the keyframe's PES (it carries the PCR).
    pub offset: u64,
    /// Bytes of the keyframe's packets (a multiple of 188). They are contiguous: no audio
    /// packet is interleaved inside a PES.
    pub len: u64,
}

impl TsSegment {
    /// Byte range `(offset, length)` for an HLS I-frame playlist entry of the first keyframe
    /// that includes the PAT and PMT: from byte 0 to the end of the keyframe's last packet.
    /// (For later keyframes use [`TsKeyframe::offset`]/[`TsKeyframe::len`] together with an
    /// `EXT-X-MAP` of the first [`TS_PSI_LEN`] bytes.) `None` without keyframes.
    pub fn first_keyframe_range(&self) -> Option<(u64, u64)> {
        self.keyframes.first().map(|k| (0, k.offset + k.len))
    }
}

/// Which track an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsTrack {
    Video,
    Audio,
}

impl std::fmt::Display for TsTrack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TsTrack::Video => "video",
            TsTrack::Audio => "audio",
        })
    }
}

/// Why a segment could not be muxed. Sample indexes are positions in the `samples` vector
/// given to the muxer; byte offsets are within that sample's data.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TsError {
    #[error("MPEG-TS: no track to mux (neither video nor audio given)")]
    NoTracks,
    #[error("MPEG-TS: option {name} = {value:#x} is invalid: {reason}")]
    InvalidOption {
        name: &'static str,
        value: u64,
        reason: &'static str,
    },
    #[error("MPEG-TS: NAL length size {0} is not 1, 2 or 4")]
    InvalidNalLengthSize(u8),
    #[error(
        "MPEG-TS: video sample {sample}: {nal_length_size}-byte NAL length prefix at byte offset \
         {offset} is cut short: only {remaining} bytes left in the sample"
    )]
    TruncatedNalLength {
        sample: usize,
        offset: usize,
        remaining: usize,
        nal_length_size: u8,
    },
    #[error(
        "MPEG-TS: video sample {sample}: NAL length {nal_length} at byte offset {offset} runs \
         past the end of the sample: only {available} bytes follow the prefix"
    )]
    NalLengthOverrun {
        sample: usize,
        offset: usize,
        nal_length: usize,
        available: usize,
    },
    #[error("MPEG-TS: {track} sample {sample}: PTS {pts} is before DTS {dts}")]
    PtsBeforeDts {
        track: TsTrack,
        sample: usize,
        pts: u64,
        dts: u64,
    },
    #[error("MPEG-TS: {track} sample {sample}: DTS {dts} is before the previous sample's DTS {previous}")]
    DtsNotMonotonic {
        track: TsTrack,
        sample: usize,
        dts: u64,
        previous: u64,
    },
    #[error("MPEG-TS: AAC {field} = {value} cannot be written in an ADTS header: {reason}")]
    InvalidAacConfig {
        field: &'static str,
        value: u8,
        reason: &'static str,
    },
    #[error(
        "MPEG-TS: audio sample {sample}: {size}-byte frame is larger than the {max} bytes allowed"
    )]
    AudioFrameTooLarge {
        sample: usize,
        size: usize,
        max: usize,
    },
}

/// Muxes one segment. Either track may be absent (audio-only or video-only segment), not both.
pub fn write_ts_segment(
    video: Option<&TsVideo<'_>>,
    audio: Option<&TsAudio<'_>>,
    options: &TsSegmentOptions,
) -> Result<TsSegment, TsError> {
    let mut counter = Counter::default();
    mux(video, audio, options, &mut counter, &mut Vec::new())?;
    let mut bytes = Vec::with_capacity(counter.0);
    let mut keyframes = Vec::new();
    mux(video, audio, options, &mut bytes, &mut keyframes)?;
    Ok(TsSegment { bytes, keyframes })
}

/// Exact length in bytes of what [`write_ts_segment`] returns for the same input, without
/// building it. It validates the input the same way and scans each video sample's NAL
/// headers (for delimiters and in-band parameter sets), so it needs the sample data, but it
/// copies nothing: the cost is per NAL unit and per packet, not per byte.
pub fn ts_segment_len(
    video: Option<&TsVideo<'_>>,
    audio: Option<&TsAudio<'_>>,
    options: &TsSegmentOptions,
) -> Result<usize, TsError> {
    let mut counter = Counter::default();
    mux(video, audio, options, &mut counter, &mut Vec::new())?;
    Ok(counter.0)
}

fn check_pid(name: &'static str, pid: u16) -> Result<(), TsError> {
    if (0x10..=0x1ffe).contains(&pid) {
        Ok(())
    } else {
        Err(TsError::InvalidOption {
            name,
            value: pid.into(),
            reason: "PIDs must be in 0x10..=0x1FFE",
        })
    }
}

fn check_options(options: &TsSegmentOptions) -> Result<(), TsError> {
    check_pid("pmt_pid", options.pmt_pid)?;
    check_pid("video_pid", options.video_pid)?;
    check_pid("audio_pid", options.audio_pid)?;
    if options.video_pid == options.audio_pid || options.pmt_pid == options.video_pid {
        return Err(TsError::InvalidOption {
            name: "video_pid",
            value: options.video_pid.into(),
            reason: "the PMT, video and audio PIDs must differ",
        });
    }
    if options.pmt_pid == options.audio_pid {
        return Err(TsError::InvalidOption {
            name: "audio_pid",
            value: options.audio_pid.into(),
            reason: "the PMT, video and audio PIDs must differ",
        });
    }
    if options.program_number == 0 {
        return Err(TsError::InvalidOption {
            name: "program_number",
            value: 0,
            reason: "program number 0 is reserved for the network PID",
        });
    }
    if options.audio_max_frames_per_pes == 0 {
        return Err(TsError::InvalidOption {
            name: "audio_max_frames_per_pes",
            value: 0,
            reason: "a PES needs at least one frame",
        });
    }
    Ok(())
}

fn check_timestamps(track: TsTrack, samples: &[TsSample<'_>]) -> Result<(), TsError> {
    let mut previous: Option<u64> = None;
    for (sample, s) in samples.iter().enumerate() {
        if s.pts < s.dts {
            return Err(TsError::PtsBeforeDts {
                track,
                sample,
                pts: s.pts,
                dts: s.dts,
            });
        }
        if let Some(previous) = previous.filter(|&p| s.dts < p) {
            return Err(TsError::DtsNotMonotonic {
                track,
                sample,
                dts: s.dts,
                previous,
            });
        }
        previous = Some(s.dts);
    }
    Ok(())
}

fn check_aac(profile: u8, sampling_index: u8, channel_config: u8) -> Result<(), TsError> {
    if profile > 3 {
        return Err(TsError::InvalidAacConfig {
            field: "profile",
            value: profile,
            reason: "ADTS has 2 bits (audio object types 1 to 4; pass 1 for HE-AAC)",
        });
    }
    if sampling_index > 12 {
        return Err(TsError::InvalidAacConfig {
            field: "sampling_index",
            value: sampling_index,
            reason: "ADTS sampling frequency indexes go up to 12 (7350 Hz)",
        });
    }
    if channel_config > 7 {
        return Err(TsError::InvalidAacConfig {
            field: "channel_config",
            value: channel_config,
            reason: "ADTS has 3 bits",
        });
    }
    Ok(())
}

/// Stream type, stream_id, PMT descriptors and per-frame overhead of an audio codec.
struct AudioFormat {
    stream_type: u8,
    stream_id: u8,
    descriptors: Vec<u8>,
    limits: audio::GroupLimits,
}

fn audio_format(codec: TsAudioCodec, options: &TsSegmentOptions) -> Result<AudioFormat, TsError> {
    let (stream_type, stream_id, descriptors, frame_overhead, max_frame_len) = match codec {
        TsAudioCodec::Aac {
            profile,
            sampling_index,
            channel_config,
        } => {
            check_aac(profile, sampling_index, channel_config)?;
            (
                0x0f,
                pes::STREAM_ID_AUDIO,
                Vec::new(),
                audio::ADTS_HEADER_LEN,
                audio::MAX_ADTS_FRAME_LEN,
            )
        }
        TsAudioCodec::Ac3 => (
            0x81,
            pes::STREAM_ID_PRIVATE_1,
            psi::registration_descriptor(b"AC-3"),
            0,
            audio::MAX_AUDIO_PES_PAYLOAD,
        ),
        TsAudioCodec::Eac3 => (
            0x87,
            pes::STREAM_ID_PRIVATE_1,
            psi::registration_descriptor(b"EAC3"),
            0,
            audio::MAX_AUDIO_PES_PAYLOAD,
        ),
    };
    Ok(AudioFormat {
        stream_type,
        stream_id,
        descriptors,
        limits: audio::GroupLimits {
            frame_overhead,
            max_frame_len,
            max_frames: options.audio_max_frames_per_pes,
            max_duration: options.audio_max_pes_duration,
        },
    })
}

/// PCR bookkeeping: the last PCR written and the PID that carries it.
struct PcrClock {
    pid: u16,
    delay: u64,
    last: Option<u64>,
}

impl PcrClock {
    /// Called before each PES. Writes PCR-only packets where the interval since the last PCR
    /// would exceed 100 ms (and before the first PES when it is not on the PCR PID); returns
    /// the PCR for the PES's first packet when it is on the PCR PID.
    fn before_pes<O: Out>(
        &mut self,
        out: &mut O,
        pes_pid: u16,
        dts: u64,
        pcr_cc: &ContinuityCounter,
    ) -> Option<u64> {
        let target = dts.saturating_sub(self.delay).max(self.last.unwrap_or(0));
        if let Some(mut last) = self.last {
            let mut fills = 0;
            while target - last > PCR_MAX_INTERVAL && fills < PCR_MAX_FILL_PACKETS {
                last += PCR_MAX_INTERVAL;
                packet::write_pcr_only(out, self.pid, pcr_cc, last);
                fills += 1;
            }
            self.last = Some(last);
        }
        if pes_pid == self.pid {
            self.last = Some(target);
            Some(target)
        } else {
            if self.last.is_none() {
                packet::write_pcr_only(out, self.pid, pcr_cc, target);
                self.last = Some(target);
            }
            None
        }
    }
}

fn mux<O: Out>(
    video: Option<&TsVideo<'_>>,
    audio: Option<&TsAudio<'_>>,
    options: &TsSegmentOptions,
    out: &mut O,
    keyframes: &mut Vec<TsKeyframe>,
) -> Result<(), TsError> {
    check_options(options)?;
    if video.is_none() && audio.is_none() {
        return Err(TsError::NoTracks);
    }
    if let Some(video) = video {
        if !matches!(video.nal_length_size, 1 | 2 | 4) {
            return Err(TsError::InvalidNalLengthSize(video.nal_length_size));
        }
        check_timestamps(TsTrack::Video, &video.samples)?;
    }
    let audio_setup = match audio {
        Some(audio) => {
            check_timestamps(TsTrack::Audio, &audio.samples)?;
            let format = audio_format(audio.codec, options)?;
            let groups = audio::group_frames(&audio.samples, &format.limits)?;
            Some((audio, format, groups))
        }
        None => None,
    };

    // PSI.
    let mut streams = Vec::new();
    if let Some(video) = video {
        streams.push(psi::PmtStream {
            stream_type: match video.codec {
                TsVideoCodec::H264 => 0x1b,
                TsVideoCodec::Hevc => 0x24,
            },
            pid: options.video_pid,
            descriptors: Vec::new(),
        });
    }
    if let Some((_, format, _)) = &audio_setup {
        streams.push(psi::PmtStream {
            stream_type: format.stream_type,
            pid: options.audio_pid,
            descriptors: format.descriptors.clone(),
        });
    }
    let pcr_pid = if video.is_some() {
        options.video_pid
    } else {
        options.audio_pid
    };
    let psi_cc = (options.sequence_number % 16) as u8;
    let mut pat_cc = ContinuityCounter::starting_at(psi_cc);
    let mut pmt_cc = ContinuityCounter::starting_at(psi_cc);
    packet::write_section(
        out,
        0,
        &mut pat_cc,
        &psi::pat_section(
            options.transport_stream_id,
            options.program_number,
            options.pmt_pid,
        ),
    );
    packet::write_section(
        out,
        options.pmt_pid,
        &mut pmt_cc,
        &psi::pmt_section(options.program_number, pcr_pid, &streams),
    );

    // PES packets in DTS order (video first on a tie).
    let mut clock = PcrClock {
        pid: pcr_pid,
        delay: options.pcr_delay,
        last: None,
    };
    let mut video_cc = ContinuityCounter::default();
    let mut audio_cc = ContinuityCounter::default();
    let video_samples: &[TsSample<'_>] = video.map_or(&[], |v| &v.samples);
    let (audio_samples, audio_groups): (&[TsSample<'_>], &[audio::AudioGroup]) = match &audio_setup
    {
        Some((audio, _, groups)) => (&audio.samples, groups),
        None => (&[], &[]),
    };
    // The last PES of each PID, which gets the continuity counter padding.
    let last_video = match video {
        Some(video) if options.align_continuity_counters => {
            video_samples.iter().enumerate().rev().find_map(|(i, s)| {
                let has_nals = video::split_nals(s.data, video.nal_length_size, i)
                    .map_or(true, |n| !n.is_empty());
                has_nals.then_some(i)
            })
        }
        _ => None,
    };
    let last_group = audio_groups
        .len()
        .checked_sub(1)
        .filter(|_| options.align_continuity_counters);
    let mut next_video = 0usize;
    let mut next_group = 0usize;
    let mut chunks: Vec<Chunk<'_>> = Vec::new();
    loop {
        let video_dts = video_samples.get(next_video).map(|s| s.dts);
        let group = audio_groups.get(next_group);
        let audio_dts = group
            .and_then(|g| audio_samples.get(g.start))
            .map(|s| s.dts);
        let take_video = match (video_dts, audio_dts) {
            (Some(v), Some(a)) => v <= a,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        chunks.clear();
        if take_video {
            let index = next_video;
            next_video += 1;
            let (Some(video), Some(sample)) = (video, video_samples.get(index)) else {
                break;
            };
            let nals = video::split_nals(sample.data, video.nal_length_size, index)?;
            chunks.push(Chunk::Data(&[])); // the PES header, once the length is known
            if !video::append_annexb(
                video.codec,
                &video.parameter_sets,
                sample.keyframe,
                &nals,
                &mut chunks,
            ) {
                continue;
            }
            let es_len: usize = chunks.iter().map(|c| c.bytes().len()).sum();
            if let Some(header) = chunks.first_mut() {
                *header = Chunk::Small(pes::header(
                    pes::STREAM_ID_VIDEO,
                    sample.pts,
                    sample.dts,
                    es_len,
                    true,
                ));
            }
            let pcr_cc = video_cc;
            let pcr = clock.before_pes(out, options.video_pid, sample.dts, &pcr_cc);
            let offset = out.position();
            let first = FirstPacket {
                random_access: sample.keyframe,
                pcr,
            };
            let min_packets = if last_video == Some(index) {
                let natural = packet::pes_packet_count(
                    es_len + pes::header_len(sample.pts, sample.dts),
                    &first,
                );
                natural + video_cc.packets_to_wrap(natural)
            } else {
                0
            };
            let packets = packet::write_pes(
                out,
                options.video_pid,
                &mut video_cc,
                first,
                &chunks,
                min_packets,
            );
            if sample.keyframe {
                keyframes.push(TsKeyframe {
                    sample: index,
                    pts: sample.pts,
                    dts: sample.dts,
                    offset: offset as u64,
                    len: (packets * TS_PACKET_SIZE) as u64,
                });
            }
        } else {
            next_group += 1;
            let (Some(group), Some((audio, format, _))) = (group, &audio_setup) else {
                break;
            };
            let frames = audio_samples.get(group.start..group.end).unwrap_or(&[]);
            let Some(first_frame) = frames.first() else {
                continue;
            };
            chunks.push(Chunk::Small(pes::header(
                format.stream_id,
                first_frame.pts,
                first_frame.pts,
                group.payload_len,
                false,
            )));
            for frame in frames {
                if let TsAudioCodec::Aac {
                    profile,
                    sampling_index,
                    channel_config,
                } = audio.codec
                {
                    let mut adts = SmallBuf::new();
                    adts.extend(&audio::adts_header(
                        profile,
                        sampling_index,
                        channel_config,
                        frame.data.len() + audio::ADTS_HEADER_LEN,
                    ));
                    chunks.push(Chunk::Small(adts));
                }
                chunks.push(Chunk::Data(frame.data));
            }
            // The PCR PID's counter, for PCR-only packets.
            let pcr_cc = if pcr_pid == options.video_pid {
                video_cc
            } else {
                audio_cc
            };
            let pcr = clock.before_pes(out, options.audio_pid, first_frame.dts, &pcr_cc);
            // Every audio frame is a random access point (ffmpeg flags them the same way).
            let first = FirstPacket {
                random_access: true,
                pcr,
            };
            let min_packets = if last_group == Some(next_group - 1) {
                let natural =
                    packet::pes_packet_count(group.payload_len + pes::header_len(0, 0), &first);
                natural + audio_cc.packets_to_wrap(natural)
            } else {
                0
            };
            packet::write_pes(
                out,
                options.audio_pid,
                &mut audio_cc,
                first,
                &chunks,
                min_packets,
            );
        }
    }
    Ok(())
}
