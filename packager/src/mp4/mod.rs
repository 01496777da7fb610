//! Reading progressive MP4 sources: box parsing, the `moov` into a compact sample table, and
//! codec configuration.

pub mod boxes;
pub mod locate;
pub mod movie;
pub mod sample_entry;
pub mod sample_table;

pub use locate::{next_top_level, TopLevelStep, MAX_MOOV_BYTES, TOP_LEVEL_HEADER_BYTES};
pub use movie::{parse_movie, parse_movie_opening, Movie, SkippedTrack, Track};
pub use sample_entry::{AudioCodec, AudioKind, Codec, VideoCodec, VideoKind};
pub use sample_table::{Extent, SampleInfo, SampleTable};
