//! Stitched MPDs read back by dash-mpd: Periods, their timing, segment numbering and ids.

use super::*;

const CONTENT: &str = include_str!("../../testdata/demo_manifest.mpd");
const AD: &str = include_str!("../../testdata/ad_manifest.mpd");

fn ad(id: &str) -> AdPeriod {
    AdPeriod {
        id: id.into(),
        mpd: AD.into(),
        base_url: format!("/vod/_ads/{id}/"),
        blank_text: Some("../../blank.vtt".into()),
    }
}

fn stitched() -> dash_mpd::MPD {
    let text = stitch_mpd(
        CONTENT,
        &[
            DashBreak {
                before_segment: 0,
                ads: vec![ad("pre")],
            },
            DashBreak {
                before_segment: 3,
                ads: vec![ad("mid-a"), ad("mid-b")],
            },
            DashBreak {
                before_segment: 99,
                ads: vec![ad("post")],
            },
        ],
    )
    .unwrap();
    dash_mpd::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn secs(d: &Option<std::time::Duration>) -> f64 {
    d.map(|d| d.as_secs_f64()).unwrap_or(f64::NAN)
}

#[test]
fn one_period_per_ad_and_content_stretch_in_order_with_stable_ids() {
    let mpd = stitched();
    let ids: Vec<&str> = mpd
        .periods
        .iter()
        .map(|p| p.id.as_deref().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "ad-0-0-pre",
            "content-0",
            "ad-1-0-mid-a",
            "ad-1-1-mid-b",
            "content-1",
            "ad-2-0-post"
        ]
    );
    // Starts follow one another; durations add up to the whole.
    let mut t = 0.0;
    for p in &mpd.periods {
        let start = p.start.as_ref().map(|d| d.as_secs_f64()).unwrap();
        assert!(
            (start - t).abs() < 0.002,
            "{:?} starts at {start}, expected {t}",
            p.id
        );
        t += secs(&p.duration);
    }
    assert!((secs(&mpd.mediaPresentationDuration) - t).abs() < 0.002);
    // 8.023 s of ad four times, and the 30.021 s of content.
    assert!((t - (30.021 + 4.0 * 8.023)).abs() < 0.01, "{t}");
    // The content's cut is where its fourth segment starts (3 x 4 s).
    assert!((secs(&mpd.periods[1].duration) - 12.0).abs() < 0.002);
}

#[test]
fn content_periods_continue_the_numbering_and_timeline() {
    let mpd = stitched();
    let rep = |p: usize, set: usize| {
        mpd.periods[p].adaptations[set].representations[0]
            .SegmentTemplate
            .clone()
            .unwrap()
    };
    for set in 0..3 {
        let a = rep(1, set);
        let b = rep(4, set);
        let count =
            |t: &dash_mpd::SegmentTemplate| t.SegmentTimeline.as_ref().unwrap().segments.len();
        assert_eq!(a.startNumber, Some(1));
        assert_eq!(b.startNumber, Some(1 + count(&a) as u64), "set {set}");
        // presentationTimeOffset moves on by the first stretch (12 s).
        let (pa, pb) = (
            a.presentationTimeOffset.unwrap(),
            b.presentationTimeOffset.unwrap(),
        );
        let ts = a.timescale.unwrap();
        assert_eq!(pb - pa, 12 * ts, "set {set}");
    }
    // Every content segment is in exactly one content Period.
    let original = dash_mpd::parse(CONTENT).unwrap();
    let total = |mpd: &dash_mpd::MPD, periods: &[usize]| -> usize {
        periods
            .iter()
            .map(|&p| {
                mpd.periods[p].adaptations[0].representations[0]
                    .SegmentTemplate
                    .as_ref()
                    .unwrap()
                    .SegmentTimeline
                    .as_ref()
                    .unwrap()
                    .segments
                    .iter()
                    .map(|s| 1 + s.r.unwrap_or(0).max(0) as usize)
                    .sum::<usize>()
            })
            .sum()
    };
    assert_eq!(total(&mpd, &[1, 4]), total(&original, &[0]));
}

#[test]
fn ad_periods_match_the_content_adaptation_set_ids_and_resolve_against_their_own_base_url() {
    let mpd = stitched();
    let content_ids: Vec<Option<String>> = mpd.periods[1]
        .adaptations
        .iter()
        .map(|a| a.id.clone())
        .collect();
    let ad = &mpd.periods[2];
    assert_eq!(ad.BaseURL[0].base, "/vod/_ads/mid-a/");
    for a in &ad.adaptations {
        assert!(
            content_ids.contains(&a.id),
            "{:?} not among {content_ids:?}",
            a.id
        );
    }
}

fn text_files(p: &dash_mpd::Period) -> Vec<(Option<String>, String)> {
    p.adaptations
        .iter()
        .filter(|a| a.contentType.as_deref() == Some("text"))
        .flat_map(|a| {
            a.representations
                .iter()
                .map(|r| (a.id.clone(), r.BaseURL[0].base.clone()))
        })
        .collect()
}

