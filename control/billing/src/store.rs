//! The embedded billing adapter: checks a delivery, orders it against what was applied, and
//! writes grants through the entitlement contract. A delivery is recorded as taken only
//! after its grants are written, so a failure anywhere answers an error, the sender retries,
//! and nothing is lost; a retry of a delivery that did get through is a no-op.

use std::sync::Arc;

use control_common::db::{unavailable, Db};
use control_common::events::{CloudEvent, Events};
use control_common::{clock, Problem, ProblemType};
use entitlement::model::GrantInput;
use entitlement::Entitlement;
use sqlx::Row;

use crate::config::BillingConfig;
use crate::contract::Billing;
use crate::lease::{self, Lease};
use crate::model::{Outcome, SubscriptionState, WebhookResult};
use crate::rules::{self, Plan};
use crate::signature::{self, SignatureError};
use crate::stripe;

/// The `source` of billing events.
pub const EVENT_SOURCE: &str = "/edgepack/billing";
/// The `source` of the grants billing writes.
pub const GRANT_SOURCE: &str = "billing:stripe";

pub struct SqlBilling {
    db: Db,
    entitlement: Arc<dyn Entitlement>,
    config: BillingConfig,
    events: Events,
}

/// The grant id of one product of one subscription.
pub fn grant_id(subscription: &str, product: &str) -> String {
    format!("stripe:{subscription}:{product}")
}

/// Entitlement's answer as the webhook's: what a retry cannot fix (an unknown product, a
/// malformed grant) keeps its 4xx kind; what a retry may fix is 502.
fn entitlement_failed(p: Problem) -> Problem {
    let kind = match p.kind {
        ProblemType::ReferenceUnknown | ProblemType::BadRequest => p.kind,
        _ => ProblemType::UpstreamFailed,
    };
    Problem::new(
        kind,
        format!(
            "entitlement refused the grant ({}): {}",
            p.kind.slug(),
            p.detail
        ),
    )
}

/// The answer to delivery `e`: what became of it.
fn taken(e: &stripe::Event, outcome: Outcome, detail: Option<String>) -> WebhookResult {
    WebhookResult {
        event: e.id.clone(),
        outcome,
        detail,
    }
}

impl SqlBilling {
    pub fn new(
        db: Db,
        entitlement: Arc<dyn Entitlement>,
        config: BillingConfig,
        events: Events,
    ) -> Result<SqlBilling, String> {
        config.validate()?;
        Ok(SqlBilling {
            db,
            entitlement,
            config,
            events,
        })
    }

    async fn seen(&self, event_id: &str) -> Result<bool, Problem> {
        Ok(sqlx::query("SELECT id FROM billing_events WHERE id = $1")
            .bind(event_id)
            .fetch_optional(&self.db.pool)
            .await
            .map_err(unavailable)?
            .is_some())
    }

