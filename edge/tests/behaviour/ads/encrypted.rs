//! Ads inside encrypted content are encrypted with the content's key, so players never switch
//! from encrypted to clear and back: ffmpeg plays a whole stitched AES-128 TS playlist (each
//! segment's IV written out, since stitching moves segments off the positions their IVs came
//! from), and decrypts a `cbcs` ad's CMAF segments with the content key (and cannot decode
//! them without it); the stitched MPD's ad Periods signal the content's key.

use std::path::Path;
use std::process::Command;

use edge::keys::static_keys::StaticKey;
use edge::Config;

use super::sessions::{ad_server, conditioned, open, policy, resolve, segment_lines};
use crate::common::{demo_media, get_ok, start_with, TestServer};

const KEY: &str = "00112233445566778899aabbccddeeff";

/// `aes/` and `cbcs/`: the demo title under each policy.
fn media_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, policy) in [
        ("aes", "method = \"aes-128\""),
        (
            "cbcs",
            "method = \"cbcs\"\ndrm = [\"clearkey\", \"widevine\"]",
        ),
    ] {
        let title = dir.path().join(name);
        std::fs::create_dir(&title).unwrap();
        for entry in std::fs::read_dir(demo_media().join("demo")).unwrap() {
            let path = entry.unwrap().path();
            std::os::unix::fs::symlink(&path, title.join(path.file_name().unwrap())).unwrap();
        }
        std::fs::write(
            title.join("asset.toml"),
            format!("[encryption]\n{policy}\n"),
        )
        .unwrap();
    }
    dir
}

async fn edge(root: &Path, conditioning: &Path, ad_server: &str) -> TestServer {
    let mut p = policy(
        format!("{ad_server}/vast/avail-[avail.index]?sid=[session.id]"),
        false,
    );
    p.assets = vec!["aes".into(), "cbcs".into()];
    let mut config = super::sessions::config_with(p, conditioning);
    config.media_root = root.to_owned().into();
    config.keys = edge::keys::config::KeysConfig {
        static_keys: vec![StaticKey {
            content_id: "*".into(),
            key_id: None,
            key: KEY.parse().unwrap(),
        }],
        ..Default::default()
    };
    start_with(Config { ..config }).await
}

/// ffmpeg's verdict decoding `input` (a file or URL) fully, with `key` when given.
fn decode(input: &str, key: Option<&str>) -> Result<(), String> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-v", "error", "-xerror"]);
    if let Some(k) = key {
        cmd.args(["-decryption_key", k]);
    }
    let out = cmd
        .args(["-i", input, "-f", "null", "-"])
        .output()
        .expect("ffmpeg must be installed");
    if out.status.success() && out.stderr.is_empty() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ads_in_encrypted_content_are_encrypted_with_its_key() {
    let ads = ad_server().await;
    let root = media_root();
    let conditioning = tempfile::tempdir().unwrap();
    let edge = edge(root.path(), conditioning.path(), &ads.url("")).await;
    let (_, location) = open(&edge, "aes", "").await;
    get_ok(edge.addr, &location).await;
    conditioned(&edge, 2.0).await;

    // AES-128: ffmpeg plays the whole stitched TS playlist, ads and content, and its key.
    let (id, _) = open(&edge, "aes", "").await;
    let ts_path = format!("/vod/aes/s/{id}/ts/video_180p-v1/media.m3u8");
    let ts = String::from_utf8_lossy(&get_ok(edge.addr, &ts_path).await).into_owned();
    assert_eq!(ts.matches("#EXT-X-DISCONTINUITY\n").count(), 4, "{ts}");
    assert!(ts.contains(",IV=0x"), "{ts}");
    let url = format!("http://{}{ts_path}", edge.addr);
    let played = tokio::task::spawn_blocking(move || decode(&url, None))
        .await
        .unwrap();
    played.unwrap_or_else(|e| panic!("ffmpeg could not play the stitched AES-128 playlist: {e}"));

    // cbcs: the ad's CMAF segments are encrypted with the content key.
    let (id, _) = open(&edge, "cbcs", "").await;
    let path = format!("/vod/cbcs/s/{id}/video_180p-v1/media.m3u8");
    let playlist = String::from_utf8_lossy(&get_ok(edge.addr, &path).await).into_owned();
    let keys = playlist
        .lines()
        .filter(|l| l.starts_with("#EXT-X-KEY"))
        .count();
    assert!(
        keys >= 5,
        "every stretch, ads too, has its key lines:\n{playlist}"
    );
    assert!(!playlist.contains("METHOD=NONE"), "{playlist}");
    let map = playlist
        .lines()
        .find(|l| l.starts_with("#EXT-X-MAP") && l.contains("ad/0-0/"))
        .unwrap()
        .trim_start_matches("#EXT-X-MAP:URI=\"")
        .trim_end_matches('"')
        .to_owned();
    // Each segment with the init, as ffmpeg reads one fragment's encryption at a time (it
    // fails on several concatenated encrypted fragments, the content's as well).
    let init = get_ok(edge.addr, &resolve(&path, &map)).await;
    let ad_segments: Vec<String> = segment_lines(&playlist)
        .iter()
        .filter(|u| u.starts_with("../ad/0-0/"))
        .map(|u| resolve(&path, u))
        .collect();
    assert_eq!(ad_segments.len(), 2);
    for (i, uri) in ad_segments.iter().enumerate() {
        let mut bytes = init.to_vec();
        bytes.extend_from_slice(&get_ok(edge.addr, uri).await);
        let file = conditioning.path().join(format!("cbcs-ad-{i}.mp4"));
        std::fs::write(&file, &bytes).unwrap();
        let f = file.display().to_string();
        decode(&f, Some(KEY)).unwrap_or_else(|e| panic!("{uri} does not decrypt: {e}"));
        assert!(decode(&f, None).is_err(), "{uri} is clear");
    }

    // DASH: every Period, ads too, signals the content's key.
    let mpd = String::from_utf8_lossy(
        &get_ok(edge.addr, &format!("/vod/cbcs/s/{id}/manifest.mpd")).await,
    )
    .into_owned();
    let periods: Vec<&str> = mpd.split("<Period").skip(1).collect();
    assert_eq!(periods.len(), 5, "{mpd}");
    for p in &periods {
        assert!(
            p.contains("cenc:default_KID"),
            "a Period without the key: {p}"
        );
    }
}
