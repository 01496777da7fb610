//! A catalog read through a short-lived cache: what the entitlement decision asks on every
//! playback session (an asset and its products) comes from memory for `ttl`, answers of
//! "no such asset" included. Writes through this value go to the catalog and drop what the
//! cache held; writes made elsewhere are seen once the entry expires, so `ttl` is how long a
//! catalog change may take to reach decisions.

use std::sync::Arc;
use std::time::Duration;

use control_common::page::{Page, PageQuery};
use control_common::{Problem, ProblemType};
use moka::future::Cache;

use crate::contract::{Catalog, Put};
use crate::model::{Asset, AssetInput, Product, ProductInput};

/// Most assets and products held.
const ENTRIES: u64 = 100_000;

pub struct CachedCatalog {
    inner: Arc<dyn Catalog>,
    assets: Cache<String, Option<Arc<Asset>>>,
    products: Cache<String, Option<Arc<Product>>>,
}

impl CachedCatalog {
    pub fn new(inner: Arc<dyn Catalog>, ttl: Duration) -> CachedCatalog {
        CachedCatalog {
            inner,
            assets: Cache::builder()
                .max_capacity(ENTRIES)
                .time_to_live(ttl)
                .build(),
            products: Cache::builder()
                .max_capacity(ENTRIES)
                .time_to_live(ttl)
                .build(),
        }
    }
}

/// A found value, a remembered "not found", or an error that is not remembered.
fn remembered<T>(r: Result<T, Problem>) -> Result<Option<Arc<T>>, Problem> {
    match r {
        Ok(v) => Ok(Some(Arc::new(v))),
        Err(p) if p.kind == ProblemType::NotFound => Ok(None),
        Err(p) => Err(p),
    }
}

fn found<T: Clone>(v: Option<Arc<T>>, what: &str, id: &str) -> Result<T, Problem> {
    v.map(|v| (*v).clone())
        .ok_or_else(|| Problem::not_found(what, id))
}

#[async_trait::async_trait]
impl Catalog for CachedCatalog {
    async fn put_asset(&self, id: &str, input: AssetInput) -> Result<Put<Asset>, Problem> {
        let r = self.inner.put_asset(id, input).await;
        self.assets.invalidate(id).await;
        r
    }

    async fn get_asset(&self, id: &str) -> Result<Asset, Problem> {
        let v = self
            .assets
            .try_get_with(id.to_owned(), async {
                remembered(self.inner.get_asset(id).await)
            })
            .await
            .map_err(|e: Arc<Problem>| (*e).clone())?;
        found(v, "asset", id)
    }

    async fn list_assets(
        &self,
        product: Option<&str>,
        page: &PageQuery,
    ) -> Result<Page<Asset>, Problem> {
        self.inner.list_assets(product, page).await
    }

    async fn delete_asset(&self, id: &str) -> Result<(), Problem> {
        let r = self.inner.delete_asset(id).await;
        self.assets.invalidate(id).await;
        r
    }

    async fn put_product(&self, id: &str, input: ProductInput) -> Result<Put<Product>, Problem> {
        let r = self.inner.put_product(id, input).await;
        self.products.invalidate(id).await;
        r
    }

    async fn get_product(&self, id: &str) -> Result<Product, Problem> {
        let v = self
            .products
            .try_get_with(id.to_owned(), async {
                remembered(self.inner.get_product(id).await)
            })
            .await
            .map_err(|e: Arc<Problem>| (*e).clone())?;
        found(v, "product", id)
    }

    async fn list_products(&self, page: &PageQuery) -> Result<Page<Product>, Problem> {
        self.inner.list_products(page).await
    }

    async fn delete_product(&self, id: &str) -> Result<(), Problem> {
        let r = self.inner.delete_product(id).await;
        self.products.invalidate(id).await;
        // Assets list the products they are in.
        self.assets.invalidate_all();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A catalog that counts reads and holds one product.
    struct Counting(AtomicUsize);

    #[async_trait::async_trait]
    impl Catalog for Counting {
        async fn put_asset(&self, _: &str, _: AssetInput) -> Result<Put<Asset>, Problem> {
            Err(Problem::bad_request("read only"))
        }
        async fn get_asset(&self, id: &str) -> Result<Asset, Problem> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Err(Problem::not_found("asset", id))
        }
        async fn list_assets(
            &self,
            _: Option<&str>,
            _: &PageQuery,
        ) -> Result<Page<Asset>, Problem> {
            Ok(Page {
                items: vec![],
                next: None,
            })
        }
        async fn delete_asset(&self, _: &str) -> Result<(), Problem> {
            Ok(())
        }
        async fn put_product(&self, _: &str, _: ProductInput) -> Result<Put<Product>, Problem> {
            Err(Problem::bad_request("read only"))
        }
        async fn get_product(&self, id: &str) -> Result<Product, Problem> {
            self.0.fetch_add(1, Ordering::SeqCst);
            if id == "down" {
                return Err(Problem::new(ProblemType::DatabaseUnavailable, "down"));
            }
            Ok(Product {
                id: id.into(),
                name: "P".into(),
                max_streams: 2,
                revision: 1,
                updated_at: 0,
            })
        }
        async fn list_products(&self, _: &PageQuery) -> Result<Page<Product>, Problem> {
            Ok(Page {
                items: vec![],
                next: None,
            })
        }
        async fn delete_product(&self, _: &str) -> Result<(), Problem> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn reads_are_remembered_not_found_too_but_not_failures() {
        let inner = Arc::new(Counting(AtomicUsize::new(0)));
        let c = CachedCatalog::new(inner.clone(), Duration::from_secs(60));
        for _ in 0..3 {
            assert_eq!(c.get_product("p").await.unwrap().max_streams, 2);
            assert_eq!(
                c.get_asset("a").await.unwrap_err().kind,
                ProblemType::NotFound
            );
        }
        assert_eq!(inner.0.load(Ordering::SeqCst), 2, "one read each");
        for _ in 0..2 {
            assert!(c.get_product("down").await.is_err());
        }
        assert_eq!(
            inner.0.load(Ordering::SeqCst),
            4,
            "failures are asked again"
        );
        c.delete_product("p").await.unwrap();
        c.get_product("p").await.unwrap();
        assert_eq!(inner.0.load(Ordering::SeqCst), 5, "a write drops the entry");
    }
}
