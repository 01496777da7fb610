//! The parts of a Stripe event this adapter reads: the envelope (`id`, `type`, `created`,
//! `data.object`) and, for `customer.subscription.*` events, the subscription. Everything
//! else in Stripe's (large, versioned) objects is ignored, so new fields never break it.
//! `current_period_end` is read from the subscription or, in newer API versions, from its
//! items.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// Largest webhook body accepted (Stripe's events are a few kB).
pub const MAX_BODY: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EventError(pub String);

#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created: i64,
    pub data: EventData,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EventData {
    pub object: Value,
}

/// One price on a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub price_id: Option<String>,
    pub lookup_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: String,
    pub customer: String,
    pub status: String,
    pub current_period_end: Option<i64>,
    pub start_date: Option<i64>,
    pub metadata: BTreeMap<String, String>,
    pub items: Vec<Item>,
}

pub fn parse_event(body: &[u8]) -> Result<Event, EventError> {
    let e: Event =
        serde_json::from_slice(body).map_err(|e| EventError(format!("not a Stripe event: {e}")))?;
    if e.id.is_empty() || e.id.len() > 255 {
        return Err(EventError(
            "the event id must be 1 to 255 characters".into(),
        ));
    }
    Ok(e)
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn int(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

/// Whether an event is about a subscription.
pub fn is_subscription_event(event_type: &str) -> bool {
    event_type.starts_with("customer.subscription.")
}

pub fn subscription(object: &Value) -> Result<Subscription, EventError> {
    let missing = |f: &str| EventError(format!("the subscription has no {f}"));
    if text(object, "object").as_deref() != Some("subscription") {
        return Err(EventError("data.object is not a subscription".into()));
    }
    let id = text(object, "id").ok_or_else(|| missing("id"))?;
    // `customer` is an id, or the customer object when expanded.
    let customer = match object.get("customer") {
        Some(Value::String(s)) => s.clone(),
        Some(c @ Value::Object(_)) => text(c, "id").ok_or_else(|| missing("customer.id"))?,
        _ => return Err(missing("customer")),
    };
    let status = text(object, "status").ok_or_else(|| missing("status"))?;
    let item_values: Vec<&Value> = object
        .get("items")
        .and_then(|i| i.get("data"))
        .and_then(Value::as_array)
        .map(|a| a.iter().take(100).collect())
        .unwrap_or_default();
    let items = item_values
        .iter()
        .map(|i| {
            let price = i.get("price");
            Item {
                price_id: price.and_then(|p| text(p, "id")),
                lookup_key: price.and_then(|p| text(p, "lookup_key")),
            }
        })
        .collect();
    let current_period_end = int(object, "current_period_end").or_else(|| {
        item_values
            .iter()
            .filter_map(|i| int(i, "current_period_end"))
            .max()
    });
    let metadata = object
        .get("metadata")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    Ok(Subscription {
        id,
        customer,
        status,
        current_period_end,
        start_date: int(object, "start_date"),
        metadata,
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_event_is_read_in_old_and_new_shapes() {
        let body = br#"{"id":"evt_1","type":"customer.subscription.updated","created":100,
          "data":{"object":{"object":"subscription","id":"sub_1","customer":{"id":"cus_1"},
          "status":"active","metadata":{"account":"acct-1","n":1},
          "items":{"data":[{"current_period_end":900,"price":{"id":"price_1","lookup_key":"premium_monthly"}}]}}}}"#;
        let e = parse_event(body).unwrap();
        let s = subscription(&e.data.object).unwrap();
        assert_eq!(s.customer, "cus_1");
        assert_eq!(s.current_period_end, Some(900));
        assert_eq!(
            s.metadata.get("account").map(String::as_str),
            Some("acct-1")
        );
        assert_eq!(s.items[0].lookup_key.as_deref(), Some("premium_monthly"));
    }

    #[test]
    fn other_objects_and_broken_events_are_errors() {
        assert!(parse_event(b"{").is_err());
        assert!(parse_event(br#"{"id":"","type":"x","created":1,"data":{"object":{}}}"#).is_err());
        let invoice = serde_json::json!({"object": "invoice", "id": "in_1"});
        assert!(subscription(&invoice).is_err());
        let no_customer =
            serde_json::json!({"object": "subscription", "id": "s", "status": "active"});
        assert!(subscription(&no_customer).is_err());
    }
}
