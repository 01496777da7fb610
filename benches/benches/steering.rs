//! Criterion benches of multi-CDN steering (the `cdn-router` crate): what a steered session
//! costs the edge. `cargo bench -p edgepack-benches --bench steering` for figures.
//!
//! - `steering_answer`: one steering request end to end in the pure crate: its query read
//!   (the dash.js list form), the session's order among three CDNs with one out, and the JSON
//!   answer written;
//! - `session_order`: the weighted rendezvous order alone;
//! - `steer_multivariant_3_cdns`: the demo's multivariant playlist (3 variants, 2 audio, 2
//!   subtitle renditions, 3 I-frame streams) rewritten for a session across three CDNs, each
//!   with its own token (what a session start adds to the cached playlist);
//! - `steer_mpd_3_cdns`: the demo's MPD with three `BaseURL`s and `ContentSteering`.

use cdn_router::dash::{steer_mpd, DashPathway, DashSteering};
use cdn_router::health::Status;
use cdn_router::hls::{steer_multivariant, HlsSteering, PathwayUrls};
use cdn_router::order::order;
use cdn_router::query;
use cdn_router::steering::{decide, document, Dialect, TtlPolicy};
use cdn_router::{Pathway, PathwayId};
use criterion::{black_box, criterion_group, criterion_main, Criterion};

const MASTER: &str = include_str!("../../cdn-router/testdata/demo_master.m3u8");
const MPD: &str = include_str!("../../cdn-router/testdata/demo_manifest.mpd");

fn id(s: &str) -> PathwayId {
    PathwayId::new(s).expect("a valid id")
}

fn pathways() -> Vec<Pathway> {
    [("cdn-a", 70, 1), ("cdn-b", 30, 1), ("cdn-c", 1, 2)]
        .iter()
        .map(|(p, weight, priority)| Pathway {
            id: id(p),
            base_url: format!("https://{p}.example.com"),
            weight: *weight,
            priority: *priority,
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let ps = pathways();
    let statuses = vec![
        (id("cdn-a"), Status::Down),
        (id("cdn-b"), Status::Up),
        (id("cdn-c"), Status::Up),
    ];
    let ttl = TtlPolicy {
        healthy_s: 300,
        degraded_s: 10,
    };
    c.bench_function("steering_answer", |b| {
        b.iter(|| {
            let q = query::parse(black_box(
                "session=6cb45b8fe9397ffdb6690f2bf2947c23&served=cdn-a&_DASH_pathway=%22cdn-a,cdn-b%22&_DASH_throughput=%225200000,4800000%22",
            ))
            .expect("a valid query");
            let session = q.session.clone().unwrap_or_default();
            let d = decide(&session, &q, &ps, &statuses, &ttl);
            document(
                &d,
                "https://steer.example.com/vod/demo/steering/dash.json?session=6cb45b8fe9397ffdb6690f2bf2947c23&served=cdn-b",
                &[],
                Dialect::Dash,
            )
        })
    });
    c.bench_function("session_order", |b| {
        b.iter(|| {
            order(
                black_box("6cb45b8fe9397ffdb6690f2bf2947c23"),
                &ps,
                &statuses,
            )
        })
    });
    let token = "2D3RhEOhAQWhBEVjZG4tY1hupwdQqW8aK8ChAKIgaWqfxw7roAFoZWRnZXBhY2sZATihA6EBai92b2QvZGVtby8ZATmCY0dFVGRIRUFEBhprFsZCBBprFtRxY3NpZHggZDI2MzA0NDA0MDE2YTNmOGI4NjdjNWIyZjNiZWM4MWZYIDUPcLZVJE";
    let urls: Vec<PathwayUrls> = ps
        .iter()
        .map(|p| PathwayUrls {
            id: p.id.clone(),
            prefix: format!("{}/vod/demo/", p.base_url),
            query: Some(format!("cat={token}")),
        })
        .collect();
    let initial = id("cdn-b");
    let server = "https://steer.example.com/vod/demo/steering/hls.json?session=6cb45b8fe9397ffdb6690f2bf2947c23&served=cdn-b";
    c.bench_function("steer_multivariant_3_cdns", |b| {
        b.iter(|| {
            steer_multivariant(
                black_box(MASTER),
                &HlsSteering {
                    server_uri: server,
                    initial: &initial,
                    pathways: &urls,
                },
            )
            .expect("the demo playlist steers")
        })
    });
    let bases: Vec<DashPathway> = ps
        .iter()
        .map(|p| DashPathway {
            id: p.id.clone(),
            base_url: format!("{}/vod/demo/", p.base_url),
            priority: p.priority,
            weight: p.weight,
        })
        .collect();
    c.bench_function("steer_mpd_3_cdns", |b| {
        b.iter(|| {
            steer_mpd(
                black_box(MPD),
                &DashSteering {
                    server_uri: server,
                    default: &initial,
                    query_before_start: true,
                    pathways: &bases,
                },
            )
            .expect("the demo MPD steers")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
