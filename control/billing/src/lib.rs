//! Billing: the seam between a billing platform and entitlement. A webhook endpoint takes
//! subscription events in the shape and signature scheme of Stripe's, checks them
//! ([`signature`]: HMAC with a timestamp tolerance; replays and stale events are no-ops) and
//! turns subscription state into grants ([`rules`]) through the entitlement *contract*, so it
//! works against our entitlement service or any other implementation of it.
//!
//! This crate is also the example an operator copies to keep their own billing platform:
//! verify the platform's webhook, map its subscription states onto a [`rules::Plan`], and
//! write grants through `entitlement::Entitlement`. Nothing else in the control plane needs
//! to change. `docs/control-plane.md` walks through it.
#![forbid(unsafe_code)]

pub mod client;
pub mod config;
pub mod contract;
pub mod lease;
pub mod migrations;
pub mod model;
pub mod openapi;
pub mod rules;
pub mod server;
pub mod signature;
pub mod store;
pub mod stripe;

pub use contract::Billing;
