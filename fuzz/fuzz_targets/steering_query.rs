//! The query of a content steering request (`cdn_router::query::parse`), what players and
//! anyone else send to `/vod/{asset}/steering/{hls,dash}.json`: any text is a query or a
//! refusal, never a panic, and a query read holds the crate's own rules (bounded, valid ids)
//! and reads back the same when written out again. For good measure the same text also goes
//! through the manifest rewrites with fixed pathways (`cdn_router::hls::steer_multivariant`,
//! `cdn_router::dash::steer_mpd`): they take manifests the edge built, but must not panic on
//! any text either, and what they write has the steering element and every pathway in it.
#![no_main]

use std::sync::OnceLock;

use cdn_router::dash::{steer_mpd, DashPathway, DashSteering};
use cdn_router::hls::{steer_multivariant, HlsSteering, PathwayUrls};
use cdn_router::query::{parse, SteeringQuery, MAX_QUERY_BYTES, SERVED, SESSION, STATE};
use cdn_router::PathwayId;
use libfuzzer_sys::fuzz_target;

const SERVER: &str = "https://edge.example/vod/demo/steering/hls.json?session=s1&served=cdn-b";

fn id(s: &str) -> PathwayId {
    PathwayId::new(s).expect("a valid id")
}

fn hls_pathways() -> &'static [PathwayUrls] {
    static P: OnceLock<Vec<PathwayUrls>> = OnceLock::new();
    P.get_or_init(|| {
        vec![
            PathwayUrls {
                id: id("cdn-a"),
                prefix: "https://cdn-a.example/vod/demo/".into(),
                query: None,
            },
            PathwayUrls {
                id: id("cdn-b"),
                prefix: "http://cdn-b.example:8080/edge/vod/demo/".into(),
                query: Some("cat=2D3RhEOhAQWhBFBrMQ&x=1".into()),
            },
        ]
    })
}

fn dash_pathways() -> &'static [DashPathway] {
    static P: OnceLock<Vec<DashPathway>> = OnceLock::new();
    P.get_or_init(|| {
        vec![
            DashPathway {
                id: id("cdn-a"),
                base_url: "https://cdn-a.example/vod/demo/".into(),
                priority: 1,
                weight: 3,
            },
            DashPathway {
                id: id("cdn-b"),
                base_url: "https://cdn-b.example/vod/demo/?a=1&b=<2>".into(),
                priority: 2,
                weight: 1,
            },
        ]
    })
}

/// `q` written out as the edge and players would send it.
fn written(q: &SteeringQuery) -> String {
    let mut parts = Vec::new();
    if let Some(s) = &q.session {
        parts.push(format!("{SESSION}={s}"));
    }
    if let Some(s) = &q.served {
        parts.push(format!("{SERVED}={s}"));
    }
    if let Some(s) = &q.state {
        parts.push(format!("{STATE}={s}"));
    }
    if let Some(p) = &q.pathway {
        parts.push(format!("_HLS_pathway={p}"));
    }
    if let Some(t) = q.throughput_bps {
        parts.push(format!("_DASH_throughput=%22{t}%22"));
    }
    parts.join("&")
}

fn query(text: &str) {
    let Ok(q) = parse(text) else { return };
    assert!(
        text.len() <= MAX_QUERY_BYTES,
        "a query past the bound was read"
    );
    if let Some(s) = &q.session {
        assert!(
            !s.is_empty()
                && s.len() <= 128
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
            "session {s:?}"
        );
    }
    for p in [&q.served, &q.pathway].into_iter().flatten() {
        assert_eq!(
            PathwayId::new(p.as_str()).as_ref(),
            Some(p),
            "pathway {p:?}"
        );
    }
    match q.left() {
        Some(left) => {
            assert_eq!(Some(left), q.served.as_ref());
            assert_ne!(q.pathway.as_ref(), Some(left));
            assert!(q.pathway.is_some());
        }
        None => assert!(q.served.is_none() || q.pathway.is_none() || q.served == q.pathway),
    }
    let again = written(&q);
    assert_eq!(
        parse(&again).as_ref(),
        Ok(&q),
        "{again:?} read back otherwise"
    );
}

fn multivariant(text: &str) {
    let initial = id("cdn-b");
    let steering = HlsSteering {
        server_uri: SERVER,
        initial: &initial,
        pathways: hls_pathways(),
    };
    let Ok(out) = steer_multivariant(text, &steering) else {
        return;
    };
    assert!(out.starts_with("#EXTM3U\n"), "{out:?}");
    // The steering tag comes before anything of the input's that could look like one.
    let tag = out
        .lines()
        .find(|l| l.starts_with("#EXT-X-CONTENT-STEERING"));
    let want = format!("#EXT-X-CONTENT-STEERING:SERVER-URI=\"{SERVER}\",PATHWAY-ID=\"cdn-b\"");
    assert_eq!(tag, Some(want.as_str()), "{out:?}");
    let variants = out
        .lines()
        .filter(|l| l.starts_with("#EXT-X-STREAM-INF:"))
        .count();
    assert!(
        variants >= hls_pathways().len() && variants % hls_pathways().len() == 0,
        "{variants} variants: {out:?}"
    );
}

fn mpd(text: &str) {
    let default = id("cdn-a");
    for query_before_start in [true, false] {
        let steering = DashSteering {
            server_uri: SERVER,
            default: &default,
            query_before_start,
            pathways: dash_pathways(),
        };
        let Ok(out) = steer_mpd(text, &steering) else {
            return;
        };
        assert!(out.len() > text.len());
        assert_eq!(
            out.matches("<ContentSteering").count(),
            text.matches("<ContentSteering").count() + 1
        );
        assert_eq!(
            out.matches("<BaseURL serviceLocation=").count(),
            text.matches("<BaseURL serviceLocation=").count() + dash_pathways().len()
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    query(&text);
    multivariant(&text);
    mpd(&text);
});
