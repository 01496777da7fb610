//! Multi-CDN delivery seen from outside: a daemon whose `[delivery]` names three CDNs, each a
//! small HTTP server of the test's own on 127.0.0.2, .3 and .4 whose health the test switches
//! (it answers, fails with 500, or goes dark). Covered: the steered multivariant playlists and
//! MPD (read back by m3u8-rs, dash-mpd and roxmltree), the steering answers
//! (`/vod/{asset}/steering/{hls,dash}.json`), the weighted split of sessions, health probes and
//! their hysteresis, player reports, refused queries, the token each CDN checks (verified with
//! the `access` crate) and the configuration checks.
//!
//! - `fake_cdn.rs`: the switchable fake CDN servers.
//! - `support.rs`: configuration builders and readers of what the node says (playlists,
//!   steering answers, metrics, problems).
//! - `manifests.rs`: the steered multivariant playlist and MPD, and an asset left unsteered.
//! - `answers.rs`: steering answers and sessions, the weighted split, player reports, refused
//!   queries and a hostile `Host`.
//! - `health.rs`: probes, a CDN's outage, the hold and its readmission.
//! - `tokens.rs`: each CDN's token, the viewer's token carried over, CDNs limited to regions.
//! - `config.rs`: configurations the daemon refuses.

mod fake_cdn;
mod support;

mod answers;
mod config;
mod health;
mod manifests;
mod tokens;
