//! Pure just-in-time packaging: MP4 bytes in, CMAF and MPEG-TS segments and HLS and DASH
//! manifests out. This crate never opens a file or a socket and never reads the clock.
//!
//! The flow: [`mp4::parse_movie`] turns a source's `moov` into tracks with compact sample
//! tables; [`presentation::Presentation::build`] plans a title's renditions and segments;
//! [`hls`] and [`dash`] write manifests from that plan; [`cmaf`] and [`ts`] build segments
//! from the plan and the source bytes of one segment. On the way out, [`url_query`] adds a
//! viewer's access token to every URL of a manifest.
#![forbid(unsafe_code)]

mod ascii;
pub mod bandwidth;
pub mod cmaf;
pub mod dash;
pub mod error;
mod fixed;
pub mod hls;
pub mod inspect;
pub mod language;
pub mod mp4;
mod muxed_audio;
pub mod playlist_entries;
pub mod presentation;
pub mod protection;
pub mod segment;
pub mod ts;
pub mod ts_package;
pub mod ts_size;
pub mod url_query;
pub mod vtt;
mod xml;

pub use error::{Error, Result};
