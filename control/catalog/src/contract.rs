//! The catalog contract as a Rust trait: what the HTTP API offers, one method per operation.
//! The embedded store and the HTTP client implement it, so a caller holds a
//! `dyn Catalog` and does not know which one it has.

pub use control_common::outcome::Put;
use control_common::page::{Page, PageQuery};
use control_common::Problem;

use crate::model::{Asset, AssetInput, Product, ProductInput};

#[async_trait::async_trait]
pub trait Catalog: Send + Sync {
    /// Creates or replaces an asset. Its products must exist.
    async fn put_asset(&self, id: &str, input: AssetInput) -> Result<Put<Asset>, Problem>;
    async fn get_asset(&self, id: &str) -> Result<Asset, Problem>;
    /// Assets in id order, optionally only those in `product`.
    async fn list_assets(
        &self,
        product: Option<&str>,
        page: &PageQuery,
    ) -> Result<Page<Asset>, Problem>;
    async fn delete_asset(&self, id: &str) -> Result<(), Problem>;

    async fn put_product(&self, id: &str, input: ProductInput) -> Result<Put<Product>, Problem>;
    async fn get_product(&self, id: &str) -> Result<Product, Problem>;
    async fn list_products(&self, page: &PageQuery) -> Result<Page<Product>, Problem>;
    /// Deletes a product; assets that included it no longer do.
    async fn delete_product(&self, id: &str) -> Result<(), Problem>;
}
