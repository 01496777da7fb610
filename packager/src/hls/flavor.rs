//! The two HLS flavors: which segment format (CMAF or MPEG-TS) a set of playlists points at.

/// Which segment format the playlists point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HlsFlavor {
    /// fMP4 (CMAF) segments, shared with DASH.
    Cmaf,
    /// MPEG-TS segments with the default audio muxed into the video.
    Ts,
}
