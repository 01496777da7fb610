//! Encrypted output seen from outside: ffmpeg decrypts our `cenc` and `cbcs` segments to
//! the packets of the clear packaging, AES-128 segments decrypt to the clear segments, the
//! key and ClearKey license endpoints answer per policy, outputs a method cannot carry are
//! refused, and key material never shows up where it must not.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use base64::Engine as _;
use edge::keys::static_keys::StaticKey;
use edge::Config;

const KEY: &str = "00112233445566778899aabbccddeeff";
const WRONG_KEY: &str = "ffeeddccbbaa99887766554433221100";

/// A media root where each policy is a title: `clear/`, `cenc/`, `cbcs/`, `aes/`,
/// `sampleaes/` and `cbcs_drm_only/` link the demo title's files; single files from the
/// test media get a `name.toml` beside them.
fn media_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let demo = demo_media().join("demo");
    let policies = [
        ("clear", None),
        ("cenc", Some("method = \"cenc\"\ndrm = [\"clearkey\", \"widevine\", \"playready\"]")),
        ("cbcs", Some("method = \"cbcs\"\ndrm = [\"clearkey\", \"widevine\", \"playready\", \"fairplay\"]")),
        ("aes", Some("method = \"aes-128\"")),
        ("sampleaes", Some("method = \"sample-aes\"\ndrm = [\"fairplay\"]")),
        ("cbcs_drm_only", Some("method = \"cbcs\"\ndrm = [\"widevine\", \"fairplay\"]")),
    ];
    for (name, policy) in policies {
        let title = dir.path().join(name);
        std::fs::create_dir(&title).unwrap();
        for entry in std::fs::read_dir(&demo).unwrap() {
            let path = entry.unwrap().path();
            std::os::unix::fs::symlink(&path, title.join(path.file_name().unwrap())).unwrap();
        }
        if let Some(policy) = policy {
            std::fs::write(
                title.join("asset.toml"),
                format!("[encryption]\n{policy}\n"),
            )
            .unwrap();
        }
    }
    for file in [
        "hevc_hvc1_25fps.mp4",
        "h264_bframes_ctts_v1_29.97fps.mp4",
        "h264_avc3_25fps.mp4",
    ] {
        for (prefix, policy) in [
            ("clear_", None),
            ("cenc_", Some("cenc")),
            ("cbcs_", Some("cbcs")),
        ] {
            let name = format!("{prefix}{file}");
            std::os::unix::fs::symlink(test_media().join(file), dir.path().join(&name)).unwrap();
            if let Some(method) = policy {
                let stem = name.trim_end_matches(".mp4");
                std::fs::write(
                    dir.path().join(format!("{stem}.toml")),
                    format!("[encryption]\nmethod = \"{method}\"\ndrm = [\"clearkey\"]\n"),
                )
                .unwrap();
            }
        }
    }
    dir
}

async fn server(root: &Path) -> TestServer {
    start_with(Config {
        media_root: root.to_owned().into(),
        keys: edge::keys::config::KeysConfig {
            static_keys: vec![StaticKey {
                content_id: "*".into(),
                key_id: None,
                key: KEY.parse().unwrap(),
            }],
            ..Default::default()
        },
        ..Config::default()
    })
    .await
}

/// The payload md5 of every packet ffmpeg reads from `file` (decrypting with `key`).
fn packet_md5s(file: &Path, key: &str) -> Vec<String> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-decryption_key", key, "-i"])
        .arg(file)
        .args(["-map", "0", "-c", "copy", "-f", "framemd5", "-"])
        .output()
        .expect("ffmpeg must be installed (scripts/install-test-deps.sh)");
    assert!(
        out.status.success(),
        "ffmpeg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(',').nth(5).map(|s| s.trim().to_owned()))
        .collect()
}

/// init + segment `n` of rendition `r` of `asset`, written as one file.
async fn init_and_segment(t: &TestServer, dir: &Path, asset: &str, r: &str, n: u32) -> PathBuf {
    let mut bytes = get_ok(t.addr, &format!("/vod/{asset}/{r}/init.mp4"))
        .await
        .to_vec();
    bytes.extend_from_slice(&get_ok(t.addr, &format!("/vod/{asset}/{r}/{n}.m4s")).await);
    let path = dir.join(format!("{}-{r}-{n}.mp4", asset.replace('.', "_")));
    std::fs::write(&path, bytes).unwrap();
    path
}

