//! The billing contract's types.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What became of a webhook delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The event changed grants.
    Applied,
    /// The event id was seen before: nothing done.
    Duplicate,
    /// An event newer than this one was applied to the subscription already: nothing done.
    Stale,
    /// Not an event this adapter acts on.
    Ignored,
}

/// The answer to a webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookResult {
    pub event: String,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A subscription as billing last saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubscriptionState {
    pub id: String,
    pub account: String,
    pub status: String,
    /// The catalog products it buys.
    pub products: Vec<String>,
    /// The id and `created` time of the last event applied.
    pub last_event: String,
    pub last_event_created: i64,
    pub updated_at: i64,
}

/// The subset of a Stripe event the webhook reads (for the contract document; the endpoint
/// accepts and ignores every other field).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StripeEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created: i64,
    /// `{"object": {...}}`: for `customer.subscription.*`, a subscription with `id`,
    /// `customer`, `status`, `current_period_end` (or per item), `start_date`, `metadata`
    /// (`account`, `product`) and `items.data[].price` (`id`, `lookup_key`).
    pub data: serde_json::Value,
}
