//! Openings, seen from outside: the first segment requests for a title never loaded are
//! served from its sources' openings, byte for byte what the whole title serves, and the
//! whole title takes over once it has loaded in the background. A source broken late
//! still serves its opening segments, and fails whole as soon as a playlist needs it.

use std::path::Path;
use std::time::Duration;

use crate::common::*;
use edge::Config;

/// A target of one second (the test media cut every two, at their keyframes), and openings
/// of `opening_segments` seconds and one more.
fn config(media_root: &Path, opening_segments: u32) -> Config {
    let mut config = Config {
        media_root: media_root.to_path_buf().into(),
        ..Config::default()
    };
    config.packaging.target_segment_ms = 1000;
    config.cache.opening_segments = opening_segments;
    config.cache.response_bytes = 0;
    config
}

const OPENINGS_PLANNED: &str = "edgepack_cache_requests_total{cache=\"opening\",result=\"miss\"}";

async fn openings_planned(server: &TestServer) -> f64 {
    metric(&get(server.addr, "/metrics").await.text(), OPENINGS_PLANNED)
}

/// Waits until `asset`'s whole title has loaded: its master playlist answers.
async fn whole_title(server: &TestServer, asset: &str) -> Fetched {
    get(server.addr, &format!("/vod/{asset}/master.m3u8")).await
}

#[tokio::test(flavor = "multi_thread")]
async fn first_segments_of_a_cold_title_come_from_openings_and_match_the_whole_title() {
    let media = test_media();
    let whole = start_with(config(&media, 0)).await;
    for (asset, objects) in [
        (
            "h264_bframes_ctts_v0_29.97fps.mp4",
            &["v1/1.m4s", "ts/v1/1.ts", "v1/2.m4s", "v1/init.mp4"][..],
        ),
        (
            "two_audio_languages.mp4",
            &["v1/2.m4s", "ts/v1/2.ts", "a3/1.m4s", "ts/a3/2.ts"][..],
        ),
    ] {
        // Five seconds: segments 1 and 2 whole, and the start of segment 3.
        let server = start_with(config(&media, 4)).await;
        for (k, object) in objects.iter().enumerate() {
            let path = format!("/vod/{asset}/{object}");
            let got = get(server.addr, &path).await;
            assert_eq!(got.status, 200, "{path}: {}", got.text());
            let expected = get_ok(whole.addr, &path).await;
            assert!(
                got.body == expected,
                "{path} differs from the whole title's"
            );
            if k == 0 {
                assert_eq!(openings_planned(&server).await, 1.0, "{path}: no opening");
            }
        }
        // Later segments, and playlists, come from the whole title.
        assert_eq!(whole_title(&server, asset).await.status, 200);
        for object in ["v1/4.m4s", "ts/v1/3.ts", "v1/1.m4s"] {
            let path = format!("/vod/{asset}/{object}");
            assert!(get_ok(server.addr, &path).await == get_ok(whole.addr, &path).await);
        }
        assert_eq!(openings_planned(&server).await, 1.0, "{asset}: one opening");
        assert_eq!(openings_planned(&whole).await, 0.0, "openings are off");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_segment_past_the_opening_waits_for_the_whole_title() {
    let media = test_media();
    let server = start_with(config(&media, 2)).await;
    let path = "/vod/h264_co64.mp4/v1/3.m4s";
    let got = get(server.addr, path).await;
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(openings_planned(&server).await, 0.0);
}

/// A chunk offset past the end of the file in the last second: the opening does not read
/// it, so its segments are served; the whole title fails on it, so playlists do.
#[tokio::test(flavor = "multi_thread")]
async fn a_source_broken_late_serves_its_opening_and_fails_whole() {
    let dir = tempfile::tempdir().unwrap();
    let name = "h264_avc1_25fps_aac_48k_moov_last.mp4";
    let mut file = std::fs::read(test_media().join(name)).unwrap();
    let stco = file.windows(4).position(|w| w == b"stco").unwrap();
    let entries = u32::from_be_bytes(file[stco + 8..stco + 12].try_into().unwrap()) as usize;
    let last = stco + 12 + 4 * (entries - 1);
    file[last..last + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    std::fs::write(dir.path().join(name), file).unwrap();

    let server = start_with(config(dir.path(), 2)).await;
    let segment = format!("/vod/{name}/v1/1.m4s");
    let got = get(server.addr, &segment).await;
    assert_eq!(got.status, 200, "{}", got.text());
    let mut playlist = whole_title(&server, name).await;
    for _ in 0..50 {
        if playlist.status != 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        playlist = whole_title(&server, name).await;
    }
    assert_eq!(playlist.status, 422, "{}", playlist.text());
    assert!(
        playlist.text().contains("past the end"),
        "{}",
        playlist.text()
    );
}
