//! Conditioning creatives with the real ffmpeg: one job per creative and profile, the output
//! shaped as asked (ffprobe checks it), kept across restarts, failures remembered, a full
//! queue saying so.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use edge::ads::condition::{Conditioner, Profile, Status};

use crate::common::repo_root;

const PROFILE: Profile = Profile {
    width: 640,
    height: 360,
    video_kbps: 800,
    fps: 25,
    audio_rate: 48_000,
    audio_channels: 2,
};

fn source() -> String {
    repo_root()
        .join("testdata/media/h264_25fps_aac_44.1k.mp4")
        .display()
        .to_string()
}

async fn settled(c: &Conditioner, key: &str, source: &str) -> Status {
    let start = Instant::now();
    loop {
        match c.request(key, source, PROFILE) {
            Status::Pending => {}
            other => return other,
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "{key} still pending"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn probe(path: &Path) -> String {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,profile,width,height,sample_rate,channels",
            "-of",
            "compact",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_creative_is_conditioned_once_into_the_profile_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let c = Conditioner::start(dir.path(), 1, 8, Duration::from_secs(120)).unwrap();
    let src = source();
    assert_eq!(c.request("ad-1", &src, PROFILE), Status::Pending);
    assert_eq!(c.request("ad-1", &src, PROFILE), Status::Pending);
    let Status::Ready(path) = settled(&c, "ad-1", &src).await else {
        panic!("not ready");
    };
    assert_eq!(
        c.stats.queued.load(Ordering::Relaxed),
        1,
        "one job for both requests"
    );
    let p = probe(&path);
    assert!(
        p.contains("codec_name=h264|profile=High|width=640|height=360"),
        "{p}"
    );
    assert!(
        p.contains("codec_name=aac|profile=LC|sample_rate=48000|channels=2"),
        "{p}"
    );
    // Another pool on the same directory (a restart) finds it ready at once.
    let again = Conditioner::start(dir.path(), 1, 8, Duration::from_secs(120)).unwrap();
    assert_eq!(again.request("ad-1", &src, PROFILE), Status::Ready(path));
    assert_eq!(again.stats.queued.load(Ordering::Relaxed), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_source_fails_once_and_a_full_queue_is_busy() {
    let dir = tempfile::tempdir().unwrap();
    let c = Conditioner::start(dir.path(), 1, 1, Duration::from_secs(120)).unwrap();
    let missing = dir.path().join("no-such.mp4").display().to_string();
    let Status::Failed(why) = settled(&c, "broken", &missing).await else {
        panic!("a missing source did not fail");
    };
    assert!(why.contains("ffmpeg"), "{why}");
    assert!(matches!(
        c.request("broken", &missing, PROFILE),
        Status::Failed(_)
    ));
    assert_eq!(c.stats.failed.load(Ordering::Relaxed), 1);
    let src = source();
    let answers: Vec<Status> = (0..5)
        .map(|i| c.request(&format!("k{i}"), &src, PROFILE))
        .collect();
    assert!(answers.contains(&Status::Busy), "{answers:?}");
}
