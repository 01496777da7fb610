//! Faults of a session's ad chain, each giving the content alone (playback never stops) and
//! the reason counted: an ad server that answers 500, too late or with no ad; a wrapper loop
//! and a 6-deep chain (302 at the error URLs of every server on the ad's way); a creative that
//! cannot be fetched (407 while its job runs, then 401 once it failed). A break the ad server
//! left empty plays the slate.

use std::time::{Duration, Instant};

use super::ad_server::{AdServer, Answer};
use super::sessions::{
    config, document, eventually, expect_metric, metrics, open, session_playlist,
};
use crate::common::{get_ok, metric, playlist_uris, start_with, TestServer};

/// A wrapper (testdata's outer wrapper) whose ad tag is `next`.
fn wrapper_to(base: &str, next: &str) -> String {
    document("wrapper_outer.xml", base).replace(
        &format!("{base}/vast/wrapper-inner?sid={{session}}"),
        &format!("{base}{next}"),
    )
}

/// An edge whose pre-roll comes from `avail_1` (the mid-roll is empty), and a session.
async fn session_with(ads: &AdServer, avail_1: Answer) -> (TestServer, tempfile::TempDir, String) {
    ads.set("/vast/avail-1", avail_1);
    ads.set("/vast/avail-2", Answer::vast("<VAST version=\"4.2\"/>"));
    ads.set("/t/error", Answer::vast(""));
    let dir = tempfile::tempdir().unwrap();
    let edge = start_with(config(&ads.url(""), dir.path())).await;
    let (id, location) = open(&edge, "demo", "").await;
    get_ok(edge.addr, &location).await;
    (edge, dir, id)
}

/// The session's playlist is the content's.
async fn content_alone(edge: &TestServer, id: &str) {
    let shared = get_ok(edge.addr, "/vod/demo/video_180p-v1/media.m3u8").await;
    let session = get_ok(
        edge.addr,
        &format!("/vod/demo/s/{id}/video_180p-v1/media.m3u8"),
    )
    .await;
    assert_eq!(shared, session);
}

