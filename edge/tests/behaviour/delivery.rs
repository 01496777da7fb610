//! Multi-CDN delivery seen from outside: a daemon whose `[delivery]` names three CDNs, each a
//! small HTTP server of the test's own on 127.0.0.2, .3 and .4 whose health the test switches
//! (it answers, fails with 500, or goes dark). Covered: the steered multivariant playlists and
//! MPD (read back by m3u8-rs, dash-mpd and roxmltree), the steering answers
//! (`/vod/{asset}/steering/{hls,dash}.json`), the weighted split of sessions, health probes and
//! their hysteresis, player reports, refused queries, the token each CDN checks (verified with
//! the `access` crate) and the configuration checks.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use access::cat::{Key, KeySet, Policy};
use access::RequestFacts;
use bytes::Bytes;
use edge::{Config, Daemon};
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use m3u8_rs::{MasterPlaylist, Playlist, QuotedOrUnquoted};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::common::access::{access_config, now, problem_type, token};
use crate::common::{demo_media, get, metric, request, start_with, Fetched};

const IDS: [&str; 3] = ["cdn-a", "cdn-b", "cdn-c"];
const CDN_C_SECRET: &str = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf";
const CDN_B_AKAMAI_KEY: &str = "52a152a152a152a152a152a152a1";

// --- the CDNs ------------------------------------------------------------------------------

/// How a test CDN behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Health {
    /// 200 to everything, `/healthz` included.
    Answering,
    /// 500 to everything.
    Failing,
    /// Every connection dropped: open ones at once, new ones as they come.
    Dark,
}

struct CdnState {
    health: Mutex<Health>,
    /// True while dark: open connections watch it and end.
    dark: watch::Sender<bool>,
    probes: AtomicUsize,
    /// When it last failed a probe (a 500 to `/healthz`, a connection dropped), so a test
    /// can tell how long the node held a CDN out after its last failure.
    last_failure: Mutex<Option<Instant>>,
}

/// A CDN in front of the node, as far as the probes see it.
struct FakeCdn {
    addr: SocketAddr,
    state: Arc<CdnState>,
    accept: JoinHandle<()>,
}

impl Drop for FakeCdn {
    fn drop(&mut self) {
        self.accept.abort();
        self.state.dark.send_replace(true);
    }
}

impl FakeCdn {
    async fn start(ip: &str) -> FakeCdn {
        let listener = TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(CdnState {
            health: Mutex::new(Health::Answering),
            dark: watch::channel(false).0,
            probes: AtomicUsize::new(0),
            last_failure: Mutex::new(None),
        });
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                if *shared.health.lock().unwrap() == Health::Dark {
                    drop(stream);
                    shared.failed();
                    continue;
                }
                let mut dark = shared.dark.subscribe();
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(state.clone(), req));
                    let conn =
                        http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                    tokio::select! {
                        _ = conn => {}
                        _ = dark.wait_for(|d| *d) => {}
                    }
                });
            }
        });
        FakeCdn {
            addr,
            state,
            accept,
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn set(&self, health: Health) {
        *self.state.health.lock().unwrap() = health;
        if health == Health::Dark {
            self.state.failed();
        }
        self.state.dark.send_replace(health == Health::Dark);
    }

    /// How long ago it last failed a probe.
    fn since_last_failure(&self) -> Duration {
        self.state
            .last_failure
            .lock()
            .unwrap()
            .expect("a failure")
            .elapsed()
    }

    fn probes(&self) -> usize {
        self.state.probes.load(Ordering::SeqCst)
    }
}

impl CdnState {
    fn failed(&self) {
        *self.last_failure.lock().unwrap() = Some(Instant::now());
    }
}

async fn answer(
    state: Arc<CdnState>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let status = match *state.health.lock().unwrap() {
        Health::Answering => 200,
        _ => 500,
    };
    if req.uri().path() == "/healthz" {
        state.probes.fetch_add(1, Ordering::SeqCst);
        if status != 200 {
            state.failed();
        }
    }
    Ok(Response::builder()
        .status(status)
        .body(Full::new(Bytes::from_static(b"ok\n")))
        .unwrap())
}

/// cdn-a, cdn-b and cdn-c on 127.0.0.2, .3 and .4.
async fn three_cdns() -> [FakeCdn; 3] {
    [
        FakeCdn::start("127.0.0.2").await,
        FakeCdn::start("127.0.0.3").await,
        FakeCdn::start("127.0.0.4").await,
    ]
}

fn base_of(cdns: &[FakeCdn; 3], id: &str) -> String {
    let i = IDS
        .iter()
        .position(|x| *x == id)
        .unwrap_or_else(|| panic!("unknown pathway {id:?}"));
    cdns[i].base_url()
}

// --- configuration -------------------------------------------------------------------------

/// Short probes and hysteresis, so a test sees a CDN go and come back in about a second.
fn fast(ramp_seconds: u64) -> String {
    format!(
        "probe_interval_ms = 100\nprobe_timeout_ms = 500\nfail_after = 2\nrecover_after = 2\n\
         hold_seconds = 1\nramp_seconds = {ramp_seconds}\nttl_seconds = 10\n\
         degraded_ttl_seconds = 2\n"
    )
}

/// One `[[delivery.cdns]]` entry for the CDN `at`, with `more` lines.
fn cdn_entry(id: &str, at: &FakeCdn, more: &str) -> String {
    format!(
        "[[delivery.cdns]]\nid = \"{id}\"\nbase_url = \"{}\"\n{more}\n",
        at.base_url()
    )
}

/// Entries for the three CDNs, with `more[i]` for the i-th.
fn entries(cdns: &[FakeCdn; 3], more: [&str; 3]) -> Vec<String> {
    (0..3)
        .map(|i| cdn_entry(IDS[i], &cdns[i], more[i]))
        .collect()
}

fn toml_text(settings: &str, cdns: &[String]) -> String {
    format!(
        "media_root = {:?}\n\n[delivery]\n{settings}\n{}",
        demo_media().to_str().unwrap(),
        cdns.join("\n")
    )
}

