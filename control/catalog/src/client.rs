//! The catalog contract over HTTP: a remote catalog (ours or an operator's) as a
//! [`Catalog`].

use std::time::Duration;

use control_common::client::{encode, Remote};
use control_common::page::{Page, PageQuery};
use control_common::Problem;
use http::Method;

use crate::contract::{Catalog, Put};
use crate::model::{Asset, AssetInput, Product, ProductInput};

pub struct RemoteCatalog {
    remote: Remote,
}

impl RemoteCatalog {
    pub fn new(base: &str, api_key: Option<String>, timeout: Duration) -> Result<Self, String> {
        Ok(RemoteCatalog {
            remote: Remote::new(base, api_key, timeout)?,
        })
    }
}

/// `?limit=&after=` (and more pairs) as a query string.
fn query(page: &PageQuery, extra: &[(&str, &str)]) -> String {
    let mut pairs: Vec<String> = extra
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    if let Some(l) = page.limit {
        pairs.push(format!("limit={l}"));
    }
    if let Some(a) = &page.after {
        pairs.push(format!("after={}", encode(a)));
    }
    if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    }
}

async fn put<B: serde::Serialize, T: serde::de::DeserializeOwned>(
    remote: &Remote,
    path: &str,
    body: &B,
) -> Result<Put<T>, Problem> {
    let (value, created) = remote.put(path, body).await?;
    Ok(Put { value, created })
}

#[async_trait::async_trait]
impl Catalog for RemoteCatalog {
    async fn put_asset(&self, id: &str, input: AssetInput) -> Result<Put<Asset>, Problem> {
        put(&self.remote, &format!("/v1/assets/{}", encode(id)), &input).await
    }

    async fn get_asset(&self, id: &str) -> Result<Asset, Problem> {
        self.remote
            .json::<(), _>(Method::GET, &format!("/v1/assets/{}", encode(id)), None)
            .await
    }

    async fn list_assets(
        &self,
        product: Option<&str>,
        page: &PageQuery,
    ) -> Result<Page<Asset>, Problem> {
        let extra: Vec<(&str, &str)> = product.map(|p| ("product", p)).into_iter().collect();
        self.remote
            .json::<(), _>(
                Method::GET,
                &format!("/v1/assets{}", query(page, &extra)),
                None,
            )
            .await
    }

    async fn delete_asset(&self, id: &str) -> Result<(), Problem> {
        self.remote
            .call::<(), serde_json::Value>(
                Method::DELETE,
                &format!("/v1/assets/{}", encode(id)),
                None,
                &[],
            )
            .await
            .map(|_| ())
    }

    async fn put_product(&self, id: &str, input: ProductInput) -> Result<Put<Product>, Problem> {
        put(
            &self.remote,
            &format!("/v1/products/{}", encode(id)),
            &input,
        )
        .await
    }

    async fn get_product(&self, id: &str) -> Result<Product, Problem> {
        self.remote
            .json::<(), _>(Method::GET, &format!("/v1/products/{}", encode(id)), None)
            .await
    }

    async fn list_products(&self, page: &PageQuery) -> Result<Page<Product>, Problem> {
        self.remote
            .json::<(), _>(
                Method::GET,
                &format!("/v1/products{}", query(page, &[])),
                None,
            )
            .await
    }

    async fn delete_product(&self, id: &str) -> Result<(), Problem> {
        self.remote
            .call::<(), serde_json::Value>(
                Method::DELETE,
                &format!("/v1/products/{}", encode(id)),
                None,
                &[],
            )
            .await
            .map(|_| ())
    }
}
