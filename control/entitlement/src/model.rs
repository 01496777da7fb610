//! The entitlement contract's types, as they travel and as the OpenAPI document describes
//! them. Inputs refuse unknown fields.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a caller sends to create or replace a grant (`PUT /v1/grants/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantInput {
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = "^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$"
    )]
    pub account: String,
    /// A product id of the catalog.
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = "^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$"
    )]
    pub product: String,
    /// Unix seconds from which the grant holds; absent for "already".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<i64>,
    /// Unix seconds at which it stops holding; absent for "until withdrawn".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<i64>,
    /// Who made it: `billing:stripe`, `manual`, `crm`, ...
    #[schema(min_length = 1, max_length = 128)]
    pub source: String,
}

/// A grant: an account holds a product for a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Grant {
    pub id: String,
    pub account: String,
    pub product: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<i64>,
    pub source: String,
    pub revision: i64,
    pub updated_at: i64,
}

impl Grant {
    pub fn new(id: String, i: GrantInput, revision: i64, updated_at: i64) -> Grant {
        Grant {
            id,
            account: i.account,
            product: i.product,
            starts_at: i.starts_at,
            ends_at: i.ends_at,
            source: i.source,
            revision,
            updated_at,
        }
    }

    /// Whether the grant holds at `now`.
    pub fn holds_at(&self, now: i64) -> bool {
        self.starts_at.is_none_or(|s| now >= s) && self.ends_at.is_none_or(|e| now < e)
    }
}

/// `?account=` on the grant and session lists.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccountListQuery {
    /// Only this account's.
    pub account: Option<String>,
    /// Items per page, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}

/// `POST /v1/playback-sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaybackRequest {
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = "^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$"
    )]
    pub account: String,
    /// The viewer's device, for the session list and for events.
    #[schema(min_length = 1, max_length = 128)]
    pub device: String,
    /// The catalog asset id.
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = "^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$"
    )]
    pub asset: String,
    /// The viewer's country (ISO 3166-1 alpha-2), when the caller knows it; needed for
    /// assets with territories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[A-Za-z]{2}$")]
    pub country: Option<String>,
}

/// Where a session's state stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SessionState {
    Active,
    Ended,
    Revoked,
}

impl SessionState {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Active => "active",
            SessionState::Ended => "ended",
            SessionState::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<SessionState> {
        match s {
            "active" => Some(SessionState::Active),
            "ended" => Some(SessionState::Ended),
            "revoked" => Some(SessionState::Revoked),
            _ => None,
        }
    }
}

/// The URLs a player opens on the edge, each carrying the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Manifests {
    /// HLS with CMAF segments.
    pub hls: String,
    /// HLS with MPEG-TS segments.
    pub hls_ts: String,
    pub dash: String,
}

/// A playback session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlaybackSession {
    /// The session id; the token carries it in `sid`, and the edge counts streams and
    /// takes revocations by it.
    pub id: String,
    pub account: String,
    pub device: String,
    pub asset: String,
    /// The product whose grant allowed it.
    pub product: String,
    /// Streams the account may watch at once (from the product).
    pub max_streams: u32,
    pub state: SessionState,
    pub created_at: i64,
    /// When the latest token expires (renewal at the edge extends playback past it).
    pub expires_at: i64,
    /// The playback token: only in the answers that issue one (create, renew).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Only with a token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifests: Option<Manifests>,
    /// License server per DRM system (`clearkey`, `widevine`, ...), only with a token.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub license_urls: BTreeMap<String, String>,
}
