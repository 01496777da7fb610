//! A billing webhook delivery: any `Stripe-Signature` header and any body must be refused
//! with a reason or read into an event, and an event's subscription into a plan, never a
//! panic. The input is the header and the body, separated by the first NUL byte; the
//! signature is checked against the target's secret at a fixed time, and the body is read
//! whether or not it verifies (the rules must hold for anything a signer could send).
#![no_main]

use billing::config::BillingConfig;
use billing::{rules, signature, stripe};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "whsec_fuzz_0123456789abcdef";
const NOW: i64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(2, |b| *b == 0);
    let header = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let header = String::from_utf8_lossy(header);
    let _ = signature::verify(Some(&header), body, &[SECRET.to_owned()], NOW, 300);
    let Ok(event) = stripe::parse_event(body) else { return };
    if !stripe::is_subscription_event(&event.event_type) {
        return;
    }
    let Ok(sub) = stripe::subscription(&event.data.object) else { return };
    let config = BillingConfig {
        products: [("price_1".to_owned(), "basic".to_owned())].into(),
        ..BillingConfig::default()
    };
    let _ = rules::products(&sub, &config);
    let _ = rules::account(&sub);
    let _ = rules::plan(&sub, event.created, NOW, &config);
});
