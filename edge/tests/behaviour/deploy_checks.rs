//! Checks the operations artifacts in `deploy/` against a real daemon: the `/metrics`
//! exposition, the alerting rules and the scrape config pass `promtool`, and every metric
//! the Grafana dashboard and the alerts use is one the daemon really exposes (and every
//! `edgepack_` family it exposes has a panel).
//!
//! Needs `promtool` on PATH (Debian package `prometheus`) and `redis-server` (Debian package
//! `redis-server`, for the access store's metrics), both installed by
//! scripts/install-test-deps.sh; without them these tests fail, they never skip.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use access::cat::mint::ClaimsBuilder;
use access::cat::{Key, Replay};
use bytes::Bytes;
use edge::access::config::{AccessConfig, AccessMode, CatKeyConfig, StoreConfig};
use edge::config::{MediaRoot, OriginConfig};
use edge::Config;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::common::redis::Redis;
use crate::common::{demo_media, get, playlist_uris, repo_root, request, start_with, TestServer};

fn deploy(path: &str) -> PathBuf {
    repo_root().join("deploy").join(path)
}

/// Runs `promtool` with `args` (and `stdin`), and returns whether it succeeded and what it
/// printed. Fails the test when promtool is not installed.
fn promtool(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    let mut child = match Command::new("promtool")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "promtool is not installed: run scripts/install-test-deps.sh \
             (the Debian package `prometheus` ships promtool)"
        ),
        Err(e) => panic!("cannot run promtool: {e}"),
    };
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(text.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), printed)
}

fn assert_promtool(args: &[&str], stdin: Option<&str>) {
    let (ok, printed) = promtool(args, stdin);
    assert!(ok, "promtool {} failed:\n{printed}", args.join(" "));
}

/// An HTTP origin that answers every request with 503, so that the daemon's origin
/// metrics (errors, retries, circuit breaker) get samples.
fn failing_origin() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let _ = stream.write_all(
                b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    addr
}

/// GET `path` and returns the body as text, requiring `status`.
async fn fetch(server: &TestServer, path: &str, status: u16) -> String {
    let f = get(server.addr, path).await;
    assert_eq!(f.status, status, "GET {path}: {}", f.text());
    f.text()
}

/// The `/metrics` exposition of a daemon on the demo media after a multivariant playlist,
/// an MPD, a media playlist, an init segment and a media segment (twice, so the response
/// cache hits), a 404 and a scrape; of a daemon whose HTTP origin fails, after reads that
/// fail, are retried and open the circuit breaker; of a daemon with playback access on
/// a real Redis ([`access_exposition`]); and of one delivering through two CDNs
/// ([`delivery_exposition`]).
async fn live_expositions() -> Vec<String> {
    let local = start_with(Config {
        media_root: MediaRoot::Local(demo_media()),
        ..Config::default()
    })
    .await;
    let master = fetch(&local, "/vod/demo/master.m3u8", 200).await;
    fetch(&local, "/vod/demo/manifest.mpd", 200).await;
    let variant = playlist_uris(&master)
        .into_iter()
        .next()
        .expect("no variant in the multivariant playlist");
    let media = fetch(&local, &format!("/vod/demo/{variant}"), 200).await;
    let dir = variant.rsplit_once('/').map_or("", |(d, _)| d);
    let init = media
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MAP:URI=\""))
        .and_then(|rest| rest.split('"').next())
        .expect("no EXT-X-MAP in the media playlist");
    fetch(&local, &format!("/vod/demo/{dir}/{init}"), 200).await;
    let segment = playlist_uris(&media)
        .into_iter()
        .next()
        .expect("no segment in the media playlist");
    for _ in 0..2 {
        fetch(&local, &format!("/vod/demo/{dir}/{segment}"), 200).await;
    }
    fetch(&local, "/vod/no-such-asset.mp4/master.m3u8", 404).await;
    fetch(&local, "/no-such-path", 404).await;
    fetch(&local, "/metrics", 200).await;
    let local_text = fetch(&local, "/metrics", 200).await;

    let origin = failing_origin();
    let remote = start_with(Config {
        media_root: MediaRoot::parse(&format!("http://{origin}/")).unwrap(),
        origin: OriginConfig {
            attempts: 3,
            retry_backoff_ms: 1,
            breaker_failures: 2,
            breaker_cooldown_seconds: 60,
            ..OriginConfig::default()
        },
        ..Config::default()
    })
    .await;
    for _ in 0..2 {
        let f = get(remote.addr, "/vod/broken.mp4/master.m3u8").await;
        assert!(
            f.status >= 500,
            "a failing origin must give a 5xx, got {}: {}",
            f.status,
            f.text()
        );
    }
    let remote_text = fetch(&remote, "/metrics", 200).await;
    let access_text = access_exposition().await;
    let delivery_text = delivery_exposition(&local).await;
    vec![local_text, remote_text, access_text, delivery_text]
}

