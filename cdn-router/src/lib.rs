//! Multi-CDN delivery decisions, pure: the CDNs an asset is delivered through (pathways),
//! what probes and players observed of them, a policy and a time come in; which pathway each
//! playback session should use, the HLS and DASH Content Steering documents that say so, and
//! the multivariant playlists and MPDs that name every CDN come out. No sockets and no clock:
//! the edge (`edge/src/delivery/`) probes, keeps time and serves.
//!
//! - [`pathway`]: a CDN as a pathway (id, base URL, weight, priority);
//! - [`health`]: per-pathway health with hysteresis, from probe results and player reports;
//! - [`order`]: the pathway order for one session (priority tiers, weighted and stable);
//! - [`query`]: the steering request's query (`_HLS_pathway`, `_DASH_throughput`, ...);
//! - [`steering`]: the steering answer (`PATHWAY-PRIORITY`, `TTL`, `RELOAD-URI`, clones);
//! - [`hls`] and [`dash`]: manifests rewritten to name every pathway.

#![forbid(unsafe_code)]

mod attrs;
pub mod dash;
pub mod error;
mod hash;
pub mod health;
pub mod hls;
pub mod order;
pub mod pathway;
pub mod query;
pub mod steering;

pub use error::{ManifestError, QueryError};
pub use pathway::{Pathway, PathwayId};
