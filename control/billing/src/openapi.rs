//! The billing contract's OpenAPI 3.1 document as the code describes it; the committed
//! `control/contracts/billing.v1.json` is the source of truth.

use control_common::openapi::BearerKeys;
use control_common::problem::{ProblemDocument, Reason};
use utoipa::OpenApi;

use crate::model::*;
use crate::server;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "edgepack billing",
        version = "1.0.0",
        description = "The seam with a billing platform: signed subscription webhooks in the shape of Stripe's, turned into entitlement grants through the entitlement contract.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(server::stripe_webhook, server::get_subscription),
    components(schemas(
        StripeEvent, WebhookResult, Outcome, SubscriptionState, ProblemDocument, Reason,
    )),
    modifiers(&BearerKeys),
    tags(
        (name = "webhooks", description = "Deliveries from the billing platform"),
        (name = "subscriptions", description = "What billing last saw"),
    ),
)]
pub struct BillingApi;

pub fn document() -> utoipa::openapi::OpenApi {
    BillingApi::openapi()
}

/// The committed document.
pub const COMMITTED: &str = include_str!("../../contracts/billing.v1.json");
