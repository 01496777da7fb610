//! Conditioning: a creative that does not fit the content (another codec, profile, size or
//! audio layout) is transcoded once by ffmpeg, outside the request path, into an MP4 shaped
//! like the content's rendition. Jobs run on a bounded pool of workers, one per creative and
//! profile whatever the number of sessions asking, and their outputs are kept in a directory
//! by that key. Until its job is done a creative is `Pending` (the break plays without it and
//! VAST error 407 is reported); from then on it is `Ready`. A job that fails is remembered as
//! `Failed` and not retried.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus::{IntCounter, IntGauge};
use tokio::sync::mpsc;

use crate::ads::deferred::Deferred;
use crate::ops::ads_metrics::AdsMetrics;

/// One video rendition of the ladder a creative is conditioned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rung {
    pub width: u32,
    pub height: u32,
    pub video_kbps: u32,
}

/// The shape a creative is conditioned to: the content's video ladder (one video track per
/// rung, in one MP4), its frame rate and its audio.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Profile {
    pub rungs: Vec<Rung>,
    /// Frames per second (the GOP is two seconds of them).
    pub fps: u32,
    pub audio_rate: u32,
    pub audio_channels: u32,
}

impl Profile {
    /// The file name the output of `key` in this profile is kept under: a title name the
    /// route accepts (letters, digits, `-`, `_`, `.`), the same on every node.
    pub fn file_name(&self, key: &str) -> String {
        let safe: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        let mut shape = format!(
            "{}fps{}hz{}ch",
            self.fps, self.audio_rate, self.audio_channels
        );
        for r in &self.rungs {
            shape.push_str(&format!("-{}x{}@{}", r.width, r.height, r.video_kbps));
        }
        let key_hash = crate::hash::fnv1a(key.as_bytes(), 0);
        let shape_hash = crate::hash::fnv1a(shape.as_bytes(), 0);
        format!(
            "ad-{safe}-{key_hash:016x}-{shape_hash:08x}.mp4",
            shape_hash = shape_hash as u32
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

/// Counts of what the pool did (the `edgepack_ad_conditioning_*` metrics).
pub struct ConditionStats {
    pub queued: IntCounter,
    pub done: IntCounter,
    pub failed: IntCounter,
    pub running: IntGauge,
}

impl ConditionStats {
    pub fn new(m: &AdsMetrics) -> ConditionStats {
        let c = |r: &str| m.conditioning.with_label_values(&[r]);
        ConditionStats {
            queued: c("queued"),
            done: c("done"),
            failed: c("failed"),
            running: m.conditioning_running.clone(),
        }
    }
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
    /// The ffmpeg workers, spawned with the first request.
    workers: Deferred,
    /// Each output's status and since when.
    states: Arc<Mutex<States>>,
    pub stats: Arc<ConditionStats>,
}

type States = HashMap<PathBuf, (Status, Instant)>;

/// How long a failed job is remembered before the creative is tried again.
const FAILURE_MEMORY: Duration = Duration::from_secs(600);
/// Statuses kept at most; past it the settled ones are forgotten.
const MAX_REMEMBERED: usize = 100_000;

/// An `http(s)` URL, or a path with no scheme of any kind.
fn acceptable_source(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return true;
    }
    !source.is_empty() && !source.contains(':')
}

impl Conditioner {
    /// A pool of `workers` ffmpeg jobs at once, at most `queue` waiting, keeping outputs in
    /// `dir`; each job is stopped after `timeout`.
    pub fn start(
        dir: &Path,
        workers: usize,
        queue: usize,
        timeout: Duration,
        allow_private: bool,
        stats: ConditionStats,
    ) -> Result<Arc<Conditioner>, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let (tx, rx) = mpsc::channel::<Job>(queue.max(1));
        let states: Arc<Mutex<States>> = Arc::default();
        let stats = Arc::new(stats);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let client = crate::ads::outbound::client_builder(allow_private)?
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        let mut tasks: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>> =
            Vec::new();
        for _ in 0..workers.max(1) {
            let (rx, states, stats) = (rx.clone(), states.clone(), stats.clone());
            let client = client.clone();
            tasks.push(Box::pin(async move {
                loop {
                    let Some(job) = rx.lock().await.recv().await else {
                        return;
                    };
                    stats.running.inc();
                    let result = condition(&job, &client, allow_private, timeout).await;
                    stats.running.dec();
                    let status = match result {
                        Ok(()) => {
                            stats.done.inc();
                            Status::Ready(job.out.clone())
                        }
                        Err(why) => {
                            stats.failed.inc();
                            tracing::warn!(source = %job.source, error = %why, "conditioning a creative failed");
                            Status::Failed(why)
                        }
                    };
                    lock(&states).insert(job.out, (status, Instant::now()));
                }
            }));
        }
        Ok(Arc::new(Conditioner {
            dir: dir.to_owned(),
            tx,
            workers: Deferred::new(tasks),
            states,
            stats,
        }))
    }

    /// The creative `key` (from `source`: an `http(s)` URL, or a local path) in `profile`:
    /// ready, or queued now (once, however many ask). Any other kind of source (`file:`,
    /// `concat:`, `subfile:`...) is refused: ffmpeg would read what it names.
    /// Where the outputs are kept.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn request(&self, key: &str, source: &str, profile: &Profile) -> Status {
        if !acceptable_source(source) {
            return Status::Failed(format!("{source:?} is neither an http(s) URL nor a path"));
        }
        self.workers.start();
        let out = self.dir.join(profile.file_name(key));
        let mut states = lock(&self.states);
        if let Some((s, at)) = states.get(&out) {
            // A failure is remembered for a while, not for ever: the source may come back.
            let expired = matches!(s, Status::Failed(_)) && at.elapsed() > FAILURE_MEMORY;
            if !expired {
                return s.clone();
            }
        }
        if states.len() >= MAX_REMEMBERED {
            // Settled entries are found on disk again (ready) or retried (failed).
            states.retain(|_, (s, _)| matches!(s, Status::Pending));
        }
        if out.is_file() {
            // Conditioned by an earlier run of the daemon.
            states.insert(out.clone(), (Status::Ready(out.clone()), Instant::now()));
            return Status::Ready(out);
        }
        let job = Job {
            out: out.clone(),
            source: source.to_owned(),
            profile: profile.clone(),
        };
        match self.tx.try_send(job) {
            Ok(()) => {
                self.stats.queued.inc();
                states.insert(out, (Status::Pending, Instant::now()));
                Status::Pending
            }
            Err(_) => Status::Busy,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Creatives larger than this are not fetched.
const MAX_CREATIVE_BYTES: u64 = 1 << 30;

/// The creative of `job` as a local file: a path as it is; an `http(s)` URL fetched (with the
/// ad-server client, so private addresses are refused unless allowed) into a temporary file
/// beside the output, which the caller removes. ffmpeg then reads local files only, and can
/// seek in them whatever the creative's server does with ranges.
async fn local_source(
    job: &Job,
    client: &reqwest::Client,
    allow_private: bool,
) -> Result<(PathBuf, bool), String> {
    let lower = job.source.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Ok((PathBuf::from(&job.source), false));
    }
    crate::ads::outbound::check(&job.source, allow_private)?;
    let tmp = job.out.with_extension("source.part");
    let mut response = client
        .get(&job.source)
        .send()
        .await
        .map_err(|e| format!("creative {}: {e}", job.source))?;
    if !response.status().is_success() {
        return Err(format!(
            "creative {}: HTTP {}",
            job.source,
            response.status()
        ));
    }
    let mut file = tokio::fs::File::create(&tmp)
        .await
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    let mut written = 0u64;
    let copied = async {
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            written += chunk.len() as u64;
            if written > MAX_CREATIVE_BYTES {
                return Err(format!("creative larger than {MAX_CREATIVE_BYTES} bytes"));
            }
            tokio::io::AsyncWriteExt::write_all(&mut file, &chunk)
                .await
                .map_err(|e| e.to_string())?;
        }
        tokio::io::AsyncWriteExt::flush(&mut file)
            .await
            .map_err(|e| e.to_string())
    };
    match copied.await {
        Ok(()) => Ok((tmp, true)),
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            Err(format!("creative {}: {e}", job.source))
        }
    }
}

