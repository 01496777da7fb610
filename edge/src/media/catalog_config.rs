//! `[catalog]`: where the node takes asset policy from (media/catalog_policy.rs). Kept apart
//! from the lookups so that a node built without the `control` feature still reads the same
//! configuration files (and refuses a catalog it cannot use).

use serde::Deserialize;

/// `[catalog]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogSourceConfig {
    /// Base URL of a catalog (the contract's `/v1` paths follow it); unset: no catalog.
    pub url: Option<String>,
    /// An API key with `catalog:read`.
    pub api_key: Option<String>,
    /// Seconds an answer is used before it is asked again.
    pub ttl_seconds: u64,
    /// Seconds past that an answer is still used while the catalog cannot be reached.
    pub stale_seconds: u64,
    /// Milliseconds a lookup may take.
    pub timeout_ms: u64,
    /// Request header with the viewer's country (ISO 3166 alpha-2), set by the CDN in front,
    /// for assets the catalog restricts to some territories.
    pub country_header: String,
}

impl Default for CatalogSourceConfig {
    fn default() -> Self {
        CatalogSourceConfig {
            url: None,
            api_key: None,
            ttl_seconds: 30,
            stale_seconds: 3600,
            timeout_ms: 1000,
            country_header: "X-Country-Code".into(),
        }
    }
}

impl CatalogSourceConfig {
    pub fn validate(&self) -> Result<(), String> {
        if http::HeaderName::from_bytes(self.country_header.as_bytes()).is_err() {
            return Err(format!(
                "catalog.country_header {:?} is not a header name",
                self.country_header
            ));
        }
        if let Some(url) = &self.url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!("catalog.url {url:?}: an http(s) URL"));
            }
        }
        Ok(())
    }
}
