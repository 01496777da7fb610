//! The access log: one line per request in the combined log format, followed by the
//! request id, the protocol and the time taken (`rid=… proto=… dur_ms=…`). Lines go
//! through a bounded queue to a writer thread that batches them, so a request never waits
//! on the disk; when the queue is full a line is dropped and counted rather than slowing
//! the daemon down.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Lines queued before new ones are dropped.
const QUEUE_LINES: usize = 16_384;

/// Where access log lines go.
pub struct AccessLog {
    queue: SyncSender<String>,
    dropped: AtomicU64,
}

/// What one log line says about a request.
pub struct Entry<'a> {
    pub client: Option<SocketAddr>,
    pub method: &'a str,
    pub target: &'a str,
    pub version: &'a str,
    pub status: u16,
    pub bytes: Option<u64>,
    pub referer: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub request_id: &'a str,
    pub protocol: &'a str,
    pub duration: Duration,
}

impl AccessLog {
    /// Opens `target`: `-` is standard output, anything else a file appended to.
    pub fn open(target: &Path) -> std::io::Result<Self> {
        let out: Box<dyn Write + Send> = if target == Path::new("-") {
            Box::new(std::io::stdout())
        } else {
            Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(target)?,
            )
        };
        let (queue, lines) = sync_channel::<String>(QUEUE_LINES);
        std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || {
                let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
                // Ends when the last sender is dropped (the state was replaced or the
                // daemon stopped), after writing what was queued.
                while let Ok(line) = lines.recv() {
                    let _ = out.write_all(line.as_bytes());
                    while let Ok(more) = lines.try_recv() {
                        let _ = out.write_all(more.as_bytes());
                    }
                    let _ = out.flush();
                }
            })?;
        Ok(AccessLog {
            queue,
            dropped: AtomicU64::new(0),
        })
    }

    /// Queues one line; drops it when the writer is behind.
    pub fn record(&self, entry: &Entry<'_>) {
        match self.queue.try_send(format_line(entry, SystemTime::now())) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed);
                if n.is_power_of_two() {
                    tracing::warn!(dropped = n + 1, "access log behind; lines dropped");
                }
            }
        }
    }
}

/// A quoted field: `"` and `\` escaped, control bytes as `\xNN`, `-` when absent.
fn quoted(value: Option<&str>) -> String {
    let Some(v) = value else {
        return "\"-\"".into();
    };
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32 & 0xff)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn format_line(e: &Entry<'_>, now: SystemTime) -> String {
    let host = e.client.map_or("-".to_owned(), |a| a.ip().to_string());
    let bytes = e.bytes.map_or("-".to_owned(), |b| b.to_string());
    let request = format!("{} {} {}", e.method, e.target, e.version);
    format!(
        "{host} - - [{}] {} {} {bytes} {} {} rid={} proto={} dur_ms={:.3}\n",
        clf_date(now),
        quoted(Some(&request)),
        e.status,
        quoted(e.referer),
        quoted(e.user_agent),
        e.request_id,
        e.protocol,
        e.duration.as_secs_f64() * 1000.0,
    )
}

/// `10/Oct/2000:13:55:36 +0000` (UTC).
fn clf_date(t: SystemTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{day:02}/{}/{year}:{:02}:{:02}:{:02} +0000",
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_in_common_log_format() {
        let t = UNIX_EPOCH + Duration::from_secs(971_186_136);
        assert_eq!(clf_date(t), "10/Oct/2000:13:55:36 +0000");
        assert_eq!(clf_date(UNIX_EPOCH), "01/Jan/1970:00:00:00 +0000");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(&clf_date(leap)[..11], "29/Feb/2000");
    }

    #[test]
    fn lines_are_combined_format_with_extras() {
        let e = Entry {
            client: Some("127.0.0.1:5000".parse().unwrap()),
            method: "GET",
            target: "/vod/demo/master.m3u8",
            version: "HTTP/1.1",
            status: 200,
            bytes: Some(512),
            referer: None,
            user_agent: Some("hls.js \"x\""),
            request_id: "abc",
            protocol: "http/1.1",
            duration: Duration::from_micros(1500),
        };
        let line = format_line(&e, UNIX_EPOCH);
        assert_eq!(
            line,
            "127.0.0.1 - - [01/Jan/1970:00:00:00 +0000] \"GET /vod/demo/master.m3u8 HTTP/1.1\" 200 512 \"-\" \"hls.js \\\"x\\\"\" rid=abc proto=http/1.1 dur_ms=1.500\n"
        );
    }
}