#[test]
fn every_period_keeps_the_subtitles_content_periods_their_slice_of_the_file_ads_a_blank() {
    let original = dash_mpd::parse(CONTENT).unwrap();
    let want = text_files(&original.periods[0]);
    assert_eq!(want.len(), 2, "the demo has English and French: {want:?}");
    let mpd = stitched();
    for p in &mpd.periods {
        let files = text_files(p);
        let ids: Vec<_> = files.iter().map(|(id, _)| id.clone()).collect();
        let want_ids: Vec<_> = want.iter().map(|(id, _)| id.clone()).collect();
        assert_eq!(ids, want_ids, "period {:?}: the same text sets", p.id);
        let id = p.id.as_deref().unwrap();
        if id.starts_with("ad-") {
            assert!(
                files.iter().all(|(_, f)| f == "../../blank.vtt"),
                "{files:?}"
            );
            continue;
        }
        // Content periods: the file's slice for the Period's stretch of content.
        let start_ms = (secs(&p.start) * 1000.0).round() as u64;
        let len_ms = (secs(&p.duration) * 1000.0).round() as u64;
        for ((_, file), (_, whole)) in files.iter().zip(&want) {
            let stem = whole.strip_suffix(".vtt").unwrap();
            let range = file
                .strip_prefix(&format!("{stem}/period-"))
                .and_then(|r| r.strip_suffix(".vtt"))
                .unwrap_or_else(|| panic!("{file}"));
            let (from, to) = range.split_once('-').unwrap();
            let (from, to): (u64, u64) = (from.parse().unwrap(), to.parse().unwrap());
            assert_eq!(to - from, len_ms, "{id}: {file}");
            assert!(
                from <= start_ms,
                "content time never runs ahead of the timeline"
            );
        }
    }
    let content = |i: usize| text_files(&mpd.periods[i])[0].1.clone();
    assert_eq!(content(1), "sub/en/period-0-12000.vtt");
    // Without a blank document, an ad's Period has no text sets.
    let mut quiet = ad("q");
    quiet.blank_text = None;
    let text = stitch_mpd(
        CONTENT,
        &[DashBreak {
            before_segment: 0,
            ads: vec![quiet],
        }],
    )
    .unwrap();
    let mpd = dash_mpd::parse(&text).unwrap();
    assert!(text_files(&mpd.periods[0]).is_empty());
    assert_eq!(text_files(&mpd.periods[1]).len(), 2);
}

#[test]
fn no_break_keeps_one_content_period_and_bad_input_is_refused() {
    let one = dash_mpd::parse(&stitch_mpd(CONTENT, &[]).unwrap()).unwrap();
    assert_eq!(one.periods.len(), 1);
    assert!(stitch_mpd("<MPD/>", &[]).is_err());
    assert!(stitch_mpd("<VAST version=\"4.0\"/>", &[]).is_err());
    let bad_ad = AdPeriod {
        id: "x".into(),
        mpd: "<MPD>".into(),
        base_url: "/x/".into(),
        blank_text: None,
    };
    assert!(stitch_mpd(
        CONTENT,
        &[DashBreak {
            before_segment: 1,
            ads: vec![bad_ad]
        }]
    )
    .is_err());
    assert_eq!(parse_iso_duration("PT1H2M3.5S"), Some(3723.5));
    assert_eq!(parse_iso_duration("P1D"), None);
}

#[test]
fn content_after_a_break_is_period_connected_to_the_content_before() {
    let text = stitch_mpd(
        CONTENT,
        &[DashBreak {
            before_segment: 3,
            ads: vec![ad("mid")],
        }],
    )
    .unwrap();
    let mpd = dash_mpd::parse(&text).unwrap();
    // Media sets only: a text set's file is another slice in every Period.
    let connectivity = |p: &dash_mpd::Period| -> Vec<Option<String>> {
        p.adaptations
            .iter()
            .filter(|a| a.contentType.as_deref() != Some("text"))
            .map(|a| {
                a.supplemental_property
                    .iter()
                    .find(|s| s.schemeIdUri == "urn:mpeg:dash:period-connectivity:2015")
                    .and_then(|s| s.value.clone())
            })
            .collect()
    };
    let periods = &mpd.periods;
    assert_eq!(periods.len(), 3);
    assert!(connectivity(&periods[0]).iter().all(Option::is_none));
    assert!(
        connectivity(&periods[1]).iter().all(Option::is_none),
        "the ad is not"
    );
    let after = connectivity(&periods[2]);
    assert!(!after.is_empty());
    assert!(
        after.iter().all(|v| v.as_deref() == Some("content-0")),
        "{after:?}"
    );
    // Written before the sets' templates and Representations, where the schema wants it.
    let set = text.split("<Period id=\"content-1\"").nth(1).unwrap();
    let property = set.find("period-connectivity").unwrap();
    assert!(property < set.find("<Representation").unwrap());
}
