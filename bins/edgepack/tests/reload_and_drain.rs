//! Operations on the running daemon, by signal: SIGHUP reloads the configuration without
//! dropping connections and rejects an invalid one (the old stays in force); SIGTERM
//! drains (in-flight requests finish, new connections are refused, then the process exits).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

fn repo() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The daemon with its output lines arriving on channels.
struct Daemon {
    child: Child,
    addr: String,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines(stream: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn start(args: &[&str]) -> Daemon {
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgepack"))
        .arg("serve")
        .args(args)
        .current_dir(repo())
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = lines(child.stdout.take().unwrap());
    let stderr = lines(child.stderr.take().unwrap());
    let first = stdout.recv_timeout(Duration::from_secs(20)).unwrap();
    let addr = first
        .strip_prefix("edgepack listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    Daemon {
        child,
        addr,
        stdout,
        stderr,
    }
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for a line containing `needle`.
fn wait_for(rx: &Receiver<String>, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    panic!("no line with {needle:?}");
}

/// Sends one keep-alive GET on `conn` and reads the response head and body.
fn keep_alive_get(conn: &mut BufReader<TcpStream>, path: &str) -> (String, Vec<u8>) {
    conn.get_mut()
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .unwrap();
    let mut head = String::new();
    loop {
        let mut line = String::new();
        conn.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        head.push_str(&line);
    }
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0; len];
    conn.read_exact(&mut body).unwrap();
    (head, body)
}

#[test]
fn sighup_reloads_without_dropping_connections_and_rejects_a_bad_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("edgepack.toml");
    std::fs::write(&config, "[cache]\nplaylist_max_age_seconds = 2\n").unwrap();
    let d = start(&[
        "--config",
        config.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    let mut conn = BufReader::new(TcpStream::connect(&d.addr).unwrap());
    let (head, _) = keep_alive_get(&mut conn, "/vod/demo/master.m3u8");
    assert!(head.contains("max-age=2"), "{head}");

    std::fs::write(&config, "[cache]\nplaylist_max_age_seconds = 7\n").unwrap();
    signal(&d.child, "-HUP");
    wait_for(&d.stderr, "configuration reloaded");
    // Same connection, new configuration.
    let (head, _) = keep_alive_get(&mut conn, "/vod/demo/master.m3u8");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("max-age=7"), "{head}");

    std::fs::write(&config, "[packaging]\ntarget_segment_ms = 5\n").unwrap();
    signal(&d.child, "-HUP");
    let line = wait_for(&d.stderr, "configuration rejected");
    assert!(
        line.contains("target_segment_ms"),
        "names the fault: {line}"
    );
    let (head, _) = keep_alive_get(&mut conn, "/vod/demo/master.m3u8");
    assert!(head.contains("max-age=7"), "the old config stays: {head}");

    std::fs::write(&config, "[tls]\nself_signed = true\n").unwrap();
    signal(&d.child, "-HUP");
    let line = wait_for(&d.stderr, "configuration rejected");
    assert!(line.contains("restart"), "{line}");

    let (_, metrics) = keep_alive_get(&mut conn, "/metrics");
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(metrics.contains("edgepack_config_reloads_total{result=\"ok\"} 1"));
    assert!(metrics.contains("edgepack_config_reloads_total{result=\"error\"} 2"));
}

/// A tiny HTTP origin serving `file` with Range support, answering each request only
/// after `delay`: it keeps a daemon request in flight for a while.
fn slow_origin(file: std::path::PathBuf, delay: Duration) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let data = std::fs::read(file).unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { break };
            let data = data.clone();
            std::thread::spawn(move || serve_slowly(conn, &data, delay));
        }
    });
    port
}

fn serve_slowly(conn: TcpStream, data: &[u8], delay: Duration) {
    let mut reader = BufReader::new(conn);
    loop {
        let mut request = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            request.push_str(&line);
        }
        std::thread::sleep(delay);
        let head = request.starts_with("HEAD");
        let target = request.split(' ').nth(1).unwrap_or("");
        if !target.ends_with(".mp4") {
            let out = reader.get_mut();
            let _ = write!(out, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
            continue;
        }
        let range = request.lines().find_map(|l| {
            let (a, b) = l
                .to_ascii_lowercase()
                .strip_prefix("range: bytes=")?
                .trim()
                .split_once('-')
                .map(|(a, b)| (a.to_owned(), b.to_owned()))?;
            Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?))
        });
        let (status, body, extra) = match range {
            Some((a, b)) => (
                "206 Partial Content",
                &data[a..=b.min(data.len() - 1)],
                format!(
                    "Content-Range: bytes {a}-{}/{}\r\n",
                    b.min(data.len() - 1),
                    data.len()
                ),
            ),
            None => ("200 OK", data, String::new()),
        };
        let out = reader.get_mut();
        let _ = write!(
            out,
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nETag: \"v1\"\r\n{extra}\r\n",
            body.len()
        );
        if !head {
            let _ = out.write_all(body);
        }
    }
}

#[test]
fn sigterm_lets_in_flight_requests_finish_and_refuses_new_connections() {
    let source = repo().join("testdata/media/h264_avc1_25fps_aac_48k_moov_first.mp4");
    let port = slow_origin(source, Duration::from_millis(700));
    let root = format!("http://127.0.0.1:{port}/");
    let d = start(&["--listen", "127.0.0.1:0", "--media-root", &root]);
    let addr = d.addr.clone();
    // In flight for about two origin round trips (HEAD, then the moov read).
    let in_flight = std::thread::spawn(move || {
        let mut conn = BufReader::new(TcpStream::connect(&addr).unwrap());
        keep_alive_get(
            &mut conn,
            "/vod/h264_avc1_25fps_aac_48k_moov_first.mp4/master.m3u8",
        )
    });
    std::thread::sleep(Duration::from_millis(300));
    signal(&d.child, "-TERM");
    // New connections are refused once the listener is closed.
    let deadline = Instant::now() + Duration::from_secs(1);
    while TcpStream::connect(&d.addr).is_ok() {
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (head, body) = in_flight.join().unwrap();
    let body = String::from_utf8_lossy(&body);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}{body}");
    assert!(body.contains("#EXT-X-STREAM-INF"));
    let mut child = d;
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = child.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "daemon did not exit after draining"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    wait_for(&child.stdout, "edgepack stopped");
}
