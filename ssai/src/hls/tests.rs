//! Stitched media playlists read back by m3u8-rs, and their discontinuities, maps and keys.

use super::*;
use m3u8_rs::{MediaPlaylist, Playlist};

const VIDEO: &str = include_str!("../../testdata/demo_video_180p_media.m3u8");
const SUBS: &str = include_str!("../../testdata/demo_sub_en_media.m3u8");

fn ad(name: &str, durations: &[f64], key: Option<&str>) -> AdSegments {
    AdSegments {
        map_uri: Some(format!("/ads/{name}/init.mp4")),
        key_lines: key.map(str::to_owned).into_iter().collect(),
        segments: durations
            .iter()
            .enumerate()
            .map(|(i, d)| (*d, format!("/ads/{name}/{}.m4s", i + 1)))
            .collect(),
    }
}

fn parsed(text: &str) -> MediaPlaylist {
    match m3u8_rs::parse_playlist_res(text.as_bytes()) {
        Ok(Playlist::MediaPlaylist(m)) => m,
        other => panic!("not a media playlist: {other:?}\n{text}"),
    }
}

fn breaks() -> Vec<Break> {
    vec![
        Break {
            before_segment: 0,
            ads: vec![ad("pre", &[4.0, 2.0], None)],
        },
        Break {
            before_segment: 3,
            ads: vec![ad("mid1", &[4.0, 4.0], None), ad("mid2", &[6.0], None)],
        },
        Break {
            before_segment: 8,
            ads: vec![ad("post", &[4.0], None)],
        },
    ]
}

#[test]
fn pre_mid_pod_and_post_roll_with_a_discontinuity_and_map_at_every_boundary() {
    let text = stitch(VIDEO, &breaks()).unwrap();
    let m = parsed(&text);
    let original = parsed(VIDEO);
    assert_eq!(m.segments.len(), original.segments.len() + 2 + 3 + 1);
    // Boundaries: pre -> content, content -> mid1, mid1 -> mid2, mid2 -> content,
    // content -> post. A pre-roll starts the playlist with no discontinuity.
    let uris: Vec<&str> = m.segments.iter().map(|s| s.uri.as_str()).collect();
    let disc: Vec<usize> = m
        .segments
        .iter()
        .enumerate()
        .filter(|(_, s)| s.discontinuity)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(disc, [2, 5, 7, 8, 13], "{uris:?}");
    assert!(m.segments[0].map.is_some(), "the pre-roll has its map");
    for &i in &disc {
        assert!(m.segments[i].map.is_some(), "no EXT-X-MAP at {}", uris[i]);
    }
    assert_eq!(m.segments[2].map.as_ref().unwrap().uri, "init.mp4");
    assert_eq!(
        m.segments[5].map.as_ref().unwrap().uri,
        "/ads/mid1/init.mp4"
    );
    assert_eq!(uris[2..5], ["1.m4s", "2.m4s", "3.m4s"]);
    assert_eq!(uris[13], "/ads/post/1.m4s");
    // The longest segment (the 6 s ad) sets the target duration.
    assert_eq!(m.target_duration, 6);
    assert!(m.end_list);
    let total: f32 = m.segments.iter().map(|s| s.duration).sum();
    let content: f32 = original.segments.iter().map(|s| s.duration).sum();
    assert!(
        (total - content - 24.0).abs() < 0.01,
        "{total} vs {content}"
    );
}

#[test]
fn subtitles_get_the_same_boundaries() {
    let subs_breaks: Vec<Break> = breaks()
        .into_iter()
        .map(|b| Break {
            ads: b
                .ads
                .iter()
                .map(|a| AdSegments {
                    map_uri: None,
                    key_lines: Vec::new(),
                    segments: a
                        .segments
                        .iter()
                        .map(|(d, _)| (*d, "/ads/empty.vtt".into()))
                        .collect(),
                })
                .collect(),
            ..b
        })
        .collect();
    let v = parsed(&stitch(VIDEO, &breaks()).unwrap());
    let s = parsed(&stitch(SUBS, &subs_breaks).unwrap());
    let d = |m: &MediaPlaylist| -> Vec<usize> {
        m.segments
            .iter()
            .enumerate()
            .filter(|(_, s)| s.discontinuity)
            .map(|(i, _)| i)
            .collect()
    };
    assert_eq!(d(&v), d(&s));
    assert_eq!(v.segments.len(), s.segments.len());
}

