//! Asset policy from a catalog (`[catalog]`): a real control plane (catalog on SQLite, served
//! on a loopback port) tells the node how an asset is encrypted; a change in the catalog
//! reaches the manifests after the answer's time to live and the title's revalidation; a
//! catalog outage serves the last answer while it is fresh enough, and then refuses with
//! 503 `catalog-unavailable`; an asset the catalog does not hold keeps its file's policy.

use std::time::Duration;

use catalog::model::{AssetInput, DrmSystem, Encryption, Scheme};
use control_plane::config::Service;
use control_plane::{ControlConfig, Plane};
use edge::keys::static_keys::StaticKey;
use edge::media::catalog_config::CatalogSourceConfig;
use edge::Config;

use crate::common::{demo_media, get, start_with};

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

async fn put(plane: &Plane, scheme: Scheme) {
    plane
        .catalog
        .put_asset(
            "demo",
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
            },
        )
        .await
        .unwrap();
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
