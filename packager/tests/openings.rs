//! The opening of a source (`parse_movie_opening`) stands in for the whole source while the
//! whole `moov` is parsed: its sample tables must hold exactly the whole tables' first
//! samples, and the segments it says it has (`Presentation::opening_segments`) must be,
//! byte for byte, the whole plan's, in CMAF and in TS, for every rendition.

mod common;

use std::sync::Arc;

use bytes::Bytes;
use common::{media, moov_of};
use packager::cmaf::{write_init_segment, write_media_segment};
use packager::mp4::{parse_movie, parse_movie_opening, Movie};
use packager::presentation::{PackagingOptions, Presentation, SourceFile};
use packager::segment::SourceRange;
use packager::ts_package::{plan_ts_segment, write_ts};

fn plan(movie: Movie, target_ms: u32) -> Presentation {
    let source = SourceFile {
        name: String::new(),
        movie: Arc::new(movie),
    };
    let options = PackagingOptions {
        target_segment_ms: target_ms,
    };
    Presentation::build(vec![source], Vec::new(), options).unwrap()
}

/// Every sample of each opening track is the whole track's sample.
fn assert_tables_agree(opening: &Movie, whole: &Movie) {
    assert_eq!(opening.tracks.len(), whole.tracks.len());
    for (o, w) in opening.tracks.iter().zip(&whole.tracks) {
        let (o, w) = (&o.samples, &w.samples);
        if !o.is_opening() {
            assert_eq!(o, w, "a table that is not an opening is the whole table");
            continue;
        }
        let n = o.len();
        assert!(n > 0 && n < w.len(), "{n} of {} samples", w.len());
        assert_eq!(o.min_composition_offset(), w.min_composition_offset());
        for i in 0..n {
            assert_eq!(o.size(i), w.size(i), "size of sample {i}");
            assert_eq!(o.decode_time(i), w.decode_time(i), "decode time of {i}");
            assert_eq!(o.composition_offset(i), w.composition_offset(i), "{i}");
            assert_eq!(o.is_sync(i), w.is_sync(i), "sync flag of sample {i}");
        }
        assert!(o.offsets(0..n).eq(w.offsets(0..n)), "sample offsets");
        assert_eq!(
            o.decode_time_or_end(n),
            w.decode_time(n),
            "end of the opening"
        );
    }
}

/// The segments an opening plan offers are the whole plan's; returns how many it offers.
fn assert_segments_agree(file: &[u8], opening: &Presentation, whole: &Presentation) -> usize {
    let k = opening
        .opening_segments()
        .expect("a plan of openings says so");
    assert_eq!(whole.opening_segments(), None);
    let source = SourceRange {
        offset: 0,
        data: Bytes::from(file.to_vec()),
    };
    let reads = |plan: &packager::ts_package::TsSegmentPlan| {
        plan.parts
            .iter()
            .map(|_| source.clone())
            .collect::<Vec<_>>()
    };
    for r in opening.video.iter().chain(&opening.audio) {
        let w = whole.rendition(&r.id).expect("the same renditions");
        let (ot, wt) = (opening.track(r), whole.track(w));
        assert_eq!(
            write_init_segment(ot),
            write_init_segment(wt),
            "{} init",
            r.id
        );
        assert_eq!(r.timeline_offset, w.timeline_offset);
        for n in 0..k {
            let (os, ws) = (r.segments[n], w.segments[n]);
            assert_eq!(os, ws, "{} segment {n}: samples", r.id);
            let number = n as u32 + 1;
            let cmaf = |t, s, off| {
                let segment = write_media_segment(t, s, number, off, &source).unwrap();
                segment
                    .parts()
                    .flat_map(|p| p.to_vec())
                    .collect::<Vec<u8>>()
            };
            assert_eq!(
                cmaf(ot, &os, r.timeline_offset),
                cmaf(wt, &ws, w.timeline_offset),
                "{} CMAF segment {number}",
                r.id
            );
            let (op, wp) = (
                plan_ts_segment(opening, r, number).unwrap(),
                plan_ts_segment(whole, w, number).unwrap(),
            );
            assert_eq!(op, wp, "{} TS segment {number}: plan", r.id);
            let ts = |p: &Presentation, plan| write_ts(p, plan, &reads(plan), None).unwrap();
            assert!(
                ts(opening, &op) == ts(whole, &wp),
                "{} TS segment {number}: bytes",
                r.id
            );
        }
    }
    k
}

