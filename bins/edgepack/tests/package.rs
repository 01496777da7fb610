//! `edgepack package SOURCE --out DIR` lays the output out as the daemon's URL paths.

use std::path::Path;
use std::process::Command;

#[test]
fn writes_the_daemon_url_layout() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::env::temp_dir().join(format!("edgepack-package-{}", std::process::id()));
    let result = Command::new(env!("CARGO_BIN_EXE_edgepack"))
        .arg("package")
        .arg(repo.join("testdata/media/two_audio_languages.mp4"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(text.starts_with("wrote "), "{text}");
    let base = out.join("vod/two_audio_languages.mp4");
    for rel in [
        "master.m3u8",
        "ts/master.m3u8",
        "manifest.mpd",
        "v1/init.mp4",
        "v1/1.m4s",
        "v1/iframes.m3u8",
        "a3/media.m3u8",
        "ts/v1/2.ts",
        "ts/a3/1.ts",
    ] {
        assert!(base.join(rel).is_file(), "missing {rel}");
    }
    let missing = Command::new(env!("CARGO_BIN_EXE_edgepack"))
        .args(["package", "no/such/file.mp4", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no asset 'file.mp4'"));
    let _ = std::fs::remove_dir_all(&out);
}
