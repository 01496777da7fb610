//! The billing contract as a Rust trait.

use control_common::Problem;

use crate::model::{SubscriptionState, WebhookResult};

#[async_trait::async_trait]
pub trait Billing: Send + Sync {
    /// Takes one webhook delivery: the raw body and its `Stripe-Signature` header.
    async fn stripe_webhook(
        &self,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<WebhookResult, Problem>;
    /// A subscription as billing last saw it.
    async fn get_subscription(&self, id: &str) -> Result<SubscriptionState, Problem>;
}
