//! The catalog contract's types, exactly as they travel (serde) and as the OpenAPI document
//! describes them (utoipa). Inputs refuse unknown fields.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How an asset's media is encrypted on the way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    #[default]
    None,
    #[serde(rename = "aes-128")]
    Aes128,
    SampleAes,
    Cenc,
    Cbcs,
}

/// A DRM system signalled for the asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DrmSystem {
    Widevine,
    Playready,
    Fairplay,
    Clearkey,
}

/// The encryption policy.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Encryption {
    #[serde(default)]
    pub scheme: Scheme,
    /// DRM systems signalled in manifests (empty for AES-128 and clear assets).
    #[serde(default)]
    pub drm_systems: Vec<DrmSystem>,
}

/// How ads are placed in a session's manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AdMode {
    #[default]
    Stitched,
    Guided,
}

/// The ad policy: where decisions come from and where the breaks are.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdPolicy {
    /// The VAST ad server URL template (macros as in the edge's `ads.ad_server`).
    pub ad_server: String,
    /// Cue points in VMAP `timeOffset` form: `start`, `end`, `HH:MM:SS.mmm`, `n%`, `#n`.
    #[serde(default)]
    #[schema(max_items = 250)]
    pub cue_points: Vec<String>,
    /// Longest break, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub break_seconds: Option<u32>,
    #[serde(default)]
    pub mode: AdMode,
}

/// When an asset may be played, Unix seconds; an absent bound is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Availability {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<i64>,
}

impl Availability {
    /// Whether `now` is inside the window.
    pub fn contains(&self, now: i64) -> bool {
        self.starts_at.is_none_or(|s| now >= s) && self.ends_at.is_none_or(|e| now < e)
    }
}

/// What a caller sends to create or replace an asset (`PUT /v1/assets/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetInput {
    /// The name people see.
    #[schema(min_length = 1, max_length = 500)]
    pub title: String,
    /// Where the edge reads the media: a path under its media root or an origin URL;
    /// absent means the asset id itself names it in the media root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 2048)]
    pub source: Option<String>,
    #[serde(default)]
    pub encryption: Encryption,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ads: Option<AdPolicy>,
    #[serde(default)]
    pub availability: Availability,
    /// ISO 3166-1 alpha-2 countries where it may be played (`FR`); empty for everywhere.
    #[serde(default)]
    #[schema(max_items = 250)]
    pub territories: Vec<String>,
    /// Ids of the products that include it (each must exist).
    #[serde(default)]
    #[schema(max_items = 250)]
    pub products: Vec<String>,
}

/// An asset as the catalog holds it: the input's fields, its id and its revision. (Spelled
/// out rather than flattened: a flattened strict input would make the contract's schema
/// refuse the id as an unknown property.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Asset {
    /// The asset id, also its name on the edge (`/vod/{id}/...`).
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub encryption: Encryption,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ads: Option<AdPolicy>,
    pub availability: Availability,
    pub territories: Vec<String>,
    pub products: Vec<String>,
    /// Raised by every change.
    pub revision: i64,
    /// Unix seconds of the last change.
    pub updated_at: i64,
}

impl Asset {
    pub fn new(id: String, i: AssetInput, revision: i64, updated_at: i64) -> Asset {
        Asset {
            id,
            title: i.title,
            source: i.source,
            encryption: i.encryption,
            ads: i.ads,
            availability: i.availability,
            territories: i.territories,
            products: i.products,
            revision,
            updated_at,
        }
    }
}

/// What a caller sends to create or replace a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    #[schema(min_length = 1, max_length = 500)]
    pub name: String,
    /// Streams an account with this product may watch at once (1 to 100).
    #[schema(minimum = 1, maximum = 100)]
    pub max_streams: u32,
}

/// A product as the catalog holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub max_streams: u32,
    pub revision: i64,
    pub updated_at: i64,
}

/// `?product=` on the asset list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssetListQuery {
    /// Only assets included in this product.
    pub product: Option<String>,
    /// Items per page, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}
