//! `edgepack package` writes exactly what the daemon serves: every file under
//! `DIR/vod/{asset}/` equals the daemon's response at the same URL path.

use std::path::{Path, PathBuf};

use crate::common::*;
use edge::{AppState, Config};

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn packaged_files_equal_the_daemon_responses() {
    let out = tempfile::tempdir().unwrap();
    for (root, asset) in [
        (demo_media(), "demo"),
        (test_media(), "two_audio_languages.mp4"),
        (test_media(), "hevc_hev1_25fps.mp4"),
    ] {
        let state = AppState::new(Config {
            media_root: root.clone().into(),
            ..Config::default()
        })
        .unwrap();
        let report = edge::offline::package(&state, asset, out.path())
            .await
            .unwrap();
        let server = start(root).await;
        let files = files_under(&out.path().join("vod").join(asset));
        assert_eq!(files.len(), report.files);
        assert!(files.iter().any(|f| f.ends_with("master.m3u8")));
        assert!(files
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == "ts")));
        for file in files {
            let rel = file.strip_prefix(out.path()).unwrap().display().to_string();
            let served = get_ok(server.addr, &format!("/{rel}")).await;
            let written = std::fs::read(&file).unwrap();
            assert!(
                served[..] == written[..],
                "{rel} differs from the daemon's response"
            );
        }
    }
}
