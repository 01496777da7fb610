//! Asset policy from a catalog (`[catalog]`): a real control plane (catalog on SQLite, served
//! on a loopback port) tells the node how an asset is encrypted; a change in the catalog
//! reaches the manifests after the answer's time to live and the title's revalidation; a
//! catalog outage serves the last answer while it is fresh enough, and then refuses with
//! 503 `catalog-unavailable`; an asset the catalog does not hold keeps its file's policy.
//! The catalog's source of an asset is what the node packages, and its availability window
//! and territories are checked on every request.

use std::time::Duration;

use catalog::model::{AssetInput, DrmSystem, Encryption, Scheme};
use control_plane::config::Service;
use control_plane::{ControlConfig, Plane};
use edge::keys::static_keys::StaticKey;
use edge::media::catalog_config::CatalogSourceConfig;
use edge::Config;

use crate::common::{demo_media, get, playlist_uris, request, start_with};

const KEY: &str = "00112233445566778899aabbccddeeff";

/// A catalog alone, open, on SQLite in `dir`; its URL and a handle that stops it.
async fn catalog(dir: &std::path::Path) -> (String, Plane, tokio::sync::oneshot::Sender<()>) {
    let config = ControlConfig {
        data_dir: dir.to_path_buf(),
        open: true,
        serve: vec![Service::Catalog],
        ..ControlConfig::default()
    };
    let plane = Plane::build(&config, None).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let router = plane.router.clone();
    tokio::spawn(control_plane::serve(listener, router, async move {
        let _ = stopped.await;
    }));
    (url, plane, stop)
}

fn input(scheme: Scheme) -> AssetInput {
    AssetInput {
        title: "Demo".into(),
        source: None,
        encryption: Encryption {
            scheme,
            drm_systems: if scheme == Scheme::None {
                vec![]
            } else {
                vec![DrmSystem::Clearkey]
            },
        },
        ads: None,
        availability: Default::default(),
        territories: vec![],
        products: vec![],
    }
}

async fn put(plane: &Plane, scheme: Scheme) {
    put_as(plane, "demo", input(scheme)).await;
}

async fn put_as(plane: &Plane, id: &str, asset: AssetInput) {
    plane.catalog.put_asset(id, asset).await.unwrap();
}

fn node(url: &str, ttl: u64, stale: u64) -> Config {
    let mut c = Config {
        media_root: demo_media().into(),
        catalog: CatalogSourceConfig {
            url: Some(url.to_owned()),
            ttl_seconds: ttl,
            stale_seconds: stale,
            timeout_ms: 500,
            ..CatalogSourceConfig::default()
        },
        ..Config::default()
    };
    c.keys.static_keys = vec![StaticKey {
        content_id: "*".into(),
        key_id: None,
        key: KEY.parse().unwrap(),
    }];
    c.cache.title_revalidate_seconds = 1;
    c
}

async fn mpd(addr: std::net::SocketAddr) -> (u16, String) {
    let r = get(addr, "/vod/demo/manifest.mpd").await;
    (r.status, r.text())
}

