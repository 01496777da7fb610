//! Server-side ad insertion at the edge: the IO around the pure `ssai` crate. So far:
//! - [`config`]: the `[ads]` limits of ad decisions and beacons;
//! - [`decision`]: asking an ad server for a break's ads, following wrappers within limits;
//! - [`beacons`]: firing impressions, tracking and error URLs from a bounded queue, once per
//!   session, ad and event, with retries;
//! - [`condition`]: creatives that do not fit the content transcoded once by ffmpeg, off the
//!   request path.
//!
//! Stitching them into sessions' manifests (the personalize phase) comes next.

pub mod beacons;
pub mod condition;
pub mod config;
pub mod decision;
