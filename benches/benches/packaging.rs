//! Criterion benches of the packaging core. `cargo bench -p edgepack-benches` for figures;
//! CI runs `cargo bench -p edgepack-benches -- --test` (each bench once) to keep them working.

use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use drm::cenc::subsample::{NalFormat, VideoSubsampler};
use drm::cenc::Scheme;
use drm::{ContentKey, ContentKeyPair, DrmSystem, Method, Signalling};
use edgepack_benches::{demo_title, moov_of, synthetic_moov};
use packager::cmaf::write_media_segment;
use packager::hls::{cmaf_media_playlist, write_multivariant, HlsFlavor, VariantRates};
use packager::mp4::{parse_movie, parse_movie_opening};
use packager::presentation::{PackagingOptions, Presentation, SourceFile};
use packager::protection::{write_protected_segment, KeyUrls, Protection};
use packager::segment::SourceRange;
use packager::ts_package::{plan_ts_segment, write_ts, TsSegmentPlan};
use packager::url_query::{append_query, ManifestSyntax};

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse_moov");
    for (name, seconds) in [("1min", 60), ("2h", 7200)] {
        let moov = bytes::Bytes::from(synthetic_moov(seconds));
        g.throughput(Throughput::Bytes(moov.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| parse_movie(black_box(&moov), 0, u64::MAX / 4).expect("parses"))
        });
    }
    let demo = std::fs::read(edgepack_benches::repo_root().join("demo/media/demo/video_360p.mp4"))
        .expect("demo media");
    let (moov, offset) = moov_of(&demo);
    let moov = bytes::Bytes::from(moov);
    g.throughput(Throughput::Bytes(moov.len() as u64));
    g.bench_function("demo_360p_30s", |b| {
        b.iter(|| parse_movie(black_box(&moov), offset, demo.len() as u64).expect("parses"))
    });
    g.finish();
}

/// What a title load does per title once its `moov` bytes are read: the presentation plan
/// alone (`presentation_*`, from a parsed movie not used before), the whole cold path to
/// the first segment (`cold_*`: parse, plan, the first video CMAF segment from a read that
/// covers it), and the same from the opening the edge parses first (`opening_*`: the
/// first 65 s, what 16 segments of 4 s ask for). The edge's cold first segment takes the
/// opening path.
fn title(c: &mut Criterion) {
    let mut g = c.benchmark_group("title");
    for (name, seconds) in [("10s", 10), ("2h", 7200)] {
        let moov = bytes::Bytes::from(synthetic_moov(seconds));
        let source_len = u64::MAX / 4;
        let pristine = parse_movie(&moov, 0, source_len).expect("parses");
        g.bench_function(format!("presentation_{name}"), |b| {
            b.iter_batched(
                || vec![source_file(Arc::new(pristine.clone()))],
                |sources| {
                    Presentation::build(sources, Vec::new(), PackagingOptions::default())
                        .expect("plans")
                },
                BatchSize::LargeInput,
            )
        });
        // The read of the first video segment (its bytes do not matter to a clear segment).
        let p = plan(Arc::new(pristine.clone()));
        let (start, end) = first_segment_span(&p).expect("a first segment");
        let read = SourceRange {
            offset: start,
            data: bytes::Bytes::from(vec![0u8; (end - start) as usize]),
        };
        g.bench_function(format!("cold_{name}"), |b| {
            b.iter(|| {
                let movie = parse_movie(black_box(&moov), 0, source_len).expect("parses");
                let p = plan(Arc::new(movie));
                let r = &p.video[0];
                let span = r.segments[0];
                let track = p.track(r);
                assert_eq!(track.samples.byte_span(span.samples()), Some((start, end)));
                write_media_segment(track, &span, 1, r.timeline_offset, &read).expect("builds")
            })
        });
        g.bench_function(format!("opening_{name}"), |b| {
            b.iter(|| {
                let opening = parse_movie_opening(black_box(&moov), 0, source_len, 65);
                let p = plan(Arc::new(opening.expect("parses")));
                let r = &p.video[0];
                let span = r.segments[0];
                let track = p.track(r);
                assert_eq!(track.samples.byte_span(span.samples()), Some((start, end)));
                write_media_segment(track, &span, 1, r.timeline_offset, &read).expect("builds")
            })
        });
    }
    g.finish();
}

