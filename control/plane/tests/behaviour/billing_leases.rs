//! Two billing processes on one PostgreSQL take the deliveries of one subscription at the
//! same time and in no order: each delivery is applied whole, one after another (a lease per
//! subscription, billing/src/lease.rs), so the subscription ends as its newest event says
//! and its grant agrees.

use billing::model::Outcome;
use billing::store::grant_id;
use serde_json::json;

use crate::common::postgres::Postgres;
use crate::common::{config, start, PRODUCT, WEBHOOK_SECRET};

const EVENTS: i64 = 25;

fn delivery(i: i64, t0: i64, period_end: i64) -> (Vec<u8>, String) {
    // Even events say active until `period_end`; odd ones canceled with the period over.
    let (status, end) = if i % 2 == 0 {
        ("active", period_end)
    } else {
        ("canceled", t0 - 10)
    };
    let body = serde_json::to_vec(&json!({
        "id": format!("evt_lease_{i}"), "object": "event",
        "type": "customer.subscription.updated", "created": t0 + i,
        "data": {"object": {
            "id": "sub_lease", "object": "subscription", "customer": "cus_lease",
            "status": status, "current_period_end": end,
            "metadata": {"account": "lease-account", "product": PRODUCT},
            "items": {"object": "list", "data": []}
        }}
    }))
    .unwrap();
    let t = control_common::clock::now();
    let header = format!(
        "t={t},v1={}",
        billing::signature::sign(WEBHOOK_SECRET, t, &body)
    );
    (body, header)
}

#[tokio::test(flavor = "multi_thread")]
async fn two_planes_on_one_postgres_apply_a_subscriptions_deliveries_one_at_a_time() {
    let pg = Postgres::start();
    let url = pg.database("leases");
    let dir_a = tempfile::tempdir().unwrap();
    let a = start(config(dir_a.path(), Some(url.clone())), dir_a).await;
    let dir_b = tempfile::tempdir().unwrap();
    let b = start(config(dir_b.path(), Some(url)), dir_b).await;
    let billings = [
        a.plane.billing.clone().unwrap(),
        b.plane.billing.clone().unwrap(),
    ];

    let t0 = control_common::clock::now() - 3600;
    let period_end = control_common::clock::now() + 30 * 24 * 3600;
    // Newest first, alternating between the two processes, all at once.
    let mut tasks = Vec::new();
    for i in (0..EVENTS).rev() {
        let billing = billings[(i % 2) as usize].clone();
        let (body, header) = delivery(i, t0, period_end);
        tasks.push(tokio::spawn(async move {
            billing.stripe_webhook(&body, Some(&header)).await
        }));
    }
    let mut applied = 0;
    for t in tasks {
        let r = t.await.unwrap().expect("every delivery is taken");
        match r.outcome {
            Outcome::Applied => applied += 1,
            Outcome::Stale => {}
            other => panic!("unexpected outcome {other:?}: {r:?}"),
        }
    }
    assert!(applied >= 1, "the newest event is applied");

    let sub = billings[0].get_subscription("sub_lease").await.unwrap();
    assert_eq!(sub.last_event, format!("evt_lease_{}", EVENTS - 1));
    assert_eq!(sub.status, "active");
    let entitlement = a.plane.entitlement.clone().unwrap();
    let grant = entitlement
        .get_grant(&grant_id("sub_lease", PRODUCT))
        .await
        .expect("the newest event (active) left its grant");
    assert_eq!(grant.ends_at, Some(period_end + 3600), "{grant:?}");
}
