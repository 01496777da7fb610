//! The catalog's tables, for SQLite and PostgreSQL (versions 1000 to 1999). An asset's
//! policy is one JSON document (`body`): it is read and written whole, and the contract, not
//! the schema, says what it holds. Which products include an asset is a table of its own,
//! so a product's assets can be listed and a product deleted without rewriting documents.

use control_common::db::Step;

const V1: &str = "
CREATE TABLE catalog_products (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    revision BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE catalog_assets (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    revision BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE catalog_asset_products (
    asset_id TEXT NOT NULL REFERENCES catalog_assets (id) ON DELETE CASCADE,
    product_id TEXT NOT NULL REFERENCES catalog_products (id) ON DELETE CASCADE,
    PRIMARY KEY (asset_id, product_id)
);
CREATE INDEX catalog_asset_products_by_product ON catalog_asset_products (product_id, asset_id);
";

pub const STEPS: &[Step] = &[Step {
    version: 1001,
    description: "catalog: products, assets and which products include an asset",
    sqlite: V1,
    postgres: V1,
}];
