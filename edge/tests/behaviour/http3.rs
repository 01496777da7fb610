//! HTTP/3, seen from an independent client: the TCP side advertises it with `Alt-Svc`, and
//! aioquic (tests/h3/h3_get.py) gets the same bytes over QUIC as HTTP/1.1 gets over TLS,
//! problem+json errors included.

use std::process::Stdio;
use std::time::Duration;

use crate::common::{repo_root, self_signed_demo, start_with, tls_client};
use edge::config::Http3Config;
use edge::Config;

/// Fails (never skips) when the HTTP/3 test client's library is missing.
fn require_aioquic() {
    let out = std::process::Command::new("python3")
        .args(["-c", "import aioquic"])
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "the HTTP/3 tests need the aioquic Python package: run scripts/install-test-deps.sh \
             (python3 -c 'import aioquic' said: {})",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!(
            "the HTTP/3 tests need python3 with aioquic: run scripts/install-test-deps.sh ({e})"
        ),
    }
}

/// Runs the aioquic client on `paths` and returns its JSON answer, one object per path.
async fn h3_get(port: u16, cert_pem: &str, paths: &[&str]) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, cert_pem).unwrap();
    let script = repo_root().join("tests/h3/h3_get.py");
    let mut cmd = tokio::process::Command::new("python3");
    cmd.arg(&script)
        .arg("--ca")
        .arg(&ca)
        .args(["--address", "127.0.0.1"])
        .args(paths.iter().map(|p| format!("https://localhost:{port}{p}")))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .expect("h3_get.py took over 30 s")
        .expect("cannot run python3");
    assert!(
        out.status.success(),
        "h3_get.py failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "h3_get.py output: {e}: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    assert_eq!(answers.len(), paths.len());
    answers
}

fn sha256_hex(data: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// `uri` from a playlist at `base` (a path ending in `/`), as an absolute path.
fn resolve(base: &str, uri: &str) -> String {
    if uri.starts_with('/') {
        uri.to_owned()
    } else if let Some(rest) = uri.split_once("://").map(|(_, r)| r) {
        rest.find('/')
            .map_or("/".to_owned(), |i| rest[i..].to_owned())
    } else {
        format!("{base}{uri}")
    }
}

/// The demo on a self-signed certificate, with HTTP/3 on.
fn http3_config() -> Config {
    Config {
        http3: Http3Config { enabled: true },
        ..self_signed_demo()
    }
}

fn dir_of(path: &str) -> &str {
    &path[..=path.rfind('/').unwrap()]
}

#[tokio::test(flavor = "multi_thread")]
async fn http3_serves_the_same_bytes_as_http1() {
    require_aioquic();
    let server = start_with(http3_config()).await;
    let pem = server.tls_cert_pem.clone().unwrap();
    let port = server.addr.port();

    // TCP answers advertise HTTP/3 on the same port.
    let master_path = "/vod/demo/master.m3u8";
    let master = tls_client::get(server.addr, &pem, master_path, false).await;
    assert_eq!(master.status, 200);
    assert_eq!(
        master.header("alt-svc"),
        Some(format!("h3=\":{port}\"; ma=86400").as_str())
    );
    let h2 = tls_client::get(server.addr, &pem, "/healthz", true).await;
    assert_eq!(h2.header("alt-svc"), master.header("alt-svc"));

    // A CMAF init segment and a media segment, found through the playlists.
    let master_text = String::from_utf8_lossy(&master.body).into_owned();
    let variant = crate::common::playlist_uris(&master_text)
        .into_iter()
        .next()
        .expect("a variant");
    let media_path = resolve(dir_of(master_path), &variant);
    let media = tls_client::get(server.addr, &pem, &media_path, false).await;
    assert_eq!(media.status, 200, "{media_path}");
    let media_text = String::from_utf8_lossy(&media.body).into_owned();
    let map = media_text
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MAP:URI=\""))
        .and_then(|r| r.split('"').next())
        .expect("a CMAF playlist has EXT-X-MAP");
    let init_path = resolve(dir_of(&media_path), map);
    let segment = crate::common::playlist_uris(&media_text)
        .into_iter()
        .next()
        .expect("a segment");
    let segment_path = resolve(dir_of(&media_path), &segment);

    let missing_path = "/vod/no-such-title/master.m3u8";
    let paths = [
        master_path,
        init_path.as_str(),
        segment_path.as_str(),
        missing_path,
    ];
    let answers = h3_get(port, &pem, &paths).await;
    for (path, answer) in paths.iter().zip(&answers) {
        assert_eq!(answer["version"], "h3", "{path}");
        if *path == missing_path {
            continue;
        }
        assert_eq!(answer["status"], 200, "{path}: {answer}");
        let h1 = tls_client::get(server.addr, &pem, path, false).await;
        assert_eq!(h1.status, 200, "{path}");
        assert!(!h1.body.is_empty(), "{path}");
        assert_eq!(answer["length"], h1.body.len(), "{path}");
        assert_eq!(answer["sha256"], sha256_hex(&h1.body), "{path}");
        assert_eq!(
            answer["headers"]["content-type"].as_str(),
            h1.header("content-type"),
            "{path}"
        );
        assert_eq!(
            answer["headers"]["etag"].as_str(),
            h1.header("etag"),
            "{path}"
        );
    }

    // Errors are problem+json over HTTP/3 too.
    let missing = &answers[3];
    assert_eq!(missing["status"], 404, "{missing}");
    assert_eq!(
        missing["headers"]["content-type"], "application/problem+json",
        "{missing}"
    );
    let problem: serde_json::Value =
        serde_json::from_str(missing["text"].as_str().expect("a text body")).unwrap();
    assert_eq!(problem["status"], 404, "{problem}");

    // Counted under their own protocol.
    let metrics = tls_client::get(server.addr, &pem, "/metrics", false).await;
    let metrics = String::from_utf8_lossy(&metrics.body);
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("edgepack_http_requests_total") && l.contains("protocol=\"h3\"")),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_with_http3_on_ends_promptly() {
    require_aioquic();
    let mut config = http3_config();
    config.listen = "127.0.0.1:0".parse().unwrap();
    let server = edge::Server::bind(edge::Daemon::new(config).unwrap())
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    assert_eq!(server.http3_addr().map(|a| a.port()), Some(addr.port()));
    let pem = server.tls_cert_pem().unwrap().to_owned();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    let answers = h3_get(addr.port(), &pem, &["/healthz"]).await;
    assert_eq!(answers[0]["status"], 200);
    // An idle TLS keep-alive connection stays open meanwhile; the drain closes it.
    let _idle = tls_client::connect(addr, tls_client::client_config(Some(&pem), &[b"h2"]))
        .await
        .unwrap();
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("the server took over 5 s to stop")
        .unwrap();
}
