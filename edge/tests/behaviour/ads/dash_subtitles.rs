//! Subtitles in a stitched MPD (what the stitched session test, sessions.rs, checks of its
//! MPD): every Period keeps the English and French text sets; a content Period's files are
//! the slices of the WebVTT files its stretch covers, with cue times from the Period's start;
//! an ad's Period's files are the session's empty document.

use std::net::SocketAddr;

use super::sessions::resolve;
use crate::common::get_ok;

/// Every text Representation's file in `mpd` (of session `id` of the demo), fetched.
pub(super) async fn check(addr: SocketAddr, id: &str, mpd: &str) {
    let doc = roxmltree::Document::parse(mpd).unwrap();
    let periods: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("Period"))
        .collect();
    assert_eq!(periods.len(), 5, "{mpd}");
    let mut slices = 0;
    for period in periods {
        let period_id = period.attribute("id").unwrap();
        let base = period
            .children()
            .find(|n| n.has_tag_name("BaseURL"))
            .and_then(|n| n.text())
            .unwrap_or("");
        let files: Vec<&str> = period
            .descendants()
            .filter(|n| {
                n.has_tag_name("AdaptationSet") && n.attribute("contentType") == Some("text")
            })
            .flat_map(|set| set.descendants().filter(|n| n.has_tag_name("BaseURL")))
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(files.len(), 2, "{period_id}: English and French: {mpd}");
        for file in files {
            let url = resolve(&format!("/vod/demo/s/{id}/{base}"), file);
            let body = String::from_utf8(get_ok(addr, &url).await.to_vec()).unwrap();
            assert!(body.starts_with("WEBVTT"), "{url}: {body}");
            if period_id.starts_with("ad-") {
                assert!(url.ends_with(&format!("/s/{id}/blank.vtt")), "{url}");
                assert!(!body.contains("-->"), "no cue during an ad: {body}");
                continue;
            }
            slices += 1;
            let range = file.rsplit_once("period-").unwrap().1;
            let (from, to) = range.trim_end_matches(".vtt").split_once('-').unwrap();
            let len: u64 = to.parse::<u64>().unwrap() - from.parse::<u64>().unwrap();
            let cues = packager::vtt::parse_vtt("slice", &body).unwrap().cues;
            assert!(
                !cues.is_empty(),
                "the demo has a cue in every stretch: {url}\n{body}"
            );
            assert!(
                cues.iter().all(|c| c.end_ms <= len),
                "cue times are the Period's ({len} ms): {body}"
            );
        }
    }
    assert_eq!(slices, 4, "two content Periods, two languages");
}