/// The demo with `[delivery]` as `settings` and `cdns` say, read as the daemon reads its file.
fn config(settings: &str, cdns: &[String]) -> Config {
    let text = toml_text(settings, cdns);
    Config::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

// --- reading what the node says ------------------------------------------------------------

fn master(text: &str) -> MasterPlaylist {
    match m3u8_rs::parse_playlist_res(text.as_bytes()) {
        Ok(Playlist::MasterPlaylist(m)) => m,
        other => panic!("not a multivariant playlist: {other:?}\n{text}"),
    }
}

fn attr(attrs: &Option<HashMap<String, QuotedOrUnquoted>>, name: &str) -> Option<String> {
    attrs.as_ref().and_then(|a| a.get(name)).map(|v| match v {
        QuotedOrUnquoted::Quoted(s) | QuotedOrUnquoted::Unquoted(s) => s.clone(),
    })
}

/// A quoted attribute of a tag's attribute list.
fn tag_attr(list: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let at = list
        .match_indices(&key)
        .map(|(i, _)| i)
        .find(|&i| i == 0 || list.as_bytes()[i - 1] == b',')?;
    let rest = &list[at + key.len()..];
    rest.find('"').map(|end| rest[..end].to_owned())
}

/// `EXT-X-CONTENT-STEERING`'s `SERVER-URI` and `PATHWAY-ID`; there must be exactly one.
fn content_steering(m: &MasterPlaylist) -> (String, String) {
    let tags: Vec<_> = m
        .unknown_tags
        .iter()
        .filter(|t| t.tag == "X-CONTENT-STEERING")
        .collect();
    assert_eq!(tags.len(), 1, "{:?}", m.unknown_tags);
    let list = tags[0].rest.clone().unwrap_or_default();
    (
        tag_attr(&list, "SERVER-URI").expect("SERVER-URI"),
        tag_attr(&list, "PATHWAY-ID").expect("PATHWAY-ID"),
    )
}

/// The value of query parameter `name` of `url`.
fn param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query
        .split('&')
        .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
        .map(str::to_owned)
}

/// `url`, absolute on this node, as a path and query to ask it.
fn local(url: &str, node: SocketAddr) -> String {
    url.strip_prefix(&format!("http://{node}"))
        .unwrap_or_else(|| panic!("{url} is not an absolute URL of http://{node}"))
        .to_owned()
}

/// A steering answer, which must be a 200 JSON document no cache keeps.
async fn steer(node: SocketAddr, path: &str) -> Value {
    steer_with(node, path, &[]).await
}

