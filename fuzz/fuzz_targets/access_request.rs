//! Where the edge looks for a token in a request: any URI, `Cookie` header and token header
//! must give candidates (or none) and the query without the token, never a panic. The input
//! is the URI, the cookie header and the token header, separated by NUL bytes.
#![no_main]

use std::sync::OnceLock;

use edge::access::config::AccessConfig;
use edge::access::extract::{presented, query_without, Carrier, Names};
use libfuzzer_sys::fuzz_target;

fn names() -> &'static Names {
    static NAMES: OnceLock<Names> = OnceLock::new();
    NAMES.get_or_init(|| Names::new(&AccessConfig::default()).expect("default names parse"))
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == 0);
    let uri = parts.next().unwrap_or_default();
    let cookie = parts.next().unwrap_or_default();
    let header = parts.next().unwrap_or_default();
    let Ok(uri) = http::Uri::try_from(uri) else { return };
    let mut request = http::Request::builder().uri(uri);
    if let Ok(v) = http::HeaderValue::from_bytes(cookie) {
        request = request.header(http::header::COOKIE, v);
    }
    if let Ok(v) = http::HeaderValue::from_bytes(header) {
        request = request.header("CTA-Common-Access-Token", v);
    }
    let Ok(request) = request.body(()) else { return };
    let (parts, ()) = request.into_parts();
    let found = presented(names(), &parts);
    assert!(found.len() <= 4, "candidates are capped");
    for p in &found {
        let name = match &p.carrier {
            Carrier::Query(n) => Some(n.as_ref()),
            _ => None,
        };
        let rest = query_without(parts.uri.query(), name);
        assert!(rest.len() <= parts.uri.query().map_or(0, str::len));
    }
});
