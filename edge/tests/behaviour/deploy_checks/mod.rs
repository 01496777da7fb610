//! Checks the operations artifacts in `deploy/` against a real daemon: the `/metrics`
//! exposition, the alerting rules and the scrape config pass `promtool`, and every metric
//! the Grafana dashboard and the alerts use is one the daemon really exposes (and every
//! `edgepack_` family it exposes has a panel).
//!
//! Needs `promtool` on PATH (Debian package `prometheus`) and `redis-server` (Debian package
//! `redis-server`, for the access store's metrics), both installed by
//! scripts/install-test-deps.sh; without them these tests fail, they never skip.
//!
//! - `mod.rs` (this file): the promtool helpers, the metric-name scans and the tests.
//! - `expositions.rs`: the live `/metrics` expositions the tests check, from daemons that
//!   served the demo, read a failing origin, checked tokens on a real Redis and delivered
//!   through two CDNs.
//! - `control_exposition.rs`: the exposition of a control plane (catalog, events).

mod control_exposition;
mod expositions;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::repo_root;

use expositions::live_expositions;

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
    let control = &expositions[4];
    for sample in [
        "edgepack_control_requests_total{method=\"GET\",route=\"/v1/assets/{id}\",status=\"200\"} 1",
        "edgepack_control_request_duration_seconds_bucket{",
        "edgepack_control_events_published_total 1",
    ] {
        assert!(control.contains(sample), "no {sample} in:\n{control}");
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
        "EdgepackCatalogUnavailable",
        "EdgepackControlDown",
        "EdgepackControlErrors",
        "EdgepackControlEventsDropped",
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
    assert!(
        var("control_job").is_some(),
        "no control_job variable (the control plane's panels)"
    );

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
            .replace("$control_job", ".*")
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
