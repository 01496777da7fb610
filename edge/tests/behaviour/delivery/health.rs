//! CDN health: probes take a failing or dark CDN out of the answers, and it comes back
//! after good probes and the hold, ramping, under a fresh id for HLS players.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;

use super::fake_cdn::{three_cdns, FakeCdn, Health, IDS};
use super::support::{
    config, content_steering, entries, eventually, fast, master, metrics, param, priority, steer,
    uris_by_pathway,
};
use crate::common::{get, metric, start_with};

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