fn source_file(movie: Arc<packager::mp4::Movie>) -> SourceFile {
    SourceFile {
        name: String::new(),
        movie,
    }
}

fn plan(movie: Arc<packager::mp4::Movie>) -> Presentation {
    Presentation::build(
        vec![source_file(movie)],
        Vec::new(),
        PackagingOptions::default(),
    )
    .expect("plans")
}

/// The byte range of the first segment of the first video rendition.
fn first_segment_span(p: &Presentation) -> Option<(u64, u64)> {
    let r = p.video.first()?;
    p.track(r).samples.byte_span(r.segments.first()?.samples())
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
        b.iter(|| cmaf_media_playlist(black_box(&p.video[2]), None))
    });
    g.bench_function("dash_mpd", |b| {
        b.iter(|| packager::dash::write_mpd(black_box(&p), None))
    });
    g.finish();
}

/// An access token added to every URL of a manifest, as each manifest response is written
/// (`packager::url_query`): bytes per second of manifest read. The token is a CAT-sized
/// one (a base64url CWT of 160 characters).
fn splice(c: &mut Criterion) {
    let token: String = (0..160)
        .map(|i| {
            char::from(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[i * 7 % 64],
            )
        })
        .collect();
    let pair = format!("cat={token}");
    // A 40-minute rendition: 600 segments of 4 s.
    let long = plan(Arc::new(
        parse_movie(&bytes::Bytes::from(synthetic_moov(2400)), 0, u64::MAX / 4).expect("parses"),
    ));
    let (demo, _) = demo_title();
    let rates = VariantRates {
        video: &|r| r.bandwidth,
        audio: &|r| r.bandwidth,
    };
    let manifests = [
        (
            "hls_media_playlist",
            ManifestSyntax::Hls,
            cmaf_media_playlist(&long.video[0], None),
        ),
        (
            "hls_multivariant",
            ManifestSyntax::Hls,
            write_multivariant(&demo, HlsFlavor::Cmaf, &rates, None),
        ),
        (
            "dash_mpd",
            ManifestSyntax::Dash,
            packager::dash::write_mpd(&demo, Some(&protection(Method::Cenc))),
        ),
    ];
    let mut g = c.benchmark_group("splice");
    for (name, syntax, manifest) in &manifests {
        let out = append_query(manifest.as_bytes(), *syntax, &pair);
        eprintln!(
            "splice/{name}: {} bytes in, {} bytes out",
            manifest.len(),
            out.len()
        );
        g.throughput(Throughput::Bytes(manifest.len() as u64));
        g.bench_function(*name, |b| {
            b.iter(|| append_query(black_box(manifest.as_bytes()), *syntax, black_box(&pair)))
        });
    }
    g.finish();
}

fn segments(c: &mut Criterion) {
    let (p, bytes) = demo_title();
    let r = &p.video[2];
    let track = p.track(r);
    let span = r.segments[1];
    let source = whole_file(&bytes, r.source);
    let len = track.samples.bytes_in(span.samples());
    let mut g = c.benchmark_group("segment");
    g.throughput(Throughput::Bytes(len));
    g.bench_function("cmaf_clear", |b| {
        b.iter(|| write_media_segment(track, black_box(&span), 2, r.timeline_offset, &source))
    });
    let plan = plan_ts_segment(&p, r, 2).expect("plans");
    let reads = whole_file_reads(&p, &plan, &bytes);
    g.bench_function("ts_clear", |b| {
        b.iter(|| write_ts(&p, black_box(&plan), &reads, None))
    });
    g.finish();
}