#[tokio::test]
async fn ffmpeg_decrypts_cenc_and_cbcs_to_the_clear_packets() {
    let root = media_root();
    let t = server(root.path()).await;
    let out = tempfile::tempdir().unwrap();
    let mut cases: Vec<(String, String, String)> = Vec::new();
    for r in [
        "video_180p-v1",
        "video_360p-v1",
        "audio_en-a1",
        "audio_fr-a1",
    ] {
        for scheme in ["cenc", "cbcs"] {
            cases.push(("clear".into(), scheme.into(), r.into()));
        }
    }
    for file in [
        "hevc_hvc1_25fps.mp4",
        "h264_bframes_ctts_v1_29.97fps.mp4",
        "h264_avc3_25fps.mp4",
    ] {
        for scheme in ["cenc", "cbcs"] {
            cases.push((
                format!("clear_{file}"),
                format!("{scheme}_{file}"),
                "v1".into(),
            ));
        }
    }
    let mut checked = 0;
    for (clear, encrypted, r) in cases {
        for n in [1, 2] {
            let clear_file = init_and_segment(&t, out.path(), &clear, &r, n).await;
            let enc_file = init_and_segment(&t, out.path(), &encrypted, &r, n).await;
            let clear_md5 = packet_md5s(&clear_file, KEY);
            let decrypted = packet_md5s(&enc_file, KEY);
            assert!(!clear_md5.is_empty(), "{clear} {r} {n}: no packets");
            assert_eq!(decrypted, clear_md5, "{encrypted} {r} segment {n}");
            let wrong = packet_md5s(&enc_file, WRONG_KEY);
            assert_ne!(
                wrong, clear_md5,
                "{encrypted} {r} {n}: a wrong key must not decrypt"
            );
            let raw = std::fs::read(&enc_file).unwrap();
            let clear_raw = std::fs::read(&clear_file).unwrap();
            assert!(
                raw.len() > clear_raw.len(),
                "{encrypted}: encrypted output carries senc/sinf"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 28);
}

#[tokio::test]
async fn init_segments_signal_the_scheme_and_systems() {
    let root = media_root();
    let t = server(root.path()).await;
    for (asset, scheme, version) in [("cenc", b"cenc", 0u8), ("cbcs", b"cbcs", 1u8)] {
        let init = get_ok(t.addr, &format!("/vod/{asset}/video_180p-v1/init.mp4")).await;
        let find = |needle: &[u8]| init.windows(needle.len()).position(|w| w == needle);
        assert!(find(b"encv").is_some(), "{asset}: encv");
        assert!(find(b"frmaavc1").is_some(), "{asset}: frma");
        assert!(find(scheme).is_some(), "{asset}: schm");
        let tenc = find(b"tenc").unwrap();
        assert_eq!(init[tenc + 4], version, "{asset}: tenc version");
        // W3C common pssh plus Widevine and PlayReady.
        for system in [
            drm::SystemId::COMMON,
            drm::SystemId::WIDEVINE,
            drm::SystemId::PLAYREADY,
        ] {
            assert!(
                find(&system.0).is_some(),
                "{asset}: pssh of {}",
                system.uuid()
            );
        }
        let audio = get_ok(t.addr, &format!("/vod/{asset}/audio_en-a1/init.mp4")).await;
        assert!(audio.windows(4).any(|w| w == b"enca"));
    }
}

#[tokio::test]
async fn aes_128_segments_decrypt_to_the_clear_segments() {
    let root = media_root();
    let t = server(root.path()).await;
    let key: drm::ContentKey = KEY.parse().unwrap();
    let playlist = get_ok(t.addr, "/vod/aes/ts/video_180p-v1/media.m3u8").await;
    let playlist = String::from_utf8_lossy(&playlist).into_owned();
    let kid = drm::derive::key_id_for("aes");
    let line = format!(
        "#EXT-X-KEY:METHOD=AES-128,URI=\"../../keys/{}.key\"",
        kid.hex()
    );
    assert!(playlist.contains(&line), "{playlist}");
    let cmaf = get_ok(t.addr, "/vod/aes/video_180p-v1/media.m3u8").await;
    let cmaf = String::from_utf8_lossy(&cmaf).into_owned();
    let map = cmaf.find("#EXT-X-MAP").unwrap();
    let key_line = cmaf.find("#EXT-X-KEY:METHOD=AES-128").unwrap();
    assert!(
        map < key_line,
        "the init segment stays clear: MAP comes before KEY\n{cmaf}"
    );
    for (clear, enc) in [
        (
            "/vod/clear/ts/video_180p-v1/2.ts",
            "/vod/aes/ts/video_180p-v1/2.ts",
        ),
        (
            "/vod/clear/video_180p-v1/2.m4s",
            "/vod/aes/video_180p-v1/2.m4s",
        ),
        (
            "/vod/clear/ts/audio_fr-a1/3.ts",
            "/vod/aes/ts/audio_fr-a1/3.ts",
        ),
    ] {
        let clear = get_ok(t.addr, clear).await;
        let encrypted = get_ok(t.addr, enc).await;
        assert_eq!(encrypted.len(), (clear.len() / 16 + 1) * 16);
        // Segment 2 (3) has media sequence number 1 (2): the implicit IV.
        let n: u64 = enc
            .rsplit('/')
            .next()
            .unwrap()
            .split('.')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let iv = drm::hls_aes::iv_for_sequence(n - 1);
        let decrypted = drm::hls_aes::decrypt_segment(&key, &iv, &encrypted).unwrap();
        assert_eq!(decrypted, clear, "{enc}");
    }
    // The init segment of AES-128 CMAF is clear.
    assert_eq!(
        get_ok(t.addr, "/vod/aes/video_180p-v1/init.mp4").await,
        get_ok(t.addr, "/vod/clear/video_180p-v1/init.mp4").await
    );
}

#[tokio::test]
async fn playlists_and_mpd_carry_the_keys() {
    let root = media_root();
    let t = server(root.path()).await;
    let kid = drm::derive::key_id_for("cbcs");
    let master = get(t.addr, "/vod/cbcs/master.m3u8").await.text();
    for needle in [
        "#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI=\"keys/",
        "KEYFORMAT=\"com.apple.streamingkeydelivery\"",
        "KEYFORMAT=\"urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed\"",
        "KEYFORMAT=\"com.microsoft.playready\"",
        "KEYFORMAT=\"org.w3.clearkey\"",
    ] {
        assert!(master.contains(needle), "missing {needle}\n{master}");
    }
    assert!(
        !master.contains("I-FRAME"),
        "no I-frame streams for encrypted titles"
    );
    let media = get(t.addr, "/vod/cenc/video_180p-v1/media.m3u8")
        .await
        .text();
    assert!(
        media.contains("#EXT-X-KEY:METHOD=SAMPLE-AES-CTR"),
        "{media}"
    );
    m3u8_rs::parse_media_playlist_res(media.as_bytes()).expect("media playlist parses");

    let ts = get(t.addr, "/vod/sampleaes/ts/video_180p-v1/media.m3u8")
        .await
        .text();
    let iv_lines = ts
        .lines()
        .filter(|l| l.starts_with("#EXT-X-KEY:METHOD=SAMPLE-AES,") && l.contains(",IV=0x"))
        .count();
    // identity (sample-aes delivers raw keys) and FairPlay, both with the rendition's IV.
    assert_eq!(iv_lines, 2, "{ts}");
    assert!(ts.contains("KEYFORMAT=\"com.apple.streamingkeydelivery\""));

    let mpd = get(t.addr, "/vod/cbcs/manifest.mpd").await.text();
    // dash.js cannot use a pssh inside the ClearKey element (tests/players/README.md).
    assert!(mpd.contains("value=\"ClearKey1.0\"><dashif:Laurl>"));
    assert!(!mpd.contains("</dashif:Laurl><cenc:pssh>"));
    dash_mpd::parse(&mpd).expect("MPD parses");
    for needle in [
        "schemeIdUri=\"urn:mpeg:dash:mp4protection:2011\" value=\"cbcs\"".to_owned(),
        format!("cenc:default_KID=\"{}\"", kid.uuid()),
        "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e".to_owned(),
        format!(
            "<dashif:Laurl>http://{}/vod/cbcs/license/clearkey</dashif:Laurl>",
            t.addr
        ),
        "<mspr:pro>".to_owned(),
        "<cenc:pssh>".to_owned(),
    ] {
        assert!(mpd.contains(&needle), "missing {needle}\n{mpd}");
    }
    // Widevine's pssh in the MPD is a whole box naming the key id.
    let b64 = base64::engine::general_purpose::STANDARD;
    let start = mpd.find("value=\"Widevine\"><cenc:pssh>").unwrap() + 28;
    let end = start + mpd[start..].find('<').unwrap();
    let pssh = b64.decode(&mpd[start..end]).unwrap();
    assert_eq!(&pssh[4..8], b"pssh");
    assert!(pssh.windows(16).any(|w| w == kid.0));
}

#[tokio::test]
async fn key_endpoint_follows_the_policy() {
    let root = media_root();
    let t = server(root.path()).await;
    let kid = |a: &str| drm::derive::key_id_for(a).hex();
    let ok = get(t.addr, &format!("/vod/aes/keys/{}.key", kid("aes"))).await;
    assert_eq!(ok.status, 200);
    assert_eq!(drm::key::hex(&ok.body), KEY);
    assert_eq!(ok.header("cache-control"), Some("no-store"));
    assert_eq!(ok.header("access-control-allow-origin"), Some("*"));
    // SAMPLE-AES delivers keys too; ClearKey-signalled cbcs as well.
    assert_eq!(
        get(
            t.addr,
            &format!("/vod/sampleaes/keys/{}.key", kid("sampleaes"))
        )
        .await
        .status,
        200
    );
    assert_eq!(
        get(t.addr, &format!("/vod/cbcs/keys/{}.key", kid("cbcs")))
            .await
            .status,
        200
    );
    // DRM-only and clear assets never hand out a key.
    for (asset, status, slug) in [
        ("cbcs_drm_only", 403, "key-not-delivered"),
        ("clear", 403, "key-not-delivered"),
    ] {
        let f = get(t.addr, &format!("/vod/{asset}/keys/{}.key", kid(asset))).await;
        assert_eq!(f.status, status, "{asset}: {}", f.text());
        assert!(f.text().contains(slug), "{}", f.text());
        assert!(!f.text().contains(KEY));
    }
    let wrong = get(t.addr, &format!("/vod/aes/keys/{}.key", kid("other"))).await;
    assert_eq!(wrong.status, 404);
}

#[tokio::test]
async fn clearkey_license_endpoint() {
    let root = media_root();
    let t = server(root.path()).await;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let kid = drm::derive::key_id_for("cenc");
    let body = format!(r#"{{"kids":["{}"],"type":"temporary"}}"#, b64.encode(kid.0));
    let f = post(t.addr, "/vod/cenc/license/clearkey", body.as_bytes()).await;
    assert_eq!(f.status, 200, "{}", f.text());
    assert_eq!(f.header("cache-control"), Some("no-store"));
    let v: serde_json::Value = serde_json::from_slice(&f.body).unwrap();
    assert_eq!(v["keys"][0]["kid"], b64.encode(kid.0));
    assert_eq!(
        b64.decode(v["keys"][0]["k"].as_str().unwrap()).unwrap(),
        KEY.parse::<drm::ContentKey>().unwrap().bytes()
    );
    for (body, status) in [
        ("{", 400),
        (r#"{"kids":[]}"#, 400),
        (r#"{"kids":["AAAAAAAAAAAAAAAAAAAAAA"]}"#, 400),
    ] {
        let f = post(t.addr, "/vod/cenc/license/clearkey", body.as_bytes()).await;
        assert_eq!(f.status, status, "{body}: {}", f.text());
        assert_eq!(f.header("content-type"), Some("application/problem+json"));
    }
    let huge = vec![b' '; 64 * 1024];
    assert_eq!(
        post(t.addr, "/vod/cenc/license/clearkey", &huge)
            .await
            .status,
        400
    );
    // Not ClearKey-signalled: no license.
    let drm_only = drm::derive::key_id_for("cbcs_drm_only");
    let body = format!(r#"{{"kids":["{}"]}}"#, b64.encode(drm_only.0));
    assert_eq!(
        post(
            t.addr,
            "/vod/cbcs_drm_only/license/clearkey",
            body.as_bytes()
        )
        .await
        .status,
        403
    );
    // A 405 names the methods of the route it was asked of.
    let wrong = get(t.addr, "/vod/cenc/license/clearkey").await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), Some("POST, OPTIONS"));
    let wrong = post(t.addr, "/vod/cenc/master.m3u8", b"{}").await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), Some("GET, HEAD, OPTIONS"));
}

#[tokio::test]
async fn outputs_a_method_cannot_carry_are_not_offered() {
    let root = media_root();
    let t = server(root.path()).await;
    for path in [
        "/vod/aes/manifest.mpd",
        "/vod/cenc/ts/master.m3u8",
        "/vod/cenc/ts/video_180p-v1/1.ts",
        "/vod/cbcs/video_180p-v1/iframes.m3u8",
    ] {
        let f = get(t.addr, path).await;
        assert_eq!(f.status, 404, "{path}");
        assert!(
            f.text().contains("output-not-offered"),
            "{path}: {}",
            f.text()
        );
    }
}

#[tokio::test]
async fn keys_never_leak_into_metrics_or_problems() {
    let root = media_root();
    let t = server(root.path()).await;
    let _ = get(t.addr, "/vod/cenc/video_180p-v1/1.m4s").await;
    let _ = get(t.addr, "/vod/aes/keys/00000000000000000000000000000000.key").await;
    let metrics = get(t.addr, "/metrics").await.text();
    assert!(!metrics.contains(KEY));
    assert!(metrics.contains("kind=\"key\""));
    // Without any key configured, encrypted assets fail with a problem, not a panic.
    let bare = start(root.path().to_owned()).await;
    let f = get(bare.addr, "/vod/cenc/master.m3u8").await;
    assert_eq!(f.status, 500, "{}", f.text());
    assert!(f.text().contains("key-unavailable"));
    assert_eq!(get(bare.addr, "/vod/clear/master.m3u8").await.status, 200);
}
