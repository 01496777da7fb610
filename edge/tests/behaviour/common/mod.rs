//! Shared setup for the behaviour tests: a real daemon on a loopback port, a real HTTP
//! client, and ffprobe.

#![allow(dead_code)]

pub mod access;
pub mod nginx;
pub mod redis;
pub mod tls_client;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use bytes::Bytes;
use edge::{Config, Daemon, Server};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::oneshot;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn test_media() -> PathBuf {
    repo_root().join("testdata/media")
}

pub fn demo_media() -> PathBuf {
    repo_root().join("demo/media")
}

/// A daemon serving `media_root` on an ephemeral loopback port; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    /// The certificate served (PEM) when TLS is on, for clients to trust.
    pub tls_cert_pem: Option<String>,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn start(media_root: PathBuf) -> TestServer {
    start_with(Config {
        media_root: media_root.into(),
        ..Config::default()
    })
    .await
}

/// The demo on a self-signed certificate (TLS on, everything else default).
pub fn self_signed_demo() -> Config {
    Config {
        media_root: demo_media().into(),
        tls: edge::config::TlsConfig {
            self_signed: true,
            ..edge::config::TlsConfig::default()
        },
        ..Config::default()
    }
}

/// A daemon with `config`, listening on an ephemeral loopback port whatever it says.
pub async fn start_with(mut config: Config) -> TestServer {
    config.listen = "127.0.0.1:0".parse().unwrap();
    let daemon = Daemon::new(config).unwrap();
    let server = Server::bind(daemon).await.unwrap();
    let addr = server.local_addr().unwrap();
    let tls_cert_pem = server.tls_cert_pem().map(str::to_owned);
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    TestServer {
        addr,
        tls_cert_pem,
        stop: Some(tx),
    }
}

/// The value of the first line of a metrics exposition that starts with `prefix` (a
/// metric name with its labels), or 0 when there is none.
pub fn metric(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// A response as the tests see it.
pub struct Fetched {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Fetched {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends one request over HTTP/1.1 (or HTTP/2 with prior knowledge when `h2`).
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    h2: bool,
) -> Fetched {
    let client = Client::builder(TokioExecutor::new())
        .http2_only(h2)
        .build_http::<Empty<Bytes>>();
    let mut req = http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = client
        .request(req.body(Empty::new()).unwrap())
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    fetched(res).await
}

/// Reads a whole response.
async fn fetched(res: http::Response<hyper::body::Incoming>) -> Fetched {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    Fetched {
        status,
        headers,
        body,
    }
}

/// POST `body` over HTTP/1.1.
pub async fn post(addr: SocketAddr, path: &str, body: &[u8]) -> Fetched {
    let client = Client::builder(TokioExecutor::new()).build_http::<http_body_util::Full<Bytes>>();
    let req = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"))
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(Bytes::copy_from_slice(body)))
        .unwrap();
    let res = client
        .request(req)
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    fetched(res).await
}

pub async fn get(addr: SocketAddr, path: &str) -> Fetched {
    request(addr, "GET", path, &[], false).await
}

/// GET that must answer 200.
pub async fn get_ok(addr: SocketAddr, path: &str) -> Bytes {
    let f = get(addr, path).await;
    assert_eq!(f.status, 200, "GET {path}: {}", f.text());
    f.body
}

/// ffprobe's JSON for a file.
pub fn ffprobe(path: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-of", "json"])
        .args(args)
        .arg(path)
        .output()
        .expect("ffprobe must be installed (scripts/install-test-deps.sh)");
    assert!(
        out.status.success(),
        "ffprobe {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (codec_name, width, height, sample_rate) of every stream, in order.
pub fn streams(path: &Path) -> Vec<(String, i64, i64, String)> {
    let v = ffprobe(path, &["-show_streams"]);
    v["streams"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|s| {
            (
                s["codec_name"].as_str().unwrap_or("").to_owned(),
                s["width"].as_i64().unwrap_or(0),
                s["height"].as_i64().unwrap_or(0),
                s["sample_rate"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// Decodes a file fully with ffmpeg and fails on any error.
pub fn decodes_cleanly(path: &Path) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-xerror", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .expect("ffmpeg must be installed");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "ffmpeg decode of {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The URIs of a media playlist's segments (lines that are not tags).
pub fn playlist_uris(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}
