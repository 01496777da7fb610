//! Conditioning creatives with the real ffmpeg: one job per creative and profile, the output
//! shaped as asked (ffprobe checks it), kept across restarts, failures remembered, a full
//! queue saying so.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use edge::ads::condition::{ConditionStats, Conditioner, Profile, Rung, Status};
use edge::ops::ads_metrics::AdsMetrics;

use crate::common::repo_root;

fn profile() -> Profile {
    Profile {
        rungs: vec![
            Rung {
                width: 320,
                height: 180,
                video_kbps: 300,
            },
            Rung {
                width: 640,
                height: 360,
                video_kbps: 800,
            },
        ],
        fps: 25,
        audio_rate: 48_000,
        audio_channels: 2,
    }
}

fn source() -> String {
    repo_root()
        .join("testdata/media/h264_25fps_aac_44.1k.mp4")
        .display()
        .to_string()
}

async fn settled(c: &Conditioner, key: &str, source: &str) -> Status {
    let start = Instant::now();
    loop {
        match c.request(key, source, &profile()) {
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
    let c = Conditioner::start(dir.path(), 1, 8, Duration::from_secs(120), true, stats()).unwrap();
    let src = source();
    assert_eq!(c.request("ad-1", &src, &profile()), Status::Pending);
    assert_eq!(c.request("ad-1", &src, &profile()), Status::Pending);
    let Status::Ready(path) = settled(&c, "ad-1", &src).await else {
        panic!("not ready");
    };
    assert_eq!(c.stats.queued.get(), 1, "one job for both requests");
    let p = probe(&path);
    // One video track per rung of the ladder, in one file.
    assert!(
        p.contains("codec_name=h264|profile=High|width=320|height=180"),
        "{p}"
    );
    assert!(
        p.contains("codec_name=h264|profile=High|width=640|height=360"),
        "{p}"
    );
    assert!(
        p.contains("codec_name=aac|profile=LC|sample_rate=48000|channels=2"),
        "{p}"
    );
    // Another pool on the same directory (a restart) finds it ready at once.
    let again =
        Conditioner::start(dir.path(), 1, 8, Duration::from_secs(120), true, stats()).unwrap();
    assert_eq!(again.request("ad-1", &src, &profile()), Status::Ready(path));
    assert_eq!(again.stats.queued.get(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_source_fails_once_and_a_full_queue_is_busy() {
    let dir = tempfile::tempdir().unwrap();
    let c = Conditioner::start(dir.path(), 1, 1, Duration::from_secs(120), true, stats()).unwrap();
    let missing = dir.path().join("no-such.mp4").display().to_string();
    let Status::Failed(why) = settled(&c, "broken", &missing).await else {
        panic!("a missing source did not fail");
    };
    assert!(why.contains("ffmpeg"), "{why}");
    assert!(matches!(
        c.request("broken", &missing, &profile()),
        Status::Failed(_)
    ));
    assert_eq!(c.stats.failed.get(), 1);
    let src = source();
    let answers: Vec<Status> = (0..5)
        .map(|i| c.request(&format!("k{i}"), &src, &profile()))
        .collect();
    assert!(answers.contains(&Status::Busy), "{answers:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_creative_on_a_private_address_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let c = Conditioner::start(dir.path(), 1, 8, Duration::from_secs(10), false, stats()).unwrap();
    let Status::Failed(why) = settled(&c, "inside", "http://127.0.0.1:9/ad.mp4").await else {
        panic!("a loopback creative was not refused");
    };
    assert!(why.contains("private"), "{why}");
}

fn stats() -> ConditionStats {
    ConditionStats::new(&AdsMetrics::unregistered().unwrap())
}
