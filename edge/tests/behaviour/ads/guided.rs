//! The guided mode (HLS Interstitials) through a running node: the content untouched with a
//! date anchor and one interstitial per break, asset lists naming each ad's own HLS title by
//! an absolute URL below the session, and the ads' fetches firing their beacons once.

use std::time::Duration;

use edge::ads::config::AdMode;

use super::sessions::{
    ad_server, conditioned, config_with, count, eventually, open, policy, resolve, segment_lines,
};
use crate::common::{get, get_ok, start_with};

#[tokio::test(flavor = "multi_thread")]
async fn a_guided_session_gets_interstitials_and_asset_lists() {
    let ads = ad_server().await;
    let dir = tempfile::tempdir().unwrap();
    let mut p = policy(
        format!("{}/vast/avail-[avail.index]?sid=[session.id]", ads.url("")),
        false,
    );
    p.rules.mode = AdMode::Guided;
    let edge = start_with(config_with(p, dir.path())).await;
    let (_, location) = open(&edge, "demo", "").await;
    get_ok(edge.addr, &location).await;
    conditioned(&edge, 2.0).await;
    let (id, location) = open(&edge, "demo", "").await;
    // The multivariant playlist is the content's.
    let master = String::from_utf8_lossy(&get_ok(edge.addr, &location).await).into_owned();
    assert!(master.contains("I-FRAME"), "{master}");
    let path = format!("/vod/demo/s/{id}/video_180p-v1/media.m3u8");
    let playlist = String::from_utf8_lossy(&get_ok(edge.addr, &path).await).into_owned();
    assert!(
        !playlist.contains("DISCONTINUITY"),
        "the content plays untouched: {playlist}"
    );
    assert!(
        playlist.contains("#EXT-X-PROGRAM-DATE-TIME:2000-01-01T00:00:00.000Z"),
        "{playlist}"
    );
    let ranges: Vec<&str> = playlist
        .lines()
        .filter(|l| l.starts_with("#EXT-X-DATERANGE"))
        .collect();
    assert_eq!(ranges.len(), 2, "{playlist}");
    assert!(ranges[0].contains("CLASS=\"com.apple.hls.interstitial\""));
    assert!(
        ranges[0].contains("START-DATE=\"2000-01-01T00:00:00.000Z\""),
        "{}",
        ranges[0]
    );
    assert!(
        ranges[1].contains("START-DATE=\"2000-01-01T00:00:12.000Z\""),
        "{}",
        ranges[1]
    );
    assert!(
        ranges[1].contains("X-ASSET-LIST=\"../assets/2.json\""),
        "{}",
        ranges[1]
    );
    assert!(ranges[1].contains("PLANNED-DURATION=16.0"), "{}", ranges[1]);
    m3u8_rs::parse_media_playlist_res(playlist.as_bytes()).unwrap();

    // The asset list names the pod's two ads; each is a playable HLS title of its own.
    let list_path = format!("/vod/demo/s/{id}/assets/2.json");
    let list: serde_json::Value =
        serde_json::from_slice(&get_ok(edge.addr, &list_path).await).unwrap();
    let assets = list["ASSETS"].as_array().unwrap();
    assert_eq!(assets.len(), 2, "{list}");
    let duration = assets[0]["DURATION"].as_f64().unwrap();
    assert!((duration - 8.0).abs() < 0.1, "{list}");
    // Absolute: players resolve an asset's URI against the page, not the list.
    let ad_master_url = assets[1]["URI"].as_str().unwrap();
    let origin = format!("http://{}", edge.addr);
    let ad_master_path = ad_master_url.trim_start_matches(&origin).to_owned();
    assert!(
        ad_master_path.starts_with(&format!("/vod/demo/s/{id}/ad/1-1/"))
            && ad_master_url.starts_with(&origin),
        "{ad_master_url}"
    );
    let ad_master = String::from_utf8_lossy(&get_ok(edge.addr, &ad_master_path).await).into_owned();
    let variant = segment_lines(&ad_master)[0].to_owned();
    let media_path = resolve(&ad_master_path, &variant);
    let media = String::from_utf8_lossy(&get_ok(edge.addr, &media_path).await).into_owned();
    for uri in segment_lines(&media) {
        get_ok(edge.addr, &resolve(&media_path, uri)).await;
    }
    // Its fetches fire its beacons, once.
    eventually("the second ad's beacons", Duration::from_secs(5), || {
        count(&ads, "complete", &id, "ad=2") == 1 && count(&ads, "impression", &id, "ad=2") == 1
    })
    .await;
    assert_eq!(
        get(edge.addr, &format!("/vod/demo/s/{id}/assets/3.json"))
            .await
            .status,
        404
    );
}
