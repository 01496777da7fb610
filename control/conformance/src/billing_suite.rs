//! The billing contract's suite: signed deliveries applied, replays and stale events as
//! no-ops, bad signatures, old timestamps and malformed events refused, other event types
//! ignored.

use http::Method;
use serde_json::{json, Value};

use crate::http_check::{field, fresh, problem, status, Check, Outcome, Req, Suite};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn event(id: &str, kind: &str, created: i64, sub: &str, status: &str, product: &str) -> Value {
    json!({
        "id": id, "object": "event", "type": kind, "created": created,
        "data": {"object": {
            "id": sub, "object": "subscription", "customer": "cus_conformance",
            "status": status, "current_period_end": now() + 30 * 24 * 3600,
            "metadata": {"account": "conf-billing-account", "product": product},
            "items": {"object": "list", "data": []}
        }}
    })
}

async fn deliver(
    check: &Check,
    body: &[u8],
    header: String,
) -> Result<crate::http_check::Answer, String> {
    check
        .send(
            Req::new(Method::POST, "/v1/webhooks/stripe")
                .raw(body, "application/json")
                .header("stripe-signature", header)
                .anonymous(),
        )
        .await
}

fn signed(secret: &str, body: &[u8], t: i64) -> String {
    format!("t={t},v1={}", billing::signature::sign(secret, t, body))
}

pub async fn run(check: &Check, product: &str, secret: &str) -> Vec<Outcome> {
    let mut s = Suite::default();
    let sub = fresh("sub_conf");
    let t = now();
    let active = serde_json::to_vec(&event(
        &fresh("evt_conf"),
        "customer.subscription.created",
        t,
        &sub,
        "active",
        product,
    ))
    .unwrap_or_default();

    let r = deliver(check, &active, signed(secret, &active, t)).await;
    s.record(
        "a signed subscription event is applied",
        r.and_then(|a| {
            status(&a, 200)?;
            field(&a.json, "outcome", &json!("applied"))
        }),
    );
    let r = deliver(check, &active, signed(secret, &active, t)).await;
    s.record(
        "the same event again is a duplicate, nothing done",
        r.and_then(|a| {
            status(&a, 200)?;
            field(&a.json, "outcome", &json!("duplicate"))
        }),
    );
    let older = serde_json::to_vec(&event(
        &fresh("evt_conf"),
        "customer.subscription.updated",
        t - 60,
        &sub,
        "unpaid",
        product,
    ))
    .unwrap_or_default();
    let r = deliver(check, &older, signed(secret, &older, t)).await;
    s.record(
        "an event older than one applied is stale, nothing done",
        r.and_then(|a| {
            status(&a, 200)?;
            field(&a.json, "outcome", &json!("stale"))
        }),
    );
    let r = check
        .send(Req::new(Method::GET, &format!("/v1/subscriptions/{sub}")))
        .await;
    s.record(
        "GET the subscription shows the applied state",
        r.and_then(|a| {
            status(&a, 200)?;
            field(&a.json, "status", &json!("active"))?;
            field(&a.json, "products", &json!([product]))
        }),
    );
    let invoice = serde_json::to_vec(&json!({
        "id": fresh("evt_conf"), "type": "invoice.paid", "created": t,
        "data": {"object": {"object": "invoice", "id": "in_conf"}}
    }))
    .unwrap_or_default();
    let r = deliver(check, &invoice, signed(secret, &invoice, t)).await;
    s.record(
        "an event of another kind is ignored",
        r.and_then(|a| {
            status(&a, 200)?;
            field(&a.json, "outcome", &json!("ignored"))
        }),
    );
    let fresh_event = serde_json::to_vec(&event(
        &fresh("evt_conf"),
        "customer.subscription.updated",
        t + 1,
        &sub,
        "active",
        product,
    ))
    .unwrap_or_default();
    let r = deliver(
        check,
        &fresh_event,
        signed("whsec_wrong_secret_0123456789", &fresh_event, t),
    )
    .await;
    s.record(
        "a delivery signed with another secret is 400 webhook-signature-invalid",
        r.and_then(|a| problem(&a, 400, "webhook-signature-invalid")),
    );
    let r = deliver(check, &fresh_event, "t=1,v1=zz".into()).await;
    s.record(
        "a malformed signature header is 400",
        r.and_then(|a| problem(&a, 400, "webhook-signature-invalid")),
    );
    let r = check
        .send(
            Req::new(Method::POST, "/v1/webhooks/stripe")
                .raw(&fresh_event, "application/json")
                .anonymous(),
        )
        .await;
    s.record(
        "a delivery without a signature is 400",
        r.and_then(|a| problem(&a, 400, "webhook-signature-invalid")),
    );
    let old = t - 3600;
    let r = deliver(check, &fresh_event, signed(secret, &fresh_event, old)).await;
    s.record(
        "a delivery signed an hour ago is 400 webhook-timestamp-out-of-tolerance",
        r.and_then(|a| problem(&a, 400, "webhook-timestamp-out-of-tolerance")),
    );
    let broken = b"{\"id\": \"evt_broken\", ";
    let r = deliver(check, broken, signed(secret, broken, t)).await;
    s.record(
        "a signed body that is not an event is 400",
        r.and_then(|a| problem(&a, 400, "bad-request")),
    );
    let big = vec![b' '; 300 * 1024];
    let r = deliver(check, &big, signed(secret, &big, t)).await;
    s.record(
        "a 300 kB delivery is 413",
        r.and_then(|a| problem(&a, 413, "body-too-large")),
    );
    let canceled = serde_json::to_vec(&event(
        &fresh("evt_conf"),
        "customer.subscription.deleted",
        t + 2,
        &sub,
        "incomplete_expired",
        product,
    ))
    .unwrap_or_default();
    let r = deliver(check, &canceled, signed(secret, &canceled, t)).await;
    s.record(
        "a later event that ends the subscription is applied",
        r.and_then(|a| {
            status(&a, 200)?;
            field(&a.json, "outcome", &json!("applied"))
        }),
    );
    let r = check
        .send(Req::new(Method::GET, "/v1/subscriptions/sub_never_seen").anonymous())
        .await;
    s.record(
        "GET a subscription without an API key is 401",
        r.and_then(|a| problem(&a, 401, "api-key-invalid")),
    );
    s.outcomes
}
