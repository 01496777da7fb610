//! Local sources read through memory mappings (`origin.map_local_files`, the default) give
//! exactly what positioned reads give, and a source replaced the safe way (a new file renamed
//! over the old one) is served whole in one version or the other, never mixed.

use std::path::Path;
use std::time::Duration;

use crate::common::*;
use edge::config::Config;

const OBJECTS: &[&str] = &[
    "master.m3u8",
    "v1/init.mp4",
    "v1/1.m4s",
    "v1/2.m4s",
    "a2/1.m4s",
    "ts/v1/1.ts",
    "ts/v1/2.ts",
    "manifest.mpd",
];

async fn start_on(root: &Path, map_local_files: bool, revalidate_seconds: u64) -> TestServer {
    let mut config = Config {
        media_root: root.to_path_buf().into(),
        ..Config::default()
    };
    config.origin.map_local_files = map_local_files;
    config.cache.title_revalidate_seconds = revalidate_seconds;
    config.cache.response_bytes = 0;
    start_with(config).await
}

#[tokio::test(flavor = "multi_thread")]
async fn mapped_reads_serve_the_bytes_positioned_reads_serve() {
    let media = test_media();
    let mapped = start_on(&media, true, 60).await;
    let read = start_on(&media, false, 60).await;
    for file in [
        "h264_avc1_25fps_aac_48k_moov_first.mp4",
        "h264_avc1_25fps_aac_48k_moov_last.mp4",
        "h264_co64.mp4",
        "h264_25fps_aac_44.1k.mp4",
    ] {
        for object in OBJECTS {
            let path = format!("/vod/{file}/{object}");
            let a = get(mapped.addr, &path).await;
            let b = get(read.addr, &path).await;
            assert_eq!(a.status, b.status, "{path}");
            assert_eq!(a.status, 200, "{path}: {}", a.text());
            assert!(a.body == b.body, "{path}: the bodies differ");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_source_renamed_over_is_served_whole_in_one_version() {
    let old_file = test_media().join("h264_avc1_25fps_aac_48k_moov_first.mp4");
    let new_file = test_media().join("h264_25fps_aac_44.1k.mp4");
    // References: each version alone, under the same asset name.
    let (old_dir, new_dir, live_dir) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    std::fs::copy(&old_file, old_dir.path().join("a.mp4")).unwrap();
    std::fs::copy(&new_file, new_dir.path().join("a.mp4")).unwrap();
    std::fs::copy(&old_file, live_dir.path().join("a.mp4")).unwrap();
    let old_ref = start_on(old_dir.path(), false, 60).await;
    let new_ref = start_on(new_dir.path(), false, 60).await;
    let live = start_on(live_dir.path(), true, 1).await;

    let expect = |server: &TestServer, object: &str| {
        let addr = server.addr;
        let path = format!("/vod/a.mp4/{object}");
        async move { get_ok(addr, &path).await }
    };
    assert_eq!(
        get_ok(live.addr, "/vod/a.mp4/v1/1.m4s").await,
        expect(&old_ref, "v1/1.m4s").await
    );

    // Replaced the safe way: written beside it, then renamed over it.
    let tmp = live_dir.path().join("a.mp4.part");
    std::fs::copy(&new_file, &tmp).unwrap();
    std::fs::rename(&tmp, live_dir.path().join("a.mp4")).unwrap();

    // Until the title is revalidated, segments come from the old version (its mapping
    // outlives the rename), whole.
    assert_eq!(
        get_ok(live.addr, "/vod/a.mp4/v1/2.m4s").await,
        expect(&old_ref, "v1/2.m4s").await
    );
    // Then from the new one, for every object.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for object in OBJECTS {
        assert_eq!(
            get_ok(live.addr, &format!("/vod/a.mp4/{object}")).await,
            expect(&new_ref, object).await,
            "{object}"
        );
    }
}
