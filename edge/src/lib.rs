//! The edgepack daemon library: it owns all IO. Packaging itself is the pure `packager`
//! crate and encryption the pure `drm` crate; this crate serves them.
//!
//! Where things are (docs/architecture.md has the whole picture):
//! - [`http`]: listeners (TCP, TLS, HTTP/3), connection limits, bodies, responses: where a
//!   request enters;
//! - [`pipeline`]: a request's phases, from route to record; [`pipeline::build`] is where a
//!   segment or a manifest is built;
//! - [`media`]: titles, asset definitions and the metadata caches; [`origin`]: source reads
//!   (local files, HTTP range reads); [`keys`]: key sources and encryption policies;
//! - [`ops`]: metrics and the access log; [`daemon`]: the state in force, reload and drain;
//! - [`config`], [`state`], [`problem`] (the error catalog), [`response_cache`], [`offline`].
// One exception, allowed where it is used: mapping local source files
// (`origin/mapped.rs`, which gives the measured need and the operating rule that keeps it
// sound).
#![deny(unsafe_code)]

pub mod access;
pub mod ads;
pub mod built;
pub mod config;
#[cfg(feature = "control")]
pub mod control;
pub mod daemon;
pub mod delivery;
pub mod hash;
pub mod http;
pub mod keys;
pub mod media;
pub mod offline;
pub mod ops;
pub mod origin;
pub mod outbound_tls;
pub mod pipeline;
pub mod problem;
pub mod response_cache;
pub mod state;

pub use config::Config;
pub use daemon::Daemon;
pub use http::server::Server;
pub use state::AppState;
