//! The edgepack daemon library: it owns all IO. HTTP serving, URL routing, asset resolution,
//! local source reads, caches, problem+json errors and metrics live here; packaging itself
//! is the pure `packager` crate.
// One exception, allowed where it is used: mapping local source files
// (`origin/mapped.rs`, which gives the measured need and the operating rule that keeps it
// sound).
#![deny(unsafe_code)]

pub mod access_log;
pub mod body;
pub mod build;
pub mod config;
pub(crate) mod conn;
pub mod h3;
pub mod handler;
pub mod keys;
pub mod live;
pub mod media;
pub mod metrics;
pub mod offline;
pub mod origin;
pub mod outbound_tls;
pub mod problem;
pub mod request_series;
pub mod response;
pub mod response_cache;
pub mod route;
pub mod server;
pub mod state;
pub mod tls;

pub use config::Config;
pub use live::Live;
pub use server::Server;
pub use state::AppState;
