//! `[control.billing]`.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct BillingConfig {
    /// Webhook signing secrets (`whsec_...`); several while one is rotated out.
    pub webhook_secrets: Vec<String>,
    /// Largest age of a webhook's signed timestamp, seconds (Stripe's libraries use 300).
    pub tolerance_seconds: i64,
    /// How long a `past_due` subscription stays entitled, seconds from the event.
    pub past_due_grace_seconds: i64,
    /// Slack after `current_period_end` for an active subscription, so a renewal event that
    /// arrives a little late does not cut viewers off.
    pub period_leeway_seconds: i64,
    /// Catalog product of each price id or lookup key; a subscription's `metadata.product`
    /// wins over it.
    pub products: BTreeMap<String, String>,
}

impl Default for BillingConfig {
    fn default() -> Self {
        BillingConfig {
            webhook_secrets: Vec::new(),
            tolerance_seconds: 300,
            past_due_grace_seconds: 3 * 24 * 3600,
            period_leeway_seconds: 3600,
            products: BTreeMap::new(),
        }
    }
}

impl BillingConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.webhook_secrets.iter().any(|s| s.len() < 16) {
            return Err("control.billing.webhook_secrets: each at least 16 characters".into());
        }
        if self.tolerance_seconds <= 0 || self.past_due_grace_seconds < 0 {
            return Err(
                "control.billing: tolerance_seconds > 0 and past_due_grace_seconds >= 0".into(),
            );
        }
        Ok(())
    }
}
