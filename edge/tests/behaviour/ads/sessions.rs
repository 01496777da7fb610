//! Ad sessions through a running daemon: the demo title with a pre-roll and a mid-roll from a
//! real HTTP ad server, the creative conditioned by the real ffmpeg, the session's HLS (CMAF
//! and TS) playlists, subtitles and MPD with the ads in, ad segments ffprobe reads, and the
//! beacons the ad server receives: once per session, ad and event, whatever the player
//! fetches again. Faults (500, timeout, empty answer) give the content alone, counted.

use std::path::Path;
use std::time::{Duration, Instant};

use edge::ads::config::{AdPolicy, AdsConfig};
use edge::Config;

use super::ad_server::{AdServer, Answer};
use crate::common::{
    demo_media, get, get_ok, metric, playlist_uris, start_with, test_media, TestServer,
};

/// A one-ad VAST 4 answer with every tracking event; URLs on `base`.
fn vast(base: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<VAST version="4.2" xmlns="http://www.iab.com/VAST">
  <Ad id="ad-1" sequence="1">
    <InLine>
      <AdSystem>test</AdSystem>
      <AdTitle>tone</AdTitle>
      <Impression><![CDATA[{base}/t/impression?s=[session.id]]]></Impression>
      <Error><![CDATA[{base}/t/error?s=[session.id]&code=[ERRORCODE]]]></Error>
      <Creatives>
        <Creative id="cr-1" adId="ad-1">
          <UniversalAdId idRegistry="test">tone-8s</UniversalAdId>
          <Linear>
            <Duration>00:00:08.000</Duration>
            <TrackingEvents>
              <Tracking event="start"><![CDATA[{base}/t/start?s=[session.id]]]></Tracking>
              <Tracking event="firstQuartile"><![CDATA[{base}/t/firstQuartile?s=[session.id]]]></Tracking>
              <Tracking event="midpoint"><![CDATA[{base}/t/midpoint?s=[session.id]]]></Tracking>
              <Tracking event="thirdQuartile"><![CDATA[{base}/t/thirdQuartile?s=[session.id]]]></Tracking>
              <Tracking event="complete"><![CDATA[{base}/t/complete?s=[session.id]]]></Tracking>
            </TrackingEvents>
            <MediaFiles>
              <MediaFile delivery="progressive" type="video/mp4" width="320" height="180" bitrate="200"><![CDATA[{base}/creative.mp4]]></MediaFile>
            </MediaFiles>
          </Linear>
        </Creative>
      </Creatives>
    </InLine>
  </Ad>
</VAST>"#
    )
}

const EVENTS: [&str; 6] = [
    "impression",
    "start",
    "firstQuartile",
    "midpoint",
    "thirdQuartile",
    "complete",
];

fn config(ad_server: &str, dir: &Path) -> Config {
    Config {
        media_root: demo_media().into(),
        ads: AdsConfig {
            policies: vec![AdPolicy {
                assets: vec!["demo".into()],
                ad_server: format!(
                    "{ad_server}/vast?sid=[session.id]&avail=[avail.index]&x=[player_params.x]"
                ),
                breaks: vec!["start".into(), "00:00:12".into()],
                vmap: false,
                break_seconds: 30,
            }],
            conditioning_dir: dir.to_owned(),
            allow_private_addresses: true,
            request_timeout_ms: 500,
            deadline_ms: 1000,
            beacon_backoff_ms: 50,
            ..AdsConfig::default()
        },
        ..Config::default()
    }
}

async fn ad_server() -> AdServer {
    let ads = AdServer::start().await;
    ads.set("/vast", Answer::vast(&vast(&ads.url(""))));
    let creative =
        std::fs::read(test_media().join("h264_avc1_25fps_aac_48k_moov_first.mp4")).unwrap();
    ads.set("/creative.mp4", Answer::file(creative));
    for e in EVENTS.iter().chain(&["error"]) {
        ads.set(&format!("/t/{e}"), Answer::vast(""));
    }
    ads
}

