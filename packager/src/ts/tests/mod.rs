//! Segment-level tests: a small transport stream demuxer reads the muxer's output back.

mod input;
mod muxing;
mod sample_aes;
mod support;