#[test]
fn keys_change_at_the_boundaries_and_a_clear_ad_in_encrypted_content_says_none() {
    let key = "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://k1\",KEYFORMAT=\"com.apple.streamingkeydelivery\"";
    let encrypted = VIDEO.replacen(
        "#EXT-X-MAP:URI=\"init.mp4\"",
        &format!("#EXT-X-MAP:URI=\"init.mp4\"\n{key}"),
        1,
    );
    let ad_key = "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://k1\",KEYFORMAT=\"com.apple.streamingkeydelivery\"";
    let b = vec![
        Break {
            before_segment: 2,
            ads: vec![ad("clear", &[4.0], None)],
        },
        Break {
            before_segment: 4,
            ads: vec![ad("enc", &[4.0], Some(ad_key))],
        },
    ];
    let text = stitch(&encrypted, &b).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let at = |uri: &str| lines.iter().position(|l| *l == uri).unwrap();
    // The clear ad: METHOD=NONE before it, the content key again after it.
    let clear = at("/ads/clear/1.m4s");
    assert!(
        lines[..clear]
            .iter()
            .rev()
            .take(4)
            .any(|l| *l == "#EXT-X-KEY:METHOD=NONE"),
        "{text}"
    );
    let third = at("3.m4s");
    assert!(lines[clear..third].contains(&key), "{text}");
    // The encrypted ad carries its key.
    let enc = at("/ads/enc/1.m4s");
    assert!(lines[third..enc].contains(&ad_key), "{text}");
    // m3u8-rs reads it all.
    assert_eq!(
        parsed(&text).segments.len(),
        parsed(VIDEO).segments.len() + 2
    );
}

#[test]
fn every_drm_systems_key_line_is_written_again_after_a_break() {
    let fairplay = "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://k1\",KEYFORMAT=\"com.apple.streamingkeydelivery\",KEYFORMATVERSIONS=\"1\"";
    let widevine = "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"data:text/plain;base64,AAAA\",KEYFORMAT=\"urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed\",KEYFORMATVERSIONS=\"1\"";
    let encrypted = VIDEO.replacen(
        "#EXT-X-MAP:URI=\"init.mp4\"",
        &format!("#EXT-X-MAP:URI=\"init.mp4\"\n{fairplay}\n{widevine}"),
        1,
    );
    let text = stitch(
        &encrypted,
        &[Break {
            before_segment: 2,
            ads: vec![ad("clear", &[4.0], None)],
        }],
    )
    .unwrap();
    // Both systems before the first segment and again after the break.
    assert_eq!(text.matches(fairplay).count(), 2, "{text}");
    assert_eq!(text.matches(widevine).count(), 2, "{text}");
    let after = &text[text.find("/ads/clear/1.m4s").unwrap()..];
    let third = after.find("\n3.m4s").unwrap();
    assert!(
        after[..third].contains(fairplay) && after[..third].contains(widevine),
        "{text}"
    );
}

#[test]
fn a_ts_ad_in_fmp4_content_is_refused() {
    let ts_ad = AdSegments {
        map_uri: None,
        key_lines: Vec::new(),
        segments: vec![(4.0, "/ads/x/1.ts".into())],
    };
    let b = [Break {
        before_segment: 1,
        ads: vec![ts_ad],
    }];
    assert_eq!(stitch(VIDEO, &b), Err(StitchError::MixedFlavours));
}

#[test]
fn what_is_not_a_media_playlist_or_a_break_out_of_range_is_refused() {
    for bad in [
        "",
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n",
        "#EXTM3U\nseg.m4s\n",
        "#EXTM3U\n#EXT-X-TARGETDURATION:x\n",
    ] {
        assert!(stitch(bad, &[]).is_err(), "{bad:?}");
    }
    let far = vec![Break {
        before_segment: 99,
        ads: vec![ad("x", &[1.0], None)],
    }];
    assert!(matches!(
        stitch(VIDEO, &far),
        Err(StitchError::BreakOutOfRange { .. })
    ));
    // No break: the same segments.
    assert_eq!(
        parsed(&stitch(VIDEO, &[]).unwrap()).segments,
        parsed(VIDEO).segments
    );
}
