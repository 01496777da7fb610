//! Playback access seen from outside: tokens required, checked and written into manifests;
//! renewal; keys behind tokens; and, with a real Redis shared by two nodes, revocation
//! reaching the other node within a second, the stream limit across nodes, and what a store
//! outage and a node cut off from the store do.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use access::cat::mint::ClaimsBuilder;
use access::cat::Key;
use bytes::Bytes;
use edge::access::config::{
    AccessConfig, AccessMode, CatKeyConfig, OverLimit, StoreConfig, StoreUnavailable,
};
use edge::Config;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::common::redis::{Redis, Relay};
use crate::common::{demo_media, metric, request, start_with, Fetched};

const SECRET: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const ADMIN: &str = "admin-key-for-the-tests";

fn access_config(store: Option<String>) -> AccessConfig {
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

fn config(access: AccessConfig) -> Config {
    Config {
        media_root: demo_media().into(),
        access,
        ..Config::default()
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn key() -> Key {
    Key::hmac(b"k1", &hex::decode(SECRET).unwrap()).unwrap()
}

/// A token for `asset`, valid for `ttl` seconds, for account `sub`, changed by `more`.
fn token(
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

async fn get(addr: SocketAddr, path: &str) -> Fetched {
    request(addr, "GET", path, &[], false).await
}

fn problem_type(f: &Fetched) -> String {
    let v: serde_json::Value = serde_json::from_slice(&f.body).unwrap_or_default();
    v["type"]
        .as_str()
        .unwrap_or("")
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_owned()
}

async fn revoke(addr: SocketAddr, body: &str) -> Fetched {
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
fn first_uri(playlist: &str) -> String {
    playlist
        .lines()
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_is_needed_and_is_written_into_every_manifest_url() {
    let node = start_with(config(access_config(None))).await;
    let missing = get(node.addr, "/vod/demo/master.m3u8").await;
    assert_eq!(
        (missing.status, problem_type(&missing).as_str()),
        (401, "token-missing")
    );
    let t = token("demo", "alice", 600, |b| b);
    let master = get(node.addr, &format!("/vod/demo/master.m3u8?cat={t}")).await;
    assert_eq!(master.status, 200, "{}", master.text());
    let text = master.text();
    assert!(
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .all(|l| l.contains("?cat=")),
        "{text}"
    );
    assert!(text.contains(".m3u8?cat="), "{text}");
    // A manifest with a viewer's token is theirs: no shared cache may keep it.
    let cc = master.header("cache-control").unwrap_or("");
    assert!(cc.contains("private") && !cc.contains("public"), "{cc}");
    let head = request(
        node.addr,
        "HEAD",
        &format!("/vod/demo/master.m3u8?cat={t}"),
        &[],
        false,
    )
    .await;
    assert_eq!(
        head.header("content-length"),
        Some(master.body.len().to_string().as_str())
    );
    // The media playlist and a segment, with the token the master wrote.
    let media_uri = first_uri(&text);
    let media = get(node.addr, &format!("/vod/demo/{media_uri}")).await;
    assert_eq!(media.status, 200, "{}", media.text());
    let rendition = media_uri.split('/').next().unwrap();
    let segment_uri = first_uri(&media.text());
    let segment = get(node.addr, &format!("/vod/demo/{rendition}/{segment_uri}")).await;
    assert_eq!(segment.status, 200);
    // The written token is the asset's: another asset refuses it.
    let written = segment_uri.split("cat=").nth(1).unwrap();
    let other = get(node.addr, &format!("/vod/other/master.m3u8?cat={written}")).await;
    assert_eq!(
        (other.status, problem_type(&other).as_str()),
        (403, "token-uri-not-allowed")
    );
    // The manifest's ETag does not depend on the token.
    let again = get(
        node.addr,
        &format!(
            "/vod/demo/master.m3u8?cat={}",
            token("demo", "bob", 600, |b| b)
        ),
    )
    .await;
    assert_eq!(again.header("etag"), master.header("etag"));
    assert_ne!(again.body, master.body);
    // A DASH manifest carries it in its templates.
    let mpd = get(node.addr, &format!("/vod/demo/manifest.mpd?cat={t}")).await;
    assert!(mpd.text().contains(".m4s?cat="), "{}", mpd.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_are_problems_with_the_right_status() {
    let node = start_with(config(access_config(None))).await;
    let cases: Vec<(String, u16, &str)> = vec![
        (
            token("demo", "a", 0, |b| b.exp(now() - 5)),
            401,
            "token-expired",
        ),
        (
            token("demo", "a", 600, |b| b.nbf(now() + 600)),
            401,
            "token-expired",
        ),
        ("not-a-token".into(), 401, "token-malformed"),
        (
            ClaimsBuilder::new()
                .exp(now() + 60)
                .mint(
                    &Key::hmac(b"k1", &[9u8; 32]).unwrap(),
                    &ring::rand::SystemRandom::new(),
                )
                .unwrap(),
            401,
            "token-signature-invalid",
        ),
        (
            token("other", "a", 600, |b| b),
            403,
            "token-uri-not-allowed",
        ),
        (
            token("demo", "a", 600, |b| b.catm(&["POST"])),
            403,
            "token-method-not-allowed",
        ),
        (
            token("demo", "a", 600, |b| b.catnip(&["10.0.0.0/8"])),
            403,
            "token-location-not-allowed",
        ),
        (
            token("demo", "a", 600, |b| b.countries(&["FR"])),
            403,
            "token-location-not-allowed",
        ),
    ];
    for (t, status, kind) in cases {
        let r = get(node.addr, &format!("/vod/demo/master.m3u8?cat={t}")).await;
        assert_eq!(
            (r.status, problem_type(&r).as_str()),
            (status, kind),
            "{}",
            r.text()
        );
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
    // The country comes from the configured header.
    let fr = token("demo", "a", 600, |b| b.countries(&["FR"]));
    let r = request(
        node.addr,
        "GET",
        &format!("/vod/demo/master.m3u8?cat={fr}"),
        &[("x-country-code", "FR")],
        false,
    )
    .await;
    assert_eq!(r.status, 200);
    // Single use: the second presentation is refused.
    let once = token("demo", "a", 600, |b| {
        b.catreplay(access::cat::Replay::Prohibited)
    });
    assert_eq!(
        get(node.addr, &format!("/vod/demo/master.m3u8?cat={once}"))
            .await
            .status,
        200
    );
    let again = get(node.addr, &format!("/vod/demo/master.m3u8?cat={once}")).await;
    assert_eq!(
        (again.status, problem_type(&again).as_str()),
        (403, "token-replayed")
    );
    // Keys are access decisions too: no token, no key.
    let key = get(node.addr, &format!("/vod/demo/keys/{}.key", "0".repeat(32))).await;
    assert_eq!(key.status, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_near_its_end_is_renewed_as_its_catr_says() {
    let node = start_with(config(access_config(None))).await;
    let path = "/vod/demo/video_180p-v1/1.m4s";
    // Header renewal: in the window (exp in 20 s, window 30 s).
    let t = token("demo", "a", 20, |b| b.catr(2, 120, 30));
    let r = request(
        node.addr,
        "GET",
        path,
        &[("CTA-Common-Access-Token", &t)],
        false,
    )
    .await;
    assert_eq!(r.status, 200);
    let renewed = r
        .header("cta-common-access-token")
        .expect("a renewed token header")
        .to_owned();
    let keys = access::cat::KeySet::new(vec![key()]).unwrap();
    let claims = access::cat::verify(&renewed, &keys).unwrap().claims;
    assert!(claims.exp.unwrap() >= now() + 100);
    assert_eq!(r.header("cache-control"), Some("private, no-store"));
    // Out of the window: nothing.
    let far = token("demo", "a", 600, |b| b.catr(2, 120, 30));
    let r = request(
        node.addr,
        "GET",
        path,
        &[("CTA-Common-Access-Token", &far)],
        false,
    )
    .await;
    assert!(r.header("cta-common-access-token").is_none());
    // Cookie renewal.
    let t = token("demo", "a", 20, |b| b.catr(1, 120, 30));
    let cookie = format!("CTA-Common-Access-Token={t}");
    let r = request(node.addr, "GET", path, &[("cookie", &cookie)], false).await;
    let set = r.header("set-cookie").expect("a renewed cookie");
    assert!(
        set.starts_with("CTA-Common-Access-Token=") && set.contains("Max-Age=120"),
        "{set}"
    );
    // Redirect renewal (and automatic for a query token).
    for kind in [3, 0] {
        let t = token("demo", "a", 20, |b| b.catr(kind, 120, 30));
        let r = get(node.addr, &format!("{path}?x=1&cat={t}")).await;
        assert_eq!(r.status, 302, "catr type {kind}");
        let location = r.header("location").unwrap();
        assert!(
            location.starts_with(&format!("{path}?x=1&cat=")) && !location.contains(&t),
            "{location}"
        );
        assert_eq!(get(node.addr, location).await.status, 200);
    }
}

fn shared(store: &str, f: impl FnOnce(&mut AccessConfig)) -> Config {
    let mut a = access_config(Some(store.to_owned()));
    a.store.timeout_ms = 300;
    f(&mut a);
    config(a)
}

async fn status(addr: SocketAddr, t: &str) -> u16 {
    get(addr, &format!("/vod/demo/video_180p-v1/1.m4s?cat={t}"))
        .await
        .status
}

/// Waits until the node's store follower is connected.
async fn store_up(addr: SocketAddr) {
    let start = Instant::now();
    loop {
        let m = get(addr, "/metrics").await.text();
        if metric(&m, "edgepack_access_store_up ") == 1.0 {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the store never came up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revocation_on_one_node_refuses_on_the_other_within_a_second() {
    let redis = Redis::start();
    let a = start_with(shared(&redis.url(), |_| {})).await;
    let b = start_with(shared(&redis.url(), |_| {})).await;
    store_up(a.addr).await;
    store_up(b.addr).await;
    let t = token("demo", "carol", 600, |b| b.sid("session-1"));
    assert_eq!(status(a.addr, &t).await, 200);
    assert_eq!(status(b.addr, &t).await, 200);
    let posted = Instant::now();
    let r = revoke(a.addr, r#"{"session": "session-1"}"#).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        status(a.addr, &t).await,
        403,
        "the node that took the call knows at once"
    );
    let lag = loop {
        if status(b.addr, &t).await == 403 {
            break posted.elapsed();
        }
        assert!(
            posted.elapsed() < Duration::from_secs(3),
            "node B still serves the revoked session"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    println!("revocation reached the other node in {lag:?}");
    assert!(lag < Duration::from_secs(1), "revocation took {lag:?}");
    let m = get(b.addr, "/metrics").await.text();
    assert_eq!(
        metric(
            &m,
            "edgepack_access_revocations_received_total{source=\"stream\"}"
        ),
        1.0
    );
    // Another session of the same account still plays; the account revoked, it does not.
    let other = token("demo", "carol", 600, |b| b.sid("session-2"));
    assert_eq!(status(b.addr, &other).await, 200);
    assert_eq!(revoke(b.addr, r#"{"account": "carol"}"#).await.status, 201);
    let start = Instant::now();
    while status(a.addr, &other).await != 403 {
        assert!(start.elapsed() < Duration::from_secs(1));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // A bad call is a problem, and without the key none is taken.
    assert_eq!(
        revoke(a.addr, r#"{"session": "x", "account": "y"}"#)
            .await
            .status,
        400
    );
    let no_key = crate::common::post(a.addr, "/admin/v1/revocations", br#"{"session":"z"}"#).await;
    assert_eq!(no_key.status, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stream_limit_holds_across_nodes() {
    let redis = Redis::start();
    let limit = |a: &mut AccessConfig| a.max_sessions_per_account = 1;
    let a = start_with(shared(&redis.url(), limit)).await;
    let b = start_with(shared(&redis.url(), limit)).await;
    let first = token("demo", "dave", 600, |b| b.sid("tv"));
    let second = token("demo", "dave", 600, |b| b.sid("phone"));
    assert_eq!(status(a.addr, &first).await, 200);
    let r = get(b.addr, &format!("/vod/demo/master.m3u8?cat={second}")).await;
    assert_eq!(
        (r.status, problem_type(&r).as_str()),
        (403, "stream-limit-reached")
    );
    // The first session keeps playing on either node.
    assert_eq!(status(b.addr, &first).await, 200);
    // Evict-oldest: the new session plays and the old one is cut off everywhere.
    let evict = |a: &mut AccessConfig| {
        a.max_sessions_per_account = 1;
        a.over_limit = OverLimit::EvictOldest;
    };
    // A limit stated in the token (an entitlement's) wins over the configured one.
    let stated = |a: &mut AccessConfig| {
        a.max_sessions_per_account = 1;
        a.max_sessions_claim = Some("streams".into());
    };
    let d = start_with(shared(&redis.url(), stated)).await;
    let family = |sid: &str| {
        token("demo", "grace", 600, |b| {
            b.sid(sid).set(
                ciborium::value::Value::Text("streams".into()),
                ciborium::value::Value::Integer(2.into()),
            )
        })
    };
    assert_eq!(status(d.addr, &family("a")).await, 200);
    assert_eq!(status(d.addr, &family("b")).await, 200);
    let third = get(
        d.addr,
        &format!("/vod/demo/master.m3u8?cat={}", family("c")),
    )
    .await;
    assert_eq!(
        (third.status, problem_type(&third).as_str()),
        (403, "stream-limit-reached")
    );
    let c = start_with(shared(&redis.url(), evict)).await;
    store_up(c.addr).await;
    store_up(a.addr).await;
    assert_eq!(status(c.addr, &second).await, 200);
    let start = Instant::now();
    while status(a.addr, &first).await != 403 {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "the evicted session still plays"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_outage_follows_the_policy_and_a_cut_off_node_catches_up() {
    let mut redis = Redis::start();
    let relay = Relay::start(redis.port).await;
    let limit = |a: &mut AccessConfig| a.max_sessions_per_account = 2;
    let a = start_with(shared(&redis.url(), limit)).await;
    // B reaches Redis through a relay the test can cut.
    let b = start_with(shared(&relay.url(), |a| {
        a.max_sessions_per_account = 2;
        a.store_unavailable = StoreUnavailable::Deny;
    }))
    .await;
    store_up(a.addr).await;
    store_up(b.addr).await;
    let playing = token("demo", "erin", 600, |b| b.sid("p1"));
    assert_eq!(status(b.addr, &playing).await, 200);
    // B is cut off; a revocation made meanwhile on A reaches B when it is back.
    relay.cut();
    let doomed = token("demo", "erin", 600, |b| b.sid("p2"));
    assert_eq!(status(a.addr, &doomed).await, 200);
    assert_eq!(revoke(a.addr, r#"{"session": "p2"}"#).await.status, 201);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Cut off, B still serves the session it admitted, refuses a new one (deny), and does not
    // know of the revocation yet.
    assert_eq!(status(b.addr, &playing).await, 200);
    let fresh = token("demo", "erin", 600, |b| b.sid("p3"));
    let r = get(b.addr, &format!("/vod/demo/master.m3u8?cat={fresh}")).await;
    assert_eq!(
        (r.status, problem_type(&r).as_str()),
        (503, "access-store-unavailable")
    );
    relay.mend();
    let start = Instant::now();
    while status(b.addr, &doomed).await != 403 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "B never caught up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Redis killed: A (store_unavailable = allow) admits new sessions, keeps refusing the
    // revocations it knows, and says so in its metrics; nothing panics.
    redis.kill();
    let newcomer = token("demo", "frank", 600, |b| b.sid("n1"));
    assert_eq!(status(a.addr, &newcomer).await, 200);
    assert_eq!(status(a.addr, &doomed).await, 403);
    let m = get(a.addr, "/metrics").await.text();
    assert_eq!(metric(&m, "edgepack_access_store_up "), 0.0, "{m}");
    assert!(
        metric(
            &m,
            "edgepack_access_store_operations_total{op=\"admit\",result=\"error\"}"
        ) >= 1.0
    );
    // Redis back (with its data): the followers reconnect.
    redis.restart();
    store_up(a.addr).await;
    assert_eq!(revoke(a.addr, r#"{"session": "n1"}"#).await.status, 201);
    assert_eq!(status(a.addr, &newcomer).await, 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_asset_definition_turns_tokens_on_for_one_asset_of_an_open_node() {
    let root = tempfile::tempdir().unwrap();
    for (name, definition) in [("free", None), ("paid", Some("access = \"token\"\n"))] {
        let dir = root.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        std::fs::copy(
            demo_media().join("demo/video_180p.mp4"),
            dir.join("video.mp4"),
        )
        .unwrap();
        if let Some(text) = definition {
            std::fs::write(dir.join("asset.toml"), text).unwrap();
        }
    }
    let mut access = access_config(None);
    access.mode = AccessMode::Open;
    let node = start_with(Config {
        media_root: root.path().to_owned().into(),
        access,
        ..Config::default()
    })
    .await;
    assert_eq!(get(node.addr, "/vod/free/master.m3u8").await.status, 200);
    let paid = get(node.addr, "/vod/paid/master.m3u8").await;
    assert_eq!(
        (paid.status, problem_type(&paid).as_str()),
        (401, "token-missing")
    );
    let t = token("paid", "a", 600, |b| b);
    let ok = get(node.addr, &format!("/vod/paid/master.m3u8?cat={t}")).await;
    assert_eq!(ok.status, 200);
    assert!(ok.text().contains("?cat="), "{}", ok.text());
    // A segment of the paid asset needs it too; the free one's does not.
    assert_eq!(get(node.addr, "/vod/paid/video-v1/1.m4s").await.status, 401);
    assert_eq!(get(node.addr, "/vod/free/video-v1/1.m4s").await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn akamai_tokens_are_accepted_from_query_cookie_and_header() {
    let key_hex = "52a152a152a152a152a152a152a1";
    let mut access = access_config(None);
    access.akamai_keys = vec![edge::access::config::AkamaiKeyConfig {
        key_hex: key_hex.into(),
        salt: None,
    }];
    let node = start_with(config(access)).await;
    let key = access::akamai::EdgeAuthKey::from_hex(key_hex, None).unwrap();
    let fields = access::akamai::EdgeAuthToken {
        start: Some(now() - 10),
        exp: now() + 600,
        acl: Some("/vod/demo/*".into()),
        id: Some("akamai-session".into()),
        ..Default::default()
    };
    let t = access::akamai::mint(&key, &fields, None);
    let encoded = t.replace('=', "%3D").replace('~', "%7E");
    let master = get(
        node.addr,
        &format!("/vod/demo/master.m3u8?__token__={encoded}"),
    )
    .await;
    assert_eq!(master.status, 200, "{}", master.text());
    assert!(master.text().contains("?__token__="), "{}", master.text());
    let cookie = format!("__token__={t}");
    let path = "/vod/demo/video_180p-v1/1.m4s";
    assert_eq!(
        request(node.addr, "GET", path, &[("cookie", &cookie)], false)
            .await
            .status,
        200
    );
    assert_eq!(
        request(node.addr, "GET", path, &[("__token__", &t)], false)
            .await
            .status,
        200
    );
    let outside = request(
        node.addr,
        "GET",
        "/vod/other/master.m3u8",
        &[("__token__", &t)],
        false,
    )
    .await;
    assert_eq!(
        (outside.status, problem_type(&outside).as_str()),
        (403, "token-uri-not-allowed")
    );
    let tampered = t.replace("exp=", "exp=9");
    let r = request(node.addr, "GET", path, &[("__token__", &tampered)], false).await;
    assert_eq!(
        (r.status, problem_type(&r).as_str()),
        (401, "token-signature-invalid")
    );
    // Its session id (`id`) can be revoked like a CAT's (in-process store: one node).
    assert_eq!(
        revoke(node.addr, r#"{"session": "akamai-session"}"#)
            .await
            .status,
        201
    );
    let r = request(node.addr, "GET", path, &[("__token__", &t)], false).await;
    assert_eq!(
        (r.status, problem_type(&r).as_str()),
        (403, "session-revoked")
    );
}
