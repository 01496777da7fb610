//! Ad decisions and beacons against a real HTTP ad server started by the test (the edge's
//! `ads::decision` and `ads::beacons`): pods, wrapper chains, their limits and loops,
//! timeouts, errors, empty answers, server-side headers; beacons fired once per key, retried,
//! and dropped when the queue is full; creatives conditioned by ffmpeg.
//!
//! - `access.rs`: ads with playback tokens on;
//! - `ad_server.rs`: the test ad server, answering VAST by path and recording what it got;
//! - `decision.rs`: the break decisions;
//! - `beacons.rs`: the beacon queue;
//! - `condition.rs`: creatives conditioned by the real ffmpeg;
//! - `definitions.rs`: an asset's ads from its definition file;
//! - `documents.rs`: the test ad server's VAST checked against the IAB XSD (xmllint);
//! - `encrypted.rs`: ads in AES-128 and cbcs content, under the content's key;
//! - `every_segment.rs`: ffprobe reads every ad segment of a session;
//! - `faults.rs`: a wrapper loop, a 6-deep chain, a creative that cannot be fetched;
//! - `guided.rs`: the guided mode (HLS Interstitials);
//! - `sessions.rs`: ad sessions through a running daemon, stitched playlists and MPDs, beacons.

mod access;
mod ad_server;
mod beacons;
mod condition;
mod dash_subtitles;
mod decision;
mod definitions;
mod documents;
mod encrypted;
mod events;
mod every_segment;
mod faults;
mod guided;
mod sessions;
