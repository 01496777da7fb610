//! Subscription state to entitlement, pure. The usual rules:
//! - `active` and `trialing`: entitled until the end of the paid period (plus a little
//!   leeway for a late renewal event);
//! - `past_due`: still entitled for a grace period from the event;
//! - `canceled`: entitled until the paid period ends, then not;
//! - `unpaid`, `paused`, `incomplete`, `incomplete_expired` and anything unknown: not.

use crate::config::BillingConfig;
use crate::stripe::Subscription;

/// What the grants of one subscription become.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Grants for the products, holding from `starts_at` to `ends_at`.
    Entitled {
        starts_at: Option<i64>,
        ends_at: Option<i64>,
    },
    /// No grants.
    Withdrawn,
}

/// The plan for `sub` as of an event created at `event_created`, with the clock at `now`.
pub fn plan(sub: &Subscription, event_created: i64, now: i64, config: &BillingConfig) -> Plan {
    let period_end = sub.current_period_end;
    let plan = match sub.status.as_str() {
        "active" | "trialing" => Plan::Entitled {
            starts_at: sub.start_date,
            ends_at: period_end.map(|e| e.saturating_add(config.period_leeway_seconds)),
        },
        "past_due" => {
            let grace_end = event_created.saturating_add(config.past_due_grace_seconds);
            Plan::Entitled {
                starts_at: sub.start_date,
                ends_at: Some(period_end.map_or(grace_end, |e| e.max(grace_end))),
            }
        }
        "canceled" => match period_end {
            Some(e) if e > now => Plan::Entitled {
                starts_at: sub.start_date,
                ends_at: Some(e),
            },
            _ => Plan::Withdrawn,
        },
        _ => Plan::Withdrawn,
    };
    match plan {
        // A window already over is a withdrawal.
        Plan::Entitled {
            ends_at: Some(e), ..
        } if e <= now => Plan::Withdrawn,
        p => p,
    }
}

/// The catalog products a subscription buys: `metadata.product` when set, else each item's
/// price id or lookup key through `config.products`. Items that map to nothing are named in
/// the error, so the event is refused (and retried by the sender) rather than lost.
pub fn products(sub: &Subscription, config: &BillingConfig) -> Result<Vec<String>, String> {
    if let Some(p) = sub.metadata.get("product") {
        return Ok(vec![p.clone()]);
    }
    let mut out = Vec::new();
    let mut unmapped = Vec::new();
    for item in &sub.items {
        let mapped = [&item.price_id, &item.lookup_key]
            .into_iter()
            .flatten()
            .find_map(|k| config.products.get(k));
        match mapped {
            Some(p) => out.push(p.clone()),
            None => unmapped.push(
                item.price_id
                    .clone()
                    .or_else(|| item.lookup_key.clone())
                    .unwrap_or_else(|| "(no price)".into()),
            ),
        }
    }
    if !unmapped.is_empty() {
        return Err(format!(
            "no product for price {} (set control.billing.products or metadata.product)",
            unmapped.join(", ")
        ));
    }
    if out.is_empty() {
        return Err("the subscription has no items and no metadata.product".into());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The account a subscription belongs to: `metadata.account`, else the customer id.
pub fn account(sub: &Subscription) -> String {
    sub.metadata
        .get("account")
        .cloned()
        .unwrap_or_else(|| sub.customer.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stripe::Item;

    fn sub(status: &str, period_end: Option<i64>) -> Subscription {
        Subscription {
            id: "sub_1".into(),
            customer: "cus_1".into(),
            status: status.into(),
            current_period_end: period_end,
            start_date: Some(10),
            metadata: Default::default(),
            items: vec![Item {
                price_id: Some("price_1".into()),
                lookup_key: None,
            }],
        }
    }

    fn config() -> BillingConfig {
        BillingConfig {
            past_due_grace_seconds: 100,
            period_leeway_seconds: 5,
            products: [("price_1".to_string(), "premium".to_string())].into(),
            ..BillingConfig::default()
        }
    }

    fn entitled(until: i64) -> Plan {
        Plan::Entitled {
            starts_at: Some(10),
            ends_at: Some(until),
        }
    }

    #[test]
    fn each_status_follows_the_rules() {
        let c = config();
        assert_eq!(plan(&sub("active", Some(1000)), 50, 60, &c), entitled(1005));
        assert_eq!(
            plan(&sub("trialing", Some(1000)), 50, 60, &c),
            entitled(1005)
        );
        // past_due: the grace from the event, or the period if that is later.
        assert_eq!(plan(&sub("past_due", Some(20)), 50, 60, &c), entitled(150));
        assert_eq!(plan(&sub("past_due", Some(900)), 50, 60, &c), entitled(900));
        assert_eq!(
            plan(&sub("past_due", Some(20)), 50, 200, &c),
            Plan::Withdrawn
        );
        // canceled: until the paid period ends.
        assert_eq!(
            plan(&sub("canceled", Some(1000)), 50, 60, &c),
            entitled(1000)
        );
        assert_eq!(
            plan(&sub("canceled", Some(50)), 50, 60, &c),
            Plan::Withdrawn
        );
        for s in [
            "unpaid",
            "paused",
            "incomplete",
            "incomplete_expired",
            "weird",
        ] {
            assert_eq!(
                plan(&sub(s, Some(1000)), 50, 60, &c),
                Plan::Withdrawn,
                "{s}"
            );
        }
    }

    #[test]
    fn products_and_accounts_are_mapped() {
        let c = config();
        let mut s = sub("active", None);
        assert_eq!(products(&s, &c).unwrap(), vec!["premium"]);
        assert_eq!(account(&s), "cus_1");
        s.metadata.insert("account".into(), "acct-9".into());
        s.metadata.insert("product".into(), "basic".into());
        assert_eq!(products(&s, &c).unwrap(), vec!["basic"]);
        assert_eq!(account(&s), "acct-9");
        let mut unknown = sub("active", None);
        unknown.items[0].price_id = Some("price_x".into());
        assert!(products(&unknown, &c).unwrap_err().contains("price_x"));
    }
}