/// A new session: the redirect from the asset's multivariant playlist, and the session id.
async fn open(edge: &TestServer, query: &str) -> (String, String) {
    let entry = get(edge.addr, &format!("/vod/demo/master.m3u8{query}")).await;
    assert_eq!(entry.status, 302, "{}", entry.text());
    assert_eq!(entry.header("cache-control"), Some("no-store"));
    let location = entry.header("location").unwrap().to_owned();
    let id = location
        .strip_prefix("/vod/demo/s/")
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();
    assert_eq!(location, format!("/vod/demo/s/{id}/master.m3u8{query}"));
    (id, location)
}

/// How many times the ad server got beacon `event` for session `id`.
fn count(ads: &AdServer, event: &str, id: &str) -> usize {
    ads.seen(&format!("/t/{event}?s={id}")).len()
}

async fn eventually(what: &str, deadline: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < deadline,
            "{what}: not within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn metrics(edge: &TestServer) -> String {
    String::from_utf8_lossy(&get_ok(edge.addr, "/metrics").await).into_owned()
}

fn segment_lines(playlist: &str) -> Vec<&str> {
    playlist
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect()
}

/// Resolves `uri` against the directory of `base` (a path), as a player does.
fn resolve(base: &str, uri: &str) -> String {
    let mut parts: Vec<&str> = base.split('/').collect();
    parts.pop();
    for piece in uri.split('/') {
        match piece {
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_gets_its_ads_stitched_and_fires_each_beacon_once() {
    let ads = ad_server().await;
    let dir = tempfile::tempdir().unwrap();
    let edge = start_with(config(&ads.url(""), dir.path())).await;

    // The first session asks for both breaks; the creative is not conditioned yet, so its
    // breaks are skipped and VAST error 407 is reported, once per ad.
    let (first, location) = open(&edge, "?ads.x=7").await;
    let master = get_ok(edge.addr, &location).await;
    // No ad plays in it: the session's manifests are the shared ones, I-frames and all.
    assert!(String::from_utf8_lossy(&master).contains("I-FRAME"));
    let asked = ads.seen("/vast");
    assert_eq!(asked.len(), 2, "one ad request per break: {asked:?}");
    for (i, seen) in asked.iter().enumerate() {
        assert!(
            seen.path_and_query.contains(&format!("sid={first}")),
            "{seen:?}"
        );
        assert!(
            seen.path_and_query.contains("x=7"),
            "player params: {seen:?}"
        );
        assert!(asked
            .iter()
            .any(|s| s.path_and_query.contains(&format!("avail={}", i + 1))));
    }
    eventually(
        "VAST error 407 for the first session",
        Duration::from_secs(5),
        || ads.seen(&format!("/t/error?s={first}&code=407")).len() == 2,
    )
    .await;
    let content_only = get_ok(
        edge.addr,
        &format!("/vod/demo/s/{first}/video_180p-v1/media.m3u8"),
    )
    .await;
    assert!(!String::from_utf8_lossy(&content_only).contains("DISCONTINUITY"));
    assert_eq!(count(&ads, "impression", &first), 0);

    // Once conditioned, the next session plays the ad in both breaks.
    let start = Instant::now();
    loop {
        let m = metrics(&edge).await;
        if metric(&m, "edgepack_ad_conditioning_jobs_total{result=\"done\"}") >= 1.0 {
            break;
        }
        assert_eq!(
            metric(&m, "edgepack_ad_conditioning_jobs_total{result=\"failed\"}"),
            0.0,
            "{m}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "conditioning did not finish"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (id, location) = open(&edge, "").await;
    let master = String::from_utf8_lossy(&get_ok(edge.addr, &location).await).into_owned();
    assert!(
        !master.contains("I-FRAME"),
        "I-frame playlists have no ads: {master}"
    );
    let playlist_path = format!("/vod/demo/s/{id}/video_180p-v1/media.m3u8");
    let playlist = String::from_utf8_lossy(&get_ok(edge.addr, &playlist_path).await).into_owned();
    let discontinuities = playlist.matches("#EXT-X-DISCONTINUITY\n").count();
    assert_eq!(
        discontinuities, 3,
        "pre-roll | content | mid-roll | content:\n{playlist}"
    );
    let uris = segment_lines(&playlist);
    let ad_uris: Vec<&&str> = uris.iter().filter(|u| u.contains("ad/")).collect();
    assert!(
        ad_uris
            .iter()
            .all(|u| u.starts_with("../ad/0-0/") || u.starts_with("../ad/1-0/")),
        "{ad_uris:?}"
    );
    let first_ad: Vec<String> = uris
        .iter()
        .filter(|u| u.starts_with("../ad/0-0/"))
        .map(|u| resolve(&playlist_path, u))
        .collect();
    assert!(first_ad.len() >= 2, "{playlist}");
    // The ad's segments follow the content's ladder: the 180p rendition plays the ad's 180p.
    let maps: Vec<&str> = playlist
        .lines()
        .filter(|l| l.starts_with("#EXT-X-MAP"))
        .collect();
    assert_eq!(maps.len(), 4, "one map per stretch: {maps:?}");
    let ad_map = maps[0]
        .trim_start_matches("#EXT-X-MAP:URI=\"")
        .trim_end_matches('"');
    let mut bytes = get_ok(edge.addr, &resolve(&playlist_path, ad_map))
        .await
        .to_vec();
    for uri in &first_ad {
        bytes.extend_from_slice(&get_ok(edge.addr, uri).await);
    }
    let file = dir.path().join("fetched-ad.mp4");
    std::fs::write(&file, &bytes).unwrap();
    let streams = crate::common::streams(&file);
    assert!(
        streams
            .iter()
            .any(|s| s.0 == "h264" && s.1 == 320 && s.2 == 180),
        "{streams:?}"
    );
    crate::common::decodes_cleanly(&file);

    // Every beacon of the pre-roll fired once, with the session's id.
    eventually("the pre-roll's beacons", Duration::from_secs(5), || {
        EVENTS.iter().all(|e| count(&ads, e, &id) >= 1)
    })
    .await;
    // Fetching it all again, and the audio's ad segments, fires nothing more.
    for uri in &first_ad {
        get_ok(edge.addr, uri).await;
    }
    let audio_path = format!("/vod/demo/s/{id}/audio_en-a1/media.m3u8");
    let audio = String::from_utf8_lossy(&get_ok(edge.addr, &audio_path).await).into_owned();
    assert_eq!(
        audio.matches("#EXT-X-DISCONTINUITY\n").count(),
        3,
        "{audio}"
    );
    for uri in segment_lines(&audio)
        .iter()
        .filter(|u| u.starts_with("../ad/0-0/"))
    {
        get_ok(edge.addr, &resolve(&audio_path, uri)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for e in EVENTS {
        assert_eq!(count(&ads, e, &id), 1, "{e} for {id}");
    }
    // The mid-roll has not been fetched: none of its beacons.
    assert_eq!(ads.seen(&format!("/t/complete?s={id}")).len(), 1);

    // Subtitles: an empty WebVTT document per ad segment.
    let subs_path = format!("/vod/demo/s/{id}/sub/en/media.m3u8");
    let subs = String::from_utf8_lossy(&get_ok(edge.addr, &subs_path).await).into_owned();
    assert_eq!(subs.matches("#EXT-X-DISCONTINUITY\n").count(), 3, "{subs}");
    let blank = segment_lines(&subs)
        .into_iter()
        .find(|u| u.ends_with("blank.vtt"))
        .unwrap();
    let blank = get_ok(edge.addr, &resolve(&subs_path, blank)).await;
    assert!(blank.starts_with(b"WEBVTT"));

    // MPEG-TS: the same breaks, TS ad segments ffprobe reads.
    let ts_path = format!("/vod/demo/s/{id}/ts/video_180p-v1/media.m3u8");
    let ts = String::from_utf8_lossy(&get_ok(edge.addr, &ts_path).await).into_owned();
    assert_eq!(ts.matches("#EXT-X-DISCONTINUITY\n").count(), 3, "{ts}");
    let ts_ad = segment_lines(&ts)
        .into_iter()
        .find(|u| u.contains("/ts/") && u.contains("ad/0-0/"))
        .unwrap();
    let ts_file = dir.path().join("fetched-ad.ts");
    std::fs::write(&ts_file, get_ok(edge.addr, &resolve(&ts_path, ts_ad)).await).unwrap();
    crate::common::decodes_cleanly(&ts_file);

    // DASH: one Period per ad and per stretch of content.
    let mpd = String::from_utf8_lossy(
        &get_ok(edge.addr, &format!("/vod/demo/s/{id}/manifest.mpd")).await,
    )
    .into_owned();
    assert_eq!(mpd.matches("<Period").count(), 4, "{mpd}");
    assert!(mpd.contains("<BaseURL>ad/0-0/"), "{mpd}");

    let m = metrics(&edge).await;
    assert!(
        metric(&m, "edgepack_ad_breaks_total{result=\"filled\"}") >= 2.0,
        "{m}"
    );
    assert!(
        metric(&m, "edgepack_ad_breaks_total{result=\"not_ready\"}") >= 2.0,
        "{m}"
    );
    assert!(
        metric(&m, "edgepack_ad_beacons_total{result=\"duplicate\"}") >= 1.0,
        "{m}"
    );
    assert_eq!(metric(&m, "edgepack_ad_sessions_total"), 2.0, "{m}");
}

/// The content alone, and the reason counted, for an ad server that fails.
async fn content_alone(answer: Answer, reason: &str) {
    let ads = AdServer::start().await;
    ads.set("/vast", answer);
    let dir = tempfile::tempdir().unwrap();
    let edge = start_with(config(&ads.url(""), dir.path())).await;
    let (id, location) = open(&edge, "").await;
    let started = Instant::now();
    get_ok(edge.addr, &location).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the session waited {:?}",
        started.elapsed()
    );
    let shared = get_ok(edge.addr, "/vod/demo/video_180p-v1/media.m3u8").await;
    let session = get_ok(
        edge.addr,
        &format!("/vod/demo/s/{id}/video_180p-v1/media.m3u8"),
    )
    .await;
    assert_eq!(shared, session, "{reason}: the content plays alone");
    let m = metrics(&edge).await;
    assert_eq!(
        metric(
            &m,
            &format!("edgepack_ad_breaks_total{{result=\"{reason}\"}}")
        ),
        2.0,
        "{m}"
    );
    assert_eq!(playlist_uris(&String::from_utf8_lossy(&session)).len(), 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ad_server_error_gives_the_content_alone() {
    content_alone(
        Answer {
            status: 500,
            ..Answer::vast("oops")
        },
        "error",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_ad_server_gives_the_content_alone_within_the_deadline() {
    content_alone(
        Answer {
            delay: Duration::from_secs(5),
            ..Answer::vast("<VAST version=\"4.0\"/>")
        },
        "timeout",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_answer_gives_the_content_alone() {
    content_alone(Answer::vast("<VAST version=\"4.0\"/>"), "empty").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn session_paths_are_checked() {
    let ads = ad_server().await;
    let dir = tempfile::tempdir().unwrap();
    let edge = start_with(config(&ads.url(""), dir.path())).await;
    // Not a session id: nothing is served there.
    assert_eq!(
        get(edge.addr, "/vod/demo/s/nope/master.m3u8").await.status,
        404
    );
    // An ad that is not in the conditioning directory.
    let id = "0123456789abcdef0123456789abcdef";
    let f = get(
        edge.addr,
        &format!("/vod/demo/s/{id}/ad/0-0/ad-x.mp4/v1/1.m4s"),
    )
    .await;
    assert_eq!(f.status, 404, "{}", f.text());
    assert_eq!(f.header("content-type"), Some("application/problem+json"));
    // An asset without ads plays as before.
    let plain = get(edge.addr, "/vod/demo.mp4/master.m3u8").await;
    assert_ne!(plain.status, 302);
}
