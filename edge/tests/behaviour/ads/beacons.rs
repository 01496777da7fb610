//! The beacon queue: once per key, retried on failure, dropped (and counted) when full.

use std::time::{Duration, Instant};

use edge::ads::beacons::BeaconStats;
use edge::ads::beacons::{Beacons, Fired};
use edge::ads::config::AdsConfig;
use edge::ops::ads_metrics::AdsMetrics;
use edge::ops::events::NodeEvents;

use super::ad_server::{AdServer, Answer};

async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{what} did not happen within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_fires_once_and_a_failing_beacon_is_retried() {
    let server = AdServer::start().await;
    server.set("/imp", Answer::vast(""));
    server.set(
        "/flaky",
        Answer {
            status: 500,
            fail_times: 2,
            ..Answer::vast("")
        },
    );
    let beacons = Beacons::start(
        &AdsConfig {
            beacon_backoff_ms: 10,
            allow_private_addresses: true,
            ..AdsConfig::default()
        },
        stats(),
        NodeEvents::default(),
    )
    .unwrap();
    for _ in 0..3 {
        beacons.fire(Some("s1/ad1/impression"), server.url("/imp?s=1"), None);
    }
    assert_eq!(
        beacons.fire(Some("s1/ad1/impression"), server.url("/imp?s=1"), None),
        Fired::Duplicate
    );
    assert_eq!(
        beacons.fire(Some("s2/ad1/impression"), server.url("/imp?s=2"), None),
        Fired::Queued
    );
    assert_eq!(
        beacons.fire(None, server.url("/flaky"), None),
        Fired::Queued
    );
    until("the beacons", || beacons.stats.sent.get() == 3).await;
    assert_eq!(server.seen("/imp?s=1").len(), 1);
    assert_eq!(server.seen("/imp?s=2").len(), 1);
    assert_eq!(server.seen("/flaky").len(), 3, "two failures and a success");
    assert_eq!(beacons.stats.retried.get(), 2);
    assert_eq!(beacons.stats.duplicates.get(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_queue_drops_and_a_dead_endpoint_fails_after_its_attempts() {
    let server = AdServer::start().await;
    server.set(
        "/slow",
        Answer {
            delay: Duration::from_millis(300),
            ..Answer::vast("")
        },
    );
    let beacons = Beacons::start(
        &AdsConfig {
            beacon_queue: 2,
            beacon_attempts: 2,
            beacon_backoff_ms: 10,
            beacon_timeout_ms: 100,
            allow_private_addresses: true,
            ..AdsConfig::default()
        },
        stats(),
        NodeEvents::default(),
    )
    .unwrap();
    let fired: Vec<Fired> = (0..500)
        .map(|i| beacons.fire(None, server.url(&format!("/slow?i={i}")), None))
        .collect();
    assert!(fired.contains(&Fired::Dropped));
    assert!(beacons.stats.dropped.get() > 0);
    // Nothing listens there: two attempts, then counted as failed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let before = beacons.stats.failed.get();
    tokio::time::sleep(Duration::from_millis(800)).await;
    beacons.fire(None, format!("http://{closed}/x"), None);
    until("the failure", || beacons.stats.failed.get() > before).await;
}

fn stats() -> BeaconStats {
    BeaconStats::new(&AdsMetrics::unregistered().unwrap())
}
