//! Criterion benches of playback access (the `access` crate): what a token costs the edge per
//! request. `cargo bench -p edgepack-benches --bench access` for figures.
//!
//! - `verify_hmac_cat_catu`: the full cost of an HS256 CAT without a cache: base64url
//!   decoding, the COSE envelope, the MAC, the claims (iss, aud, exp, cti, catu with a path
//!   prefix and an extension, catm) and their check against a request;
//! - `check_only`: the claims check of an already verified token (what a request costs when
//!   the verified token is cached);
//! - `verify_es256`: the same token signed with ES256 (COSE_Sign1), verified and checked;
//! - `akamai_verify`: an Akamai Token Auth 2.0 ACL token, verified and checked.

use access::akamai::{self, EdgeAuthKey, EdgeAuthToken};
use access::cat::mint::ClaimsBuilder;
use access::cat::{self, Key, KeySet, Policy};
use access::RequestFacts;
use ciborium::value::Value;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

const NOW: u64 = 1_700_000_000;

fn request() -> RequestFacts<'static> {
    RequestFacts {
        scheme: "https",
        host: "cdn.example.com",
        port: 443,
        path: "/vod/demo/video_720p-v1/42.m4s",
        query: "",
        method: "GET",
        client_ip: Some("192.0.2.7".parse().unwrap()),
        country: Some("US"),
        alpn: "h2",
        now: NOW,
    }
}

fn policy() -> Policy {
    Policy {
        issuers: vec!["issuer.example".into()],
        audiences: vec!["edge".into()],
        leeway: 30,
        require_exp: true,
    }
}

/// iss, aud, exp, cti, catu (path prefix and extension), catm: a typical segment token.
fn claims() -> ClaimsBuilder {
    let int = |i: i64| Value::Integer(i.into());
    let catu = Value::Map(vec![
        (
            int(3),
            Value::Map(vec![(int(1), Value::Text("/vod/demo/".into()))]),
        ),
        (
            int(8),
            Value::Map(vec![(int(0), Value::Text(".m4s".into()))]),
        ),
    ]);
    ClaimsBuilder::new()
        .iss("issuer.example")
        .aud("edge")
        .exp(NOW + 3600)
        .cti(&[0x5a; 16])
        .catu(catu)
        .catm(&["GET", "HEAD"])
}

fn access(c: &mut Criterion) {
    let rng = SystemRandom::new();
    let facts = request();
    let policy = policy();
    let mut g = c.benchmark_group("access");

    let hs = Key::hmac(b"k1", b"0123456789abcdef0123456789abcdef").unwrap();
    let hs_text = claims().mint(&hs, &rng).unwrap();
    let hs_keys = KeySet::new(vec![hs]).unwrap();
    cat::verify(&hs_text, &hs_keys)
        .unwrap()
        .check(&facts, &policy)
        .expect("the bench token is accepted");
    g.bench_function("verify_hmac_cat_catu", |b| {
        b.iter(|| {
            let token = cat::verify(black_box(&hs_text), &hs_keys).unwrap();
            token.check(black_box(&facts), &policy).unwrap();
        })
    });

    let verified = cat::verify(&hs_text, &hs_keys).unwrap();
    g.bench_function("check_only", |b| {
        b.iter(|| {
            black_box(&verified)
                .check(black_box(&facts), &policy)
                .unwrap()
        })
    });

    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let es = Key::es256_private(b"e1", pkcs8.as_ref(), &rng).unwrap();
    let es_text = claims().mint(&es, &rng).unwrap();
    let es_keys = KeySet::new(vec![
        Key::es256_public(b"e1", es.public_point().unwrap()).unwrap()
    ])
    .unwrap();
    g.bench_function("verify_es256", |b| {
        b.iter(|| {
            let token = cat::verify(black_box(&es_text), &es_keys).unwrap();
            token.check(black_box(&facts), &policy).unwrap();
        })
    });

    let ak = EdgeAuthKey::from_hex("52a152a152a152a152a152a152a1", None).unwrap();
    let ak_token = akamai::mint(
        &ak,
        &EdgeAuthToken {
            start: Some(NOW - 60),
            exp: NOW + 3600,
            acl: Some("/vod/demo/*".into()),
            ..Default::default()
        },
        None,
    );
    let ak_keys = [ak];
    g.bench_function("akamai_verify", |b| {
        b.iter(|| akamai::verify(black_box(&ak_token), &ak_keys, black_box(&facts), 30).unwrap())
    });
    g.finish();
}

criterion_group!(benches, access);
criterion_main!(benches);
