//! The live `/metrics` expositions the deploy checks hold the artifacts against: a daemon on
//! the demo media after it served every kind of response, one whose HTTP origin fails, one
//! with playback access on a real Redis, one delivering through two CDNs, and a control
//! plane. Each drives its daemon through the requests that give its metric families samples.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use access::cat::mint::ClaimsBuilder;
use access::cat::{Key, Replay};
use bytes::Bytes;
use edge::access::config::{AccessConfig, AccessMode, CatKeyConfig, StoreConfig};
use edge::config::{MediaRoot, OriginConfig};
use edge::Config;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::common::redis::Redis;
use crate::common::{demo_media, get, playlist_uris, request, start_with, TestServer};

/// An HTTP origin that answers every request with 503, so that the daemon's origin
/// metrics (errors, retries, circuit breaker) get samples.
fn failing_origin() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let _ = stream.write_all(
                b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    addr
}

/// GET `path` and returns the body as text, requiring `status`.
async fn fetch(server: &TestServer, path: &str, status: u16) -> String {
    let f = get(server.addr, path).await;
    assert_eq!(f.status, status, "GET {path}: {}", f.text());
    f.text()
}

/// The `/metrics` exposition of a daemon on the demo media after a multivariant playlist,
/// an MPD, a media playlist, an init segment and a media segment (twice, so the response
/// cache hits), a 404 and a scrape; of a daemon whose HTTP origin fails, after reads that
/// fail, are retried and open the circuit breaker; of a daemon with playback access on
/// a real Redis ([`access_exposition`]); of one delivering through two CDNs
/// ([`delivery_exposition`]); and of a control plane.
pub(super) async fn live_expositions() -> Vec<String> {
    let local = start_with(Config {
        media_root: MediaRoot::Local(demo_media()),
        ..Config::default()
    })
    .await;
    let master = fetch(&local, "/vod/demo/master.m3u8", 200).await;
    fetch(&local, "/vod/demo/manifest.mpd", 200).await;
    let variant = playlist_uris(&master)
        .into_iter()
        .next()
        .expect("no variant in the multivariant playlist");
    let media = fetch(&local, &format!("/vod/demo/{variant}"), 200).await;
    let dir = variant.rsplit_once('/').map_or("", |(d, _)| d);
    let init = media
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MAP:URI=\""))
        .and_then(|rest| rest.split('"').next())
        .expect("no EXT-X-MAP in the media playlist");
    fetch(&local, &format!("/vod/demo/{dir}/{init}"), 200).await;
    let segment = playlist_uris(&media)
        .into_iter()
        .next()
        .expect("no segment in the media playlist");
    for _ in 0..2 {
        fetch(&local, &format!("/vod/demo/{dir}/{segment}"), 200).await;
    }
    fetch(&local, "/vod/no-such-asset.mp4/master.m3u8", 404).await;
    fetch(&local, "/no-such-path", 404).await;
    fetch(&local, "/metrics", 200).await;
    let local_text = fetch(&local, "/metrics", 200).await;

    let origin = failing_origin();
    let remote = start_with(Config {
        media_root: MediaRoot::parse(&format!("http://{origin}/")).unwrap(),
        origin: OriginConfig {
            attempts: 3,
            retry_backoff_ms: 1,
            breaker_failures: 2,
            breaker_cooldown_seconds: 60,
            ..OriginConfig::default()
        },
        ..Config::default()
    })
    .await;
    for _ in 0..2 {
        let f = get(remote.addr, "/vod/broken.mp4/master.m3u8").await;
        assert!(
            f.status >= 500,
            "a failing origin must give a 5xx, got {}: {}",
            f.status,
            f.text()
        );
    }
    let remote_text = fetch(&remote, "/metrics", 200).await;
    let access_text = access_exposition().await;
    let delivery_text = delivery_exposition(&local).await;
    let control_text = super::control_exposition::control_exposition().await;
    vec![
        local_text,
        remote_text,
        access_text,
        delivery_text,
        control_text,
    ]
}

