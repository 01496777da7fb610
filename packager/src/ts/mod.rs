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
//! * **SAMPLE-AES** ([`TsSegmentOptions::sample_aes`], for `#EXT-X-KEY:METHOD=SAMPLE-AES`):
//!   Apple's "MPEG-2 Stream Encryption Format for HTTP Live Streaming", as hls.js decodes it
//!   (see [`drm::sample_aes`] for the byte layout). H.264 slice NAL units (types 1 and 5) and
//!   AAC frames are encrypted; AUD, SPS, PPS and SEI stay clear, and so do PES headers and
//!   ADTS headers. Encryption can change a NAL unit's size (emulation prevention), and PES
//!   sizes follow. HEVC, AC-3 and E-AC-3 with SAMPLE-AES are refused with
//!   [`TsError::SampleAes`] (`drm::Error::Unsupported`): hls.js does not decrypt them.
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
//! * With SAMPLE-AES the PMT announces stream_type 0xDB (H.264) with a
//!   private_data_indicator descriptor (tag 0x0F) `zavc`, and 0xCF (AAC) with
//!   private_data_indicator `aacd` and a registration descriptor (tag 0x05) `apad` whose
//!   additional bytes are the audio_setup_information (`zaac`/`zach`/`zacp`, priming 0,
//!   version 1, the AudioSpecificConfig). hls.js needs only the stream types; Apple's
//!   players need the rest. stream_ids stay 0xE0 and 0xC0; PES scrambling bits stay 00.

mod audio;
mod error;
mod mux;
mod packet;
mod pes;
mod psi;
mod video;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod validate;

use packet::Counter;
pub use packet::TS_PACKET_SIZE;
pub use psi::crc32_mpeg2;

pub use drm::sample_aes::SampleAesKey;
pub use error::{TsError, TsTrack};
use mux::mux;

/// Bytes of the PAT and PMT packets at the start of every segment.
pub const TS_PSI_LEN: u64 = 2 * TS_PACKET_SIZE as u64;

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
    /// Encrypt with Apple SAMPLE-AES under this key and IV: the IV that the playlist's
    /// `EXT-X-KEY` gives, or, when it gives none, the segment's media sequence number as a
    /// 128-bit big-endian integer (what players then use). Default `None`: a clear stream,
    /// byte for byte what the muxer wrote before this option existed.
    pub sample_aes: Option<SampleAesKey>,
    /// The AAC track's AudioSpecificConfig (the `esds` DecoderSpecificInfo), written into
    /// the PMT's audio setup information when `sample_aes` is set; ignored otherwise. Its
    /// object type picks the audio_type: 2 `zaac`, 5 `zach`, 29 `zacp` (others are refused).
    /// Default `None`: the 2-byte config that the ADTS fields describe (AAC-LC core, `zaac`),
    /// which is also what the ADTS headers of HE-AAC with implicit signalling say.
    pub sample_aes_aac_config: Option<Vec<u8>>,
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
            sample_aes: None,
            sample_aes_aac_config: None,
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

/// Muxes one segment. Either track may be absent (audio-only or video-only segment), not both.
pub fn write_ts_segment(
    video: Option<&TsVideo<'_>>,
    audio: Option<&TsAudio<'_>>,
    options: &TsSegmentOptions,
) -> Result<TsSegment, TsError> {
    // One pass into a buffer sized from above, so that it never has to grow (and copy
    // itself) while muxing: each sample with a PES header, Annex B extras and the stuffing
    // of a PES's last packet, 4 header bytes per 184 of payload, parameter sets before
    // keyframes, and PSI and PCR packets. Pages of the buffer that stay unused are never
    // touched. `ts_segment_len` gives the exact size when it is needed up front.
    const PER_SAMPLE: usize = TS_PACKET_SIZE + 64;
    let sets: usize = video.map_or(0, |v| {
        let keyframes = v.samples.iter().filter(|s| s.keyframe).count();
        keyframes * v.parameter_sets.iter().map(|p| p.len() + 4).sum::<usize>()
    });
    let payload: usize = video
        .iter()
        .flat_map(|v| &v.samples)
        .chain(audio.iter().flat_map(|a| &a.samples))
        .map(|s| s.data.len() + PER_SAMPLE)
        .sum::<usize>()
        + sets;
    let packets = payload.div_ceil(TS_PACKET_SIZE - 4);
    let mut bytes = Vec::with_capacity((packets + 32) * TS_PACKET_SIZE);
    let mut keyframes = Vec::new();
    mux(video, audio, options, &mut bytes, &mut keyframes)?;
    Ok(TsSegment { bytes, keyframes })
}

/// Exact length in bytes of what [`write_ts_segment`] returns for the same input, without
/// building it. It validates the input the same way and scans each video sample's NAL
/// headers (for delimiters and in-band parameter sets), so it needs the sample data, but it
/// copies nothing: the cost is per NAL unit and per packet, not per byte.
///
/// With [`TsSegmentOptions::sample_aes`] it is still exact, but it has to encrypt: the size
/// of an encrypted NAL unit depends on the emulation-prevention bytes its ciphertext needs.
/// It then costs about as much as [`write_ts_segment`] (everything but the packet copy).
pub fn ts_segment_len(
    video: Option<&TsVideo<'_>>,
    audio: Option<&TsAudio<'_>>,
    options: &TsSegmentOptions,
) -> Result<usize, TsError> {
    let mut counter = Counter::default();
    mux(video, audio, options, &mut counter, &mut Vec::new())?;
    Ok(counter.0)
}
