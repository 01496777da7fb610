//! The catalog's HTTP API: the contract's operations under `/v1`, each checking the API key's
//! scope first. The annotations feed the generated OpenAPI document ([`crate::openapi`]).

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use control_common::body::{authorized, Query};
use control_common::page::{Page, PageQuery};
use control_common::problem::ProblemDocument;
use control_common::{ApiKeys, Problem, Scope};

use crate::contract::{Catalog, Put};
use crate::model::{Asset, AssetInput, AssetListQuery, Product, ProductInput};

#[derive(Clone)]
pub struct Api {
    pub catalog: Arc<dyn Catalog>,
    pub keys: ApiKeys,
}

/// The routes of the catalog contract.
pub fn router(catalog: Arc<dyn Catalog>, keys: ApiKeys) -> Router {
    Router::new()
        .route("/v1/assets", get(list_assets))
        .route(
            "/v1/assets/{id}",
            get(get_asset).put(put_asset).delete(delete_asset),
        )
        .route("/v1/products", get(list_products))
        .route(
            "/v1/products/{id}",
            get(get_product).put(put_product).delete(delete_product),
        )
        .with_state(Api { catalog, keys })
}

fn put_response<T: serde::Serialize>(put: Put<T>, location: String) -> Response {
    let status = if put.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut r = (status, axum::Json(put.value)).into_response();
    if put.created {
        if let Ok(v) = location.parse() {
            r.headers_mut().insert(http::header::LOCATION, v);
        }
    }
    r
}

/// Creates or replaces an asset.
#[utoipa::path(put, path = "/v1/assets/{id}", tag = "assets",
    params(("id" = String, Path, description = "The asset id, also its name on the edge", min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$")),
    request_body = AssetInput,
    responses(
        (status = 200, description = "Replaced (or unchanged)", body = Asset),
        (status = 201, description = "Created", body = Asset),
        (status = 400, description = "Malformed or invalid", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "A product it names does not exist", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["catalog:write"])))]
pub async fn put_asset(
    State(api): State<Api>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, Problem> {
    let input: AssetInput = authorized(&api.keys, Scope::CatalogWrite, req).await?;
    let put = api.catalog.put_asset(&id, input).await?;
    Ok(put_response(put, format!("/v1/assets/{id}")))
}

/// One asset.
#[utoipa::path(get, path = "/v1/assets/{id}", tag = "assets",
    params(("id" = String, Path, description = "The asset id", min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$")),
    responses(
        (status = 200, description = "The asset", body = Asset),
        (status = 401, description = "No valid API key", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such asset", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["catalog:read"])))]
pub async fn get_asset(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<axum::Json<Asset>, Problem> {
    api.keys.authorize(&headers, Scope::CatalogRead)?;
    Ok(axum::Json(api.catalog.get_asset(&id).await?))
}

/// Assets in id order, a page at a time.
#[utoipa::path(get, path = "/v1/assets", tag = "assets",
    params(AssetListQuery),
    responses(
        (status = 200, description = "A page of assets", body = Page<Asset>),
        (status = 400, description = "Bad query", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["catalog:read"])))]
pub async fn list_assets(
    State(api): State<Api>,
    headers: HeaderMap,
    Query(q): Query<AssetListQuery>,
) -> Result<axum::Json<Page<Asset>>, Problem> {
    api.keys.authorize(&headers, Scope::CatalogRead)?;
    let page = PageQuery {
        limit: q.limit,
        after: q.after,
    };
    Ok(axum::Json(
        api.catalog.list_assets(q.product.as_deref(), &page).await?,
    ))
}

/// Deletes an asset.
#[utoipa::path(delete, path = "/v1/assets/{id}", tag = "assets",
    params(("id" = String, Path, description = "The asset id", min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid API key", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such asset", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["catalog:write"])))]
pub async fn delete_asset(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    api.keys.authorize(&headers, Scope::CatalogWrite)?;
    api.catalog.delete_asset(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates or replaces a product.
#[utoipa::path(put, path = "/v1/products/{id}", tag = "products",
    params(("id" = String, Path, description = "The product id", min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$")),
    request_body = ProductInput,
    responses(
        (status = 200, description = "Replaced (or unchanged)", body = Product),
        (status = 201, description = "Created", body = Product),
        (status = 400, description = "Malformed or invalid", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["catalog:write"])))]
pub async fn put_product(
    State(api): State<Api>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, Problem> {
    let input: ProductInput = authorized(&api.keys, Scope::CatalogWrite, req).await?;
    let put = api.catalog.put_product(&id, input).await?;
    Ok(put_response(put, format!("/v1/products/{id}")))
}

/// One product.
#[utoipa::path(get, path = "/v1/products/{id}", tag = "products",
    params(("id" = String, Path, description = "The product id", min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$")),
    responses(
        (status = 200, description = "The product", body = Product),
        (status = 401, description = "No valid API key", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["catalog:read"])))]
pub async fn get_product(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<axum::Json<Product>, Problem> {
    api.keys.authorize(&headers, Scope::CatalogRead)?;
    Ok(axum::Json(api.catalog.get_product(&id).await?))
}

/// Products in id order, a page at a time.
#[utoipa::path(get, path = "/v1/products", tag = "products",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of products", body = Page<Product>),
        (status = 400, description = "Bad query", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["catalog:read"])))]
pub async fn list_products(
    State(api): State<Api>,
    headers: HeaderMap,
    Query(page): Query<PageQuery>,
) -> Result<axum::Json<Page<Product>>, Problem> {
    api.keys.authorize(&headers, Scope::CatalogRead)?;
    Ok(axum::Json(api.catalog.list_products(&page).await?))
}

/// Deletes a product; assets that included it no longer do.
#[utoipa::path(delete, path = "/v1/products/{id}", tag = "products",
    params(("id" = String, Path, description = "The product id", min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid API key", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["catalog:write"])))]
pub async fn delete_product(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    api.keys.authorize(&headers, Scope::CatalogWrite)?;
    api.catalog.delete_product(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}