/// Polls until the MPD's protection is `protected`, for at most `within`.
async fn until_protected(addr: std::net::SocketAddr, protected: bool, within: Duration) -> String {
    let start = std::time::Instant::now();
    loop {
        let (status, text) = mpd(addr).await;
        assert_eq!(status, 200, "{text}");
        if text.contains("ContentProtection") == protected {
            return text;
        }
        assert!(
            start.elapsed() < within,
            "the MPD did not become {} within {within:?}:\n{text}",
            if protected { "protected" } else { "clear" }
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_catalog_sets_the_encryption_and_its_changes_reach_the_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let (url, plane, _stop) = catalog(dir.path()).await;
    put(&plane, Scheme::Cbcs).await;
    let server = start_with(node(&url, 0, 60)).await;
    let text = until_protected(server.addr, true, Duration::from_secs(1)).await;
    assert!(text.contains("cbcs"), "the catalog's scheme: {text}");
    assert!(
        text.contains("e2719d58-a985-b3c9-781a-b030af78d30e"),
        "ClearKey is signalled: {text}"
    );
    // The catalog changes its mind: the node follows once the title is revalidated.
    put(&plane, Scheme::None).await;
    until_protected(server.addr, false, Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_asset_the_catalog_does_not_hold_keeps_its_file_policy() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _plane, _stop) = catalog(dir.path()).await;
    let server = start_with(node(&url, 0, 60)).await;
    let (status, text) = mpd(server.addr).await;
    assert_eq!(status, 200, "{text}");
    assert!(
        !text.contains("ContentProtection"),
        "the demo is clear: {text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_catalog_outage_serves_the_last_answer_then_refuses_once_it_is_too_old() {
    let dir = tempfile::tempdir().unwrap();
    let (url, plane, stop) = catalog(dir.path()).await;
    put(&plane, Scheme::Cbcs).await;
    // Stale answers for 4 s past a 0 s time to live.
    let lenient = start_with(node(&url, 0, 4)).await;
    until_protected(lenient.addr, true, Duration::from_secs(1)).await;
    // Negative control: a node that keeps no stale answer.
    let strict = start_with(node(&url, 0, 0)).await;
    until_protected(strict.addr, true, Duration::from_secs(1)).await;
    stop.send(()).unwrap();
    drop(plane);
    // Past the title revalidation (1 s), each node asks the catalog again and it is gone.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, text) = mpd(lenient.addr).await;
    assert_eq!(status, 200, "stale-if-error: {text}");
    assert!(
        text.contains("ContentProtection"),
        "the last answer: {text}"
    );
    let start = std::time::Instant::now();
    let refused = loop {
        let r = get(strict.addr, "/vod/demo/manifest.mpd").await;
        if r.status == 503 {
            break r;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the strict node went on serving without its catalog: {}",
            r.status
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        refused.text().contains("catalog-unavailable"),
        "{}",
        refused.text()
    );
    // Past the stale window the lenient node refuses too.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let start = std::time::Instant::now();
    loop {
        let r = get(lenient.addr, "/vod/demo/manifest.mpd").await;
        if r.status == 503 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "served past the stale window: {}",
            r.status
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn problem_type(addr: std::net::SocketAddr, path: &str, headers: &[(&str, &str)]) -> String {
    let r = request(addr, "GET", path, headers, false).await;
    assert_eq!(r.status, 403, "{path}: {}", r.text());
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    v["type"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_node_packages_the_catalogs_source_for_an_asset() {
    let dir = tempfile::tempdir().unwrap();
    let (url, plane, _stop) = catalog(dir.path()).await;
    let server = start_with(node(&url, 0, 60)).await;
    // Negative control: the media root has no `film`.
    assert_eq!(get(server.addr, "/vod/film/master.m3u8").await.status, 404);
    let mut film = input(Scheme::None);
    film.source = Some("demo/video_180p.mp4".into());
    put_as(&plane, "film", film).await;
    let start = std::time::Instant::now();
    let master = loop {
        let r = get(server.addr, "/vod/film/master.m3u8").await;
        if r.status == 200 {
            break r.text();
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the catalog's film never played: {} {}",
            r.status,
            r.text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let variants = master
        .lines()
        .filter(|l| l.starts_with("#EXT-X-STREAM-INF"))
        .count();
    assert_eq!(variants, 1, "one MP4, one variant:\n{master}");
    assert!(master.contains("RESOLUTION=320x180"), "{master}");
    // A source that leaves the media root is refused, and the node says so.
    let mut escape = input(Scheme::None);
    escape.source = Some("../Cargo.toml".into());
    put_as(&plane, "escape", escape).await;
    let r = get(server.addr, "/vod/escape/master.m3u8").await;
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(
        r.text().contains("relative path of plain names"),
        "{}",
        r.text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_catalogs_window_and_territories_are_checked_on_every_request() {
    let dir = tempfile::tempdir().unwrap();
    let (url, plane, _stop) = catalog(dir.path()).await;
    let now = unix_now();
    let mut ended = input(Scheme::None);
    ended.source = Some("demo".into());
    ended.availability.ends_at = Some(now - 60);
    put_as(&plane, "ended", ended).await;
    let mut later = input(Scheme::None);
    later.source = Some("demo".into());
    later.availability.starts_at = Some(now + 3600);
    put_as(&plane, "later", later).await;
    let mut french = input(Scheme::None);
    french.source = Some("demo".into());
    french.availability.starts_at = Some(now - 60);
    french.territories = vec!["FR".into()];
    put_as(&plane, "french", french).await;
    let server = start_with(node(&url, 0, 60)).await;

    let not_available = "https://edgepack.dev/problems/asset-not-available";
    let territory = "https://edgepack.dev/problems/territory-not-allowed";
    assert_eq!(
        problem_type(server.addr, "/vod/ended/master.m3u8", &[]).await,
        not_available
    );
    assert_eq!(
        problem_type(server.addr, "/vod/later/manifest.mpd", &[]).await,
        not_available
    );
    assert_eq!(
        problem_type(server.addr, "/vod/french/master.m3u8", &[]).await,
        territory
    );
    let de = [("X-Country-Code", "DE")];
    assert_eq!(
        problem_type(server.addr, "/vod/french/master.m3u8", &de).await,
        territory
    );
    let fr = [("X-Country-Code", "FR")];
    let master = request(server.addr, "GET", "/vod/french/master.m3u8", &fr, false).await;
    assert_eq!(master.status, 200, "{}", master.text());
    // Every request, segments too: a cached title does not let another country in.
    let media_uri = playlist_uris(&master.text()).into_iter().next().unwrap();
    let media = request(
        server.addr,
        "GET",
        &format!("/vod/french/{media_uri}"),
        &fr,
        false,
    )
    .await;
    assert_eq!(media.status, 200, "{}", media.text());
    let dir_of = media_uri.rsplit_once('/').map_or("", |(d, _)| d);
    let segment = playlist_uris(&media.text()).into_iter().next().unwrap();
    let path = format!("/vod/french/{dir_of}/{segment}");
    assert_eq!(
        request(server.addr, "GET", &path, &fr, false).await.status,
        200
    );
    assert_eq!(problem_type(server.addr, &path, &de).await, territory);

    let metrics = get(server.addr, "/metrics").await.text();
    for sample in [
        "edgepack_catalog_refusals_total{reason=\"not_available\"} 2",
        "edgepack_catalog_refusals_total{reason=\"territory\"} 3",
    ] {
        assert!(metrics.contains(sample), "no {sample} in:\n{metrics}");
    }
    assert!(
        !metrics.contains("edgepack_catalog_lookups_total{result=\"fetched\"} 0"),
        "{metrics}"
    );
}
