//! What the control-plane services share. Each service (catalog, entitlement, billing) is a
//! contract (an OpenAPI document, a Rust trait and its serde types), an embedded
//! implementation on SQL, an HTTP server and an HTTP client; this crate holds the pieces all
//! three need so that they behave alike:
//! - [`db`]: one SQL pool for SQLite (the embedded default) or PostgreSQL, with migrations;
//! - [`problem`]: RFC 9457 problem documents from one catalog;
//! - [`auth`]: API keys with scopes;
//! - [`body`]: JSON request bodies, bounded and strict;
//! - [`serve`]: request ids, metrics, health and readiness around a service's router;
//! - [`events`]: CloudEvents 1.0 envelopes and where they go;
//! - [`client`]: the HTTP client side of a contract, with problem documents read back;
//! - [`ids`] and [`clock`]: random ids and the time, in one place each.
#![forbid(unsafe_code)]

pub mod auth;
pub mod body;
pub mod client;
pub mod clock;
pub mod db;
pub mod events;
pub mod ids;
pub mod openapi;
pub mod outcome;
pub mod page;
pub mod problem;
pub mod serve;

pub use auth::{ApiKeys, Scope};
pub use problem::{Problem, ProblemType};