/// One job: the creative fetched when it is remote, then conditioned.
async fn condition(
    job: &Job,
    client: &reqwest::Client,
    allow_private: bool,
    timeout: Duration,
) -> Result<(), String> {
    let fetched = tokio::time::timeout(timeout, local_source(job, client, allow_private))
        .await
        .map_err(|_| format!("fetching the creative took longer than {timeout:?}"))??;
    let (source, temporary) = fetched;
    let result = run(job, &source, timeout).await;
    if temporary {
        let _ = tokio::fs::remove_file(&source).await;
    }
    result
}

/// The `-filter_complex` graph that makes every rung from the first video stream: the frame
/// rate set once, then split, each branch scaled into its box and padded.
fn ladder_graph(p: &Profile) -> String {
    let n = p.rungs.len().max(1);
    let mut graph = format!("[0:v:0]fps={},split={n}", p.fps.max(1));
    for i in 0..n {
        graph.push_str(&format!("[s{i}]"));
    }
    for (i, r) in p.rungs.iter().enumerate() {
        graph.push_str(&format!(
            ";[s{i}]scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1[v{i}]",
            w = r.width,
            h = r.height
        ));
    }
    graph
}

/// One ffmpeg job: one H.264 High video track per rung, a keyframe every two seconds, AAC at
/// the profile's rate and channels, `+faststart`; written to a temporary name and renamed, so
/// a half-written file is never taken as ready.
async fn run(job: &Job, source: &Path, timeout: Duration) -> Result<(), String> {
    let p = &job.profile;
    if p.rungs.is_empty() {
        return Err("a profile with no video rendition".into());
    }
    let tmp = job.out.with_extension("part.mp4");
    let gop = (p.fps.max(1) * 2).to_string();
    let mut cmd = tokio::process::Command::new("ffmpeg");
    // The input is read as MP4 only, from a local file only: an HLS playlist or a concat:
    // list could make ffmpeg read other files, or the network, into an ad.
    cmd.args([
        "-nostdin",
        "-v",
        "error",
        "-y",
        "-protocol_whitelist",
        "file",
        "-f",
        "mov",
        "-i",
    ])
    .arg(source)
    .args(["-filter_complex", &ladder_graph(p)]);
    for i in 0..p.rungs.len() {
        cmd.args(["-map", &format!("[v{i}]")]);
    }
    cmd.args(["-map", "0:a:0?"]).args([
        "-c:v",
        "libx264",
        "-profile:v",
        "high",
        "-preset",
        "veryfast",
        "-g",
        &gop,
        "-keyint_min",
        &gop,
        "-sc_threshold",
        "0",
    ]);
    for (i, r) in p.rungs.iter().enumerate() {
        cmd.args([format!("-b:v:{i}"), format!("{}k", r.video_kbps)]);
    }
    cmd.args([
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
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(done) => done.map_err(|e| format!("ffmpeg: {e}"))?,
        Err(_) => {
            // The child is killed as it is dropped; its half-written output goes too.
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(format!("ffmpeg took longer than {timeout:?}"));
        }
    };
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
