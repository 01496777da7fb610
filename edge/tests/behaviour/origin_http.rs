//! HTTP origins, seen from outside: a real nginx serves the test media with Range support;
//! edgepack reads it with range requests and must serve exactly what it serves from local
//! files, with the documented number of origin reads, single flight under 100 concurrent
//! cold requests, and the documented answer to every origin fault (500s, resets, a slow
//! origin, a file replaced mid-way, an origin gone dark).

use std::time::{Duration, Instant};

use crate::common::nginx::Nginx;
use crate::common::*;
use edge::config::MediaRoot;
use edge::Config;

const MOOV_FIRST: &str = "h264_avc1_25fps_aac_48k_moov_first.mp4";
const MOOV_LAST: &str = "h264_avc1_25fps_aac_48k_moov_last.mp4";

/// A docroot with the two moov-placement files and the demo title (with its asset.toml,
/// since an HTTP origin cannot be listed).
fn docroot() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in [MOOV_FIRST, MOOV_LAST, "h264_25fps_aac_44.1k.mp4"] {
        std::fs::copy(test_media().join(name), dir.path().join(name)).unwrap();
    }
    let demo = dir.path().join("demo");
    std::fs::create_dir(&demo).unwrap();
    let mut sources = Vec::new();
    for entry in std::fs::read_dir(demo_media().join("demo")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        std::fs::copy(entry.path(), demo.join(&name)).unwrap();
        if name.ends_with(".mp4") {
            sources.push(name);
        }
    }
    sources.sort();
    let list: Vec<String> = sources.iter().map(|s| format!("{s:?}")).collect();
    std::fs::write(
        demo.join("asset.toml"),
        format!(
            "sources = [{}]\n[subtitles]\nen = \"demo.en.vtt\"\nfr = \"demo.fr.vtt\"\n",
            list.join(", ")
        ),
    )
    .unwrap();
    dir
}

fn origin_config(base: &str) -> Config {
    let mut config = Config {
        media_root: MediaRoot::parse(base).unwrap(),
        ..Config::default()
    };
    config.origin.retry_backoff_ms = 10;
    // Small first reads, so that these small files behave like big ones: the moov at the
    // end takes a second read.
    config.origin.read_block_bytes = 16 * 1024;
    config
}