/// The `/metrics` exposition of a daemon delivering through two CDNs: `up` (the daemon
/// `cdn`, whose /healthz answers) and `dark` (nothing listening), after a steered
/// multivariant playlist, a steering request in which the player reports it left `dark`
/// for `up`, and one whose query cannot be read.
async fn delivery_exposition(cdn: &TestServer) -> String {
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = format!(
        r#"
[delivery]
probe_interval_ms = 100
probe_timeout_ms = 500
fail_after = 1

[[delivery.cdns]]
id = "up"
base_url = "http://{}"
priority = 1

[[delivery.cdns]]
id = "dark"
base_url = "http://{closed}"
priority = 2
"#,
        cdn.addr
    );
    let server = start_with(Config {
        media_root: MediaRoot::Local(demo_media()),
        ..Config::from_toml(&config).unwrap()
    })
    .await;
    metrics_with(
        &server,
        "edgepack_cdn_transitions_total{cdn=\"dark\",to=\"down\"} 1",
    )
    .await;
    fetch(&server, "/vod/demo/master.m3u8", 200).await;
    fetch(
        &server,
        "/vod/demo/steering/hls.json?session=s1&served=dark&_HLS_pathway=up&_HLS_throughput=2000000",
        200,
    )
    .await;
    fetch(&server, "/vod/demo/steering/dash.json?session=%zz", 400).await;
    let text = fetch(&server, "/metrics", 200).await;
    for sample in [
        "edgepack_cdn_up{cdn=\"up\"} 1",
        "edgepack_cdn_up{cdn=\"dark\"} 0",
        "edgepack_cdn_failovers_total{from=\"dark\",to=\"up\"} 1",
        "edgepack_steering_sessions_total{pathway=\"up\"} 1",
        "edgepack_steering_refused_total{reason=\"bad_encoding\"} 1",
    ] {
        assert!(text.contains(sample), "no {sample} in:\n{text}");
    }
    text
}

const ACCESS_SECRET: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const ACCESS_ADMIN: &str = "deploy-checks-admin-key";

/// A CAT for the demo, valid for 10 minutes, changed by `more`.
fn access_token(more: impl FnOnce(ClaimsBuilder) -> ClaimsBuilder) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let rng = ring::rand::SystemRandom::new();
    let mut cti = [0u8; 16];
    ring::rand::SecureRandom::fill(&rng, &mut cti).unwrap();
    let key = Key::hmac(b"k1", &hex::decode(ACCESS_SECRET).unwrap()).unwrap();
    more(
        ClaimsBuilder::new()
            .cti(&cti)
            .iat(now)
            .exp(now + 600)
            .path_prefix("/vod/demo/"),
    )
    .mint(&key, &rng)
    .unwrap()
}

