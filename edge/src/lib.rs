//! The edgepack daemon library: it owns all IO. HTTP serving, URL routing, asset resolution,
//! local source reads, caches, problem+json errors and metrics live here; packaging itself
//! is the pure `packager` crate.
#![forbid(unsafe_code)]

pub mod body;
pub mod build;
pub mod config;
pub mod handler;
pub mod keys;
pub mod media;
pub mod metrics;
pub mod offline;
pub mod problem;
pub mod response;
pub mod route;
pub mod server;
pub mod state;

pub use config::Config;
pub use server::Server;
pub use state::AppState;