/// Error beacons the ad server got for session `id`, as `code=N` of each.
fn error_codes(ads: &AdServer, id: &str) -> Vec<String> {
    ads.seen(&format!("/t/error?s={id}&"))
        .iter()
        .map(|s| s.path_and_query.rsplit('&').next().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrapper_loop_ends_in_302_and_the_content_plays() {
    let ads = AdServer::start().await;
    let base = ads.url("");
    ads.set(
        "/vast/loop",
        Answer::vast(&wrapper_to(&base, "/vast/loop?sid={session}")),
    );
    let (edge, _dir, id) = session_with(
        &ads,
        Answer::vast(&wrapper_to(&base, "/vast/loop?sid={session}")),
    )
    .await;
    content_alone(&edge, &id).await;
    eventually("the loop's error beacons", Duration::from_secs(5), || {
        !error_codes(&ads, &id).is_empty()
    })
    .await;
    assert!(
        error_codes(&ads, &id).iter().all(|c| c == "code=302"),
        "{:?}",
        error_codes(&ads, &id)
    );
    assert!(
        ads.seen("/vast/loop").len() <= 2,
        "the loop was followed: {:?}",
        ads.seen("/vast/loop")
    );
    let m = metrics(&edge).await;
    expect_metric(&m, "edgepack_ad_breaks_total{result=\"error\"}", 1.0);
    expect_metric(&m, "edgepack_ad_breaks_total{result=\"empty\"}", 1.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_six_deep_chain_ends_in_302_at_every_wrapper_and_the_content_plays() {
    let ads = AdServer::start().await;
    let base = ads.url("");
    for level in 2..=6 {
        ads.set(
            &format!("/vast/w{level}"),
            Answer::vast(&wrapper_to(
                &base,
                &format!("/vast/w{}?sid={{session}}", level + 1),
            )),
        );
    }
    ads.set(
        "/vast/w7",
        Answer::vast(&document("pod_two_ads.xml", &base)),
    );
    let (edge, _dir, id) = session_with(
        &ads,
        Answer::vast(&wrapper_to(&base, "/vast/w2?sid={session}")),
    )
    .await;
    content_alone(&edge, &id).await;
    // Five wrappers followed (max_wrappers), the sixth refused: every one of the six is told.
    eventually("the chain's error beacons", Duration::from_secs(5), || {
        error_codes(&ads, &id).len() == 6
    })
    .await;
    assert!(
        error_codes(&ads, &id).iter().all(|c| c == "code=302"),
        "{:?}",
        error_codes(&ads, &id)
    );
    assert!(
        ads.seen("/vast/w7").is_empty(),
        "the chain went past its limit"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_creative_that_cannot_be_fetched_is_407_then_401_and_the_content_plays() {
    let ads = AdServer::start().await;
    let base = ads.url("");
    // The pod's first creative is missing (404 from the ad server); the second is there.
    let pod =
        document("pod_two_ads.xml", &base).replace("/creative/one.mp4", "/creative/missing.mp4");
    ads.set(
        "/creative/two.mp4",
        Answer::file(
            std::fs::read(crate::common::test_media().join("h264_25fps_aac_44.1k.mp4")).unwrap(),
        ),
    );
    let (edge, _dir, first) = session_with(&ads, Answer::vast(&pod)).await;
    content_alone(&edge, &first).await;
    eventually(
        "407 for both ads of the first session",
        Duration::from_secs(5),
        || error_codes(&ads, &first).len() == 2,
    )
    .await;
    assert!(error_codes(&ads, &first).iter().all(|c| c == "code=407"));
    // The missing creative's job fails; the other's is done.
    let start = Instant::now();
    loop {
        let m = metrics(&edge).await;
        let done = metric(&m, "edgepack_ad_conditioning_jobs_total{result=\"done\"}");
        let failed = metric(&m, "edgepack_ad_conditioning_jobs_total{result=\"failed\"}");
        if done + failed >= 2.0 {
            assert_eq!((done, failed), (1.0, 1.0), "{m}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "{m}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The next session plays the second ad alone; the first is reported with 401.
    let (id, location) = open(&edge, "demo", "").await;
    get_ok(edge.addr, &location).await;
    let playlist = session_playlist(&edge, &id, "video_180p-v1/media.m3u8").await;
    assert_eq!(
        playlist.matches("#EXT-X-DISCONTINUITY\n").count(),
        1,
        "{playlist}"
    );
    assert!(
        playlist.contains("../ad/0-1/"),
        "the second ad plays: {playlist}"
    );
    assert!(!playlist.contains("../ad/0-0/"), "{playlist}");
    eventually(
        "401 for the missing creative",
        Duration::from_secs(5),
        || error_codes(&ads, &id) == ["code=401"],
    )
    .await;
    let m = metrics(&edge).await;
    expect_metric(&m, "edgepack_ads_total{result=\"failed\"}", 1.0);
    expect_metric(&m, "edgepack_ads_total{result=\"played\"}", 1.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_break_left_empty_plays_the_slate() {
    let ads = AdServer::start().await;
    let empty = Answer::vast("<VAST version=\"4.2\"/>");
    ads.set("/vast/avail-1", empty.clone());
    ads.set("/vast/avail-2", empty);
    ads.set(
        "/slate.mp4",
        Answer::file(
            std::fs::read(
                crate::common::test_media().join("h264_avc1_25fps_aac_48k_moov_first.mp4"),
            )
            .unwrap(),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(&ads.url(""), dir.path());
    c.ads.policies[0].rules.slate = Some(ads.url("/slate.mp4"));
    let edge = start_with(c).await;
    // The first session asks for the slate; it is conditioned like a creative.
    let (first, location) = open(&edge, "demo", "").await;
    get_ok(edge.addr, &location).await;
    content_alone(&edge, &first).await;
    super::sessions::conditioned(&edge, 1.0).await;
    let (id, location) = open(&edge, "demo", "").await;
    get_ok(edge.addr, &location).await;
    let playlist = session_playlist(&edge, &id, "video_180p-v1/media.m3u8").await;
    assert!(playlist.contains("../ad/0-slate/"), "{playlist}");
    assert!(playlist.contains("../ad/1-slate/"), "{playlist}");
    // The breaks still count as empty: the slate is no ad.
    let m = metrics(&edge).await;
    expect_metric(&m, "edgepack_ad_breaks_total{result=\"empty\"}", 4.0);
    expect_metric(&m, "edgepack_ad_breaks_total{result=\"filled\"}", 0.0);
}

/// The content alone, and the reason counted, for an ad server that fails.
async fn content_alone_when(answer: Answer, reason: &str) {
    let ads = AdServer::start().await;
    ads.set("/vast/avail-1", answer.clone());
    ads.set("/vast/avail-2", answer);
    let dir = tempfile::tempdir().unwrap();
    let edge = start_with(config(&ads.url(""), dir.path())).await;
    let (id, location) = open(&edge, "demo", "").await;
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
    content_alone_when(
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
    content_alone_when(
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
    content_alone_when(Answer::vast("<VAST version=\"4.0\"/>"), "empty").await;
}
