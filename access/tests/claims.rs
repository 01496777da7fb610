//! Every claim's accept and refuse cases, end to end (minted, verified, checked), for what
//! the unit tests beside the code and the known-answer tests leave out: iss and aud rules,
//! exp and nbf with leeway and `require_exp`, NumericDate forms, the types of sub, iat, cti
//! and sid, catv, catm's forms, catnip from text and AS numbers, catalpn, catgeoiso3166's
//! forms, catu on port and query, crit, and the claims this edge refuses to ignore.

mod common;

use access::cat::mint::ClaimsBuilder;
use access::cat::{self, Key, Policy, Token};
use access::RequestFacts;
use ciborium::value::Value;
use common::{hs_keys, ip, kind, request, HS_KEY, NOW};
use ring::rand::SystemRandom;

fn int(i: i64) -> Value {
    Value::Integer(i.into())
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

fn texts(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| t(s)).collect())
}

/// Mints and verifies; the verification's refusal, if any, comes back.
fn token(b: ClaimsBuilder) -> Result<Token, access::Refusal> {
    let key = Key::hmac(b"k", &HS_KEY).unwrap();
    let text = b.mint(&key, &SystemRandom::new()).unwrap();
    cat::verify(&text, &hs_keys(b"k", &HS_KEY))
}

fn with(key: i64, value: Value) -> ClaimsBuilder {
    ClaimsBuilder::new().exp(NOW + 60).set(int(key), value)
}

fn check(
    b: ClaimsBuilder,
    policy: &Policy,
    f: impl Fn(&mut RequestFacts<'static>),
) -> &'static str {
    let token = token(b).unwrap();
    let mut r = request();
    f(&mut r);
    kind(token.check(&r, policy))
}

fn parties(issuers: &[&str], audiences: &[&str]) -> Policy {
    Policy {
        issuers: issuers.iter().map(|s| s.to_string()).collect(),
        audiences: audiences.iter().map(|s| s.to_string()).collect(),
        ..Policy::default()
    }
}

#[test]
fn iss_must_be_accepted_when_the_policy_names_issuers() {
    let b = || ClaimsBuilder::new().iss("a");
    assert_eq!(check(b(), &parties(&["a", "b"], &[]), |_| {}), "ok");
    assert_eq!(check(b(), &parties(&["b"], &[]), |_| {}), "wrong_party");
    assert_eq!(check(b(), &parties(&[], &[]), |_| {}), "ok");
    // no iss at all, when issuers are named
    assert_eq!(
        check(ClaimsBuilder::new(), &parties(&["a"], &[]), |_| {}),
        "wrong_party"
    );
    assert_eq!(kind(token(with(1, int(5)))), "malformed");
}

#[test]
fn aud_as_text_or_array_must_name_one_of_ours() {
    let array = || ClaimsBuilder::new().set(int(3), texts(&["x", "edge-2"]));
    assert_eq!(
        check(array(), &parties(&[], &["edge-1", "edge-2"]), |_| {}),
        "ok"
    );
    assert_eq!(
        check(array(), &parties(&[], &["edge-1"]), |_| {}),
        "wrong_party"
    );
    assert_eq!(check(array(), &parties(&[], &[]), |_| {}), "ok");
    let single = ClaimsBuilder::new().aud("edge-1");
    assert_eq!(check(single, &parties(&[], &["edge-1"]), |_| {}), "ok");
    // a token without aud is for any audience
    assert_eq!(
        check(ClaimsBuilder::new(), &parties(&[], &["edge-1"]), |_| {}),
        "ok"
    );
    assert_eq!(kind(token(with(3, int(1)))), "malformed");
    assert_eq!(
        kind(token(with(3, Value::Array(vec![int(1)])))),
        "malformed"
    );
}

#[test]
fn exp_and_nbf_with_leeway_and_require_exp() {
    let b = || ClaimsBuilder::new().nbf(NOW + 10).exp(NOW + 100);
    let lenient = Policy {
        leeway: 30,
        ..Policy::default()
    };
    let at = |now: u64, p: &Policy| check(b(), p, move |r| r.now = now);
    let strict = Policy::default();
    assert_eq!(at(NOW + 9, &strict), "not_yet_valid");
    assert_eq!(at(NOW + 10, &strict), "ok");
    assert_eq!(at(NOW + 99, &strict), "ok");
    assert_eq!(at(NOW + 100, &strict), "expired");
    assert_eq!(at(NOW - 20, &lenient), "ok");
    assert_eq!(at(NOW - 21, &lenient), "not_yet_valid");
    assert_eq!(at(NOW + 129, &lenient), "ok");
    assert_eq!(at(NOW + 130, &lenient), "expired");
    // without exp: accepted unless the policy requires one
    let require = Policy {
        require_exp: true,
        ..Policy::default()
    };
    assert_eq!(
        check(ClaimsBuilder::new(), &Policy::default(), |_| {}),
        "ok"
    );
    assert_eq!(check(ClaimsBuilder::new(), &require, |_| {}), "malformed");
    // NumericDate: an integer or a float (truncated); never negative, text or NaN
    let float = ClaimsBuilder::new().set(int(4), Value::Float((NOW + 5) as f64 + 0.75));
    assert_eq!(token(float).unwrap().claims.exp, Some(NOW + 5));
    for bad in [
        int(-1),
        t("tomorrow"),
        Value::Float(f64::NAN),
        Value::Float(-1.0),
    ] {
        assert_eq!(
            kind(token(with(4, bad.clone()))),
            "malformed",
            "exp {bad:?}"
        );
        assert_eq!(
            kind(token(with(5, bad.clone()))),
            "malformed",
            "nbf {bad:?}"
        );
        assert_eq!(
            kind(token(with(6, bad.clone()))),
            "malformed",
            "iat {bad:?}"
        );
    }
}

