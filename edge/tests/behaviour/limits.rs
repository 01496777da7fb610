//! Connection limits, seen from raw TCP clients: slow request heads (slowloris) are cut
//! off without slowing anyone else, oversized heads get 431, connections over the limit
//! are closed at once and counted, and idle keep-alive connections are closed.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::common::{demo_media, get, start_with};
use bytes::Bytes;
use edge::config::LimitsConfig;
use edge::Config;
use http_body_util::Empty;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn config(limits: LimitsConfig) -> Config {
    Config {
        media_root: demo_media().into(),
        limits,
        ..Config::default()
    }
}

/// Reads until the peer closes (or resets) the connection or `deadline` passes; returns
/// what was read and whether the connection was closed.
async fn read_to_close(stream: &mut TcpStream, deadline: Instant) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return (got, false),
            Ok(Ok(0)) | Ok(Err(_)) => return (got, true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Reads one HTTP/1.1 response with a Content-Length body from a raw stream.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + len {
                return text;
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("response within 5 s")
            .expect("read");
        assert!(n > 0, "closed before a full response: {text}");
        got.extend_from_slice(&buf[..n]);
    }
}

/// GET that must answer 200 within `limit`.
async fn prompt_get(addr: SocketAddr, path: &str, limit: Duration) {
    let started = Instant::now();
    let f = tokio::time::timeout(limit * 3, get(addr, path))
        .await
        .unwrap_or_else(|_| panic!("GET {path} hung"));
    let took = started.elapsed();
    assert_eq!(f.status, 200, "GET {path}");
    assert!(took < limit, "GET {path} took {took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_request_heads_are_cut_off_and_do_not_slow_others() {
    let server = start_with(config(LimitsConfig {
        header_read_timeout_seconds: 2,
        max_connections: 64,
        ..LimitsConfig::default()
    }))
    .await;
    let addr = server.addr;
    let started = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..40 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        slow.push(tokio::spawn(async move {
            let head = b"GET /vod/demo/master.m3u8 HTTP/1.1\r\nHost: slow\r\nX-Slow: ";
            let mut byte = head.iter().chain(std::iter::repeat(&b'a'));
            let opened = Instant::now();
            let deadline = opened + Duration::from_secs(8);
            let mut buf = [0u8; 1024];
            loop {
                let b = *byte.next().unwrap();
                if stream.write_all(&[b]).await.is_err() {
                    return opened.elapsed();
                }
                // Wait half a second for the next byte, watching for the close.
                match tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buf)).await
                {
                    Ok(Ok(0)) | Ok(Err(_)) => return opened.elapsed(),
                    Ok(Ok(_)) => {} // a 408 or the like; the close follows
                    Err(_) => {}
                }
                assert!(Instant::now() < deadline, "a slow head was never cut off");
            }
        }));
    }
    // Connections that say nothing at all, in HTTP/1.1 or HTTP/2 terms, are cut off too.
    let mut silent = Vec::new();
    for _ in 0..4 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        silent.push(tokio::spawn(async move {
            let opened = Instant::now();
            let (_, closed) = read_to_close(&mut stream, opened + Duration::from_secs(8)).await;
            assert!(closed, "a silent connection was never closed");
            opened.elapsed()
        }));
    }
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    silent.push(tokio::spawn(async move {
        let opened = Instant::now();
        let (_, closed) = read_to_close(&mut stream, opened + Duration::from_secs(8)).await;
        assert!(
            closed,
            "an HTTP/2 connection without requests was never closed"
        );
        opened.elapsed()
    }));
    // While they dribble, everyone else is served promptly.
    while started.elapsed() < Duration::from_millis(1500) {
        prompt_get(addr, "/healthz", Duration::from_secs(1)).await;
        prompt_get(addr, "/vod/demo/master.m3u8", Duration::from_secs(1)).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for task in slow {
        let lasted = task.await.unwrap();
        assert!(
            lasted >= Duration::from_millis(1500) && lasted < Duration::from_secs(5),
            "a slow head was cut off after {lasted:?}, not about 2 s"
        );
    }
    for task in silent {
        let lasted = task.await.unwrap();
        assert!(
            lasted >= Duration::from_millis(1500) && lasted < Duration::from_secs(5),
            "a silent connection was closed after {lasted:?}, not about 2 s"
        );
    }
    prompt_get(addr, "/healthz", Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_request_head_gets_431() {
    let server = start_with(config(LimitsConfig {
        max_header_bytes: 16 * 1024,
        ..LimitsConfig::default()
    }))
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: big\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20 * 1024)
    );
    // The server may stop reading (and close) before all of it is written.
    let _ = stream.write_all(head.as_bytes()).await;
    let (got, closed) = read_to_close(&mut stream, Instant::now() + Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&got);
    assert!(closed, "the connection stays open after an oversized head");
    // The 431 can be lost to a reset when unread bytes remain; it is never a success.
    assert!(
        got.is_empty() || text.starts_with("HTTP/1.1 431"),
        "unexpected answer: {text}"
    );
    // A head just under the limit is fine, and others are unaffected.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: ok\r\nX-Fits: {}\r\n\r\n",
        "a".repeat(12 * 1024)
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let response = read_response(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    prompt_get(server.addr, "/healthz", Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_head_gets_431_when_it_is_all_read() {
    // With the whole head in the server's buffer before it answers, the 431 arrives.
    let server = start_with(config(LimitsConfig {
        max_header_bytes: 8 * 1024,
        ..LimitsConfig::default()
    }))
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    // Exactly the buffer's size, without the blank line ending the head.
    let mut head = b"GET /healthz HTTP/1.1\r\nHost: big\r\nX-Big: ".to_vec();
    head.resize(8 * 1024, b'a');
    stream.write_all(&head).await.unwrap();
    let (got, closed) = read_to_close(&mut stream, Instant::now() + Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&got);
    assert!(closed);
    assert!(text.starts_with("HTTP/1.1 431"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_over_the_limit_are_closed_at_once_and_counted() {
    let server = start_with(config(LimitsConfig {
        max_connections: 4,
        ..LimitsConfig::default()
    }))
    .await;
    let addr = server.addr;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    // Let the server take the four in (it accepts in order).
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused_at = Instant::now();
    let mut extra = TcpStream::connect(addr).await.unwrap();
    let _ = extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let (got, closed) = read_to_close(&mut extra, Instant::now() + Duration::from_secs(2)).await;
    assert!(closed, "a connection over the limit stays open");
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    assert!(refused_at.elapsed() < Duration::from_secs(1));

    // Free one slot; the metrics (on a new connection) show the refusal.
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    let metrics = loop {
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .build_http::<Empty<Bytes>>();
        let uri: http::Uri = format!("http://{addr}/metrics").parse().unwrap();
        if let Ok(Ok(res)) = tokio::time::timeout(Duration::from_secs(1), client.get(uri)).await {
            use http_body_util::BodyExt;
            let body = res.into_body().collect().await.unwrap().to_bytes();
            break String::from_utf8_lossy(&body).into_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no slot freed after a client left"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let refused: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("edgepack_connections_refused_total{transport=\"tcp\"} "))
        .expect("refused counter")
        .parse()
        .unwrap();
    assert!(refused >= 1, "{metrics}");
    let open: i64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("edgepack_connections_open{transport=\"tcp\"} "))
        .expect("open gauge")
        .parse()
        .unwrap();
    assert_eq!(open, 4, "three held and the one asking for metrics");
    drop(held);
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_keep_alive_connections_are_closed() {
    let server = start_with(config(LimitsConfig {
        idle_timeout_seconds: 1,
        header_read_timeout_seconds: 10,
        ..LimitsConfig::default()
    }))
    .await;
    // HTTP/1.1: two requests on one connection, then silence.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    for _ in 0..2 {
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: idle\r\n\r\n")
            .await
            .unwrap();
        let response = read_response(&mut stream).await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }
    let idle_from = Instant::now();
    let (got, closed) = read_to_close(&mut stream, idle_from + Duration::from_secs(4)).await;
    let idle = idle_from.elapsed();
    assert!(closed, "an idle HTTP/1.1 connection stayed open");
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    assert!(
        idle >= Duration::from_millis(800),
        "closed after {idle:?}, before the idle timeout"
    );

    // HTTP/2 (prior knowledge): the server ends the connection (GOAWAY) once idle.
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    let req = http::Request::builder()
        .uri(format!("http://{}/healthz", server.addr))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    assert_eq!(res.status(), 200);
    drop(res);
    let idle_from = Instant::now();
    tokio::time::timeout(Duration::from_secs(4), conn)
        .await
        .expect("an idle HTTP/2 connection stayed open")
        .unwrap()
        .ok();
    assert!(idle_from.elapsed() >= Duration::from_millis(800));
}