/// The `moov` of `file` as the parsers take it, where it starts, and the file's length.
fn moov_and_len(file: &[u8]) -> (Bytes, u64, u64) {
    let (moov, at) = moov_of(file);
    (Bytes::from(moov), at, file.len() as u64)
}

#[test]
fn openings_hold_the_whole_tracks_first_samples_and_segments() {
    let eight_seconds = [1, 3, 5];
    for (name, opening_seconds) in [
        ("h264_avc1_25fps_aac_48k_moov_last.mp4", eight_seconds),
        ("h264_bframes_ctts_v0_29.97fps.mp4", eight_seconds),
        ("h264_bframes_ctts_v1_29.97fps.mp4", eight_seconds),
        ("h264_co64.mp4", eight_seconds),
        ("hevc_hvc1_25fps.mp4", eight_seconds),
        ("two_audio_languages.mp4", eight_seconds),
        ("h264_25fps_aac_44.1k.mp4", eight_seconds),
        ("audio_only_aac.mp4", eight_seconds),
        // 22 s with a keyframe every 10 s.
        ("long_gop_10s.mp4", [5, 12, 21]),
    ] {
        let file = media(name);
        let (moov, at, len) = moov_and_len(&file);
        let whole = parse_movie(&moov, at, len).unwrap();
        assert!(!whole.is_opening());
        let mut offered = Vec::new();
        for seconds in opening_seconds {
            let opening = parse_movie_opening(&moov, at, len, seconds).unwrap();
            assert!(opening.is_opening(), "{name}: {seconds} s is not all of it");
            assert_tables_agree(&opening, &whole);
            let k = assert_segments_agree(&file, &plan(opening, 1000), &plan(whole.clone(), 1000));
            offered.push(k);
        }
        // Longer openings offer more segments, and the longest some.
        assert!(offered.is_sorted() && offered[2] > 0, "{name}: {offered:?}");
    }
}

#[test]
fn an_opening_as_long_as_the_source_is_the_whole_source() {
    let file = media("h264_bframes_ctts_v0_29.97fps.mp4");
    let (moov, at, len) = moov_and_len(&file);
    let opening = parse_movie_opening(&moov, at, len, 60).unwrap();
    assert!(!opening.is_opening());
    let whole = parse_movie(&moov, at, len).unwrap();
    assert_tables_agree(&opening, &whole);
    assert_eq!(plan(opening, 1000).opening_segments(), None);
}

/// An opening reads and checks only its own samples: a chunk offset past the end of the
/// file late in the track fails the whole parse and not the opening's, whose segments are
/// still right; one early in the track fails both.
#[test]
fn an_opening_checks_its_own_samples() {
    let file = media("h264_avc1_25fps_aac_48k_moov_last.mp4");
    let (moov, at, len) = moov_and_len(&file);
    let stco = moov
        .windows(4)
        .position(|w| w == b"stco")
        .expect("an stco box");
    let entries = u32::from_be_bytes(moov[stco + 8..stco + 12].try_into().unwrap()) as usize;
    let entry = |k: usize| stco + 12 + 4 * k;
    for (k, opening_fails) in [(entries - 1, false), (0, true)] {
        let mut bad = moov.to_vec();
        bad[entry(k)..entry(k) + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        let bad = Bytes::from(bad);
        let error = parse_movie(&bad, at, len).unwrap_err().to_string();
        assert!(error.contains("past the end"), "{error}");
        let opening = parse_movie_opening(&bad, at, len, 2);
        assert_eq!(opening.is_err(), opening_fails, "chunk {k}: {opening:?}");
    }
}
