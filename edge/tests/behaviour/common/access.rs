//! What the access behaviour tests share: a node config with tokens on (one HS256 key, an
//! admin key, an optional shared store), tokens minted with that key, and requests that read
//! the answer's problem type.

use std::net::SocketAddr;

use access::cat::mint::ClaimsBuilder;
use access::cat::Key;
use bytes::Bytes;
use edge::access::config::{AccessConfig, AccessMode, CatKeyConfig, StoreConfig};
use edge::Config;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::common::{demo_media, request, Fetched};

pub const SECRET: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
pub const ADMIN: &str = "admin-key-for-the-tests";

pub fn access_config(store: Option<String>) -> AccessConfig {
    AccessConfig {
        mode: AccessMode::Token,
        keys: vec![CatKeyConfig {
            kid: "k1".into(),
            alg: "HS256".into(),
            secret_hex: Some(SECRET.into()),
            public_pem: None,
            private_pem: None,
        }],
        admin_key: Some(ADMIN.into()),
        store: StoreConfig {
            url: store,
            ..StoreConfig::default()
        },
        ..AccessConfig::default()
    }
}

pub fn config(access: AccessConfig) -> Config {
    Config {
        media_root: demo_media().into(),
        access,
        ..Config::default()
    }
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn key() -> Key {
    Key::hmac(b"k1", &hex::decode(SECRET).unwrap()).unwrap()
}

/// A token for `asset`, valid for `ttl` seconds, for account `sub`, changed by `more`.
pub fn token(
    asset: &str,
    sub: &str,
    ttl: u64,
    more: impl FnOnce(ClaimsBuilder) -> ClaimsBuilder,
) -> String {
    let rng = ring::rand::SystemRandom::new();
    let mut cti = [0u8; 8];
    ring::rand::SecureRandom::fill(&rng, &mut cti).unwrap();
    more(
        ClaimsBuilder::new()
            .subject(sub)
            .cti(&cti)
            .iat(now())
            .exp(now() + ttl)
            .path_prefix(&format!("/vod/{asset}/")),
    )
    .mint(&key(), &rng)
    .unwrap()
}

pub async fn get(addr: SocketAddr, path: &str) -> Fetched {
    request(addr, "GET", path, &[], false).await
}

pub fn problem_type(f: &Fetched) -> String {
    let v: serde_json::Value = serde_json::from_slice(&f.body).unwrap_or_default();
    v["type"]
        .as_str()
        .unwrap_or("")
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_owned()
}

pub async fn revoke(addr: SocketAddr, body: &str) -> Fetched {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let req = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}/admin/v1/revocations"))
        .header("authorization", format!("Bearer {ADMIN}"))
        .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
        .unwrap();
    let res = client.request(req).await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    Fetched {
        status,
        headers,
        body,
    }
}

/// The first URI line of an HLS playlist.
pub fn first_uri(playlist: &str) -> String {
    playlist
        .lines()
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap()
        .to_owned()
}
