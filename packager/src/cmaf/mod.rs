//! CMAF (fragmented MP4) output: init segments and media segments.

pub mod encrypted;
pub mod fragment;
pub mod init;
pub mod protected_entry;
pub mod writer;

pub use encrypted::write_encrypted_segment;
pub use fragment::{media_segment_len, write_media_segment, CmafSegment};
pub use init::{write_init_segment, write_protected_init_segment};
