//! Server-side ad insertion, pure: ad server documents and times in, typed ads, breaks and
//! plans out. No sockets and no clock: the edge fetches the documents (following wrappers),
//! keeps time and fires beacons.
//!
//! - [`xml`]: a bounded element tree of an untrusted document, with line numbers;
//! - [`time`]: VAST and VMAP times and offsets (`HH:MM:SS.mmm`, `n%`, `start`, `#n`);
//! - [`vast`]: VAST 2.0 to 4.3 (Inline and Wrapper ads, pods, creatives, media files,
//!   tracking) read tolerantly;
//! - [`vmap`]: VMAP 1.0 breaks;
//! - [`chain`]: a wrapper chain merged into the ad it ends in, and the ads of a break picked
//!   (a pod in sequence, or a buffet ad);
//! - [`media_file`]: the media file that fits a rendition;
//! - [`macros`]: URL templates filled (`[ERRORCODE]`, `[session.id]`, `[avail.index]`...);
//! - [`splice`]: breaks placed on content segment boundaries, with their drift from the cue;
//! - [`beacons`]: which beacons the fetch of each ad segment fires;
//! - [`hls`]: media playlists with the breaks stitched in (discontinuities, maps, keys);
//! - [`dash`]: MPDs with one Period per ad and per stretch of content;
//! - [`interstitials`]: the guided mode, HLS Interstitials (`EXT-X-DATERANGE` and asset lists).

#![forbid(unsafe_code)]

pub mod beacons;
pub mod chain;
pub mod dash;
pub mod error;
pub mod hls;
pub mod interstitials;
pub mod macros;
pub mod media_file;
pub mod splice;
pub mod time;
pub mod vast;
pub mod vmap;
pub mod xml;

pub use error::ParseError;
