//! The billing HTTP API: the Stripe-shaped webhook (authenticated by its signature, not by an
//! API key) and a read of the subscriptions as billing last saw them.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use control_common::problem::ProblemDocument;
use control_common::{ApiKeys, Problem, Scope};

use crate::contract::Billing;
use crate::model::{StripeEvent, SubscriptionState, WebhookResult};
use crate::stripe::MAX_BODY;

pub const SIGNATURE_HEADER: &str = "stripe-signature";

#[derive(Clone)]
pub struct Api {
    pub billing: Arc<dyn Billing>,
    pub keys: ApiKeys,
}

pub fn router(billing: Arc<dyn Billing>, keys: ApiKeys) -> Router {
    Router::new()
        .route("/v1/webhooks/stripe", post(stripe_webhook))
        .route("/v1/subscriptions/{id}", get(get_subscription))
        .with_state(Api { billing, keys })
}

/// One subscription event from the billing platform, signed in the `Stripe-Signature`
/// scheme. Replays (an event id seen before) and stale events (older than one applied) are
/// answered 200 with nothing done; a failure to write grants is 502, so the sender retries.
#[utoipa::path(post, path = "/v1/webhooks/stripe", tag = "webhooks",
    params(("Stripe-Signature" = String, Header, description = "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"{t}.{body}\">")),
    request_body = StripeEvent,
    responses(
        (status = 200, description = "Taken: applied, duplicate, stale or ignored", body = WebhookResult),
        (status = 400, description = "Bad signature, timestamp or event", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "A price maps to no product, or the product is not in the catalog", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 502, description = "Entitlement did not take the grant; retry", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 503, description = "The database did not answer, or another delivery of the same subscription was still being applied; retry", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
pub async fn stripe_webhook(
    State(api): State<Api>,
    req: Request,
) -> Result<axum::Json<WebhookResult>, Problem> {
    let signature = req
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = control_common::body::read_limited(req, MAX_BODY).await?;
    Ok(axum::Json(
        api.billing
            .stripe_webhook(&body, signature.as_deref())
            .await?,
    ))
}

/// A subscription as billing last saw it.
#[utoipa::path(get, path = "/v1/subscriptions/{id}", tag = "subscriptions",
    params(("id" = String, Path, description = "The billing platform's subscription id", min_length = 1, max_length = 255)),
    responses(
        (status = 200, description = "The subscription", body = SubscriptionState),
        (status = 401, description = "No valid API key", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "Never seen", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["billing:read"])))]
pub async fn get_subscription(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<axum::Json<SubscriptionState>, Problem> {
    api.keys.authorize(&headers, Scope::BillingRead)?;
    Ok(axum::Json(api.billing.get_subscription(&id).await?))
}