/// Polls `/metrics` until it contains `sample` (at most 10 s) and returns it.
async fn metrics_with(server: &TestServer, sample: &str) -> String {
    let start = Instant::now();
    loop {
        let text = fetch(server, "/metrics", 200).await;
        if text.contains(sample) {
            return text;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no {sample} in /metrics after 10 s:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `/metrics` exposition of a daemon with playback access on a real Redis, after a
/// request without a token, one with a token (a session under a stream limit, renewed as a
/// header), a single-use token used twice, a revocation through the admin API (which comes
/// back through the store's stream) and a request of the revoked session.
async fn access_exposition() -> String {
    let redis = Redis::start();
    let server = start_with(Config {
        media_root: MediaRoot::Local(demo_media()),
        access: AccessConfig {
            mode: AccessMode::Token,
            keys: vec![CatKeyConfig {
                kid: "k1".into(),
                alg: "HS256".into(),
                secret_hex: Some(ACCESS_SECRET.into()),
                public_pem: None,
                private_pem: None,
            }],
            admin_key: Some(ACCESS_ADMIN.into()),
            max_sessions_per_account: 2,
            store: StoreConfig {
                url: Some(redis.url()),
                ..StoreConfig::default()
            },
            ..AccessConfig::default()
        },
        ..Config::default()
    })
    .await;
    // The revocation follower has connected to the store.
    metrics_with(&server, "edgepack_access_store_up 1").await;
    fetch(&server, "/vod/demo/master.m3u8", 401).await;
    // catr header renewal (type 2) whose window (600 s before exp) is open now.
    let session = access_token(|b| b.subject("alice").sid("s1").catr(2, 600, 600));
    let f = request(
        server.addr,
        "GET",
        "/vod/demo/master.m3u8",
        &[("CTA-Common-Access-Token", session.as_str())],
        false,
    )
    .await;
    assert_eq!(f.status, 200, "a valid token: {}", f.text());
    assert!(
        f.header("cta-common-access-token").is_some(),
        "no renewed token in the answer"
    );
    let once = access_token(|b| b.catreplay(Replay::Prohibited));
    let path = format!("/vod/demo/master.m3u8?cat={once}");
    fetch(&server, &path, 200).await;
    fetch(&server, &path, 403).await;

    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let revocation = http::Request::builder()
        .method("POST")
        .uri(format!("http://{}/admin/v1/revocations", server.addr))
        .header("authorization", format!("Bearer {ACCESS_ADMIN}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(br#"{"session": "s1"}"#)))
        .unwrap();
    let res = client.request(revocation).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        status,
        201,
        "revocation: {}",
        String::from_utf8_lossy(&body)
    );
    // The revocation comes back to this node through the store's stream.
    metrics_with(
        &server,
        "edgepack_access_revocation_lag_seconds_count{source=\"stream\"}",
    )
    .await;
    let f = request(
        server.addr,
        "GET",
        "/vod/demo/master.m3u8",
        &[("CTA-Common-Access-Token", session.as_str())],
        false,
    )
    .await;
    assert_eq!(f.status, 403, "a revoked session: {}", f.text());
    fetch(&server, "/metrics", 200).await
}

/// Metric families (`# TYPE name type`) of expositions: name to type.
fn families(expositions: &[String]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for text in expositions {
        for line in text.lines() {
            let mut words = line.split_whitespace();
            if let (Some("#"), Some("TYPE"), Some(name), Some(kind)) =
                (words.next(), words.next(), words.next(), words.next())
            {
                out.insert(name.to_owned(), kind.to_owned());
            }
        }
    }
    out
}

/// Metric names starting with `prefix` in `text` (`prefix[a-z0-9_]+`, not inside a longer
/// identifier), scanned without a regex engine.
fn metric_names(text: &str, prefix: &str) -> BTreeSet<String> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut out = BTreeSet::new();
    for (at, _) in text.match_indices(prefix) {
        if text[..at].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let name: String = text[at..]
            .chars()
            .take_while(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            .collect();
        if name.len() > prefix.len() {
            out.insert(name);
        }
    }
    out
}

/// The family a used name belongs to: itself, or the histogram a `_bucket`, `_sum` or
/// `_count` series is part of.
fn family_of<'a>(name: &'a str, families: &BTreeMap<String, String>) -> Option<&'a str> {
    if families.contains_key(name) {
        return Some(name);
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let base = name.strip_suffix(suffix)?;
        matches!(
            families.get(base).map(String::as_str),
            Some("histogram" | "summary")
        )
        .then_some(base)
    })
}

/// Names in `used` that are no family of the live exposition.
fn missing(used: &BTreeSet<String>, families: &BTreeMap<String, String>) -> Vec<String> {
    used.iter()
        .filter(|n| family_of(n, families).is_none())
        .cloned()
        .collect()
}

/// Every PromQL expression of the dashboard's panels (`expr`), or with `variables`, the
/// queries of its template variables (`label_values(...)`, which is not PromQL).
fn dashboard_queries(dashboard: &serde_json::Value, variables: bool) -> Vec<String> {
    fn walk(v: &serde_json::Value, key: &str, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    match v {
                        serde_json::Value::String(s) if k == key => out.push(s.clone()),
                        _ => walk(v, key, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, key, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if variables {
        walk(&dashboard["templating"], "query", &mut out);
    } else {
        walk(&dashboard["panels"], "expr", &mut out);
    }
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load_dashboard() -> serde_json::Value {
    let path = deploy("grafana/edgepack-dashboard.json");
    serde_json::from_str(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_exposition_passes_promtool() {
    let expositions = live_expositions().await;
    for text in &expositions {
        assert_promtool(&["check", "metrics"], Some(text));
    }
    let local = &expositions[0];
    for sample in [
        "kind=\"multivariant\"",
        "kind=\"mpd\"",
        "kind=\"media_playlist\"",
        "kind=\"init\"",
        "kind=\"cmaf_segment\"",
        "status=\"404\"",
        "edgepack_packaging_duration_seconds_bucket",
        "edgepack_build_info{",
    ] {
        assert!(local.contains(sample), "no {sample} in:\n{local}");
    }
    let access = &expositions[2];
    for sample in [
        "edgepack_access_decisions_total{result=\"allowed\"}",
        "edgepack_access_decisions_total{result=\"missing\"}",
        "edgepack_access_decisions_total{result=\"replayed\"}",
        "edgepack_access_decisions_total{result=\"revoked\"}",
        "edgepack_access_revocations_received_total{source=\"api\"}",
        "edgepack_access_revocations_received_total{source=\"stream\"}",
        "edgepack_access_store_operations_total{op=\"admit\",result=\"ok\"}",
        "edgepack_access_store_operations_total{op=\"first_use\",result=\"ok\"}",
        "edgepack_access_store_operations_total{op=\"revoke\",result=\"ok\"}",
        "edgepack_access_token_renewals_total{delivery=\"header\"}",
        "edgepack_access_token_reuse_total{outcome=\"refused\"}",
        "edgepack_access_sessions_active 1",
    ] {
        assert!(access.contains(sample), "no {sample} in:\n{access}");
    }
    let remote = &expositions[1];
    for sample in [
        "edgepack_origin_retries_total{",
        "edgepack_origin_circuit_open{",
    ] {
        assert!(remote.contains(sample), "no {sample} in:\n{remote}");
    }
}

#[test]
fn alert_rules_and_scrape_config_pass_promtool() {
    let rules = deploy("prometheus/alerts.yml");
    let config = deploy("prometheus/prometheus.yml");
    assert_promtool(&["check", "rules", rules.to_str().unwrap()], None);
    // Also loads the rule_files, relative to the config's directory.
    assert_promtool(&["check", "config", config.to_str().unwrap()], None);
    let text = read(&rules);
    for name in [
        "EdgepackNodeDown",
        "EdgepackHigh5xxRatio",
        "EdgepackSegmentLatencyHigh",
        "EdgepackResponseCacheHitRatioLow",
        "EdgepackOriginErrors",
        "EdgepackOriginCircuitOpen",
        "EdgepackConfigReloadFailed",
        "EdgepackMemoryOverBudget",
        "EdgepackAccessStoreDown",
        "EdgepackRevocationLagHigh",
        "EdgepackAccessRefusalsSpike",
    ] {
        assert!(
            text.contains(&format!("alert: {name}\n")),
            "alerts.yml has no {name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn alert_rules_use_only_exposed_metrics() {
    let families = families(&live_expositions().await);
    let text = read(&deploy("prometheus/alerts.yml"));
    let mut used = metric_names(&text, "edgepack_");
    assert!(!used.is_empty(), "alerts.yml uses no edgepack_ metric");
    used.extend(metric_names(&text, "process_"));
    let unknown = missing(&used, &families);
    assert!(
        unknown.is_empty(),
        "alerts.yml uses metrics the daemon does not expose: {unknown:?}\nexposed: {:?}",
        families.keys().collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dashboard_uses_exactly_the_exposed_metrics() {
    let dashboard = load_dashboard();
    let families = families(&live_expositions().await);
    let mut exprs = dashboard_queries(&dashboard, false);
    assert!(!exprs.is_empty(), "the dashboard has no queries");
    exprs.extend(dashboard_queries(&dashboard, true));
    let mut used = BTreeSet::new();
    for expr in &exprs {
        used.extend(metric_names(expr, "edgepack_"));
        used.extend(metric_names(expr, "process_"));
    }
    let unknown = missing(&used, &families);
    assert!(
        unknown.is_empty(),
        "the dashboard uses metrics the daemon does not expose: {unknown:?}\nexposed: {:?}",
        families.keys().collect::<Vec<_>>()
    );
    let shown: BTreeSet<&str> = used
        .iter()
        .filter_map(|n| family_of(n, &families))
        .collect();
    let unshown: Vec<&String> = families
        .keys()
        .filter(|f| f.starts_with("edgepack_") && !shown.contains(f.as_str()))
        .collect();
    assert!(
        unshown.is_empty(),
        "metric families with no dashboard panel (add one to deploy/grafana/edgepack-dashboard.json): {unshown:?}"
    );
}

#[test]
fn dashboard_is_importable_and_its_queries_parse() {
    let dashboard = load_dashboard();
    assert!(
        dashboard["schemaVersion"].as_i64().unwrap_or(0) >= 36,
        "schemaVersion"
    );
    let inputs = dashboard["__inputs"].as_array().expect("__inputs");
    assert!(
        inputs.iter().any(|i| i["name"] == "DS_PROMETHEUS"),
        "no DS_PROMETHEUS input"
    );
    let vars = dashboard["templating"]["list"]
        .as_array()
        .expect("templating");
    let var = |name: &str| vars.iter().find(|v| v["name"] == name);
    assert_eq!(
        var("DS_PROMETHEUS").map(|v| v["type"].clone()),
        Some("datasource".into()),
        "no DS_PROMETHEUS data source variable"
    );
    assert!(var("instance").is_some(), "no instance variable");

    let panels = dashboard["panels"].as_array().expect("panels");
    let mut ids = BTreeSet::new();
    for p in panels {
        let title = p["title"].as_str().unwrap_or("?");
        assert!(
            ids.insert(p["id"].as_i64()),
            "duplicate panel id in {title}"
        );
        if p["type"] == "row" {
            continue;
        }
        assert_eq!(
            p["datasource"]["uid"], "${DS_PROMETHEUS}",
            "panel {title} data source"
        );
        let targets = p["targets"].as_array().map_or(&[][..], Vec::as_slice);
        assert!(!targets.is_empty(), "panel {title} has no query");
    }

    // Every query, with Grafana's variables filled in, must be valid PromQL: promtool
    // parses them as recording rules.
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, expr) in dashboard_queries(&dashboard, false).iter().enumerate() {
        let promql = expr
            .replace("$__rate_interval", "5m")
            .replace("$__range", "1h")
            .replace("$__interval", "1m")
            .replace("$job", ".*")
            .replace("$instance", ".*");
        assert!(
            !promql.contains('$'),
            "unknown Grafana variable in {expr:?}"
        );
        rules.push_str(&format!(
            "      - record: dashboard:query_{i}\n        expr: {}\n",
            serde_json::Value::String(promql)
        ));
    }
    let file = tempfile::Builder::new().suffix(".yml").tempfile().unwrap();
    std::fs::write(file.path(), &rules).unwrap();
    let (ok, printed) = promtool(&["check", "rules", file.path().to_str().unwrap()], None);
    assert!(ok, "dashboard queries do not parse:\n{printed}\n{rules}");
}
