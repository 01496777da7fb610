//! `edgepack inspect` describes real files and explains broken ones without panicking.

use std::path::Path;
use std::process::Command;

fn inspect(file: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_edgepack"))
        .arg("inspect")
        .arg(file)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn media(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/media")
        .join(name)
}

#[test]
fn describes_tracks_codecs_and_keyframes() {
    let (ok, text) = inspect(&media("two_audio_languages.mp4"));
    assert!(ok, "{text}");
    for needle in [
        "avc1.64000c",
        "320x180 25.000 fps",
        "mp4a.40.2 2 ch 48000 Hz, language eng",
        "language fra",
        "keyframes: 4 (every 2.000 s",
        "B-frames: yes",
        "no problems found",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[test]
fn warns_about_long_gops() {
    let (ok, text) = inspect(&media("long_gop_10s.mp4"));
    assert!(ok, "{text}");
    assert!(text.contains("keyframes up to 10.000 s apart"), "{text}");
}

#[test]
fn explains_a_broken_file_with_its_box_path() {
    let dir = tempfile_dir();
    let mut data = std::fs::read(media("h264_avc1_25fps_aac_48k_moov_first.mp4")).unwrap();
    let stco = data.windows(4).position(|w| w == b"stco").unwrap() - 4;
    data[stco..stco + 4].copy_from_slice(&0x00ff_ffffu32.to_be_bytes());
    let file = dir.join("broken.mp4");
    std::fs::write(&file, &data).unwrap();
    let (ok, text) = inspect(&file);
    assert!(!ok);
    assert!(text.contains("cannot be packaged"), "{text}");
    assert!(
        text.contains("moov/trak[0]/mdia/minf/stbl/stco at 0x"),
        "{text}"
    );
    assert!(!text.contains("panicked"), "{text}");
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("edgepack-inspect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
