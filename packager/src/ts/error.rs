//! Errors of the MPEG-TS muxer: each names the track, the sample index and, for NAL units,
//! the byte offset in that sample.

use thiserror::Error;

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
    /// SAMPLE-AES was asked for a codec it does not cover here (`drm::Error::Unsupported`:
    /// HEVC, AC-3, E-AC-3), or with an AudioSpecificConfig it cannot signal.
    #[error("MPEG-TS SAMPLE-AES: {0}")]
    SampleAes(drm::Error),
    #[error(
        "MPEG-TS: audio sample {sample}: {size}-byte frame is larger than the {max} bytes allowed"
    )]
    AudioFrameTooLarge {
        sample: usize,
        size: usize,
        max: usize,
    },
}
