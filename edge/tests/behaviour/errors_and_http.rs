//! Hostile and broken input gets a problem+json answer, never a panic or a hang; and the
//! HTTP behaviour players and CDNs rely on: HEAD, Range, ETag, CORS, caching, h2c, metrics.

use std::path::Path;

use crate::common::*;

fn find(data: &[u8], kind: &[u8; 4]) -> usize {
    data.windows(4)
        .position(|w| w == kind)
        .unwrap_or_else(|| panic!("no {} box", String::from_utf8_lossy(kind)))
        - 4
}

/// Writes hostile variants of a real file into `dir`.
fn make_hostile_files(dir: &Path) {
    let good = std::fs::read(test_media().join("h264_avc1_25fps_aac_48k_moov_first.mp4")).unwrap();
    let put = |name: &str, data: &[u8]| std::fs::write(dir.join(name), data).unwrap();
    // stsz claims 2^32-1 samples with a per-sample table.
    let mut huge = good.clone();
    let stsz = find(&huge, b"stsz");
    huge[stsz + 16..stsz + 20].copy_from_slice(&u32::MAX.to_be_bytes());
    put("stsz_count_2e32.mp4", &huge);
    // stsz claims 2^32-1 samples of a constant size.
    let mut constant = good.clone();
    constant[stsz + 12..stsz + 16].copy_from_slice(&100u32.to_be_bytes());
    constant[stsz + 16..stsz + 20].copy_from_slice(&u32::MAX.to_be_bytes());
    put("stsz_constant_count_2e32.mp4", &constant);
    // A top-level box before the moov whose size runs far past the end of the file.
    let mut past =
        std::fs::read(test_media().join("h264_avc1_25fps_aac_48k_moov_last.mp4")).unwrap();
    let mdat = find(&past, b"mdat");
    past[mdat..mdat + 4].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
    put("mdat_size_past_eof.mp4", &past);
    // A box inside the moov whose size runs past its parent.
    let mut inner = good.clone();
    let stco = find(&inner, b"stco");
    inner[stco..stco + 4].copy_from_slice(&0x00ff_ffffu32.to_be_bytes());
    put("stco_size_past_parent.mp4", &inner);
    // Cut in the middle of the moov, and in the middle of the media data.
    let moov = find(&good, b"moov");
    put("truncated_in_moov.mp4", &good[..moov + 200]);
    put("truncated_in_mdat.mp4", &good[..good.len() - 5000]);
    put("empty.mp4", b"");
    put(
        "not_an_mp4.mp4",
        b"this is plain text, not an ISO BMFF file at all....",
    );
    put(
        "zero_box_size_loop.mp4",
        &[0, 0, 0, 8, b'f', b'r', b'e', b'e', 0, 0, 0, 0],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_files_get_problem_json() {
    let dir = tempfile::tempdir().unwrap();
    make_hostile_files(dir.path());
    let server = start(dir.path().to_owned()).await;
    for name in [
        "stsz_count_2e32.mp4",
        "stsz_constant_count_2e32.mp4",
        "mdat_size_past_eof.mp4",
        "stco_size_past_parent.mp4",
        "truncated_in_moov.mp4",
        "truncated_in_mdat.mp4",
        "empty.mp4",
        "not_an_mp4.mp4",
        "zero_box_size_loop.mp4",
    ] {
        for path in ["master.m3u8", "ts/master.m3u8", "manifest.mpd", "v1/1.m4s"] {
            let url = format!("/vod/{name}/{path}");
            let res = get(server.addr, &url).await;
            assert_eq!(res.status, 422, "{url}: {}", res.text());
            assert_eq!(res.header("content-type"), Some("application/problem+json"));
            let doc: serde_json::Value = serde_json::from_slice(&res.body).unwrap();
            assert_eq!(
                doc["type"],
                "https://edgepack.dev/problems/source-unpackable"
            );
            assert_eq!(doc["status"], 422);
            assert_eq!(doc["instance"], url.as_str());
            let detail = doc["detail"].as_str().unwrap();
            assert!(
                detail.contains(name),
                "{url}: detail names the file: {detail}"
            );
        }
    }
    // The box path and offset are named.
    let res = get(server.addr, "/vod/stsz_constant_count_2e32.mp4/master.m3u8").await;
    assert!(
        res.text().contains("moov/trak[0]/mdia/minf/stbl/stsz"),
        "{}",
        res.text()
    );
    let res = get(server.addr, "/vod/stco_size_past_parent.mp4/master.m3u8").await;
    assert!(res.text().contains("stbl/stco at 0x"), "{}", res.text());
    // Server paths stay private: the detail names the file relative to the media root.
    assert!(
        !res.text().contains(&dir.path().display().to_string()),
        "{}",
        res.text()
    );
    // The daemon is still healthy afterwards.
    assert_eq!(get(server.addr, "/healthz").await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_and_malformed_requests() {
    let server = start(test_media()).await;
    for (path, status, kind) in [
        ("/vod/nope.mp4/master.m3u8", 404, "asset-not-found"),
        ("/vod/nope/manifest.mpd", 404, "asset-not-found"),
        (
            "/vod/two_audio_languages.mp4/v9/init.mp4",
            404,
            "rendition-not-found",
        ),
        (
            "/vod/two_audio_languages.mp4/v1/999.m4s",
            404,
            "rendition-not-found",
        ),
        (
            "/vod/two_audio_languages.mp4/sub/de/media.m3u8",
            404,
            "rendition-not-found",
        ),
        ("/vod/two_audio_languages.mp4/v1/0.m4s", 404, "not-found"),
        ("/vod/..%2f..%2fetc/master.m3u8", 400, "bad-request"),
        ("/vod/.hidden/master.m3u8", 400, "bad-request"),
        ("/somewhere/else", 404, "not-found"),
        ("/vod/README.md/master.m3u8", 404, "asset-not-found"),
    ] {
        let res = get(server.addr, path).await;
        assert_eq!(res.status, status, "{path}: {}", res.text());
        let doc: serde_json::Value = serde_json::from_slice(&res.body).unwrap();
        assert_eq!(
            doc["type"],
            format!("https://edgepack.dev/problems/{kind}"),
            "{path}"
        );
    }
    let res = request(
        server.addr,
        "POST",
        "/vod/two_audio_languages.mp4/master.m3u8",
        &[],
        false,
    )
    .await;
    assert_eq!(res.status, 405);
    assert_eq!(res.header("allow"), Some("GET, HEAD, OPTIONS"));
}

#[tokio::test(flavor = "multi_thread")]
async fn segments_support_head_range_etag_cors_and_caching() {
    let server = start(test_media()).await;
    let path = "/vod/two_audio_languages.mp4/v1/1.m4s";
    let full = get(server.addr, path).await;
    assert_eq!(full.status, 200);
    assert_eq!(full.header("content-type"), Some("video/mp4"));
    assert_eq!(full.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        full.header("cache-control"),
        Some("public, max-age=86400, immutable")
    );
    assert_eq!(full.header("accept-ranges"), Some("bytes"));
    let len = full.body.len();
    assert_eq!(
        full.header("content-length"),
        Some(len.to_string().as_str())
    );
    // Deterministic: the same bytes every time.
    assert_eq!(get(server.addr, path).await.body, full.body);
    // HEAD: same headers, no body.
    let head = request(server.addr, "HEAD", path, &[], false).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length"),
        Some(len.to_string().as_str())
    );
    assert_eq!(head.header("etag"), full.header("etag"));
    // Range.
    let part = request(
        server.addr,
        "GET",
        path,
        &[("range", "bytes=100-199")],
        false,
    )
    .await;
    assert_eq!(part.status, 206);
    assert_eq!(&part.body[..], &full.body[100..200]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 100-199/{len}").as_str())
    );
    let tail = request(server.addr, "GET", path, &[("range", "bytes=-10")], false).await;
    assert_eq!(&tail.body[..], &full.body[len - 10..]);
    let beyond = format!("bytes={}-", len + 5);
    let bad = request(
        server.addr,
        "GET",
        path,
        &[("range", beyond.as_str())],
        false,
    )
    .await;
    assert_eq!(bad.status, 416);
    assert_eq!(
        bad.header("content-range"),
        Some(format!("bytes */{len}").as_str())
    );
    // ETag and If-None-Match.
    let etag = full.header("etag").unwrap().to_owned();
    let cached = request(
        server.addr,
        "GET",
        path,
        &[("if-none-match", etag.as_str())],
        false,
    )
    .await;
    assert_eq!(cached.status, 304);
    assert!(cached.body.is_empty());
    // Playlists are short-lived.
    let playlist = get(server.addr, "/vod/two_audio_languages.mp4/master.m3u8").await;
    assert_eq!(playlist.header("cache-control"), Some("public, max-age=2"));
    assert_eq!(
        playlist.header("content-type"),
        Some("application/vnd.apple.mpegurl")
    );
    // CORS preflight.
    let pre = request(
        server.addr,
        "OPTIONS",
        path,
        &[
            ("origin", "http://player.example"),
            ("access-control-request-headers", "range"),
        ],
        false,
    )
    .await;
    assert_eq!(pre.status, 204);
    assert!(pre
        .header("access-control-allow-headers")
        .unwrap()
        .contains("Range"));
}

#[tokio::test(flavor = "multi_thread")]
async fn http2_cleartext_on_the_same_port() {
    let server = start(test_media()).await;
    let h1 = get(server.addr, "/vod/two_audio_languages.mp4/a2/2.m4s").await;
    let h2 = request(
        server.addr,
        "GET",
        "/vod/two_audio_languages.mp4/a2/2.m4s",
        &[],
        true,
    )
    .await;
    assert_eq!(h2.status, 200);
    assert_eq!(h2.body, h1.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_requests_latency_bytes_and_packaging() {
    let server = start(test_media()).await;
    get_ok(server.addr, "/vod/two_audio_languages.mp4/v1/1.m4s").await;
    get_ok(server.addr, "/vod/two_audio_languages.mp4/v1/1.m4s").await;
    get_ok(server.addr, "/vod/two_audio_languages.mp4/manifest.mpd").await;
    get(server.addr, "/vod/nope.mp4/master.m3u8").await;
    let text = get(server.addr, "/metrics").await.text();
    for needle in [
        "edgepack_http_requests_total{kind=\"cmaf_segment\",protocol=\"http/1.1\",status=\"200\"} 2",
        "edgepack_http_requests_total{kind=\"multivariant\",protocol=\"http/1.1\",status=\"404\"} 1",
        // The second segment request is answered from the response cache.
        "edgepack_cache_requests_total{cache=\"response\",result=\"hit\"} 1",
        "edgepack_cache_requests_total{cache=\"response\",result=\"miss\"} 2",
        "edgepack_cache_requests_total{cache=\"metadata\",result=\"miss\"} 1",
        "edgepack_origin_requests_total{kind=\"range\",origin=\"local\",result=\"ok\"} 1",
        "edgepack_http_request_duration_seconds_bucket{kind=\"mpd\"",
        "edgepack_http_response_body_bytes_total{kind=\"cmaf_segment\"}",
        "edgepack_packaging_duration_seconds_count{output=\"cmaf_segment\"} 1",
        "edgepack_build_info{version=",
        "edgepack_http_requests_in_flight",
        "process_resident_memory_bytes",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn request_ids_are_echoed_and_the_access_log_records_each_request() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let mut config = edge::Config {
        media_root: test_media().into(),
        ..edge::Config::default()
    };
    config.log.access_log = Some(log.clone());
    let server = start_with(config).await;
    let path = "/vod/two_audio_languages.mp4/master.m3u8?session=1";
    let given = request(
        server.addr,
        "GET",
        path,
        &[("x-request-id", "req-42")],
        false,
    )
    .await;
    assert_eq!(given.header("x-request-id"), Some("req-42"));
    // A hostile id is replaced by a generated one.
    let hostile = request(
        server.addr,
        "GET",
        path,
        &[("x-request-id", "a b\"c")],
        false,
    )
    .await;
    let generated = hostile.header("x-request-id").unwrap().to_owned();
    assert_eq!(generated.len(), 16, "{generated}");
    let missing = get(server.addr, "/vod/nope.mp4/master.m3u8").await;
    let missing_id = missing.header("x-request-id").unwrap().to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.lines().count() >= 3 || std::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("127.0.0.1 - - ["), "{}", lines[0]);
    assert!(
        lines[0].contains(&format!("\"GET {path} HTTP/1.1\" 200 ")),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("rid=req-42 proto=http/1.1 dur_ms="));
    assert!(lines[1].contains(&format!("rid={generated} ")));
    assert!(lines[2].contains("\" 404 "), "{}", lines[2]);
    assert!(lines[2].contains(&format!("rid={missing_id} ")));
}