async fn steer_with(node: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Value {
    let r = request(node, "GET", path, headers, false).await;
    assert_eq!(r.status, 200, "GET {path}: {}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
    assert_eq!(r.header("cache-control"), Some("no-store"), "{path}");
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{path}: {e}: {}", r.text()))
}

fn priority(answer: &Value) -> Vec<String> {
    answer["PATHWAY-PRIORITY"]
        .as_array()
        .unwrap_or_else(|| panic!("no PATHWAY-PRIORITY: {answer}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

async fn metrics(node: SocketAddr) -> String {
    let r = get(node, "/metrics").await;
    assert_eq!(r.status, 200);
    r.text()
}

/// The sum of every sample whose line starts with `prefix`.
fn metric_sum(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Asks `check` again every 25 ms until it holds, for at most `within`; then fails with the
/// last thing it said.
async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + within;
    loop {
        match check().await {
            Ok(v) => return v,
            Err(last) if Instant::now() >= deadline => {
                panic!("{what}: not within {within:?}; last: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(25)).await,
        }
    }
}

fn problem(r: &Fetched) -> (u16, String) {
    assert_eq!(
        r.header("content-type"),
        Some("application/problem+json"),
        "{}",
        r.text()
    );
    (r.status, problem_type(r))
}

/// Every URI of a multivariant playlist (variants, I-frame streams, renditions) with the
/// pathway it is on.
fn uris_by_pathway(m: &MasterPlaylist) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for v in &m.variants {
        let id = attr(&v.other_attributes, "PATHWAY-ID")
            .unwrap_or_else(|| panic!("a variant without PATHWAY-ID: {}", v.uri));
        out.push((id, v.uri.clone()));
    }
    for r in &m.alternatives {
        if let Some(uri) = &r.uri {
            let id = IDS
                .iter()
                .find(|id| r.group_id.ends_with(&format!("-{id}")))
                .unwrap_or_else(|| panic!("group {} is no pathway's", r.group_id));
            out.push(((*id).to_owned(), uri.clone()));
        }
    }
    out
}

// --- manifests -----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn the_multivariant_playlist_names_every_cdn_and_the_steering_server() {
    let cdns = three_cdns().await;
    let node = start_with(config(&fast(0), &entries(&cdns, ["", "", ""]))).await;
    let mut sessions = BTreeSet::new();
    for (path, dir) in [
        ("/vod/demo/master.m3u8", "/vod/demo/"),
        ("/vod/demo/ts/master.m3u8", "/vod/demo/ts/"),
    ] {
        let r = get(node.addr, path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        // The copy names this session: no shared cache may keep it.
        let cc = r.header("cache-control").unwrap_or("");
        assert!(
            cc.contains("private") && !cc.contains("public"),
            "{path}: {cc}"
        );
        let text = r.text();
        let m = master(&text);

        // Every variant and I-frame stream once per CDN, on that CDN, the same on each.
        let mut by_pathway: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for v in &m.variants {
            let id = attr(&v.other_attributes, "PATHWAY-ID")
                .unwrap_or_else(|| panic!("a variant without PATHWAY-ID: {}", v.uri));
            let prefix = format!("{}{dir}", base_of(&cdns, &id));
            let relative = v
                .uri
                .strip_prefix(&prefix)
                .unwrap_or_else(|| panic!("{path}: {} is not under {prefix}", v.uri));
            assert!(
                attr(&v.other_attributes, "STABLE-VARIANT-ID").is_some(),
                "{}",
                v.uri
            );
            let kind = if v.is_i_frame { "i-frame" } else { "variant" };
            by_pathway
                .entry(id)
                .or_default()
                .push(format!("{kind} {relative}"));
        }
        assert_eq!(
            by_pathway.keys().map(String::as_str).collect::<Vec<_>>(),
            IDS,
            "{text}"
        );
        let first = by_pathway.values().next().unwrap().clone();
        assert!(
            first.iter().filter(|u| u.starts_with("variant ")).count() >= 3,
            "{first:?}"
        );
        for (id, uris) in &by_pathway {
            assert_eq!(uris, &first, "{path}: {id}'s variants");
        }

        // Renditions: each CDN's own groups, on that CDN; the variants use their CDN's groups.
        let mut renditions: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &m.alternatives {
            let id = IDS
                .iter()
                .find(|id| r.group_id.ends_with(&format!("-{id}")))
                .unwrap_or_else(|| panic!("{path}: group {} is no CDN's", r.group_id));
            *renditions.entry(id).or_default() += 1;
            if let Some(uri) = &r.uri {
                let prefix = format!("{}{dir}", base_of(&cdns, id));
                assert!(uri.starts_with(&prefix), "{path}: {uri} not under {prefix}");
            }
        }
        assert_eq!(renditions.len(), 3, "{path}: {renditions:?}");
        assert!(renditions
            .values()
            .all(|n| *n == renditions["cdn-a"] && *n >= 2));
        for v in m.variants.iter().filter(|v| !v.is_i_frame) {
            let id = attr(&v.other_attributes, "PATHWAY-ID").unwrap();
            for group in [&v.audio, &v.subtitles].into_iter().flatten() {
                assert!(
                    group.ends_with(&format!("-{id}")),
                    "{path}: {group} on {id}"
                );
                assert!(m.alternatives.iter().any(|r| &r.group_id == group));
            }
        }

        // One EXT-X-CONTENT-STEERING: this node's absolute steering URL with the session.
        let (server, initial) = content_steering(&m);
        let want = format!("http://{}/vod/demo/steering/hls.json?", node.addr);
        assert!(server.starts_with(&want), "{path}: {server}");
        let session = param(&server, "session").expect("session= in SERVER-URI");
        assert!(!session.is_empty());
        assert_eq!(param(&server, "served").as_deref(), Some(initial.as_str()));
        assert!(IDS.contains(&initial.as_str()), "{initial}");
        // The session's first pathway is written first.
        assert_eq!(
            attr(&m.variants[0].other_attributes, "PATHWAY-ID").as_deref(),
            Some(initial.as_str())
        );
        sessions.insert(session);
    }
    // Each multivariant playlist starts a session of its own, and is counted.
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let m = metrics(node.addr).await;
    assert_eq!(metric_sum(&m, "edgepack_steering_sessions_total{"), 2.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mpd_names_every_cdn_as_a_base_url_and_the_steering_server() {
    let cdns = three_cdns().await;
    let node = start_with(config(
        &fast(0),
        &entries(
            &cdns,
            ["weight = 5", "weight = 3\npriority = 1", "priority = 2"],
        ),
    ))
    .await;
    let r = get(node.addr, "/vod/demo/manifest.mpd").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let cc = r.header("cache-control").unwrap_or("");
    assert!(cc.contains("private") && !cc.contains("public"), "{cc}");
    let text = r.text();

    let mpd = dash_mpd::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(!mpd.periods.is_empty());
    let bases: BTreeMap<String, String> = mpd
        .base_url
        .iter()
        .map(|b| {
            (
                b.serviceLocation.clone().expect("serviceLocation"),
                b.base.clone(),
            )
        })
        .collect();
    assert_eq!(mpd.base_url.len(), 3, "{text}");
    for id in IDS {
        assert_eq!(
            bases[id],
            format!("{}/vod/demo/", base_of(&cdns, id)),
            "{text}"
        );
    }
    // DVB's dvb:weight and dvb:priority, for players that know only those.
    let base = |id: &str| {
        mpd.base_url
            .iter()
            .find(|b| b.serviceLocation.as_deref() == Some(id))
    };
    assert_eq!(base("cdn-a").unwrap().weight, Some(5));
    assert_eq!(base("cdn-c").unwrap().priority, Some(2));

    // dash-mpd does not model ContentSteering: read it with roxmltree.
    let doc = roxmltree::Document::parse(&text).unwrap();
    let steering: Vec<_> = doc
        .root_element()
        .children()
        .filter(|n| n.tag_name().name() == "ContentSteering")
        .collect();
    assert_eq!(steering.len(), 1, "{text}");
    let cs = steering[0];
    let default = cs.attribute("defaultServiceLocation").unwrap();
    assert_eq!(cs.attribute("queryBeforeStart"), Some("true"));
    let server = cs.text().unwrap().trim();
    let want = format!("http://{}/vod/demo/steering/dash.json?", node.addr);
    assert!(server.starts_with(&want), "{server}");
    assert!(param(server, "session").is_some_and(|s| !s.is_empty()));
    assert_eq!(param(server, "served").as_deref(), Some(default));
    // cdn-c is of a later priority tier: never a session's first while the others are up.
    assert!(["cdn-a", "cdn-b"].contains(&default), "{default}");
    assert_eq!(mpd.base_url[0].serviceLocation.as_deref(), Some(default));

    // The DASH answer also says SERVICE-LOCATION-PRIORITY (for dash.js before 4.7.2).
    let answer = steer(node.addr, &local(server, node.addr)).await;
    assert_eq!(answer["VERSION"], 1);
    assert_eq!(answer["TTL"], 10);
    assert_eq!(
        answer["SERVICE-LOCATION-PRIORITY"],
        answer["PATHWAY-PRIORITY"]
    );
    let order = priority(&answer);
    assert_eq!(order.len(), 3);
    assert_eq!(order[0], default);
    assert_eq!(order[2], "cdn-c");
    let reload = answer["RELOAD-URI"].as_str().unwrap();
    assert!(reload.starts_with(&want), "{reload}");
    assert_eq!(param(reload, "session"), param(server, "session"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_asset_not_delivered_through_the_cdns_is_served_as_built() {
    let cdns = three_cdns().await;
    let settings = format!("{}assets = [\"other*\", \"demo-2\"]\n", fast(0));
    let node = start_with(config(&settings, &entries(&cdns, ["", "", ""]))).await;
    let r = get(node.addr, "/vod/demo/master.m3u8").await;
    assert_eq!(r.status, 200);
    let text = r.text();
    let m = master(&text);
    assert!(
        !text.contains("CONTENT-STEERING") && !text.contains("PATHWAY-ID"),
        "{text}"
    );
    assert!(m.variants.iter().all(|v| !v.uri.contains("://")), "{text}");
    assert!(!r.header("cache-control").unwrap_or("").contains("private"));
    let mpd = get(node.addr, "/vod/demo/manifest.mpd").await.text();
    assert!(
        !mpd.contains("ContentSteering") && !mpd.contains("serviceLocation"),
        "{mpd}"
    );
    // Its steering URL is not found, for the player to stop asking.
    for file in ["hls", "dash"] {
        let r = get(
            node.addr,
            &format!("/vod/demo/steering/{file}.json?session=s1"),
        )
        .await;
        assert_eq!(problem(&r), (404, "steering-not-configured".to_owned()));
    }
    // Nor on a node with no CDN at all.
    let plain = crate::common::start(demo_media()).await;
    let r = get(plain.addr, "/vod/demo/steering/hls.json").await;
    assert_eq!(problem(&r), (404, "steering-not-configured".to_owned()));
    assert!(!get(plain.addr, "/vod/demo/master.m3u8")
        .await
        .text()
        .contains("PATHWAY-ID"));
}

// --- steering answers ----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn a_session_keeps_its_pathway_across_steering_requests() {
    let cdns = three_cdns().await;
    let node = start_with(config(&fast(0), &entries(&cdns, ["", "", ""]))).await;
    let m = master(&get(node.addr, "/vod/demo/master.m3u8").await.text());
    let (server, initial) = content_steering(&m);
    let session = param(&server, "session").unwrap();

    let answer = steer(node.addr, &local(&server, node.addr)).await;
    assert_eq!(answer["VERSION"], 1, "{answer}");
    assert_eq!(answer["TTL"], 10, "{answer}");
    assert!(
        answer.get("SERVICE-LOCATION-PRIORITY").is_none(),
        "{answer}"
    );
    assert!(answer.get("PATHWAY-CLONES").is_none(), "{answer}");
    let order = priority(&answer);
    assert_eq!(
        order.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        IDS.into_iter().collect::<BTreeSet<_>>()
    );
    assert_eq!(order[0], initial, "the answer agrees with the playlist");

    // Following RELOAD-URI (absolute, as Shaka needs) keeps the session and its order.
    let mut reload = answer["RELOAD-URI"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        let want = format!("http://{}/vod/demo/steering/hls.json?", node.addr);
        assert!(reload.starts_with(&want), "{reload}");
        assert_eq!(param(&reload, "session").as_deref(), Some(session.as_str()));
        assert_eq!(param(&reload, "served").as_deref(), Some(order[0].as_str()));
        // hls.js adds what it is on and what it measures.
        let asked = format!(
            "{}&_HLS_pathway={}&_HLS_throughput=3000000",
            local(&reload, node.addr),
            order[0]
        );
        let again = steer(node.addr, &asked).await;
        assert_eq!(priority(&again), order);
        reload = again["RELOAD-URI"].as_str().unwrap().to_owned();
    }
    // The order is the session's: a new playlist for the same id is not needed to get it, and
    // an id this node never gave (a restart, another node) gets one, never a 410.
    for unknown in ["never-seen-1", "never-seen-2"] {
        let a = steer(
            node.addr,
            &format!("/vod/demo/steering/hls.json?session={unknown}"),
        )
        .await;
        let b = steer(
            node.addr,
            &format!("/vod/demo/steering/hls.json?session={unknown}"),
        )
        .await;
        assert_eq!(priority(&a), priority(&b));
        assert_eq!(priority(&a).len(), 3);
    }
    // No query at all: a fresh session in RELOAD-URI.
    let bare = steer(node.addr, "/vod/demo/steering/hls.json").await;
    assert!(param(bare["RELOAD-URI"].as_str().unwrap(), "session").is_some_and(|s| !s.is_empty()));
    // steering_answers_total counts them by format and first pathway.
    let m = metrics(node.addr).await;
    let hls: f64 = m
        .lines()
        .filter(|l| {
            l.starts_with("edgepack_steering_answers_total{") && l.contains("format=\"hls\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(hls >= 9.0, "{m}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_are_split_by_weight_within_a_priority_tier() {
    let cdns = three_cdns().await;
    let node = start_with(config(
        &fast(0),
        &entries(
            &cdns,
            ["weight = 3", "weight = 1", "weight = 10\npriority = 2"],
        ),
    ))
    .await;
    let mut first: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..200 {
        let answer = steer(
            node.addr,
            &format!("/vod/demo/steering/hls.json?session=viewer-{i}"),
        )
        .await;
        let order = priority(&answer);
        assert_eq!(order.len(), 3, "{answer}");
        // The fallback tier comes last, whatever its weight.
        assert_eq!(order[2], "cdn-c", "{answer}");
        *first.entry(order[0].clone()).or_default() += 1;
    }
    // 3:1 over 200 sessions: 150 expected on cdn-a.
    let a = first.get("cdn-a").copied().unwrap_or(0);
    let b = first.get("cdn-b").copied().unwrap_or(0);
    assert_eq!(a + b, 200, "{first:?}");
    assert!(
        (120..=180).contains(&a),
        "cdn-a first for {a} of 200 sessions: {first:?}"
    );
    let m = metrics(node.addr).await;
    assert_eq!(
        metric(
            &m,
            "edgepack_steering_answers_total{first=\"cdn-a\",format=\"hls\"}"
        ),
        a as f64,
        "{m}"
    );
}

// --- health --------------------------------------------------------------------------------

/// A session whose first pathway is `want`, found among ids `prefix-0..`.
async fn session_on(node: SocketAddr, prefix: &str, want: &str) -> String {
    for i in 0..100 {
        let session = format!("{prefix}-{i}");
        let a = steer(
            node,
            &format!("/vod/demo/steering/hls.json?session={session}"),
        )
        .await;
        if priority(&a)[0] == want {
            return session;
        }
    }
    panic!("no session of 100 starts on {want}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cdn_that_fails_its_probes_leaves_the_answers_and_comes_back_after_the_hold() {
    let cdns = three_cdns().await;
    let node = start_with(config(&fast(1), &entries(&cdns, ["", "", ""]))).await;
    let addr = node.addr;
    eventually("every CDN probed twice", Duration::from_secs(3), || {
        let seen: Vec<usize> = cdns.iter().map(FakeCdn::probes).collect();
        async move {
            if seen.iter().all(|n| *n >= 2) {
                Ok(())
            } else {
                Err(format!("{seen:?}"))
            }
        }
    })
    .await;
    let m = metrics(addr).await;
    for id in IDS {
        assert_eq!(
            metric(&m, &format!("edgepack_cdn_up{{cdn=\"{id}\"}}")),
            1.0,
            "{m}"
        );
        assert!(
            metric(
                &m,
                &format!("edgepack_cdn_probes_total{{cdn=\"{id}\",result=\"ok\"}}")
            ) >= 2.0,
            "{m}"
        );
    }
    let on_a = session_on(addr, "a", "cdn-a").await;
    let on_b = session_on(addr, "b", "cdn-b").await;
    let path = |s: &str| format!("/vod/demo/steering/hls.json?session={s}");

    // cdn-b answers 500 to its probes, cdn-c goes dark.
    cdns[1].set(Health::Failing);
    cdns[2].set(Health::Dark);
    let out = eventually(
        "cdn-b and cdn-c out of the answers (two failed probes, 100 ms apart)",
        Duration::from_secs(5),
        || {
            let p = path(&on_b);
            async move {
                let a = steer(addr, &p).await;
                if priority(&a) == ["cdn-a"] {
                    Ok(a)
                } else {
                    Err(a.to_string())
                }
            }
        },
    )
    .await;
    assert_eq!(
        out["TTL"], 2,
        "a degraded answer holds for degraded_ttl_seconds: {out}"
    );
    // The session that was on cdn-a stays there.
    assert_eq!(priority(&steer(addr, &path(&on_a)).await), ["cdn-a"]);
    let m = metrics(addr).await;
    assert_eq!(metric(&m, "edgepack_cdn_up{cdn=\"cdn-a\"}"), 1.0, "{m}");
    assert_eq!(metric(&m, "edgepack_cdn_up{cdn=\"cdn-b\"}"), 0.0, "{m}");
    assert_eq!(metric(&m, "edgepack_cdn_up{cdn=\"cdn-c\"}"), 0.0, "{m}");
    assert!(
        metric(
            &m,
            "edgepack_cdn_probes_total{cdn=\"cdn-b\",result=\"status\"}"
        ) >= 2.0,
        "{m}"
    );
    assert!(
        metric(
            &m,
            "edgepack_cdn_probes_total{cdn=\"cdn-c\",result=\"error\"}"
        ) + metric(
            &m,
            "edgepack_cdn_probes_total{cdn=\"cdn-c\",result=\"timeout\"}"
        ) >= 2.0,
        "{m}"
    );
    for id in ["cdn-b", "cdn-c"] {
        assert_eq!(
            metric(
                &m,
                &format!("edgepack_cdn_transitions_total{{cdn=\"{id}\",to=\"down\"}}")
            ),
            1.0,
            "{m}"
        );
    }
    // A new session's playlist still names every CDN, and starts on the one that is up.
    let pl = master(&get(addr, "/vod/demo/master.m3u8").await.text());
    let named: BTreeSet<String> = uris_by_pathway(&pl).into_iter().map(|(id, _)| id).collect();
    assert_eq!(named.len(), 3, "{named:?}");
    assert_eq!(content_steering(&pl).1, "cdn-a");

    // Both answer again: they come back after two good probes and the hold (1 s without a
    // failure), not before.
    cdns[1].set(Health::Answering);
    cdns[2].set(Health::Answering);
    let back = eventually(
        "cdn-b and cdn-c back in the answers",
        Duration::from_secs(5),
        || {
            let p = path(&on_b);
            async move {
                let a = steer(addr, &p).await;
                if priority(&a).len() == 3 {
                    Ok(a)
                } else {
                    Err(a.to_string())
                }
            }
        },
    )
    .await;
    for cdn in &cdns[1..] {
        let held = cdn.since_last_failure();
        assert!(
            held >= Duration::from_millis(1000),
            "back {held:?} after its last failure, within the hold"
        );
    }
    let m = metrics(addr).await;
    for id in ["cdn-b", "cdn-c"] {
        // Ramping counts as up for the gauge.
        assert_eq!(
            metric(&m, &format!("edgepack_cdn_up{{cdn=\"{id}\"}}")),
            1.0,
            "{m}"
        );
        assert_eq!(
            metric(
                &m,
                &format!("edgepack_cdn_transitions_total{{cdn=\"{id}\",to=\"back\"}}")
            ),
            1.0,
            "{m}"
        );
    }
    // HLS players are offered each CDN that came back under a fresh id, a clone of itself
    // (hls.js keeps a pathway it saw fail out for five minutes, by id).
    assert_eq!(
        priority(&back)
            .iter()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        BTreeSet::from(["cdn-a", "cdn-b.r1", "cdn-c.r1"]),
        "{back}"
    );
    readmitted(&back, &["cdn-b", "cdn-c"]);
    // While ramping (1 s) answers stay short; then the session is home on cdn-b again.
    assert_eq!(back["TTL"], 2, "{back}");
    let home = eventually("the ramp over", Duration::from_secs(5), || {
        let p = path(&on_b);
        async move {
            let a = steer(addr, &p).await;
            if a["TTL"] == 10 {
                Ok(a)
            } else {
                Err(a.to_string())
            }
        }
    })
    .await;
    for cdn in &cdns[1..] {
        // The hold, then the ramp.
        let since = cdn.since_last_failure();
        assert!(
            since >= Duration::from_millis(2000),
            "up {since:?} after its last failure"
        );
    }
    assert_eq!(priority(&home)[0], "cdn-b.r1", "{home}");
    readmitted(&home, &["cdn-b", "cdn-c"]);
    let reload = home["RELOAD-URI"].as_str().unwrap();
    assert_eq!(param(reload, "served").as_deref(), Some("cdn-b.r1"));
    // dash.js forgets a failed location with the TTL: DASH answers keep the CDNs' own ids.
    let dash = steer(
        addr,
        &format!("/vod/demo/steering/dash.json?session={on_b}"),
    )
    .await;
    assert_eq!(priority(&dash)[0], "cdn-b", "{dash}");
    assert_eq!(priority(&dash).len(), 3, "{dash}");
    assert!(dash.get("PATHWAY-CLONES").is_none(), "{dash}");
    // A new session's playlist names the CDNs by their own ids; the clone is the answer's.
    let pl = master(&get(addr, "/vod/demo/master.m3u8").await.text());
    let named: BTreeSet<String> = uris_by_pathway(&pl).into_iter().map(|(id, _)| id).collect();
    assert_eq!(named, BTreeSet::from(IDS.map(String::from)));
    // The answers were counted under the CDNs' own ids.
    let m = metrics(addr).await;
    assert!(!m.contains(".r1\""), "{m}");
}

/// `answer` offers each of `ids` under its first fresh id, a clone of itself that changes
/// nothing of its URIs.
fn readmitted(answer: &Value, ids: &[&str]) {
    let clones = answer["PATHWAY-CLONES"]
        .as_array()
        .unwrap_or_else(|| panic!("no PATHWAY-CLONES: {answer}"));
    for id in ids {
        let fresh = format!("{id}.r1");
        assert!(
            clones.iter().any(|c| c["BASE-ID"] == *id
                && c["ID"] == fresh.as_str()
                && c["URI-REPLACEMENT"] == serde_json::json!({})),
            "{id}: {answer}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn players_reporting_a_failover_are_counted_and_can_take_a_cdn_out() {
    let cdns = three_cdns().await;
    let settings = format!(
        "{}player_reports = 2\nreport_window_seconds = 10\n",
        fast(0)
    );
    let node = start_with(config(&settings, &entries(&cdns, ["", "", ""]))).await;
    let addr = node.addr;
    let failovers = "edgepack_cdn_failovers_total{from=\"cdn-a\",to=\"cdn-b\"}";

    // hls.js: the pathway it is on, one value.
    steer(
        addr,
        "/vod/demo/steering/hls.json?session=p1&served=cdn-a&_HLS_pathway=cdn-b&_HLS_throughput=2500000",
    )
    .await;
    let m = metrics(addr).await;
    assert_eq!(metric(&m, failovers), 1.0, "{m}");
    assert_eq!(
        metric(
            &m,
            "edgepack_steering_reported_throughput_bytes_count{cdn=\"cdn-b\"}"
        ),
        1.0,
        "{m}"
    );
    // Not failovers: on the pathway it was told, a pathway no CDN has, nothing served.
    for q in [
        "session=p3&served=cdn-b&_HLS_pathway=cdn-b",
        "session=p4&served=zz&_HLS_pathway=cdn-b",
        "session=p5&served=cdn-a&_HLS_pathway=zz",
        "session=p6&_HLS_pathway=cdn-c",
    ] {
        steer(addr, &format!("/vod/demo/steering/hls.json?{q}")).await;
    }
    let m = metrics(addr).await;
    assert_eq!(metric_sum(&m, "edgepack_cdn_failovers_total{"), 1.0, "{m}");
    assert_eq!(metric(&m, "edgepack_cdn_up{cdn=\"cdn-a\"}"), 1.0, "{m}");

    // dash.js: every location since its last request, quoted, the current one last.
    let dash = steer(
        addr,
        "/vod/demo/steering/dash.json?session=p2&served=cdn-a&_DASH_pathway=%22cdn-a,cdn-b%22&_DASH_throughput=%22900000,1200000%22",
    )
    .await;
    assert_eq!(dash["VERSION"], 1);
    let m = metrics(addr).await;
    assert_eq!(metric(&m, failovers), 2.0, "{m}");
    // Two players left cdn-a within the window: it is out though its probes pass.
    assert_eq!(metric(&m, "edgepack_cdn_up{cdn=\"cdn-a\"}"), 0.0, "{m}");
    assert_eq!(
        metric(
            &m,
            "edgepack_cdn_transitions_total{cdn=\"cdn-a\",to=\"down\"}"
        ),
        1.0,
        "{m}"
    );
    let out = steer(addr, "/vod/demo/steering/hls.json?session=p1").await;
    assert!(!priority(&out).contains(&"cdn-a".to_owned()), "{out}");
    assert_eq!(out["TTL"], 2, "{out}");
    // Its probes pass: it is back after the hold, for HLS players under a fresh id.
    eventually("cdn-a back", Duration::from_secs(5), || async move {
        let a = steer(addr, "/vod/demo/steering/hls.json?session=p1").await;
        if priority(&a).contains(&"cdn-a.r1".to_owned()) {
            Ok(())
        } else {
            Err(a.to_string())
        }
    })
    .await;
    // Reports name the fresh id or the CDN's own; both are the CDN. A player told cdn-a.r1
    // and still on cdn-a (or the other way round) did not fail over.
    for q in [
        "session=p7&served=cdn-a.r1&_HLS_pathway=cdn-a",
        "session=p8&served=cdn-a&_HLS_pathway=cdn-a.r1",
    ] {
        steer(addr, &format!("/vod/demo/steering/hls.json?{q}")).await;
    }
    let m = metrics(addr).await;
    assert_eq!(metric_sum(&m, "edgepack_cdn_failovers_total{"), 2.0, "{m}");
    steer(
        addr,
        "/vod/demo/steering/hls.json?session=p9&served=cdn-a.r1&_HLS_pathway=cdn-b",
    )
    .await;
    let m = metrics(addr).await;
    assert_eq!(metric(&m, failovers), 3.0, "{m}");
    assert_eq!(metric(&m, "edgepack_cdn_up{cdn=\"cdn-a\"}"), 1.0, "{m}");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_player_reporting_again_and_again_is_one_report() {
    let cdns = three_cdns().await;
    let settings = format!(
        "{}player_reports = 2\nreport_window_seconds = 10\n",
        fast(0)
    );
    let node = start_with(config(&settings, &entries(&cdns, ["", "", ""]))).await;
    for _ in 0..5 {
        steer(
            node.addr,
            "/vod/demo/steering/hls.json?session=one-player&served=cdn-a&_HLS_pathway=cdn-b",
        )
        .await;
    }
    let m = metrics(node.addr).await;
    assert_eq!(metric(&m, "edgepack_cdn_up{cdn=\"cdn-a\"}"), 1.0, "{m}");
    // A second player is the second report.
    steer(
        node.addr,
        "/vod/demo/steering/hls.json?session=another&served=cdn-a&_HLS_pathway=cdn-b",
    )
    .await;
    let m = metrics(node.addr).await;
    assert_eq!(metric(&m, "edgepack_cdn_up{cdn=\"cdn-a\"}"), 0.0, "{m}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_host_header_never_reaches_the_steering_url() {
    let cdns = three_cdns().await;
    let node = start_with(config(&fast(0), &entries(&cdns, ["", "", ""]))).await;
    let r = request(
        node.addr,
        "GET",
        "/vod/demo/master.m3u8",
        &[("host", "x.example\",PATHWAY-ID=\"evil")],
        false,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    let tag = text
        .lines()
        .find(|l| l.starts_with("#EXT-X-CONTENT-STEERING:"))
        .expect("no EXT-X-CONTENT-STEERING");
    assert!(!text.contains("evil"), "{tag}");
    assert_eq!(tag.matches("PATHWAY-ID=").count(), 1, "{tag}");
    assert!(
        tag.contains("SERVER-URI=\"http://localhost/vod/demo/steering/hls.json?"),
        "{tag}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_steering_query_that_cannot_be_read_is_a_400_never_a_410_or_429() {
    let cdns = three_cdns().await;
    let node = start_with(config(&fast(0), &entries(&cdns, ["", "", ""]))).await;
    let many = vec!["x=1"; 40].join("&");
    let long = format!("session=s&pad={}", "a".repeat(5000));
    let cases: Vec<(&str, &str)> = vec![
        (&long, "too_long"),
        (&many, "too_many_parameters"),
        ("session=%zz", "bad_encoding"),
        ("session=%4", "bad_encoding"),
        ("served=cdn-a&_HLS_pathway=%ff", "bad_encoding"),
        ("session=a%20b", "bad_session"),
        ("_HLS_pathway=cdn%20a", "bad_pathway"),
        ("served=cdn-a%22", "bad_pathway"),
        ("_DASH_pathway=%22cdn-a,cdn%20b%22", "bad_pathway"),
        ("_HLS_throughput=-1", "bad_throughput"),
        ("_DASH_throughput=1e9", "bad_throughput"),
    ];
    for (query, reason) in &cases {
        for file in ["hls", "dash"] {
            let path = format!("/vod/demo/steering/{file}.json?{query}");
            let r = get(node.addr, &path).await;
            assert!(r.status != 410 && r.status != 429, "{}", r.status);
            assert_eq!(
                problem(&r),
                (400, "steering-query-invalid".to_owned()),
                "{file} {reason}: {}",
                r.text()
            );
        }
    }
    let m = metrics(node.addr).await;
    for (_, reason) in &cases {
        assert!(
            metric(
                &m,
                &format!("edgepack_steering_refused_total{{reason=\"{reason}\"}}")
            ) >= 2.0,
            "{reason}: {m}"
        );
    }
    // Parameters it does not know (a cache buster, an empty one) are left alone.
    steer(
        node.addr,
        "/vod/demo/steering/hls.json?session=s&_=123&&x&_HLS_pathway=",
    )
    .await;
}

// --- tokens --------------------------------------------------------------------------------

/// A GET of `path` as the CDN `uri` names sees it.
fn facts<'a>(uri: &'a http::Uri, path: &'a str) -> RequestFacts<'a> {
    RequestFacts {
        scheme: "http",
        host: uri.host().unwrap(),
        port: uri.port_u16().unwrap(),
        path,
        query: "",
        method: "GET",
        client_ip: None,
        country: None,
        alpn: "http/1.1",
        now: now(),
    }
}

fn cdn_c_keys() -> KeySet {
    KeySet::new(vec![Key::hmac(
        b"cdn-c",
        &hex::decode(CDN_C_SECRET).unwrap(),
    )
    .unwrap()])
    .unwrap()
}

/// The three CDNs' entries: cdn-a signs nothing, cdn-b checks Akamai tokens, cdn-c CATs.
fn signing_cdns(cdns: &[FakeCdn; 3]) -> Vec<String> {
    let akamai = format!("signing = {{ scheme = \"akamai\", key_hex = \"{CDN_B_AKAMAI_KEY}\" }}");
    let cat = format!(
        "signing = {{ scheme = \"cat\", kid = \"cdn-c\", secret_hex = \"{CDN_C_SECRET}\" }}"
    );
    entries(cdns, ["", &akamai, &cat])
}

#[tokio::test(flavor = "multi_thread")]
async fn each_cdn_gets_its_own_token_in_its_urls() {
    let cdns = three_cdns().await;
    let node = start_with(config(&fast(0), &signing_cdns(&cdns))).await;
    let akamai = access::akamai::EdgeAuthKey::from_hex(CDN_B_AKAMAI_KEY, None).unwrap();
    let mut sids = BTreeSet::new();
    for _ in 0..2 {
        let m = master(&get(node.addr, "/vod/demo/master.m3u8").await.text());
        let session = param(&content_steering(&m).0, "session").unwrap();
        sids.insert(session.clone());
        let uris = uris_by_pathway(&m);
        assert!(uris.len() >= 3 * 8, "{uris:?}");
        for (id, url) in uris {
            let uri: http::Uri = url.parse().unwrap_or_else(|e| panic!("{url}: {e}"));
            let path = uri.path();
            assert!(path.starts_with("/vod/demo/"), "{url}");
            match id.as_str() {
                // No signing, no viewer token: the URL as built.
                "cdn-a" => assert_eq!(uri.query(), None, "{url}"),
                "cdn-b" => {
                    let t = param(&url, "__token__").unwrap_or_else(|| panic!("{url}"));
                    let fields = access::akamai::verify(
                        &t,
                        std::slice::from_ref(&akamai),
                        &facts(&uri, path),
                        0,
                    )
                    .unwrap_or_else(|e| panic!("{url}: {e:?}"));
                    assert_eq!(fields.id.as_deref(), Some(session.as_str()), "{url}");
                    assert_eq!(fields.acl.as_deref(), Some("/vod/demo/*"), "{url}");
                    assert!(fields.exp > now(), "{url}");
                    let elsewhere = facts(&uri, "/vod/other/master.m3u8");
                    assert!(
                        access::akamai::verify(&t, std::slice::from_ref(&akamai), &elsewhere, 0)
                            .is_err(),
                        "{url}"
                    );
                }
                "cdn-c" => {
                    let t = param(&url, "cat").unwrap_or_else(|| panic!("{url}"));
                    let token = access::cat::verify(&t, &cdn_c_keys())
                        .unwrap_or_else(|e| panic!("{url}: {e:?}"));
                    let c = &token.claims;
                    assert_eq!(token.kid, b"cdn-c");
                    assert_eq!(c.sid.as_deref(), Some(session.as_str()), "{url}");
                    assert!(c.exp.is_some_and(|e| e > now()), "{url}");
                    let policy = Policy::default();
                    token
                        .check(&facts(&uri, path), &policy)
                        .unwrap_or_else(|e| panic!("{url}: {e:?}"));
                    // Its catu is the asset's path prefix, its catm GET and HEAD.
                    let elsewhere = facts(&uri, "/vod/other/video_180p-v1/media.m3u8");
                    assert!(token.check(&elsewhere, &policy).is_err(), "{url}");
                    let mut post = facts(&uri, path);
                    post.method = "POST";
                    assert!(token.check(&post, &policy).is_err(), "{url}");
                    // Sealed with cdn-c's key, not another.
                    let other =
                        KeySet::new(vec![Key::hmac(b"cdn-c", &[7u8; 32]).unwrap()]).unwrap();
                    assert!(access::cat::verify(&t, &other).is_err());
                }
                other => panic!("pathway {other}"),
            }
        }
    }
    assert_eq!(sids.len(), 2, "each session its own tokens");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_viewer_token_carries_over_to_the_cdn_tokens_and_the_steering_url() {
    let cdns = three_cdns().await;
    let mut c = crate::common::access::config(access_config(None));
    c.delivery = config(&fast(0), &signing_cdns(&cdns)).delivery;
    let node = start_with(c).await;
    let exp = now() + 600;
    let t = token("demo", "alice", 600, |b| b.sid("viewer-session-1").exp(exp));
    let r = get(node.addr, &format!("/vod/demo/master.m3u8?cat={t}")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let m = master(&r.text());
    let (server, _) = content_steering(&m);
    // The viewer's session names the steering session, and the steering URL carries a token
    // so the steering request passes access control.
    assert_eq!(
        param(&server, "session").as_deref(),
        Some("viewer-session-1")
    );
    assert!(param(&server, "cat").is_some(), "{server}");
    let answer = steer(node.addr, &local(&server, node.addr)).await;
    let reload = answer["RELOAD-URI"].as_str().unwrap();
    assert!(param(reload, "cat").is_some(), "{reload}");
    steer(node.addr, &local(reload, node.addr)).await;
    let bare = get(
        node.addr,
        "/vod/demo/steering/hls.json?session=viewer-session-1",
    )
    .await;
    assert_eq!(problem(&bare), (401, "token-missing".to_owned()));

    let viewer_keys = KeySet::new(vec![crate::common::access::key()]).unwrap();
    for (id, url) in uris_by_pathway(&m) {
        match id.as_str() {
            // An unsigned CDN gets the viewer's own token (one for this asset).
            "cdn-a" => {
                let t = param(&url, "cat").unwrap_or_else(|| panic!("{url}"));
                let claims = access::cat::verify(&t, &viewer_keys).unwrap().claims;
                assert_eq!(claims.sub.as_deref(), Some("alice"));
            }
            // A CAT-signing CDN gets its own, with the viewer's claims.
            "cdn-c" => {
                let t = param(&url, "cat").unwrap_or_else(|| panic!("{url}"));
                let claims = access::cat::verify(&t, &cdn_c_keys()).unwrap().claims;
                assert_eq!(claims.sub.as_deref(), Some("alice"), "{url}");
                assert_eq!(claims.sid.as_deref(), Some("viewer-session-1"), "{url}");
                assert_eq!(claims.exp, Some(exp), "no longer than the viewer's own");
            }
            "cdn-b" => {
                let t = param(&url, "__token__").unwrap_or_else(|| panic!("{url}"));
                assert!(t.contains("id=viewer-session-1"), "{url}");
                assert!(t.contains(&format!("exp={exp}")), "{url}");
            }
            other => panic!("pathway {other}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cdn_limited_to_regions_is_named_only_for_viewers_there() {
    let cdns = three_cdns().await;
    let settings = format!(
        "{}steering_base_url = \"https://steer.example.com/edge\"\n",
        fast(0)
    );
    let node = start_with(config(
        &settings,
        &entries(&cdns, ["", "", "regions = [\"fr\", \"BE\"]"]),
    ))
    .await;
    let named = |m: &MasterPlaylist| -> BTreeSet<String> {
        uris_by_pathway(m).into_iter().map(|(id, _)| id).collect()
    };
    let elsewhere = master(&get(node.addr, "/vod/demo/master.m3u8").await.text());
    assert_eq!(
        named(&elsewhere),
        BTreeSet::from(["cdn-a".into(), "cdn-b".into()])
    );
    let fr = request(
        node.addr,
        "GET",
        "/vod/demo/master.m3u8",
        &[("x-country-code", "FR")],
        false,
    )
    .await;
    let fr = master(&fr.text());
    assert_eq!(named(&fr).len(), 3);
    // steering_base_url names where players ask.
    let (server, _) = content_steering(&fr);
    assert!(
        server.starts_with("https://steer.example.com/edge/vod/demo/steering/hls.json?session="),
        "{server}"
    );
    let path = "/vod/demo/steering/hls.json?session=r1";
    let answer = steer(node.addr, path).await;
    assert!(!priority(&answer).contains(&"cdn-c".to_owned()), "{answer}");
    let reload = answer["RELOAD-URI"].as_str().unwrap();
    assert!(reload.starts_with("https://steer.example.com/edge/vod/demo/steering/hls.json?"));
    let answer = steer_with(node.addr, path, &[("x-country-code", "BE")]).await;
    assert_eq!(priority(&answer).len(), 3, "{answer}");
}

// --- configuration -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_refuses_a_delivery_config_that_makes_no_sense() {
    let entry = |id: &str, base: &str, more: &str| {
        format!("[[delivery.cdns]]\nid = \"{id}\"\nbase_url = \"{base}\"\n{more}\n")
    };
    let good = || {
        vec![
            entry("cdn-a", "https://cdn-a.example.com", ""),
            entry("cdn-b", "https://cdn-b.example.com/edge", "weight = 2"),
        ]
    };
    let c = config("", &good());
    assert_eq!(c.delivery.cdns.len(), 2);
    assert_eq!(c.delivery.probe_path, "/healthz");
    assert_eq!(c.delivery.cdns[0].weight, 1);
    assert!(c.delivery.covers("demo"));

    let refused: Vec<(&str, String, Vec<String>)> = vec![
        (
            "listed twice",
            String::new(),
            vec![
                entry("cdn-a", "https://a.example.com", ""),
                entry("cdn-a", "https://b.example.com", ""),
            ],
        ),
        (
            "\"cdn a\"",
            String::new(),
            vec![entry("cdn a", "https://a.example.com", "")],
        ),
        (
            "\"\"",
            String::new(),
            vec![entry("", "https://a.example.com", "")],
        ),
        (
            "1 to 64",
            String::new(),
            vec![entry(&"x".repeat(65), "https://a.example.com", "")],
        ),
        (
            "trailing slash",
            String::new(),
            vec![entry("cdn-a", "https://a.example.com/", "")],
        ),
        (
            ".r and digits",
            String::new(),
            vec![entry("edge.r2", "https://a.example.com", "")],
        ),
        (
            "base_url",
            String::new(),
            vec![entry("cdn-a", "a.example.com", "")],
        ),
        (
            "base_url",
            String::new(),
            vec![entry("cdn-a", "ftp://a.example.com", "")],
        ),
        (
            "probe_url",
            String::new(),
            vec![entry(
                "cdn-a",
                "https://a.example.com",
                "probe_url = \"/up\"",
            )],
        ),
        (
            "weight above 0",
            String::new(),
            vec![entry("cdn-a", "https://a.example.com", "weight = 0")],
        ),
        ("probe_interval_ms", "probe_interval_ms = 50".into(), good()),
        ("ttl_seconds", "ttl_seconds = 0".into(), good()),
        (
            "steering_base_url",
            "steering_base_url = \"steer.example.com\"".into(),
            good(),
        ),
        (
            "clone",
            "hls_layout = \"clone\"".into(),
            vec![
                entry("cdn-a", "https://a.example.com", ""),
                entry("cdn-b", "https://b.example.com:8443", ""),
            ],
        ),
        (
            "unknown field",
            String::new(),
            vec![entry("cdn-a", "https://a.example.com", "wieght = 3")],
        ),
        (
            "unknown variant",
            String::new(),
            vec![entry(
                "cdn-a",
                "https://a.example.com",
                "signing = { scheme = \"jwt\" }",
            )],
        ),
    ];
    for (why, settings, cdns) in refused {
        let text = toml_text(&settings, &cdns);
        match Config::from_toml(&text) {
            Ok(_) => panic!("accepted ({why}):\n{text}"),
            Err(e) => assert!(e.to_string().contains(why), "{why}: {e}\n{text}"),
        }
    }

    // What only the daemon can check: the signing keys. And validation is the daemon's too,
    // for a configuration made in code.
    let signing = [
        "signing = { scheme = \"cat\", kid = \"k\" }",
        "signing = { scheme = \"cat\", secret_hex = \"zz\" }",
        "signing = { scheme = \"cat\", alg = \"ES256\", secret_hex = \"00\" }",
        "signing = { scheme = \"akamai\" }",
        "signing = { scheme = \"akamai\", key_hex = \"0102\" }",
    ];
    for s in signing {
        let c = config("", &[entry("cdn-a", "https://a.example.com", s)]);
        match Daemon::new(c) {
            Ok(_) => panic!("the daemon took {s}"),
            Err(e) => assert!(e.to_string().contains("cdn-a"), "{s}: {e}"),
        }
    }
    let mut twice = config("", &good());
    twice.delivery.cdns[1].id = "cdn-a".into();
    match Daemon::new(twice) {
        Ok(_) => panic!("the daemon took a CDN listed twice"),
        Err(e) => assert!(e.to_string().contains("listed twice"), "{e}"),
    }
}
