//! Every test file made by scripts/make-test-media.sh, packaged in every output kind through
//! the daemon: playlists parse with independent parsers, and ffprobe/ffmpeg read every
//! segment with the source's codecs, dimensions and sample rates.

use std::path::Path;

use crate::common::*;

type Streams = Vec<(String, i64, i64, String)>;

/// The source's streams as ffprobe sees them (video first, then audio, as we package).
fn source_streams(file: &Path) -> (Streams, Streams) {
    let all = streams(file);
    let video = all.iter().filter(|s| s.1 > 0).cloned().collect();
    let audio = all.iter().filter(|s| s.1 == 0).cloned().collect();
    (video, audio)
}

fn write_temp(dir: &Path, name: &str, parts: &[&[u8]]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, parts.concat()).unwrap();
    path
}

fn test_files() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(test_media())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".mp4"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 15,
        "test media missing: run scripts/make-test-media.sh"
    );
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn every_test_file_packages_as_hls_cmaf() {
    let server = start(test_media()).await;
    let tmp = tempfile::tempdir().unwrap();
    for name in test_files() {
        let (video, audio) = source_streams(&test_media().join(&name));
        let master_text = get_ok(server.addr, &format!("/vod/{name}/master.m3u8")).await;
        let master = match m3u8_rs::parse_playlist_res(&master_text) {
            Ok(m3u8_rs::Playlist::MasterPlaylist(m)) => m,
            other => panic!("{name}: master does not parse: {other:?}"),
        };
        let mut media_uris: Vec<String> = master
            .variants
            .iter()
            .filter(|v| !v.is_i_frame)
            .map(|v| v.uri.clone())
            .collect();
        for iframe in master.variants.iter().filter(|v| v.is_i_frame) {
            let text = get_ok(server.addr, &format!("/vod/{name}/{}", iframe.uri)).await;
            let text = String::from_utf8_lossy(&text);
            assert!(text.contains("#EXT-X-I-FRAMES-ONLY"), "{name}");
            assert!(text.contains("#EXT-X-BYTERANGE:"), "{name}");
        }
        media_uris.extend(master.alternatives.iter().filter_map(|a| a.uri.clone()));
        media_uris.retain(|u| !u.starts_with("sub/"));
        media_uris.sort();
        media_uris.dedup();
        assert_eq!(
            media_uris.len(),
            video.len() + audio.len(),
            "{name}: one media playlist per track"
        );
        for uri in media_uris {
            let rendition = uri.trim_end_matches("/media.m3u8");
            let base = format!("/vod/{name}/{rendition}");
            let text = get_ok(server.addr, &format!("{base}/media.m3u8")).await;
            let media = match m3u8_rs::parse_playlist_res(&text) {
                Ok(m3u8_rs::Playlist::MediaPlaylist(m)) => m,
                other => panic!("{name} {uri}: does not parse: {other:?}"),
            };
            assert!(media.end_list && media.version == Some(7));
            let longest = media
                .segments
                .iter()
                .map(|s| s.duration)
                .fold(0.0, f32::max);
            assert_eq!(media.target_duration, longest.ceil() as u64, "{name} {uri}");
            let init = get_ok(server.addr, &format!("{base}/init.mp4")).await;
            let is_video = rendition.contains('v');
            let expected = if is_video { &video } else { &audio };
            for seg in &media.segments {
                let body = get_ok(server.addr, &format!("{base}/{}", seg.uri)).await;
                let file = write_temp(tmp.path(), "seg.mp4", &[&init, &body]);
                let got = streams(&file);
                assert_eq!(got.len(), 1, "{name} {uri} {}", seg.uri);
                assert!(
                    expected.contains(&got[0]),
                    "{name} {uri} {}: {:?} not among the source's {:?}",
                    seg.uri,
                    got[0],
                    expected
                );
                decodes_cleanly(&file);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_test_file_packages_as_hls_ts() {
    let server = start(test_media()).await;
    let tmp = tempfile::tempdir().unwrap();
    for name in test_files() {
        let (video, audio) = source_streams(&test_media().join(&name));
        let text = get_ok(server.addr, &format!("/vod/{name}/ts/master.m3u8")).await;
        let master = match m3u8_rs::parse_playlist_res(&text) {
            Ok(m3u8_rs::Playlist::MasterPlaylist(m)) => m,
            other => panic!("{name}: TS master does not parse: {other:?}"),
        };
        for variant in master.variants.iter().filter(|v| !v.is_i_frame) {
            let base = format!(
                "/vod/{name}/ts/{}",
                variant.uri.trim_end_matches("/media.m3u8")
            );
            let text = get_ok(server.addr, &format!("{base}/media.m3u8")).await;
            let media = match m3u8_rs::parse_playlist_res(&text) {
                Ok(m3u8_rs::Playlist::MediaPlaylist(m)) => m,
                other => panic!("{name}: TS media playlist does not parse: {other:?}"),
            };
            for seg in &media.segments {
                let body = get_ok(server.addr, &format!("{base}/{}", seg.uri)).await;
                assert_eq!(body.len() % 188, 0, "{name}: whole TS packets");
                let file = write_temp(tmp.path(), "seg.ts", &[&body]);
                let got = streams(&file);
                // Video variants carry the default (first) audio muxed in.
                let mut want = Vec::new();
                if video.is_empty() {
                    want.push(audio[0].clone());
                } else {
                    want.push(video[0].clone());
                    if let Some(a) = audio.first() {
                        want.push(a.clone());
                    }
                }
                assert_eq!(got, want, "{name} {}", seg.uri);
                decodes_cleanly(&file);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_test_file_packages_as_dash() {
    let server = start(test_media()).await;
    for name in test_files() {
        let (video, audio) = source_streams(&test_media().join(&name));
        let text = get(server.addr, &format!("/vod/{name}/manifest.mpd")).await;
        assert_eq!(text.status, 200);
        assert_eq!(text.header("content-type"), Some("application/dash+xml"));
        let mpd = dash_mpd::parse(&text.text()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(mpd.mpdtype.as_deref(), Some("static"));
        let period = &mpd.periods[0];
        let reps: usize = period
            .adaptations
            .iter()
            .map(|a| a.representations.len())
            .sum();
        assert_eq!(reps, video.len() + audio.len(), "{name}");
        for set in &period.adaptations {
            assert_eq!(set.segmentAlignment, Some(true), "{name}");
            for rep in &set.representations {
                let template = rep.SegmentTemplate.as_ref().expect("SegmentTemplate");
                let timeline = template.SegmentTimeline.as_ref().expect("SegmentTimeline");
                let count: u64 = timeline
                    .segments
                    .iter()
                    .map(|s| 1 + s.r.unwrap_or(0).max(0) as u64)
                    .sum();
                let id = rep.id.as_deref().unwrap();
                // The same segment URLs as HLS-CMAF: the last one exists, one past it does not.
                get_ok(server.addr, &format!("/vod/{name}/{id}/{count}.m4s")).await;
                let past = get(server.addr, &format!("/vod/{name}/{id}/{}.m4s", count + 1)).await;
                assert_eq!(past.status, 404, "{name} {id}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_title_has_ladder_languages_and_subtitles() {
    let server = start(demo_media()).await;
    let master = get_ok(server.addr, "/vod/demo/master.m3u8").await;
    let master = match m3u8_rs::parse_playlist_res(&master) {
        Ok(m3u8_rs::Playlist::MasterPlaylist(m)) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(master.variants.iter().filter(|v| !v.is_i_frame).count(), 3);
    assert_eq!(master.variants.iter().filter(|v| v.is_i_frame).count(), 3);
    let langs: Vec<_> = master
        .alternatives
        .iter()
        .map(|a| {
            (
                format!("{:?}", a.media_type),
                a.language.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert!(langs.contains(&("Audio".into(), "en".into())), "{langs:?}");
    assert!(langs.contains(&("Audio".into(), "fr".into())), "{langs:?}");
    assert!(
        langs.contains(&("Subtitles".into(), "en".into())),
        "{langs:?}"
    );
    let subs = get_ok(server.addr, "/vod/demo/sub/en/media.m3u8").await;
    let uris = playlist_uris(&String::from_utf8_lossy(&subs));
    let mut cues = 0;
    for uri in &uris {
        let vtt = get_ok(server.addr, &format!("/vod/demo/sub/en/{uri}")).await;
        let text = String::from_utf8_lossy(&vtt);
        assert!(
            text.starts_with("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:"),
            "{text}"
        );
        cues += text.matches("-->").count();
    }
    assert!(cues >= 9, "every cue appears in some segment: {cues}");
    let ts_sub = get_ok(server.addr, "/vod/demo/ts/sub/en/1.vtt").await;
    assert!(String::from_utf8_lossy(&ts_sub).contains("MPEGTS:9"));
    let whole = get_ok(server.addr, "/vod/demo/sub/en.vtt").await;
    assert!(String::from_utf8_lossy(&whole).starts_with("WEBVTT"));
    // Aligned GOPs give aligned segments in every rendition.
    let mpd = get(server.addr, "/vod/demo/manifest.mpd").await.text();
    assert!(mpd.contains("segmentAlignment=\"true\""));
}
