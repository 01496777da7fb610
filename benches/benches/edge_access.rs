//! Criterion benches of the edge's side of playback access: what the authorize phase costs a
//! segment request. `cargo bench -p edgepack-benches --bench edge_access`.
//!
//! - `revocation_lookup_miss` / `_hit`: the in-memory revocation check of one request
//!   (session, token id, account) against 10,000 revocations in force;
//! - `gate_segment`: the whole decision for a segment request whose CAT (with `catu`) is in
//!   the verified-token cache: finding the token in the query, the cached verification, the
//!   claims check, revocations (10,000 in force), with the in-process store.

use std::sync::Arc;

use access::cat::mint::ClaimsBuilder;
use access::cat::Key;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use edge::access::config::{AccessConfig, AccessMode, CatKeyConfig};
use edge::access::gate::{admit, Origin};
use edge::access::revocations::{Holder, Revocation, RevocationSet, Subject};
use edge::access::Access;
use edge::ops::metrics::Metrics;

const SECRET: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn revocations(n: usize) -> Vec<Revocation> {
    (0..n)
        .map(|i| Revocation {
            subject: match i % 3 {
                0 => Subject::Session(format!("session-{i}")),
                1 => Subject::Account(format!("account-{i}")),
                _ => Subject::TokenId(format!("{i:032x}")),
            },
            at_ms: 1,
            until: u64::MAX / 2,
        })
        .collect()
}

fn edge_access(c: &mut Criterion) {
    let mut g = c.benchmark_group("access");
    let set = RevocationSet::default();
    set.apply(&revocations(10_000), 0);
    let miss = Holder {
        session: Some("a-session-never-revoked"),
        account: Some("an-account"),
        token_id: Some("00112233445566778899aabbccddeeff"),
        issued_at: Some(10),
    };
    g.bench_function("revocation_lookup_miss", |b| {
        b.iter(|| assert!(set.find(black_box(&miss), 100).is_none()))
    });
    let hit = Holder {
        session: Some("session-300"),
        ..miss
    };
    g.bench_function("revocation_lookup_hit", |b| {
        b.iter(|| assert!(set.find(black_box(&hit), 100).is_some()))
    });

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let config = AccessConfig {
        mode: AccessMode::Token,
        keys: vec![CatKeyConfig {
            kid: "k1".into(),
            alg: "HS256".into(),
            secret_hex: Some(SECRET.into()),
            public_pem: None,
            private_pem: None,
        }],
        ..AccessConfig::default()
    };
    let metrics = Metrics::new().unwrap();
    let access = Arc::new(Access::new(&config, metrics.access.clone(), None).unwrap());
    access.revocations.apply(&revocations(10_000), 0);
    let key = Key::hmac(b"k1", &hex_decode(SECRET)).unwrap();
    let token = ClaimsBuilder::new()
        .subject("viewer")
        .cti(&[7; 16])
        .exp(now() + 3600)
        .path_prefix("/vod/demo/")
        .catm(&["GET", "HEAD"])
        .mint(&key, &ring::rand::SystemRandom::new())
        .unwrap();
    let request = http::Request::builder()
        .uri(format!("/vod/demo/video_720p-v1/42.m4s?cat={token}"))
        .header("host", "cdn.example.com")
        .body(())
        .unwrap();
    let (parts, ()) = request.into_parts();
    let origin = Origin {
        scheme: "https",
        client_ip: Some("192.0.2.7".parse().unwrap()),
    };
    g.bench_function("gate_segment", |b| {
        b.iter(|| {
            rt.block_on(admit(&access, black_box(&parts), &origin))
                .unwrap()
        })
    });
    g.finish();
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

criterion_group!(benches, edge_access);
criterion_main!(benches);
