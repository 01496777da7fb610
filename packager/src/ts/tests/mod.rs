//! Segment-level tests: a small transport stream demuxer reads the muxer's output back.

mod input;
mod muxing;
mod support;
