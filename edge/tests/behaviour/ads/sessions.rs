//! Ad sessions through a running daemon: the demo title with a pre-roll and a mid-roll from a
//! real HTTP ad server, the creative conditioned by the real ffmpeg, the session's HLS (CMAF
//! and TS) playlists, subtitles and MPD with the ads in, ad segments ffprobe reads, and the
//! beacons the ad server receives: once per session, ad and event, whatever the player
//! fetches again. Faults (500, timeout, empty answer) give the content alone, counted.

use std::path::Path;
use std::time::{Duration, Instant};

use edge::ads::config::{AdMode, AdPolicy, AdRules, AdsConfig};
use edge::Config;

use super::ad_server::{AdServer, Answer};
use crate::common::{
    demo_media, get, get_ok, metric, repo_root, start_with, test_media, TestServer,
};

/// A document of testdata/vast with `{base}` filled (the ad server fills `{session}`).
pub(super) fn document(name: &str, base: &str) -> String {
    std::fs::read_to_string(repo_root().join("testdata/vast").join(name))
        .unwrap()
        .replace("{base}", base)
}

/// Beacons of an ad (`ad=N`) or a wrapper (`wrapper=outer|inner`).
const EVENTS: [&str; 7] = [
    "impression",
    "start",
    "firstQuartile",
    "midpoint",
    "thirdQuartile",
    "complete",
    "progress",
];

pub(super) fn policy(ad_server: String, vmap: bool) -> AdPolicy {
    AdPolicy {
        assets: vec!["demo".into()],
        rules: AdRules {
            ad_server,
            breaks: if vmap {
                Vec::new()
            } else {
                vec!["start".into(), "00:00:12".into()]
            },
            vmap,
            break_seconds: 30,
            mode: AdMode::Stitched,
            slate: None,
        },
    }
}

