//! Output that must match the source exactly: every sample appears once with its bytes
//! unchanged in the CMAF output, and audio stays in sync with video in every TS segment.

use std::path::Path;

use crate::common::*;

/// (data hash, size) of every packet of stream `select` (e.g. `v:0`), in decode order.
fn packet_hashes(file: &Path, select: &str) -> Vec<(String, i64)> {
    let v = ffprobe(
        file,
        &[
            "-select_streams",
            select,
            "-show_packets",
            "-show_data_hash",
            "md5",
            "-show_entries",
            "packet=data_hash,size",
        ],
    );
    v["packets"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| {
            (
                p["data_hash"].as_str().unwrap_or("").to_owned(),
                p["size"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn cmaf_payloads_equal_the_source_samples() {
    let server = start(test_media()).await;
    let tmp = tempfile::tempdir().unwrap();
    for (file, renditions) in [
        (
            "two_audio_languages.mp4",
            vec![("v1", "v:0"), ("a2", "a:0"), ("a3", "a:1")],
        ),
        ("h264_bframes_ctts_v1_29.97fps.mp4", vec![("v1", "v:0")]),
        ("hevc_hvc1_25fps.mp4", vec![("v1", "v:0")]),
        ("h264_co64.mp4", vec![("v1", "v:0"), ("a2", "a:0")]),
        ("eac3_48k.mp4", vec![("a1", "a:0")]),
    ] {
        let source = test_media().join(file);
        for (rendition, select) in renditions {
            let base = format!("/vod/{file}/{rendition}");
            let playlist = get_ok(server.addr, &format!("{base}/media.m3u8")).await;
            let mut whole = get_ok(server.addr, &format!("{base}/init.mp4"))
                .await
                .to_vec();
            for uri in playlist_uris(&String::from_utf8_lossy(&playlist)) {
                whole.extend_from_slice(&get_ok(server.addr, &format!("{base}/{uri}")).await);
            }
            let out = tmp.path().join("whole.mp4");
            std::fs::write(&out, &whole).unwrap();
            let want = packet_hashes(&source, select);
            let got = packet_hashes(&out, "0");
            assert!(!want.is_empty());
            assert_eq!(
                got, want,
                "{file} {rendition}: sample bytes differ from the source"
            );
        }
    }
}

/// First presentation time (seconds) of each stream of a TS segment.
fn first_pts(file: &Path) -> Vec<f64> {
    let v = ffprobe(
        file,
        &[
            "-show_packets",
            "-show_entries",
            "packet=stream_index,pts_time",
        ],
    );
    let mut firsts = vec![f64::MAX; 2];
    for p in v["packets"].as_array().cloned().unwrap_or_default() {
        let i = p["stream_index"].as_u64().unwrap_or(0) as usize;
        let t: f64 = p["pts_time"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(f64::MAX);
        if i < 2 {
            firsts[i] = firsts[i].min(t);
        }
    }
    firsts
}

#[tokio::test(flavor = "multi_thread")]
async fn ts_segments_keep_audio_in_sync_with_video() {
    let server = start(test_media()).await;
    let tmp = tempfile::tempdir().unwrap();
    for (file, audio_frame) in [
        ("h264_avc1_25fps_aac_48k_moov_first.mp4", 1024.0 / 48000.0),
        ("h264_25fps_aac_44.1k.mp4", 1024.0 / 44100.0),
        ("long_gop_10s.mp4", 1024.0 / 48000.0),
    ] {
        // In the source, with the edit lists applied: where audio starts relative to video.
        let src = first_pts(&test_media().join(file));
        let source_lead = src[1] - src[0];
        let playlist = get_ok(server.addr, &format!("/vod/{file}/ts/v1/media.m3u8")).await;
        let uris = playlist_uris(&String::from_utf8_lossy(&playlist));
        assert!(!uris.is_empty());
        for uri in uris {
            let body = get_ok(server.addr, &format!("/vod/{file}/ts/v1/{uri}")).await;
            let path = tmp.path().join("seg.ts");
            std::fs::write(&path, &body).unwrap();
            let firsts = first_pts(&path);
            let gap = firsts[1] - firsts[0];
            assert!(
                gap >= source_lead - 1e-3 - 0.002 && gap <= audio_frame + 0.002,
                "{file} {uri}: audio starts {gap:.4} s after video (one frame is {audio_frame:.4} s)"
            );
        }
    }
}
