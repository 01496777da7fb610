//! The embedded catalog: the contract on SQL (SQLite or PostgreSQL, see
//! `control_common::db`). Every change is one transaction and publishes one event.

use control_common::clock;
use control_common::db::{corrupt, page_rows, unavailable, Db};
use control_common::events::{CloudEvent, Events};
use control_common::page::{Page, PageQuery};
use control_common::{Problem, ProblemType};
use sqlx::Row;

use crate::contract::{Catalog, Put};
use crate::model::{Asset, AssetInput, Product, ProductInput};
use crate::validate;

/// The `source` of the catalog's events.
pub const EVENT_SOURCE: &str = "/edgepack/catalog";

pub struct SqlCatalog {
    db: Db,
    events: Events,
}

/// A stored row: the document, its revision and time.
struct Stored {
    id: String,
    body: String,
    revision: i64,
    updated_at: i64,
}

fn stored(row: &sqlx::any::AnyRow) -> Result<Stored, Problem> {
    Ok(Stored {
        id: row.try_get("id").map_err(unavailable)?,
        body: row.try_get("body").map_err(unavailable)?,
        revision: row.try_get("revision").map_err(unavailable)?,
        updated_at: row.try_get("updated_at").map_err(unavailable)?,
    })
}

fn asset_of(s: Stored, products: Vec<String>) -> Result<Asset, Problem> {
    let mut input: AssetInput =
        serde_json::from_str(&s.body).map_err(|e| corrupt("asset", &s.id, e))?;
    input.products = products;
    Ok(Asset::new(s.id, input, s.revision, s.updated_at))
}

fn product_of(s: Stored) -> Result<Product, Problem> {
    let input: ProductInput =
        serde_json::from_str(&s.body).map_err(|e| corrupt("product", &s.id, e))?;
    Ok(Product {
        id: s.id,
        name: input.name,
        max_streams: input.max_streams,
        revision: s.revision,
        updated_at: s.updated_at,
    })
}

/// What an upsert did.
struct Upserted {
    created: bool,
    changed: bool,
}

/// Writes a document unless it is unchanged.
async fn upsert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    table: &str,
    id: &str,
    body: &str,
    now: i64,
) -> Result<Upserted, Problem> {
    // An unchanged document keeps its revision: a repeated PUT is a no-op.
    let sql = format!(
        "INSERT INTO {table} (id, body, revision, updated_at) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (id) DO UPDATE SET body = excluded.body, \
         revision = {table}.revision + 1, updated_at = excluded.updated_at \
         WHERE {table}.body <> excluded.body RETURNING revision"
    );
    let row = sqlx::query(&sql)
        .bind(id)
        .bind(body)
        .bind(now)
        .fetch_optional(&mut **tx)
        .await
        .map_err(unavailable)?;
    match row {
        Some(r) => {
            let revision: i64 = r.try_get("revision").map_err(unavailable)?;
            Ok(Upserted {
                created: revision == 1,
                changed: true,
            })
        }
        None => Ok(Upserted {
            created: false,
            changed: false,
        }),
    }
}

impl SqlCatalog {
    pub fn new(db: Db, events: Events) -> SqlCatalog {
        SqlCatalog { db, events }
    }

    fn publish(&self, kind: &str, id: &str, data: serde_json::Value) {
        self.events.publish(CloudEvent::new(
            EVENT_SOURCE,
            &format!("dev.edgepack.catalog.{kind}.v1"),
            id,
            id,
            data,
        ));
    }