/// The same segment encrypted every way: bytes per second of source samples.
fn encrypted_segments(c: &mut Criterion) {
    let (p, bytes) = demo_title();
    let r = &p.video[2];
    let track = p.track(r);
    let span = r.segments[1];
    let source = whole_file(&bytes, r.source);
    let len = track.samples.bytes_in(span.samples());
    let mut g = c.benchmark_group("segment_encrypted");
    g.throughput(Throughput::Bytes(len));
    // Encryption must copy once; this is the clear segment with that one copy, the fair
    // baseline for the encrypted CMAF figures.
    g.bench_function("cmaf_clear_copied", |b| {
        b.iter(|| {
            let s = write_media_segment(track, black_box(&span), 2, r.timeline_offset, &source)
                .expect("builds");
            s.parts()
                .fold(Vec::with_capacity(s.len() as usize), |mut v, p| {
                    v.extend_from_slice(p);
                    v
                })
        })
    });
    // The slice-header parsing alone: the subsample maps of the segment's samples.
    g.bench_function("subsample_maps_only", |b| {
        let packager::mp4::Codec::Video(v) = &track.codec else {
            return;
        };
        let sets: Vec<&[u8]> = v.parameter_sets.iter().map(|s| &s[..]).collect();
        b.iter(|| {
            let mut sub = VideoSubsampler::new(NalFormat::H264, v.nal_length_size, &sets)
                .expect("parameter sets");
            let mut n = 0;
            let offsets = track.samples.offsets(span.samples());
            for (i, off) in span.samples().zip(offsets) {
                let off = off as usize;
                let sample = &source.data[off..off + track.samples.size(i) as usize];
                n += sub.subsamples(Scheme::Cbcs, sample).expect("maps").len();
            }
            n
        })
    });
    for method in [Method::Cenc, Method::Cbcs] {
        let pr = protection(method);
        let crypto = pr.track_crypto(&r.id, true).expect("scheme");
        g.bench_function(format!("cmaf_{}", method.name()), |b| {
            b.iter(|| {
                write_protected_segment(
                    track,
                    black_box(&span),
                    2,
                    r.timeline_offset,
                    &source,
                    &crypto,
                )
                .expect("builds")
            })
        });
    }
    let aes = protection(Method::Aes128);
    g.bench_function("cmaf_aes-128", |b| {
        b.iter(|| {
            let s = write_media_segment(track, black_box(&span), 2, r.timeline_offset, &source)
                .expect("builds");
            aes.encrypt_whole_segment(2, s.parts().map(|b| &b[..]))
        })
    });
    let plan = plan_ts_segment(&p, r, 2).expect("plans");
    let reads = whole_file_reads(&p, &plan, &bytes);
    g.bench_function("ts_aes-128", |b| {
        b.iter(|| {
            let ts = write_ts(&p, black_box(&plan), &reads, None).expect("muxes");
            aes.encrypt_whole_segment(2, [&ts[..]])
        })
    });
    let sample_aes = protection(Method::SampleAes);
    g.bench_function("ts_sample-aes", |b| {
        b.iter(|| write_ts(&p, black_box(&plan), &reads, Some(&sample_aes)).expect("muxes"))
    });
    g.finish();
}

/// A "read" of a whole source file, so segment benches measure building, not IO.
fn whole_file(bytes: &[bytes::Bytes], source: usize) -> SourceRange {
    SourceRange {
        offset: 0,
        data: bytes[source].clone(),
    }
}

/// The reads a TS segment plan needs, each a whole source file.
fn whole_file_reads(
    p: &Presentation,
    plan: &TsSegmentPlan,
    bytes: &[bytes::Bytes],
) -> Vec<SourceRange> {
    plan.parts
        .iter()
        .map(|part| {
            whole_file(
                bytes,
                p.rendition(&part.rendition_id).expect("rendition").source,
            )
        })
        .collect()
}

fn protection(method: Method) -> Protection {
    let kid = drm::derive::key_id_for("bench");
    Protection {
        method,
        key: ContentKeyPair {
            kid,
            key: ContentKey([7; 16]),
        },
        signalling: Signalling::new(kid, Scheme::Cbcs, "bench", &DrmSystem::ALL, None),
        urls: KeyUrls {
            key_path: "keys/k.key".into(),
            clearkey_license: "http://127.0.0.1/license".into(),
            fairplay: "skd://k".into(),
        },
        raw_key_delivery: true,
    }
}

criterion_group!(
    benches,
    parse,
    title,
    manifests,
    splice,
    segments,
    encrypted_segments
);
criterion_main!(benches);
