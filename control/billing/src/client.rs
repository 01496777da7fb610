//! The billing contract over HTTP (for tools and tests that replay deliveries to a remote
//! billing service).

use std::time::Duration;

use control_common::client::{encode, Remote};
use control_common::{Problem, ProblemType};
use http::Method;

use crate::contract::Billing;
use crate::model::{SubscriptionState, WebhookResult};

pub struct RemoteBilling {
    remote: Remote,
}

impl RemoteBilling {
    pub fn new(base: &str, api_key: Option<String>, timeout: Duration) -> Result<Self, String> {
        Ok(RemoteBilling {
            remote: Remote::new(base, api_key, timeout)?,
        })
    }
}

#[async_trait::async_trait]
impl Billing for RemoteBilling {
    async fn stripe_webhook(
        &self,
        body: &[u8],
        signature: Option<&str>,
    ) -> Result<WebhookResult, Problem> {
        // The body goes byte for byte: the signature is over those bytes.
        let headers: Vec<(&str, &str)> = signature
            .map(|s| ("Stripe-Signature", s))
            .into_iter()
            .collect();
        self.remote
            .exchange_bytes(
                Method::POST,
                "/v1/webhooks/stripe",
                Some(body.to_vec()),
                &headers,
            )
            .await?
            .1
            .ok_or_else(|| Problem::new(ProblemType::UpstreamFailed, "204 where a result was due"))
    }

    async fn get_subscription(&self, id: &str) -> Result<SubscriptionState, Problem> {
        self.remote
            .json::<(), _>(
                Method::GET,
                &format!("/v1/subscriptions/{}", encode(id)),
                None,
            )
            .await
    }
}