#[test]
fn sub_cti_and_sid_have_their_types() {
    let ok = ClaimsBuilder::new()
        .subject("viewer-1")
        .cti(&[0xab, 0xcd])
        .sid("s-1");
    let c = token(ok).unwrap().claims;
    assert_eq!(c.text_of("sub").as_deref(), Some("viewer-1"));
    assert_eq!(c.text_of("cti").as_deref(), Some("abcd"));
    assert_eq!(c.text_of("sid").as_deref(), Some("s-1"));
    assert_eq!(c.text_of("nope"), None);
    assert_eq!(kind(token(with(2, int(1)))), "malformed");
    assert_eq!(kind(token(with(7, t("not bytes")))), "malformed");
    assert_eq!(
        kind(token(ClaimsBuilder::new().set(t("sid"), int(1)))),
        "malformed"
    );
    // other text keys and unregistered integer keys are ignored
    let other = ClaimsBuilder::new()
        .set(t("x-custom"), int(1))
        .set(int(99_999), t("anything"));
    assert!(token(other).is_ok());
}

#[test]
fn catv_is_version_1_only() {
    assert_eq!(
        token(ClaimsBuilder::new().catv()).unwrap().claims.catv,
        Some(1)
    );
    assert_eq!(kind(token(with(310, int(2)))), "unsupported");
    assert_eq!(kind(token(with(310, t("1")))), "malformed");
}

#[test]
fn catm_lists_methods_in_any_case_or_names_one() {
    let p = Policy::default();
    let list = || with(313, texts(&["get", "Head"]));
    assert_eq!(check(list(), &p, |_| {}), "ok");
    assert_eq!(check(list(), &p, |r| r.method = "HEAD"), "ok");
    assert_eq!(check(list(), &p, |r| r.method = "DELETE"), "wrong_method");
    let single = || with(313, t("POST"));
    assert_eq!(check(single(), &p, |r| r.method = "POST"), "ok");
    assert_eq!(check(single(), &p, |_| {}), "wrong_method");
    // an empty list allows nothing
    assert_eq!(check(with(313, texts(&[])), &p, |_| {}), "wrong_method");
    assert_eq!(kind(token(with(313, int(1)))), "malformed");
}

#[test]
fn catnip_from_text_and_as_numbers() {
    let p = Policy::default();
    let nets = || ClaimsBuilder::new().catnip(&["10.0.0.0/8", "2001:db8::/32", "192.0.2.1"]);
    assert_eq!(check(nets(), &p, |_| {}), "ok");
    assert_eq!(
        check(nets(), &p, |r| r.client_ip = Some(ip("2001:db8::9"))),
        "ok"
    );
    assert_eq!(
        check(nets(), &p, |r| r.client_ip = Some(ip("192.0.2.1"))),
        "ok"
    );
    assert_eq!(
        check(nets(), &p, |r| r.client_ip = Some(ip("192.0.2.2"))),
        "ip_not_allowed"
    );
    assert_eq!(
        check(nets(), &p, |r| r.client_ip = Some(ip("2001:db9::1"))),
        "ip_not_allowed"
    );
    // an AS number cannot be placed without an ASN database: it never matches
    assert_eq!(
        check(with(311, Value::Array(vec![int(64512)])), &p, |_| {}),
        "ip_not_allowed"
    );
    assert_eq!(
        kind(token(ClaimsBuilder::new().catnip(&["10.0.0.0/40"]))),
        "malformed"
    );
    assert_eq!(kind(token(with(311, Value::Map(vec![])))), "malformed");
}

#[test]
fn catalpn_as_text_or_bytes() {
    let p = Policy::default();
    let bytes = || {
        with(
            314,
            Value::Array(vec![
                Value::Bytes(b"h2".to_vec()),
                Value::Bytes(b"h3".to_vec()),
            ]),
        )
    };
    assert_eq!(check(bytes(), &p, |_| {}), "ok");
    assert_eq!(check(bytes(), &p, |r| r.alpn = "h3"), "ok");
    assert_eq!(check(bytes(), &p, |r| r.alpn = "http/1.1"), "wrong_uri");
    assert_eq!(
        check(with(314, t("http/1.1")), &p, |r| r.alpn = "http/1.1"),
        "ok"
    );
    assert_eq!(check(with(314, t("http/1.1")), &p, |_| {}), "wrong_uri");
    assert_eq!(
        kind(token(with(
            314,
            Value::Array(vec![Value::Bytes(vec![0xff])])
        ))),
        "malformed"
    );
}