fn problem_type(f: &Fetched) -> String {
    assert_eq!(
        f.header("content-type"),
        Some("application/problem+json"),
        "{}",
        f.text()
    );
    let v: serde_json::Value = serde_json::from_slice(&f.body).unwrap();
    v["type"]
        .as_str()
        .unwrap_or("")
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

/// Every object a player needs for one rendition, from both daemons, must be identical.
async fn same_objects(local: &TestServer, remote: &TestServer, asset: &str, paths: &[&str]) {
    for p in paths {
        let path = format!("/vod/{asset}/{p}");
        let a = get_ok(local.addr, &path).await;
        let b = get_ok(remote.addr, &path).await;
        assert!(a == b, "{path} differs between local and HTTP origin");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn moov_first_and_moov_last_sources_serve_the_same_bytes_as_local_files() {
    let root = docroot();
    let nginx = Nginx::start(root.path());
    let local = start(root.path().to_owned()).await;
    let remote = start_with(origin_config(&nginx.url("media"))).await;
    let objects = [
        "master.m3u8",
        "v1/media.m3u8",
        "v1/init.mp4",
        "v1/1.m4s",
        "a2/2.m4s",
        "manifest.mpd",
        "ts/v1/2.ts",
    ];
    for (asset, moov_reads) in [(MOOV_FIRST, 1), (MOOV_LAST, 2)] {
        same_objects(&local, &remote, asset, &objects).await;
        let log = nginx.log_for(asset);
        let heads = log.iter().filter(|l| l.method == "HEAD").count();
        assert_eq!(heads, 1, "one HEAD for the identity of {asset}: {log:?}");
        // The moov reads come first; the rest are one coalesced range per segment track.
        let gets: Vec<_> = log.iter().filter(|l| l.method == "GET").collect();
        assert!(gets
            .iter()
            .all(|l| l.status == 206 && l.range.starts_with("bytes=")));
        assert!(gets[0].range.starts_with("bytes=0-"), "{gets:?}");
        let segment_reads = 4; // v1/1, a2/2, and the two tracks of ts/v1/2
        assert_eq!(
            gets.len(),
            moov_reads + segment_reads,
            "{asset}: {moov_reads} moov read(s), then one range per segment track: {gets:?}"
        );
    }
    same_objects(
        &local,
        &remote,
        "demo",
        &[
            "master.m3u8",
            "manifest.mpd",
            "sub/en/1.vtt",
            "video_360p-v1/1.m4s",
        ],
    )
    .await;
    let ready = get(remote.addr, "/readyz").await;
    assert_eq!(ready.status, 200, "{}", ready.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hundred_concurrent_cold_requests_make_one_origin_read_set_and_one_build() {
    let root = docroot();
    let nginx = Nginx::start(root.path());
    let server = start_with(origin_config(&nginx.url("media"))).await;
    let path = format!("/vod/{MOOV_LAST}/v1/2.m4s");
    let addr = server.addr;
    let requests: Vec<_> = (0..100)
        .map(|_| {
            let path = path.clone();
            tokio::spawn(async move { get(addr, &path).await })
        })
        .collect();
    let mut bodies = Vec::new();
    for r in requests {
        let f = r.await.unwrap();
        assert_eq!(f.status, 200, "{}", f.text());
        bodies.push(f.body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    let log = nginx.log_for(MOOV_LAST);
    let heads = log.iter().filter(|l| l.method == "HEAD").count();
    let gets = log.iter().filter(|l| l.method == "GET").count();
    assert_eq!(
        (heads, gets),
        (1, 3),
        "one HEAD, two moov reads, one segment range: {log:?}"
    );
    let metrics = get(addr, "/metrics").await.text();
    assert_eq!(
        metric(
            &metrics,
            "edgepack_packaging_duration_seconds_count{output=\"cmaf_segment\"}"
        ),
        1.0,
        "{metrics}"
    );
    assert_eq!(
        metric(
            &metrics,
            "edgepack_cache_requests_total{cache=\"response\",result=\"miss\"}"
        ),
        1.0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn origin_500s_are_retried_then_502_and_the_breaker_opens() {
    let root = docroot();
    let nginx = Nginx::start(root.path());
    let mut config = origin_config(&nginx.url("fault500"));
    config.origin.attempts = 3;
    config.origin.breaker_failures = 3;
    let server = start_with(config).await;
    let f = get(server.addr, &format!("/vod/{MOOV_FIRST}/master.m3u8")).await;
    assert_eq!(f.status, 502);
    assert_eq!(problem_type(&f), "source-unreadable");
    assert_eq!(nginx.log().len(), 3, "three tries: {:?}", nginx.log());
    // Three consecutive failures opened the breaker: the next request is refused at once
    // without reaching the origin.
    let started = Instant::now();
    let f = get(server.addr, &format!("/vod/{MOOV_LAST}/master.m3u8")).await;
    assert_eq!(f.status, 502);
    assert_eq!(problem_type(&f), "origin-unavailable");
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(nginx.log().len(), 3);
    let metrics = get(server.addr, "/metrics").await.text();
    let label = format!("origin=\"127.0.0.1:{}\"", nginx.port);
    assert!(metrics.contains(&format!("edgepack_origin_circuit_open{{{label}}} 1")));
    assert!(metrics.contains(&format!("edgepack_origin_retries_total{{{label}}} 2")));
    let ready = get(server.addr, "/readyz").await;
    assert_eq!(ready.status, 503);
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_resets_give_502() {
    let root = docroot();
    let nginx = Nginx::start(root.path());
    let server = start_with(origin_config(&nginx.url("reset"))).await;
    let f = get(server.addr, &format!("/vod/{MOOV_FIRST}/v1/1.m4s")).await;
    assert_eq!(f.status, 502);
    assert_eq!(problem_type(&f), "source-unreadable");
    assert!(
        f.text().contains("/reset/"),
        "names the object: {}",
        f.text()
    );
    assert!(
        !f.text().contains("127.0.0.1"),
        "never the origin host: {}",
        f.text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_origin_times_out_into_504() {
    let root = docroot();
    let nginx = Nginx::start(root.path());
    let mut config = origin_config(&nginx.url("slow"));
    config.origin.read_timeout_ms = 400;
    config.origin.attempts = 2;
    let server = start_with(config).await;
    let started = Instant::now();
    let f = get(server.addr, &format!("/vod/{MOOV_LAST}/v1/1.m4s")).await;
    assert_eq!(f.status, 504, "{}", f.text());
    assert_eq!(problem_type(&f), "origin-timeout");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "bounded: {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replaced_source_is_noticed_and_served_in_its_new_version() {
    let root = docroot();
    let nginx = Nginx::start(root.path());
    let mut config = origin_config(&nginx.url("media"));
    // The title stays cached: the change must be noticed by the validator on a read.
    config.cache.title_revalidate_seconds = 3600;
    let server = start_with(config).await;
    let asset = MOOV_FIRST;
    let before = get(server.addr, &format!("/vod/{asset}/v1/1.m4s")).await;
    assert_eq!(before.status, 200);
    // Replace the file with another encode (new length and mtime: a new ETag).
    std::thread::sleep(Duration::from_millis(1100));
    let replacement = root.path().join("h264_25fps_aac_44.1k.mp4");
    std::fs::copy(&replacement, root.path().join(asset)).unwrap();
    let after = get(server.addr, &format!("/vod/{asset}/v1/2.m4s")).await;
    assert_eq!(after.status, 200, "{}", after.text());
    assert!(
        nginx.log_for(asset).iter().any(|l| l.status == 412),
        "the read carried If-Match and the origin said 412: {:?}",
        nginx.log_for(asset)
    );
    // What it served is the new file's segment, as a fresh daemon on local files sees it.
    let local = start(root.path().to_owned()).await;
    let expected = get_ok(local.addr, &format!("/vod/{asset}/v1/2.m4s")).await;
    assert!(after.body == expected, "the new version's bytes");
    assert_ne!(before.header("etag"), after.header("etag"));
}

#[tokio::test(flavor = "multi_thread")]
async fn when_the_origin_goes_dark_cached_copies_are_served_and_counted() {
    let root = docroot();
    let mut nginx = Nginx::start(root.path());
    let mut config = origin_config(&nginx.url("media"));
    config.cache.title_revalidate_seconds = 1;
    config.origin.attempts = 1;
    config.origin.connect_timeout_ms = 300;
    let server = start_with(config).await;
    let master = format!("/vod/{MOOV_FIRST}/master.m3u8");
    let segment = format!("/vod/{MOOV_FIRST}/v1/1.m4s");
    let master_before = get_ok(server.addr, &master).await;
    let segment_before = get_ok(server.addr, &segment).await;
    nginx.stop();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(get_ok(server.addr, &master).await, master_before);
    assert_eq!(get_ok(server.addr, &segment).await, segment_before);
    // An object never built before needs the origin: a clear 502, not a hang.
    let missing = get(server.addr, &format!("/vod/{MOOV_FIRST}/a2/2.m4s")).await;
    assert_eq!(missing.status, 502, "{}", missing.text());
    let metrics = get(server.addr, "/metrics").await.text();
    assert!(
        metric(
            &metrics,
            "edgepack_cache_stale_served_total{cache=\"title\"}"
        ) >= 1.0,
        "{metrics}"
    );
    let ready = get(server.addr, "/readyz").await;
    assert_eq!(ready.status, 503, "{}", ready.text());
}