    async fn products_of(&self, first: &str, last: &str) -> Result<Vec<(String, String)>, Problem> {
        let rows = sqlx::query(
            "SELECT asset_id, product_id FROM catalog_asset_products \
             WHERE asset_id >= $1 AND asset_id <= $2 ORDER BY asset_id, product_id",
        )
        .bind(first)
        .bind(last)
        .fetch_all(&self.db.pool)
        .await
        .map_err(unavailable)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("asset_id").map_err(unavailable)?,
                    r.try_get("product_id").map_err(unavailable)?,
                ))
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl Catalog for SqlCatalog {
    async fn put_asset(&self, id: &str, mut input: AssetInput) -> Result<Put<Asset>, Problem> {
        validate::id("asset", id)?;
        validate::asset(&input)?;
        input.products.sort();
        input.products.dedup();
        let now = clock::now();
        let mut tx = self.db.pool.begin().await.map_err(unavailable)?;
        let mut missing = Vec::new();
        for p in &input.products {
            let found = sqlx::query("SELECT id FROM catalog_products WHERE id = $1")
                .bind(p.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(unavailable)?;
            if found.is_none() {
                missing.push(p.clone());
            }
        }
        if !missing.is_empty() {
            return Err(Problem::new(
                ProblemType::ReferenceUnknown,
                format!("products: no product {}", missing.join(", ")),
            ));
        }
        let body = serde_json::to_string(&input)
            .map_err(|e| Problem::new(ProblemType::Internal, e.to_string()))?;
        let done = upsert(&mut tx, "catalog_assets", id, &body, now).await?;
        sqlx::query("DELETE FROM catalog_asset_products WHERE asset_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        for p in &input.products {
            sqlx::query(
                "INSERT INTO catalog_asset_products (asset_id, product_id) VALUES ($1, $2)",
            )
            .bind(id)
            .bind(p.as_str())
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)?;
        let asset = self.get_asset(id).await?;
        if done.changed {
            self.publish(
                if done.created {
                    "asset.created"
                } else {
                    "asset.changed"
                },
                id,
                serde_json::json!({"id": id, "revision": asset.revision}),
            );
        }
        Ok(Put {
            value: asset,
            created: done.created,
        })
    }

    async fn get_asset(&self, id: &str) -> Result<Asset, Problem> {
        validate::known_id("asset", id)?;
        let row =
            sqlx::query("SELECT id, body, revision, updated_at FROM catalog_assets WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.db.pool)
                .await
                .map_err(unavailable)?
                .ok_or_else(|| Problem::not_found("asset", id))?;
        let products = self
            .products_of(id, id)
            .await?
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        asset_of(stored(&row)?, products)
    }

    async fn list_assets(
        &self,
        product: Option<&str>,
        page: &PageQuery,
    ) -> Result<Page<Asset>, Problem> {
        let limit = page.limit()?;
        let fetch = i64::from(limit) + 1;
        let rows = match product {
            Some(p) => {
                validate::id("product", p)?;
                sqlx::query(
                    "SELECT a.id, a.body, a.revision, a.updated_at FROM catalog_assets a \
                     JOIN catalog_asset_products ap ON ap.asset_id = a.id \
                     WHERE ap.product_id = $1 AND a.id > $2 ORDER BY a.id LIMIT $3",
                )
                .bind(p)
                .bind(page.after())
                .bind(fetch)
                .fetch_all(&self.db.pool)
                .await
            }
            None => {
                sqlx::query(
                    "SELECT id, body, revision, updated_at FROM catalog_assets \
                     WHERE id > $1 ORDER BY id LIMIT $2",
                )
                .bind(page.after())
                .bind(fetch)
                .fetch_all(&self.db.pool)
                .await
            }
        }
        .map_err(unavailable)?;
        let stored = rows.iter().map(stored).collect::<Result<Vec<_>, _>>()?;
        let links = match (stored.first(), stored.last()) {
            (Some(f), Some(l)) => self.products_of(&f.id, &l.id).await?,
            _ => Vec::new(),
        };
        let assets = stored
            .into_iter()
            .map(|s| {
                let products = links
                    .iter()
                    .filter(|(a, _)| *a == s.id)
                    .map(|(_, p)| p.clone())
                    .collect();
                asset_of(s, products)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_fetched(assets, limit, |a| a.id.clone()))
    }

    async fn delete_asset(&self, id: &str) -> Result<(), Problem> {
        validate::known_id("asset", id)?;
        let r = sqlx::query("DELETE FROM catalog_assets WHERE id = $1")
            .bind(id)
            .execute(&self.db.pool)
            .await
            .map_err(unavailable)?;
        if r.rows_affected() == 0 {
            return Err(Problem::not_found("asset", id));
        }
        self.publish("asset.deleted", id, serde_json::json!({"id": id}));
        Ok(())
    }

    async fn put_product(&self, id: &str, input: ProductInput) -> Result<Put<Product>, Problem> {
        validate::id("product", id)?;
        validate::product(&input)?;
        let body = serde_json::to_string(&input)
            .map_err(|e| Problem::new(ProblemType::Internal, e.to_string()))?;
        let now = clock::now();
        let mut tx = self.db.pool.begin().await.map_err(unavailable)?;
        let done = upsert(&mut tx, "catalog_products", id, &body, now).await?;
        tx.commit().await.map_err(unavailable)?;
        let product = self.get_product(id).await?;
        if done.changed {
            self.publish(
                if done.created {
                    "product.created"
                } else {
                    "product.changed"
                },
                id,
                serde_json::json!({"id": id, "revision": product.revision}),
            );
        }
        Ok(Put {
            value: product,
            created: done.created,
        })
    }

    async fn get_product(&self, id: &str) -> Result<Product, Problem> {
        validate::known_id("product", id)?;
        let row = sqlx::query(
            "SELECT id, body, revision, updated_at FROM catalog_products WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| Problem::not_found("product", id))?;
        product_of(stored(&row)?)
    }

    async fn list_products(&self, page: &PageQuery) -> Result<Page<Product>, Problem> {
        let limit = page.limit()?;
        let rows = page_rows(
            &self.db,
            "id, body, revision, updated_at",
            "catalog_products",
            None,
            page,
        )
        .await?;
        let products = rows
            .iter()
            .map(|r| stored(r).and_then(product_of))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_fetched(products, limit, |p| p.id.clone()))
    }

    async fn delete_product(&self, id: &str) -> Result<(), Problem> {
        validate::known_id("product", id)?;
        let r = sqlx::query("DELETE FROM catalog_products WHERE id = $1")
            .bind(id)
            .execute(&self.db.pool)
            .await
            .map_err(unavailable)?;
        if r.rows_affected() == 0 {
            return Err(Problem::not_found("product", id));
        }
        self.publish("product.deleted", id, serde_json::json!({"id": id}));
        Ok(())
    }
}
