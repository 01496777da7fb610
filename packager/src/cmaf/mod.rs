//! CMAF (fragmented MP4) output: init segments and media segments.

pub mod fragment;
pub mod init;
pub mod writer;

pub use fragment::{media_segment_len, write_media_segment, CmafSegment};
pub use init::write_init_segment;