pub(super) fn config_with(policy: AdPolicy, dir: &Path) -> Config {
    Config {
        media_root: demo_media().into(),
        ads: AdsConfig {
            policies: vec![policy],
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

/// A pre-roll behind two wrappers (avail 1) and a two-ad pod mid-roll at 12 s (avail 2).
pub(super) fn config(ad_server: &str, dir: &Path) -> Config {
    config_with(
        policy(
            format!("{ad_server}/vast/avail-[avail.index]?sid=[session.id]&x=[player_params.x]"),
            false,
        ),
        dir,
    )
}

/// The test ad server: the documents of testdata/vast, two creatives (the second with
/// 44.1 kHz audio, which conditioning makes 48 kHz like the content), and beacon endpoints.
pub(super) async fn ad_server() -> AdServer {
    let ads = AdServer::start().await;
    let base = ads.url("");
    ads.set(
        "/vast/avail-1",
        Answer::vast(&document("wrapper_outer.xml", &base)),
    );
    ads.set(
        "/vast/wrapper-outer",
        Answer::vast(&document("wrapper_outer.xml", &base)),
    );
    ads.set(
        "/vast/wrapper-inner",
        Answer::vast(&document("wrapper_inner.xml", &base)),
    );
    ads.set(
        "/vast/avail-2",
        Answer::vast(&document("pod_two_ads.xml", &base)),
    );
    ads.set(
        "/vast/pod",
        Answer::vast(&document("pod_two_ads.xml", &base)),
    );
    ads.set(
        "/vast/vmap",
        Answer::vast(&document("vmap_pre_mid.xml", &base)),
    );
    for (path, file) in [
        (
            "/creative/one.mp4",
            "h264_avc1_25fps_aac_48k_moov_first.mp4",
        ),
        ("/creative/two.mp4", "h264_25fps_aac_44.1k.mp4"),
    ] {
        ads.set(
            path,
            Answer::file(std::fs::read(test_media().join(file)).unwrap()),
        );
    }
    for e in EVENTS.iter().chain(&["error"]) {
        ads.set(&format!("/t/{e}"), Answer::vast(""));
    }
    ads
}

/// A new session: the redirect from the asset's multivariant playlist, and the session id.
pub(super) async fn open(edge: &TestServer, asset: &str, query: &str) -> (String, String) {
    let entry = get(edge.addr, &format!("/vod/{asset}/master.m3u8{query}")).await;
    assert_eq!(entry.status, 302, "{}", entry.text());
    assert_eq!(entry.header("cache-control"), Some("no-store"));
    let location = entry.header("location").unwrap().to_owned();
    let id = location
        .strip_prefix(&format!("/vod/{asset}/s/"))
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();
    assert_eq!(location, format!("/vod/{asset}/s/{id}/master.m3u8{query}"));
    (id, location)
}

/// How many times the ad server got beacon `event` of `whose` (`ad=1`, `wrapper=outer`...) for
/// session `id`.
pub(super) fn count(ads: &AdServer, event: &str, id: &str, whose: &str) -> usize {
    ads.seen(&format!("/t/{event}?s={id}&{whose}")).len()
}

/// Waits for the conditioning jobs to have made `n` creatives.
pub(super) async fn conditioned(edge: &TestServer, n: f64) {
    let start = Instant::now();
    loop {
        let m = metrics(edge).await;
        if metric(&m, "edgepack_ad_conditioning_jobs_total{result=\"done\"}") >= n {
            return;
        }
        expect_metric(
            &m,
            "edgepack_ad_conditioning_jobs_total{result=\"failed\"}",
            0.0,
        );
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "conditioning did not finish"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(super) async fn eventually(what: &str, deadline: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < deadline,
            "{what}: not within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The text of the media playlist `path` (below `/vod/demo/s/{id}/`) of session `id`.
pub(super) async fn session_playlist(edge: &TestServer, id: &str, path: &str) -> String {
    let bytes = get_ok(edge.addr, &format!("/vod/demo/s/{id}/{path}")).await;
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Asserts that the series `series` of the exposition `m` reads `want`.
pub(super) fn expect_metric(m: &str, series: &str, want: f64) {
    assert_eq!(metric(m, series), want, "{series} in\n{m}");
}

/// The ad metrics of the exposition (the rest would only crowd a failure's message).
pub(super) async fn metrics(edge: &TestServer) -> String {
    String::from_utf8_lossy(&get_ok(edge.addr, "/metrics").await)
        .lines()
        .filter(|l| l.starts_with("edgepack_ad"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(super) fn segment_lines(playlist: &str) -> Vec<&str> {
    playlist
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect()
}

/// The ad in `slot` of the media playlist at `path`: its map and segments, as one file.
async fn stretch(edge: &TestServer, path: &str, slot: &str, dir: &Path) -> std::path::PathBuf {
    let text = String::from_utf8_lossy(&get_ok(edge.addr, path).await).into_owned();
    let prefix = format!("../ad/{slot}/");
    let map = text
        .lines()
        .find(|l| l.starts_with("#EXT-X-MAP") && l.contains(&prefix))
        .unwrap()
        .trim_start_matches("#EXT-X-MAP:URI=\"")
        .trim_end_matches('"')
        .to_owned();
    let mut bytes = get_ok(edge.addr, &resolve(path, &map)).await.to_vec();
    for uri in segment_lines(&text)
        .iter()
        .filter(|u| u.starts_with(&prefix))
    {
        bytes.extend_from_slice(&get_ok(edge.addr, &resolve(path, uri)).await);
    }
    let file = dir.join(format!("{}-{slot}.mp4", path.replace('/', "_")));
    std::fs::write(&file, bytes).unwrap();
    file
}

/// The first and last presentation time (seconds) of the one stream in `file`.
fn bounds(file: &Path) -> (f64, f64) {
    let v = crate::common::ffprobe(file, &["-show_entries", "packet=pts_time,duration_time"]);
    let packets = v["packets"].as_array().unwrap();
    let time = |p: &serde_json::Value, k: &str| {
        p[k].as_str()
            .and_then(|t| t.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let start = packets
        .iter()
        .map(|p| time(p, "pts_time"))
        .fold(f64::MAX, f64::min);
    let end = packets
        .iter()
        .map(|p| time(p, "pts_time") + time(p, "duration_time"))
        .fold(0.0, f64::max);
    (start, end)
}

/// Resolves `uri` against the directory of `base` (a path), as a player does.
pub(super) fn resolve(base: &str, uri: &str) -> String {
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
    let events = dir.path().join("events.jsonl");
    let edge = start_with(super::events::with_events(
        config(&ads.url(""), dir.path()),
        &events,
    ))
    .await;

    // The first session asks for both breaks; the creatives are not conditioned yet, so its
    // breaks are skipped and VAST error 407 goes to every error URL on each ad's way: the
    // two wrappers' and the ad's for the pre-roll, each ad's for the pod.
    let (first, location) = open(&edge, "demo", "?ads.x=7").await;
    let master = get_ok(edge.addr, &location).await;
    // No ad plays in it: the session's manifests are the shared ones, I-frames and all.
    assert!(String::from_utf8_lossy(&master).contains("I-FRAME"));
    let asked = ads.seen("/vast/avail-");
    assert_eq!(asked.len(), 2, "one ad request per break: {asked:?}");
    for i in 1..=2 {
        let seen = asked
            .iter()
            .find(|s| s.path_and_query.starts_with(&format!("/vast/avail-{i}?")))
            .unwrap();
        assert!(
            seen.path_and_query.contains(&format!("sid={first}")),
            "{seen:?}"
        );
        assert!(
            seen.path_and_query.contains("x=7"),
            "player params: {seen:?}"
        );
    }
    assert_eq!(ads.seen("/vast/wrapper-inner").len(), 1);
    eventually(
        "VAST error 407 for the first session",
        Duration::from_secs(5),
        || ads.seen(&format!("/t/error?s={first}&")).len() == 5,
    )
    .await;
    for e in ads.seen(&format!("/t/error?s={first}&")) {
        assert!(e.path_and_query.ends_with("code=407"), "{e:?}");
    }
    let content_only = get_ok(
        edge.addr,
        &format!("/vod/demo/s/{first}/video_180p-v1/media.m3u8"),
    )
    .await;
    assert!(!String::from_utf8_lossy(&content_only).contains("DISCONTINUITY"));
    assert_eq!(count(&ads, "impression", &first, "ad=1"), 0);

    // Once conditioned, the next session plays the pre-roll and the pod.
    conditioned(&edge, 2.0).await;
    let (id, location) = open(&edge, "demo", "").await;
    let master = String::from_utf8_lossy(&get_ok(edge.addr, &location).await).into_owned();
    assert!(
        !master.contains("I-FRAME"),
        "I-frame playlists have no ads: {master}"
    );
    let playlist_path = format!("/vod/demo/s/{id}/video_180p-v1/media.m3u8");
    let playlist = String::from_utf8_lossy(&get_ok(edge.addr, &playlist_path).await).into_owned();
    let discontinuities = playlist.matches("#EXT-X-DISCONTINUITY\n").count();
    assert_eq!(
        discontinuities, 4,
        "pre-roll | content | ad 1 | ad 2 | content:\n{playlist}"
    );
    let maps: Vec<&str> = playlist
        .lines()
        .filter(|l| l.starts_with("#EXT-X-MAP"))
        .collect();
    assert_eq!(maps.len(), 5, "one map per stretch: {maps:?}");
    let uris = segment_lines(&playlist);
    for slot in ["0-0", "1-0", "1-1"] {
        assert_eq!(
            uris.iter()
                .filter(|u| u.starts_with(&format!("../ad/{slot}/")))
                .count(),
            2,
            "{slot}: {playlist}"
        );
    }
    let pre_roll: Vec<String> = uris
        .iter()
        .filter(|u| u.starts_with("../ad/0-0/"))
        .map(|u| resolve(&playlist_path, u))
        .collect();
    // The ad's segments follow the content's ladder: the 180p rendition plays the ad's 180p.
    let ad_map = maps[0]
        .trim_start_matches("#EXT-X-MAP:URI=\"")
        .trim_end_matches('"');
    let mut bytes = get_ok(edge.addr, &resolve(&playlist_path, ad_map))
        .await
        .to_vec();
    for uri in &pre_roll {
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
    let audio_path = format!("/vod/demo/s/{id}/audio_en-a1/media.m3u8");
    // Every beacon of the pre-roll fired once: the ad's and both wrappers'.
    let pre_roll_beacons = |ads: &AdServer| {
        let mut all = Vec::new();
        for e in EVENTS {
            all.push((e, "ad=1", count(ads, e, &id, "ad=1")));
        }
        for w in ["wrapper=outer", "wrapper=inner"] {
            for e in ["impression", "start", "complete"] {
                all.push((e, w, count(ads, e, &id, w)));
            }
        }
        all
    };
    eventually("the pre-roll's beacons", Duration::from_secs(5), || {
        pre_roll_beacons(&ads).iter().all(|(_, _, n)| *n >= 1)
    })
    .await;
    // Fetching it all again, and the audio's ad segments, fires nothing more.
    for uri in &pre_roll {
        get_ok(edge.addr, uri).await;
    }
    let audio = String::from_utf8_lossy(&get_ok(edge.addr, &audio_path).await).into_owned();
    assert_eq!(
        audio.matches("#EXT-X-DISCONTINUITY\n").count(),
        4,
        "{audio}"
    );
    for uri in segment_lines(&audio)
        .iter()
        .filter(|u| u.starts_with("../ad/0-0/"))
    {
        get_ok(edge.addr, &resolve(&audio_path, uri)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (e, whose, n) in pre_roll_beacons(&ads) {
        assert_eq!(n, 1, "{e} of {whose} for {id}");
    }
    // The pod has not been fetched: none of its second ad's beacons.
    assert_eq!(count(&ads, "impression", &id, "ad=2"), 0);

    // Audio and video of each ad start and end together, within one AAC frame, so the
    // splices back to the content keep A/V in sync.
    for slot in ["0-0", "1-0", "1-1"] {
        let video = bounds(&stretch(&edge, &playlist_path, slot, dir.path()).await);
        let audio = bounds(&stretch(&edge, &audio_path, slot, dir.path()).await);
        let frame = 1024.0 / 48_000.0;
        assert!(
            (video.0 - audio.0).abs() <= frame,
            "{slot} starts: video {video:?}, audio {audio:?}"
        );
        assert!(
            (video.1 - audio.1).abs() <= frame,
            "{slot} ends: video {video:?}, audio {audio:?}"
        );
    }
    // Fetching the pod fired its ads' beacons: the second ad's once each.
    eventually(
        "the pod's second ad's beacons",
        Duration::from_secs(5),
        || EVENTS[..6].iter().all(|e| count(&ads, e, &id, "ad=2") == 1),
    )
    .await;

    // Subtitles: an empty WebVTT document per ad segment.
    let subs_path = format!("/vod/demo/s/{id}/sub/en/media.m3u8");
    let subs = String::from_utf8_lossy(&get_ok(edge.addr, &subs_path).await).into_owned();
    assert_eq!(subs.matches("#EXT-X-DISCONTINUITY\n").count(), 4, "{subs}");
    let blank = segment_lines(&subs)
        .into_iter()
        .find(|u| u.ends_with("blank.vtt"))
        .unwrap();
    let blank = get_ok(edge.addr, &resolve(&subs_path, blank)).await;
    assert!(blank.starts_with(b"WEBVTT"));

    // MPEG-TS: the same breaks, TS ad segments that decode.
    let ts_path = format!("/vod/demo/s/{id}/ts/video_180p-v1/media.m3u8");
    let ts = String::from_utf8_lossy(&get_ok(edge.addr, &ts_path).await).into_owned();
    assert_eq!(ts.matches("#EXT-X-DISCONTINUITY\n").count(), 4, "{ts}");
    let ts_ad = segment_lines(&ts)
        .into_iter()
        .find(|u| u.contains("/ts/") && u.contains("ad/1-1/"))
        .unwrap();
    let ts_file = dir.path().join("fetched-ad.ts");
    std::fs::write(&ts_file, get_ok(edge.addr, &resolve(&ts_path, ts_ad)).await).unwrap();
    crate::common::decodes_cleanly(&ts_file);
    // The 44.1 kHz creative was conditioned to the content's 48 kHz.
    assert!(
        crate::common::streams(&ts_file)
            .iter()
            .any(|s| s.0 == "aac" && s.3 == "48000"),
        "{:?}",
        crate::common::streams(&ts_file)
    );

    // DASH: one Period per ad and per stretch of content.
    let mpd = session_playlist(&edge, &id, "manifest.mpd").await;
    assert_eq!(mpd.matches("<Period").count(), 5, "{mpd}");
    assert!(mpd.contains("<BaseURL>ad/0-0/"), "{mpd}");
    super::dash_subtitles::check(edge.addr, &id, &mpd).await;

    let m = metrics(&edge).await;
    expect_metric(&m, "edgepack_ad_breaks_total{result=\"filled\"}", 2.0);
    expect_metric(&m, "edgepack_ad_breaks_total{result=\"not_ready\"}", 2.0);
    assert!(
        metric(&m, "edgepack_ad_beacons_total{result=\"duplicate\"}") >= 1.0,
        "{m}"
    );
    expect_metric(&m, "edgepack_ad_sessions_total", 2.0);
    expect_metric(&m, "edgepack_ads_total{result=\"not_ready\"}", 3.0);

    let tracked: usize = EVENTS
        .iter()
        .map(|e| ads.seen(&format!("/t/{e}?s={id}&")).len())
        .sum();
    super::events::check(&events, &first, &id, tracked).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vmap_session_places_the_ad_servers_breaks() {
    let ads = ad_server().await;
    let dir = tempfile::tempdir().unwrap();
    let base = ads.url("");
    let edge = start_with(config_with(
        policy(format!("{base}/vast/vmap?sid=[session.id]"), true),
        dir.path(),
    ))
    .await;
    let (first, location) = open(&edge, "demo", "").await;
    get_ok(edge.addr, &location).await;
    assert_eq!(ads.seen(&format!("/vast/vmap?sid={first}")).len(), 1);
    assert_eq!(
        ads.seen(&format!("/vast/pod?sid={first}")).len(),
        2,
        "the mid-roll's pod and the wrappers' target"
    );
    conditioned(&edge, 2.0).await;
    let (id, _) = open(&edge, "demo", "").await;
    let playlist = session_playlist(&edge, &id, "video_270p-v1/media.m3u8").await;
    assert_eq!(
        playlist.matches("#EXT-X-DISCONTINUITY\n").count(),
        4,
        "{playlist}"
    );
    // The mid-roll at 12 s is after the third 4 s content segment.
    let lines = segment_lines(&playlist);
    let first_ad_after_content = lines
        .iter()
        .position(|u| u.starts_with("../ad/1-0/"))
        .unwrap();
    assert_eq!(
        &lines[first_ad_after_content - 3..first_ad_after_content],
        ["1.m4s", "2.m4s", "3.m4s"]
    );
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
