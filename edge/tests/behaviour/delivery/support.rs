//! What the delivery tests share: the `[delivery]` configurations they start daemons with,
//! and readers of what the node says (multivariant playlists, steering answers, metrics,
//! problem documents).

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use edge::Config;
use m3u8_rs::{MasterPlaylist, Playlist, QuotedOrUnquoted};
use serde_json::Value;

use super::fake_cdn::{FakeCdn, IDS};
use crate::common::access::problem_type;
use crate::common::{demo_media, get, request, Fetched};

// --- configuration -------------------------------------------------------------------------

/// Short probes and hysteresis, so a test sees a CDN go and come back in about a second.
pub(super) fn fast(ramp_seconds: u64) -> String {
    format!(
        "probe_interval_ms = 100\nprobe_timeout_ms = 500\nfail_after = 2\nrecover_after = 2\n\
         hold_seconds = 1\nramp_seconds = {ramp_seconds}\nttl_seconds = 10\n\
         degraded_ttl_seconds = 2\nstate_key_hex = \"{STATE_KEY}\"\n"
    )
}

/// The key the nodes of these tests sign steering state with.
pub(super) const STATE_KEY: &str = "5e55102057a7e0000000000000000000";

/// `query` (with `session=` and `served=`) with the `state=` a node using [`STATE_KEY`]
/// signs them with, as a player's steering request carries it.
pub(super) fn signed(query: &str) -> String {
    let params = query.split_once('?').map_or(query, |(_, q)| q);
    let param = |name: &str| {
        params
            .split('&')
            .find_map(|p| p.strip_prefix(&format!("{name}=")))
            .unwrap_or("")
            .to_owned()
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &hex::decode(STATE_KEY).unwrap());
    let tag = ring::hmac::sign(
        &key,
        format!("{}\n{}", param("session"), param("served")).as_bytes(),
    );
    format!("{query}&state={}", hex::encode(&tag.as_ref()[..8]))
}

/// One `[[delivery.cdns]]` entry for the CDN `at`, with `more` lines.
fn cdn_entry(id: &str, at: &FakeCdn, more: &str) -> String {
    format!(
        "[[delivery.cdns]]\nid = \"{id}\"\nbase_url = \"{}\"\n{more}\n",
        at.base_url()
    )
}

/// Entries for the three CDNs, with `more[i]` for the i-th.
pub(super) fn entries(cdns: &[FakeCdn; 3], more: [&str; 3]) -> Vec<String> {
    (0..3)
        .map(|i| cdn_entry(IDS[i], &cdns[i], more[i]))
        .collect()
}

pub(super) fn toml_text(settings: &str, cdns: &[String]) -> String {
    format!(
        "media_root = {:?}\n\n[delivery]\n{settings}\n{}",
        demo_media().to_str().unwrap(),
        cdns.join("\n")
    )
}

/// The demo with `[delivery]` as `settings` and `cdns` say, read as the daemon reads its file.
pub(super) fn config(settings: &str, cdns: &[String]) -> Config {
    let text = toml_text(settings, cdns);
    Config::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

// --- reading what the node says ------------------------------------------------------------

pub(super) fn master(text: &str) -> MasterPlaylist {
    match m3u8_rs::parse_playlist_res(text.as_bytes()) {
        Ok(Playlist::MasterPlaylist(m)) => m,
        other => panic!("not a multivariant playlist: {other:?}\n{text}"),
    }
}

pub(super) fn attr(
    attrs: &Option<HashMap<String, QuotedOrUnquoted>>,
    name: &str,
) -> Option<String> {
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
pub(super) fn content_steering(m: &MasterPlaylist) -> (String, String) {
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
pub(super) fn param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query
        .split('&')
        .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
        .map(str::to_owned)
}

/// `url`, absolute on this node, as a path and query to ask it.
pub(super) fn local(url: &str, node: SocketAddr) -> String {
    url.strip_prefix(&format!("http://{node}"))
        .unwrap_or_else(|| panic!("{url} is not an absolute URL of http://{node}"))
        .to_owned()
}

/// A steering answer, which must be a 200 JSON document no cache keeps.
pub(super) async fn steer(node: SocketAddr, path: &str) -> Value {
    steer_with(node, path, &[]).await
}

pub(super) async fn steer_with(node: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Value {
    let r = request(node, "GET", path, headers, false).await;
    assert_eq!(r.status, 200, "GET {path}: {}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
    assert_eq!(r.header("cache-control"), Some("no-store"), "{path}");
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{path}: {e}: {}", r.text()))
}

pub(super) fn priority(answer: &Value) -> Vec<String> {
    answer["PATHWAY-PRIORITY"]
        .as_array()
        .unwrap_or_else(|| panic!("no PATHWAY-PRIORITY: {answer}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

pub(super) async fn metrics(node: SocketAddr) -> String {
    let r = get(node, "/metrics").await;
    assert_eq!(r.status, 200);
    r.text()
}

/// The sum of every sample whose line starts with `prefix`.
pub(super) fn metric_sum(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Asks `check` again every 25 ms until it holds, for at most `within`; then fails with the
/// last thing it said.
pub(super) async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
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

pub(super) fn problem(r: &Fetched) -> (u16, String) {
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
pub(super) fn uris_by_pathway(m: &MasterPlaylist) -> Vec<(String, String)> {
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
