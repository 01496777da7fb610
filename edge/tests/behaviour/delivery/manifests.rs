//! The steered manifests: the multivariant playlists and the MPD name every CDN and this
//! node's steering server, and an asset not delivered through the CDNs is served as built.

use std::collections::{BTreeMap, BTreeSet};

use super::fake_cdn::{base_of, three_cdns, IDS};
use super::support::{
    attr, config, content_steering, entries, fast, local, master, metric_sum, metrics, param,
    priority, problem, steer,
};
use crate::common::{demo_media, get, start_with};

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
