//! The catalog contract's OpenAPI 3.1 document as the code describes it. The committed
//! document (`control/contracts/catalog.v1.json`) is the source of truth: a test fails when
//! the two differ, and `EDGEPACK_WRITE_CONTRACTS=1 cargo test -p catalog` rewrites the file
//! when a change to the contract is intended (and then reviewed like code).

use control_common::openapi::BearerKeys;
use control_common::page::{Page, PageQuery};
use control_common::problem::{ProblemDocument, Reason};
use utoipa::OpenApi;

use crate::model::*;
use crate::server;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "edgepack catalog",
        version = "1.0.0",
        description = "Assets (what the edge serves and under which policy) and products (what accounts buy). Errors are RFC 9457 problem documents.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        server::put_asset, server::get_asset, server::list_assets, server::delete_asset,
        server::put_product, server::get_product, server::list_products, server::delete_product,
    ),
    components(schemas(
        Asset, AssetInput, Product, ProductInput, Encryption, Scheme, DrmSystem, AdPolicy, AdMode,
        Availability, Page<Asset>, Page<Product>, ProblemDocument, Reason,
    )),
    modifiers(&BearerKeys),
    tags(
        (name = "assets", description = "What the edge serves"),
        (name = "products", description = "What accounts buy"),
    ),
)]
pub struct CatalogApi;

/// The document, generated.
pub fn document() -> utoipa::openapi::OpenApi {
    let _ = PageQuery::default();
    CatalogApi::openapi()
}

/// The committed document.
pub const COMMITTED: &str = include_str!("../../contracts/catalog.v1.json");
