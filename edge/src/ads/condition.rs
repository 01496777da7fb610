//! Conditioning: a creative that does not fit the content (another codec, profile, size or
//! audio layout) is transcoded once by ffmpeg, outside the request path, into an MP4 shaped
//! like the content's rendition. Jobs run on a bounded pool of workers, one per creative and
//! profile whatever the number of sessions asking, and their outputs are kept in a directory
//! by that key. Until its job is done a creative is `Pending` (the break plays without it and
//! VAST error 407 is reported); from then on it is `Ready`. A job that fails is remembered as
//! `Failed` and not retried.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

/// The shape a creative is conditioned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Profile {
    pub width: u32,
    pub height: u32,
    pub video_kbps: u32,
    /// Frames per second (the GOP is two seconds of them).
    pub fps: u32,
    pub audio_rate: u32,
    pub audio_channels: u32,
}

impl Profile {
    /// The file name the output of `key` in this profile is kept under.
    fn file_name(&self, key: &str) -> String {
        let safe: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .take(96)
            .collect();
        let hash = crate::hash::fnv1a(key.as_bytes(), 0);
        format!(
            "{safe}-{hash:016x}-{}x{}-{}k-{}fps-{}hz-{}ch.mp4",
            self.width,
            self.height,
            self.video_kbps,
            self.fps,
            self.audio_rate,
            self.audio_channels
        )
    }
}

/// Where a creative's conditioning stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The job is queued or running.
    Pending,
    Ready(PathBuf),
    Failed(String),
    /// The queue is full: asked again later, it may be taken.
    Busy,
}

/// Counts of what the pool did.
#[derive(Debug, Default)]
pub struct ConditionStats {
    pub queued: AtomicU64,
    pub running: AtomicU64,
    pub done: AtomicU64,
    pub failed: AtomicU64,
}

struct Job {
    out: PathBuf,
    source: String,
    profile: Profile,
}

/// The conditioning pool.
pub struct Conditioner {
    dir: PathBuf,
    tx: mpsc::Sender<Job>,
    states: Arc<Mutex<HashMap<PathBuf, Status>>>,
    pub stats: Arc<ConditionStats>,
}

impl Conditioner {
    /// A pool of `workers` ffmpeg jobs at once, at most `queue` waiting, keeping outputs in
    /// `dir`; each job is stopped after `timeout`.
    pub fn start(
        dir: &Path,
        workers: usize,
        queue: usize,
        timeout: Duration,
    ) -> Result<Arc<Conditioner>, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let rt = tokio::runtime::Handle::try_current()
            .map_err(|_| "conditioning needs a running tokio runtime".to_owned())?;
        let (tx, rx) = mpsc::channel::<Job>(queue.max(1));
        let states: Arc<Mutex<HashMap<PathBuf, Status>>> = Arc::default();
        let stats = Arc::new(ConditionStats::default());
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        for _ in 0..workers.max(1) {
            let (rx, states, stats) = (rx.clone(), states.clone(), stats.clone());
            rt.spawn(async move {
                loop {
                    let Some(job) = rx.lock().await.recv().await else {
                        return;
                    };
                    stats.running.fetch_add(1, Ordering::Relaxed);
                    let result = run(&job, timeout).await;
                    stats.running.fetch_sub(1, Ordering::Relaxed);
                    let status = match result {
                        Ok(()) => {
                            stats.done.fetch_add(1, Ordering::Relaxed);
                            Status::Ready(job.out.clone())
                        }
                        Err(why) => {
                            stats.failed.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(source = %job.source, error = %why, "conditioning a creative failed");
                            Status::Failed(why)
                        }
                    };
                    lock(&states).insert(job.out, status);
                }
            });
        }
        Ok(Arc::new(Conditioner {
            dir: dir.to_owned(),
            tx,
            states,
            stats,
        }))
    }

    /// The creative `key` (from `source`, a URL or path ffmpeg reads) in `profile`: ready,
    /// or queued now (once, however many ask).
    pub fn request(&self, key: &str, source: &str, profile: Profile) -> Status {
        let out = self.dir.join(profile.file_name(key));
        let mut states = lock(&self.states);
        if let Some(s) = states.get(&out) {
            return s.clone();
        }
        if out.is_file() {
            // Conditioned by an earlier run of the daemon.
            states.insert(out.clone(), Status::Ready(out.clone()));
            return Status::Ready(out);
        }
        let job = Job {
            out: out.clone(),
            source: source.to_owned(),
            profile,
        };
        match self.tx.try_send(job) {
            Ok(()) => {
                self.stats.queued.fetch_add(1, Ordering::Relaxed);
                states.insert(out, Status::Pending);
                Status::Pending
            }
            Err(_) => Status::Busy,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One ffmpeg job: H.264 High at the profile's size, a keyframe every two seconds, AAC at the
/// profile's rate and channels, `+faststart`; written to a temporary name and renamed, so a
/// half-written file is never taken as ready.
async fn run(job: &Job, timeout: Duration) -> Result<(), String> {
    let p = job.profile;
    let tmp = job.out.with_extension("part.mp4");
    let gop = (p.fps.max(1) * 2).to_string();
    let scale = format!(
        "scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={fps}",
        w = p.width,
        h = p.height,
        fps = p.fps.max(1)
    );
    let mut cmd = tokio::process::Command::new("ffmpeg");
    cmd.args([
        "-nostdin",
        "-v",
        "error",
        "-y",
        "-i",
        &job.source,
        "-map",
        "0:v:0",
        "-map",
        "0:a:0?",
    ])
    .args([
        "-vf",
        &scale,
        "-c:v",
        "libx264",
        "-profile:v",
        "high",
        "-preset",
        "veryfast",
    ])
    .args([
        "-b:v",
        &format!("{}k", p.video_kbps),
        "-g",
        &gop,
        "-keyint_min",
        &gop,
        "-sc_threshold",
        "0",
    ])
    .args([
        "-c:a",
        "aac",
        "-ar",
        &p.audio_rate.to_string(),
        "-ac",
        &p.audio_channels.to_string(),
    ])
    .args(["-movflags", "+faststart", "-f", "mp4"])
    .arg(&tmp)
    .kill_on_drop(true)
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().map_err(|e| format!("ffmpeg: {e}"))?;
    let output = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| format!("ffmpeg took longer than {timeout:?}"))?
        .map_err(|e| format!("ffmpeg: {e}"))?;
    if !output.status.success() {
        let _ = tokio::fs::remove_file(&tmp).await;
        let err = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "ffmpeg exited with {}: {}",
            output.status,
            err.lines()
                .last()
                .unwrap_or("")
                .chars()
                .take(200)
                .collect::<String>()
        ));
    }
    tokio::fs::rename(&tmp, &job.out)
        .await
        .map_err(|e| format!("{}: {e}", job.out.display()))
}