#[test]
fn catgeoiso3166_countries_and_regions() {
    let p = Policy::default();
    let geo = || with(316, texts(&["us", "CA-QC"]));
    assert_eq!(check(geo(), &p, |r| r.country = Some("US")), "ok");
    assert_eq!(check(geo(), &p, |r| r.country = Some("us-ny")), "ok");
    assert_eq!(check(geo(), &p, |r| r.country = Some("CA-QC")), "ok");
    assert_eq!(
        check(geo(), &p, |r| r.country = Some("CA")),
        "geo_not_allowed"
    );
    assert_eq!(
        check(geo(), &p, |r| r.country = Some("USA")),
        "geo_not_allowed"
    );
    assert_eq!(check(geo(), &p, |r| r.country = None), "geo_not_allowed");
    assert_eq!(
        check(with(316, t("FR")), &p, |r| r.country = Some("FR")),
        "ok"
    );
    assert_eq!(kind(token(with(316, int(250)))), "malformed");
}

#[test]
fn catu_on_port_query_and_host() {
    let p = Policy::default();
    let map = |part: i64, kind: i64, v: Value| {
        with(
            312,
            Value::Map(vec![(int(part), Value::Map(vec![(int(kind), v)]))]),
        )
    };
    assert_eq!(check(map(2, 0, t("443")), &p, |_| {}), "ok");
    assert_eq!(
        check(map(2, 0, t("443")), &p, |r| r.port = 8443),
        "wrong_uri"
    );
    assert_eq!(
        check(map(4, 3, t("lang=en")), &p, |r| r.query = "a=1&lang=en"),
        "ok"
    );
    assert_eq!(check(map(4, 3, t("lang=en")), &p, |_| {}), "wrong_uri");
    assert_eq!(check(map(1, 0, t("cdn.example.com")), &p, |_| {}), "ok");
    assert_eq!(
        check(map(1, 0, t("cdn.example.com")), &p, |r| r.host =
            "evil.example"),
        "wrong_uri"
    );
    // an unknown part or match type is not silently ignored
    assert_eq!(kind(token(map(9, 0, t("x")))), "unsupported");
    assert_eq!(kind(token(map(3, 7, t("x")))), "unsupported");
    assert_eq!(kind(token(with(312, texts(&["/vod/"])))), "malformed");
}

#[test]
fn crit_lists_claims_that_must_be_present_and_understood() {
    let crit = |keys: Vec<Value>| {
        ClaimsBuilder::new()
            .exp(NOW + 60)
            .set(int(45), Value::Array(keys))
    };
    assert!(token(crit(vec![int(4)])).is_ok());
    assert!(token(crit(vec![int(323)]).catr(0, 60, 10)).is_ok());
    assert!(token(crit(vec![t("sid")]).sid("s")).is_ok());
    assert_eq!(kind(token(crit(vec![int(5)]))), "unsupported");
    assert_eq!(
        kind(token(crit(vec![int(4242)]).set(int(4242), int(1)))),
        "unsupported"
    );
    assert_eq!(
        kind(token(crit(vec![t("x")]).set(t("x"), int(1)))),
        "unsupported"
    );
    assert_eq!(kind(token(with(45, int(4)))), "malformed");
}

#[test]
fn claims_this_edge_cannot_enforce_refuse_the_token() {
    for (key, name) in [
        (8, "cnf"),
        (282, "geohash"),
        (315, "cath"),
        (317, "catgeocoord"),
        (318, "catgeoalt"),
        (319, "cattpk"),
        (321, "catdpop"),
        (322, "catif"),
        (324, "cattprint"),
    ] {
        let refused = token(with(key, Value::Map(vec![]))).unwrap_err();
        assert_eq!(refused.label(), "unsupported", "{name}");
        assert!(refused.to_string().contains(name), "{refused}");
    }
}

#[test]
fn catr_renewal_window() {
    let t = token(ClaimsBuilder::new().exp(NOW + 100).catr(3, 600, 20)).unwrap();
    assert!(t.renewal_due(NOW + 79).is_none());
    assert_eq!(t.renewal_due(NOW + 80).unwrap().expadd, 600);
    assert!(t.renewal_due(NOW + 100).is_none());
    // no exp: nothing to renew before
    let t = token(ClaimsBuilder::new().catr(3, 600, 20)).unwrap();
    assert!(t.renewal_due(NOW).is_none());
    assert_eq!(
        kind(token(ClaimsBuilder::new().catr(9, 600, 20))),
        "unsupported"
    );
    assert_eq!(
        kind(token(ClaimsBuilder::new().catr(1, 0, 20))),
        "malformed"
    );
}
