//! The catalog: assets (what the edge serves, and under which policy) and products (what
//! accounts buy, each including assets). One contract, [`Catalog`], with three sides:
//! - [`store::SqlCatalog`], the embedded implementation on SQLite or PostgreSQL;
//! - [`server::router`], the HTTP API of the contract (`/v1/assets`, `/v1/products`);
//! - [`client::RemoteCatalog`], the contract over HTTP, for callers of a remote catalog.
//!
//! The committed OpenAPI document (`control/contracts/catalog.v1.json`) is the contract's
//! source of truth; [`openapi::document`] generates the same document from the code and a
//! test keeps the two equal.
#![forbid(unsafe_code)]

pub mod cached;
pub mod client;
pub mod contract;
pub mod migrations;
pub mod model;
pub mod openapi;
pub mod server;
pub mod store;
pub mod validate;

pub use contract::Catalog;
pub use model::{Asset, AssetInput, Product, ProductInput};
