//! Every ad segment a session names, in every CMAF rendition and TS variant, is one ffprobe
//! reads (its map first, for CMAF).

use super::sessions::{ad_server, conditioned, config, open, resolve, segment_lines};
use crate::common::{get_ok, start_with};

#[tokio::test(flavor = "multi_thread")]
async fn ffprobe_reads_every_ad_segment_of_every_rendition() {
    let ads = ad_server().await;
    let dir = tempfile::tempdir().unwrap();
    let edge = start_with(config(&ads.url(""), dir.path())).await;
    let (_, location) = open(&edge, "demo", "").await;
    get_ok(edge.addr, &location).await;
    conditioned(&edge, 2.0).await;
    let (id, _) = open(&edge, "demo", "").await;
    let mut read = 0;
    for master in ["master.m3u8", "ts/master.m3u8"] {
        let master_path = format!("/vod/demo/s/{id}/{master}");
        let text = String::from_utf8_lossy(&get_ok(edge.addr, &master_path).await).into_owned();
        let mut playlists: Vec<String> = segment_lines(&text)
            .iter()
            .map(|u| resolve(&master_path, u))
            .collect();
        playlists.extend(
            text.lines()
                .filter(|l| l.starts_with("#EXT-X-MEDIA:TYPE=AUDIO"))
                .filter_map(|l| l.split("URI=\"").nth(1)?.split('"').next())
                .map(|u| resolve(&master_path, u)),
        );
        for playlist_path in playlists {
            let playlist =
                String::from_utf8_lossy(&get_ok(edge.addr, &playlist_path).await).into_owned();
            let mut map = None;
            for line in playlist.lines() {
                if let Some(uri) = line.strip_prefix("#EXT-X-MAP:URI=\"") {
                    map = Some(resolve(&playlist_path, uri.trim_end_matches('"')));
                    continue;
                }
                if line.starts_with('#') || !line.contains("ad/") {
                    continue;
                }
                let mut bytes = match &map {
                    Some(m) if !master.starts_with("ts/") => get_ok(edge.addr, m).await.to_vec(),
                    _ => Vec::new(),
                };
                bytes.extend_from_slice(&get_ok(edge.addr, &resolve(&playlist_path, line)).await);
                let file = dir.path().join(format!("ad-{read}"));
                std::fs::write(&file, &bytes).unwrap();
                let v = crate::common::ffprobe(
                    &file,
                    &[
                        "-count_packets",
                        "-show_entries",
                        "stream=codec_name,nb_read_packets",
                    ],
                );
                let streams = v["streams"].as_array().unwrap();
                assert!(!streams.is_empty(), "{line}: no stream");
                for s in streams {
                    let packets: u64 = s["nb_read_packets"]
                        .as_str()
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0);
                    assert!(packets > 0, "{line}: {s}");
                }
                read += 1;
            }
        }
    }
    // 3 ads × 2 segments, in 3 video and 2 audio CMAF renditions and 3 TS variants and 1 TS audio.
    assert!(read >= 3 * 2 * (3 + 2 + 3), "{read} ad segments read");
}