/// The `/metrics` exposition of a daemon delivering through two CDNs: `up` (the daemon
/// `cdn`, whose /healthz answers) and `dark` (nothing listening), after a steered
/// multivariant playlist, a steering request in which the player reports it left `dark`
/// for `up`, and one whose query cannot be read.
async fn delivery_exposition(cdn: &TestServer) -> String {
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = format!(
        r#"
[delivery]
probe_interval_ms = 100
probe_timeout_ms = 500
fail_after = 1
state_key_hex = "07070707070707070707070707070707"

[[delivery.cdns]]
id = "up"
base_url = "http://{}"
priority = 1

[[delivery.cdns]]
id = "dark"
base_url = "http://{closed}"
priority = 2
"#,
        cdn.addr
    );
    let server = start_with(Config {
        media_root: MediaRoot::Local(demo_media()),
        ..Config::from_toml(&config).unwrap()
    })
    .await;
    metrics_with(
        &server,
        "edgepack_cdn_transitions_total{cdn=\"dark\",to=\"down\"} 1",
    )
    .await;
    fetch(&server, "/vod/demo/master.m3u8", 200).await;
    fetch(
        &server,
        &format!(
            "/vod/demo/steering/hls.json?session=s1&served=dark&_HLS_pathway=up&_HLS_throughput=2000000&state={}",
            {
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &[7u8; 16]);
                hex::encode(&ring::hmac::sign(&key, b"s1\ndark").as_ref()[..8])
            }
        ),
        200,
    )
    .await;
    fetch(&server, "/vod/demo/steering/dash.json?session=%zz", 400).await;
    let text = fetch(&server, "/metrics", 200).await;
    for sample in [
        "edgepack_cdn_up{cdn=\"up\"} 1",
        "edgepack_cdn_up{cdn=\"dark\"} 0",
        "edgepack_cdn_failovers_total{from=\"dark\",to=\"up\"} 1",
        "edgepack_steering_sessions_total{pathway=\"up\"} 1",
        "edgepack_steering_refused_total{reason=\"bad_encoding\"} 1",
    ] {
        assert!(text.contains(sample), "no {sample} in:\n{text}");
    }
    text
}

const ACCESS_SECRET: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const ACCESS_ADMIN: &str = "deploy-checks-admin-key";

/// A CAT for the demo, valid for 10 minutes, changed by `more`.
fn access_token(more: impl FnOnce(ClaimsBuilder) -> ClaimsBuilder) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let rng = ring::rand::SystemRandom::new();
    let mut cti = [0u8; 16];
    ring::rand::SecureRandom::fill(&rng, &mut cti).unwrap();
    let key = Key::hmac(b"k1", &hex::decode(ACCESS_SECRET).unwrap()).unwrap();
    more(
        ClaimsBuilder::new()
            .cti(&cti)
            .iat(now)
            .exp(now + 600)
            .path_prefix("/vod/demo/"),
    )
    .mint(&key, &rng)
    .unwrap()
}

/// Polls `/metrics` until it contains `sample` (at most 10 s) and returns it.
async fn metrics_with(server: &TestServer, sample: &str) -> String {
    let start = Instant::now();
    loop {
        let text = fetch(server, "/metrics", 200).await;
        if text.contains(sample) {
            return text;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no {sample} in /metrics after 10 s:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `/metrics` exposition of a daemon with playback access on a real Redis, after a
/// request without a token, one with a token (a session under a stream limit, renewed as a
/// header), a single-use token used twice, a revocation through the admin API (which comes
/// back through the store's stream) and a request of the revoked session.
async fn access_exposition() -> String {
    let redis = Redis::start();
    let server = start_with(Config {
        media_root: MediaRoot::Local(demo_media()),
        access: AccessConfig {
            mode: AccessMode::Token,
            keys: vec![CatKeyConfig {
                kid: "k1".into(),
                alg: "HS256".into(),
                secret_hex: Some(ACCESS_SECRET.into()),
                public_pem: None,
                private_pem: None,
            }],
            admin_key: Some(ACCESS_ADMIN.into()),
            max_sessions_per_account: 2,
            store: StoreConfig {
                url: Some(redis.url()),
                ..StoreConfig::default()
            },
            ..AccessConfig::default()
        },
        ..Config::default()
    })
    .await;
    // The revocation follower has connected to the store.
    metrics_with(&server, "edgepack_access_store_up 1").await;
    fetch(&server, "/vod/demo/master.m3u8", 401).await;
    // catr header renewal (type 2) whose window (600 s before exp) is open now.
    let session = access_token(|b| b.subject("alice").sid("s1").catr(2, 600, 600));
    let f = request(
        server.addr,
        "GET",
        "/vod/demo/master.m3u8",
        &[("CTA-Common-Access-Token", session.as_str())],
        false,
    )
    .await;
    assert_eq!(f.status, 200, "a valid token: {}", f.text());
    assert!(
        f.header("cta-common-access-token").is_some(),
        "no renewed token in the answer"
    );
    let once = access_token(|b| b.catreplay(Replay::Prohibited));
    let path = format!("/vod/demo/master.m3u8?cat={once}");
    fetch(&server, &path, 200).await;
    fetch(&server, &path, 403).await;

    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let revocation = http::Request::builder()
        .method("POST")
        .uri(format!("http://{}/admin/v1/revocations", server.addr))
        .header("authorization", format!("Bearer {ACCESS_ADMIN}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(br#"{"session": "s1"}"#)))
        .unwrap();
    let res = client.request(revocation).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        status,
        201,
        "revocation: {}",
        String::from_utf8_lossy(&body)
    );
    // The revocation comes back to this node through the store's stream.
    metrics_with(
        &server,
        "edgepack_access_revocation_lag_seconds_count{source=\"stream\"}",
    )
    .await;
    let f = request(
        server.addr,
        "GET",
        "/vod/demo/master.m3u8",
        &[("CTA-Common-Access-Token", session.as_str())],
        false,
    )
    .await;
    assert_eq!(f.status, 403, "a revoked session: {}", f.text());
    fetch(&server, "/metrics", 200).await
}
