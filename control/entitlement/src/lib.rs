//! Entitlement: who may play what. Grants (an account holds a product for a window, from a
//! source such as billing) and the playback-session decision: `POST /v1/playback-sessions`
//! with an account, a device and an asset is allowed or denied with reasons, and an allowed
//! session gets the token the edge verifies (a CAT scoped to the asset, carrying the session
//! and the account's stream limit), its manifest URLs and its license URLs. Sessions can be
//! renewed, ended and revoked; a revocation goes through the edge's revocation store, so
//! every node refuses the session within a second.
//!
//! One contract, [`Entitlement`], with the embedded implementation ([`store`]), the HTTP API
//! ([`server`]) and the HTTP client ([`client`]). The decision asks the catalog through the
//! catalog *contract*, so either side can be swapped for an operator's own system.
#![forbid(unsafe_code)]

pub mod client;
pub mod config;
pub mod contract;
pub mod decide;
pub mod migrations;
pub mod model;
pub mod openapi;
pub mod revoke;
pub mod server;
pub mod store;
pub mod tokens;

pub use contract::Entitlement;