    async fn record(&self, e: &stripe::Event, outcome: Outcome) -> Result<(), Problem> {
        sqlx::query(
            "INSERT INTO billing_events (id, event_type, created, outcome, received_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
        )
        .bind(e.id.as_str())
        .bind(e.event_type.as_str())
        .bind(e.created)
        .bind(
            serde_json::to_value(outcome)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        )
        .bind(clock::now())
        .execute(&self.db.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn apply(&self, e: &stripe::Event) -> Result<WebhookResult, Problem> {
        let result = |outcome, detail| taken(e, outcome, detail);
        if self.seen(&e.id).await? {
            return Ok(result(Outcome::Duplicate, None));
        }
        if !stripe::is_subscription_event(&e.event_type) {
            self.record(e, Outcome::Ignored).await?;
            return Ok(result(
                Outcome::Ignored,
                Some(format!("{} is not a subscription event", e.event_type)),
            ));
        }
        let sub = stripe::subscription(&e.data.object)
            .map_err(|err| Problem::bad_request(err.to_string()))?;
        // Two deliveries of one subscription (here or in another process on the same
        // database) never interleave: each orders itself against the one before.
        let lease = Lease::take(&self.db, &sub.id, lease::WAIT).await?;
        let applied = self.apply_subscription(e, &sub).await;
        lease.give_back(&self.db).await;
        applied
    }

    async fn apply_subscription(
        &self,
        e: &stripe::Event,
        sub: &stripe::Subscription,
    ) -> Result<WebhookResult, Problem> {
        let result = |outcome, detail| taken(e, outcome, detail);
        // A delivery of the same event may have been applied while this one waited.
        if self.seen(&e.id).await? {
            return Ok(result(Outcome::Duplicate, None));
        }
        let account = rules::account(sub);
        if !control_common::ids::valid_id(&account) {
            return Err(Problem::bad_request(format!(
                "the account {account:?} (metadata.account or customer) is not a usable id"
            )));
        }
        let products = rules::products(sub, &self.config)
            .map_err(|why| Problem::new(ProblemType::ReferenceUnknown, why))?;
        for p in &products {
            let id = grant_id(&sub.id, p);
            if !control_common::ids::valid_id(p) || !control_common::ids::valid_id(&id) {
                return Err(Problem::bad_request(format!(
                    "subscription {:?} and product {p:?} make the grant id {id:?}, which is not \
                     1 to 128 characters of A-Z a-z 0-9 . _ - :",
                    sub.id
                )));
            }
        }
        let before = self.get_subscription(&sub.id).await.ok();
        if let Some(b) = &before {
            if b.last_event_created > e.created {
                self.record(e, Outcome::Stale).await?;
                return Ok(result(
                    Outcome::Stale,
                    Some(format!(
                        "event {} (created {}) was applied already",
                        b.last_event, b.last_event_created
                    )),
                ));
            }
        }
        let now = clock::now();
        let plan = rules::plan(sub, e.created, now, &self.config);
        match plan {
            Plan::Entitled { starts_at, ends_at } => {
                for p in &products {
                    let input = GrantInput {
                        account: account.clone(),
                        product: p.clone(),
                        starts_at,
                        ends_at,
                        source: GRANT_SOURCE.into(),
                    };
                    self.entitlement
                        .put_grant(&grant_id(&sub.id, p), input)
                        .await
                        .map_err(entitlement_failed)?;
                }
            }
            Plan::Withdrawn => {
                for p in &products {
                    self.withdraw(&sub.id, p).await?;
                }
            }
        }
        // Products an update dropped lose their grants.
        if let Some(b) = &before {
            for p in b.products.iter().filter(|p| !products.contains(p)) {
                self.withdraw(&sub.id, p).await?;
            }
        }
        let products_json = serde_json::to_string(&products).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "INSERT INTO billing_subscriptions \
             (id, account, status, products, last_event, last_event_created, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET \
             account = excluded.account, status = excluded.status, \
             products = excluded.products, last_event = excluded.last_event, \
             last_event_created = excluded.last_event_created, updated_at = excluded.updated_at",
        )
        .bind(sub.id.as_str())
        .bind(account.as_str())
        .bind(sub.status.as_str())
        .bind(products_json.as_str())
        .bind(e.id.as_str())
        .bind(e.created)
        .bind(now)
        .execute(&self.db.pool)
        .await
        .map_err(unavailable)?;
        self.record(e, Outcome::Applied).await?;
        let entitled = matches!(plan, Plan::Entitled { .. });
        self.events.publish(CloudEvent::new(
            EVENT_SOURCE,
            "dev.edgepack.billing.event.applied.v1",
            &sub.id,
            &account,
            serde_json::json!({
                "event": e.id, "event_type": e.event_type, "subscription": sub.id,
                "status": sub.status, "products": products, "entitled": entitled,
            }),
        ));
        Ok(result(
            Outcome::Applied,
            Some(format!(
                "{} {}: {}",
                sub.id,
                sub.status,
                if entitled { "entitled" } else { "withdrawn" }
            )),
        ))
    }

    async fn withdraw(&self, subscription: &str, product: &str) -> Result<(), Problem> {
        match self
            .entitlement
            .delete_grant(&grant_id(subscription, product))
            .await
        {
            Ok(()) => Ok(()),
            Err(p) if p.kind == ProblemType::NotFound => Ok(()),
            Err(p) => Err(entitlement_failed(p)),
        }
    }
}

#[async_trait::async_trait]
impl Billing for SqlBilling {
    async fn stripe_webhook(
        &self,
        body: &[u8],
        header: Option<&str>,
    ) -> Result<WebhookResult, Problem> {
        signature::verify(
            header,
            body,
            &self.config.webhook_secrets,
            clock::now(),
            self.config.tolerance_seconds,
        )
        .map_err(|e| match e {
            SignatureError::OutOfTolerance(_) => {
                Problem::new(ProblemType::WebhookTimestampOutOfTolerance, e.to_string())
            }
            _ => Problem::new(ProblemType::WebhookSignatureInvalid, e.to_string()),
        })?;
        let event = stripe::parse_event(body).map_err(|e| Problem::bad_request(e.to_string()))?;
        self.apply(&event).await
    }

    async fn get_subscription(&self, id: &str) -> Result<SubscriptionState, Problem> {
        // An id no subscription can have is simply not found, as on every lookup.
        if id.is_empty() || id.len() > 255 {
            return Err(Problem::not_found("subscription", id));
        }
        let row = sqlx::query(
            "SELECT id, account, status, products, last_event, last_event_created, updated_at \
             FROM billing_subscriptions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| Problem::not_found("subscription", id))?;
        let products: String = row.try_get("products").map_err(unavailable)?;
        Ok(SubscriptionState {
            id: row.try_get("id").map_err(unavailable)?,
            account: row.try_get("account").map_err(unavailable)?,
            status: row.try_get("status").map_err(unavailable)?,
            products: serde_json::from_str(&products)
                .map_err(|e| control_common::db::corrupt("subscription", id, e))?,
            last_event: row.try_get("last_event").map_err(unavailable)?,
            last_event_created: row.try_get("last_event_created").map_err(unavailable)?,
            updated_at: row.try_get("updated_at").map_err(unavailable)?,
        })
    }
}
