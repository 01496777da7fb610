//! Playback access across nodes, with a real Redis (Debian's `redis-server`) shared by two
//! or three nodes: a revocation reaching the other node within a second, the stream limit
//! across nodes, and what a store outage and a node cut off from the store do.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use edge::access::config::{AccessConfig, OverLimit, StoreUnavailable};
use edge::Config;

use crate::common::access::*;
use crate::common::redis::{Redis, Relay};
use crate::common::{metric, start_with};

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
