//! The steering answers: a session keeps its pathway, sessions are split by weight, players'
//! failover reports are counted and can take a CDN out, a query that cannot be read is a 400,
//! and a hostile `Host` never reaches the steering URL.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::fake_cdn::{three_cdns, IDS};
use super::support::{
    config, content_steering, entries, eventually, fast, local, master, metric_sum, metrics, param,
    priority, problem, signed, steer,
};
use crate::common::{get, metric, request, start_with};

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
        &signed("/vod/demo/steering/hls.json?session=p1&served=cdn-a&_HLS_pathway=cdn-b&_HLS_throughput=2500000"),
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
        steer(addr, &signed(&format!("/vod/demo/steering/hls.json?{q}"))).await;
    }
    let m = metrics(addr).await;
    assert_eq!(metric_sum(&m, "edgepack_cdn_failovers_total{"), 1.0, "{m}");
    assert_eq!(metric(&m, "edgepack_cdn_up{cdn=\"cdn-a\"}"), 1.0, "{m}");

    // dash.js: every location since its last request, quoted, the current one last.
    let dash = steer(
        addr,
        &signed("/vod/demo/steering/dash.json?session=p2&served=cdn-a&_DASH_pathway=%22cdn-a,cdn-b%22&_DASH_throughput=%22900000,1200000%22"),
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
        steer(addr, &signed(&format!("/vod/demo/steering/hls.json?{q}"))).await;
    }
    let m = metrics(addr).await;
    assert_eq!(metric_sum(&m, "edgepack_cdn_failovers_total{"), 2.0, "{m}");
    steer(
        addr,
        &signed("/vod/demo/steering/hls.json?session=p9&served=cdn-a.r1&_HLS_pathway=cdn-b"),
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
            &signed(
                "/vod/demo/steering/hls.json?session=one-player&served=cdn-a&_HLS_pathway=cdn-b",
            ),
        )
        .await;
    }
    // Reports with made-up sessions (no state, or a state this node did not sign) count for
    // nothing, however many.
    for i in 0..5 {
        let made_up =
            format!("/vod/demo/steering/hls.json?session=x{i}&served=cdn-a&_HLS_pathway=cdn-b");
        steer(node.addr, &made_up).await;
        steer(node.addr, &format!("{made_up}&state=0123456789abcdef")).await;
    }
    let m = metrics(node.addr).await;
    assert_eq!(metric(&m, "edgepack_cdn_up{cdn=\"cdn-a\"}"), 1.0, "{m}");
    // A second player is the second report.
    steer(
        node.addr,
        &signed("/vod/demo/steering/hls.json?session=another&served=cdn-a&_HLS_pathway=cdn-b"),
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
