//! Criterion benches of the packaging core. `cargo bench -p edgepack-benches` for figures;
//! CI runs `cargo bench -p edgepack-benches -- --test` (each bench once) to keep them working.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use edgepack_benches::{demo_title, moov_of, synthetic_moov};
use packager::cmaf::write_media_segment;
use packager::hls::{cmaf_media_playlist, write_multivariant, HlsFlavor, VariantRates};
use packager::mp4::parse_movie;
use packager::segment::SourceRange;
use packager::ts_package::{plan_ts_segment, write_ts};

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse_moov");
    for (name, seconds) in [("1min", 60), ("2h", 7200)] {
        let moov = synthetic_moov(seconds);
        g.throughput(Throughput::Bytes(moov.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| parse_movie(black_box(&moov), 0, u64::MAX / 4).expect("parses"))
        });
    }
    let demo = std::fs::read(edgepack_benches::repo_root().join("demo/media/demo/video_360p.mp4"))
        .expect("demo media");
    let (moov, offset) = moov_of(&demo);
    g.throughput(Throughput::Bytes(moov.len() as u64));
    g.bench_function("demo_360p_30s", |b| {
        b.iter(|| parse_movie(black_box(&moov), offset, demo.len() as u64).expect("parses"))
    });
    g.finish();
}

fn manifests(c: &mut Criterion) {
    let (p, _) = demo_title();
    let mut g = c.benchmark_group("manifest");
    let rates = VariantRates {
        video: &|r| r.bandwidth,
        audio: &|r| r.bandwidth,
    };
    g.bench_function("hls_multivariant", |b| {
        b.iter(|| write_multivariant(black_box(&p), HlsFlavor::Cmaf, &rates, None))
    });
    g.bench_function("hls_media_playlist", |b| {
        b.iter(|| cmaf_media_playlist(black_box(&p), &p.video[2], None))
    });
    g.bench_function("dash_mpd", |b| {
        b.iter(|| packager::dash::write_mpd(black_box(&p), None))
    });
    g.finish();
}

fn segments(c: &mut Criterion) {
    let (p, bytes) = demo_title();
    let r = &p.video[2];
    let track = p.track(r);
    let span = r.segments[1];
    let source = SourceRange {
        offset: 0,
        data: bytes[r.source].clone(),
    };
    let len = track.samples.bytes_in(span.samples());
    let mut g = c.benchmark_group("segment");
    g.throughput(Throughput::Bytes(len));
    g.bench_function("cmaf_clear", |b| {
        b.iter(|| write_media_segment(track, black_box(&span), 2, r.timeline_offset, &source))
    });
    let plan = plan_ts_segment(&p, r, 2).expect("plans");
    let reads: Vec<SourceRange> = plan
        .parts
        .iter()
        .map(|part| {
            let pr = p.rendition(&part.rendition_id).expect("rendition");
            SourceRange {
                offset: 0,
                data: bytes[pr.source].clone(),
            }
        })
        .collect();
    g.bench_function("ts_clear", |b| {
        b.iter(|| write_ts(&p, black_box(&plan), &reads))
    });
    g.finish();
}

criterion_group!(benches, parse, manifests, segments);
criterion_main!(benches);
