//! CENC subsample maps (drm) of every video sample of the real test media (read with the
//! packager's MP4 parser): the maps add up to each sample, protect exactly the slice data
//! (whole blocks at the end of each slice for `cenc`, all of it for `cbcs`), and every slice
//! header is verifiably parsed to its end: HEVC headers end with a correct
//! `byte_alignment()`, H.264 CABAC headers with `cabac_alignment_one_bit`s equal to 1, each
//! checked again here on the stored bytes.

mod common;

use bytes::Bytes;
use common::{media, moov_of};

use drm::cenc::subsample::{NalFormat, VideoSubsampler};
use drm::cenc::{Scheme, Subsample};
use drm::nal::{HeaderAlignment, NalUnit, SliceType};
use packager::mp4::{parse_movie, Codec, Track, VideoKind};

/// What a file's slices should look like.
struct Expect {
    alignment: HeaderAlignment,
    /// Slices (slice segments) in every picture.
    slices_per_picture: usize,
    /// Samples carrying parameter sets in band (avc3, hev1) at least.
    in_band_samples: usize,
}

const fn expect(alignment: HeaderAlignment, slices: usize, in_band: usize) -> Expect {
    Expect {
        alignment,
        slices_per_picture: slices,
        in_band_samples: in_band,
    }
}

const CABAC: HeaderAlignment = HeaderAlignment::CabacOnes;
const HEVC: HeaderAlignment = HeaderAlignment::ByteAlignment;

/// What was checked in one file.
#[derive(Debug, Default)]
struct Counts {
    samples: usize,
    sync_samples: usize,
    slices: usize,
    /// Slices with less than 16 bytes of data (skipped pictures): left clear.
    tiny_slices: usize,
    in_band_samples: usize,
    emulation_prevented_headers: usize,
}

fn video_track(file: &[u8]) -> Track {
    let (moov, offset) = moov_of(file);
    let movie = parse_movie(&Bytes::from(moov), offset, file.len() as u64).unwrap();
    movie.tracks.into_iter().find(Track::is_video).unwrap()
}

fn subsampler(track: &Track, with_sample_entry_sets: bool) -> VideoSubsampler {
    let Codec::Video(video) = &track.codec else {
        unreachable!()
    };
    let format = match video.kind {
        VideoKind::H264 => NalFormat::H264,
        VideoKind::Hevc => NalFormat::Hevc,
    };
    let sets: Vec<&[u8]> = if with_sample_entry_sets {
        video.parameter_sets.iter().map(|s| s.as_ref()).collect()
    } else {
        Vec::new()
    };
    VideoSubsampler::new(format, video.nal_length_size, &sets).unwrap()
}

fn bit(bytes: &[u8], i: usize) -> bool {
    bytes[i / 8] >> (7 - i % 8) & 1 == 1
}

/// Checks the bits after a slice header on the stored bytes, independently of the parser.
fn check_header_end(nal: &[u8], unit: &NalUnit, what: &str) {
    let s = unit.slice.unwrap();
    let end = s.end_bit;
    match s.alignment {
        HeaderAlignment::CabacOnes => {
            for i in end..end.next_multiple_of(8) {
                assert!(bit(nal, i), "{what}: cabac_alignment_one_bit {i} is 0");
            }
            assert_eq!(s.data_offset, end.div_ceil(8), "{what}");
        }
        HeaderAlignment::ByteAlignment => {
            assert!(bit(nal, end), "{what}: alignment_bit_equal_to_one is 0");
            for i in end + 1..(end + 1).next_multiple_of(8) {
                assert!(!bit(nal, i), "{what}: alignment_bit_equal_to_zero {i} is 1");
            }
            assert_eq!(s.data_offset, end / 8 + 1, "{what}");
        }
        HeaderAlignment::None => assert_eq!(s.data_offset, end.div_ceil(8), "{what}"),
    }
    assert!(s.data_offset <= unit.len, "{what}");
}

/// The protected byte ranges (in the sample) a map describes.
fn protected_ranges(map: &[Subsample]) -> Vec<(usize, usize)> {
    let mut pos = 0;
    let mut out = Vec::new();
    for s in map {
        pos += usize::from(s.clear);
        if s.protected > 0 {
            out.push((pos, pos + s.protected as usize));
        }
        pos += s.protected as usize;
    }
    out
}

/// The protected ranges the rules give for these units.
fn expected_ranges(units: &[NalUnit], scheme: Scheme) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for u in units {
        let Some(s) = u.slice else { continue };
        let data = u.len - s.data_offset;
        let protected = match scheme {
            Scheme::Cenc => data - data % 16,
            Scheme::Cbcs => data,
        };
        if protected >= 16 {
            out.push((u.end() - protected, u.end()));
        }
    }
    out
}

fn check_file(name: &str, expect: &Expect) -> Counts {
    let file = media(name);
    let track = video_track(&file);
    let mut sub = subsampler(&track, true);
    let is_hevc = matches!(&track.codec, Codec::Video(v) if v.kind == VideoKind::Hevc);
    let parameter_set_types: &[u8] = if is_hevc { &[32, 33, 34] } else { &[7, 8] };
    let mut counts = Counts::default();
    for i in 0..track.samples.len() {
        let offset = track.samples.offset(i) as usize;
        let size = track.samples.size(i) as usize;
        let sample = &file[offset..offset + size];
        let what = format!("{name} sample {i}");
        let units = sub
            .nal_units(sample)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let slices: Vec<&NalUnit> = units.iter().filter(|u| u.slice.is_some()).collect();
        assert_eq!(slices.len(), expect.slices_per_picture, "{what}");
        for (k, unit) in slices.iter().enumerate() {
            let what = format!("{what} slice {k}");
            let s = unit.slice.unwrap();
            assert_eq!(s.alignment, expect.alignment, "{what}");
            check_header_end(&sample[unit.start()..unit.end()], unit, &what);
            if unit.len - s.data_offset < 16 {
                counts.tiny_slices += 1;
            }
            if track.samples.is_sync(i) {
                assert_eq!(s.slice_type, SliceType::I, "{what} of a sync sample");
            }
            if k == 0 {
                assert_eq!(s.first_block, 0, "{what}: a picture starts at block 0");
            } else {
                let before = slices[k - 1].slice.unwrap().first_block;
                assert!(s.first_block > before, "{what}: slice addresses go up");
            }
            // the header bytes hold 00 00 03: count them, since they must be skipped
            let header = &sample[unit.start()..unit.start() + s.data_offset];
            if header.windows(3).any(|w| w == [0, 0, 3]) {
                counts.emulation_prevented_headers += 1;
            }
        }
        if units
            .iter()
            .any(|u| parameter_set_types.contains(&u.nal_type))
        {
            counts.in_band_samples += 1;
        }
        for scheme in [Scheme::Cenc, Scheme::Cbcs] {
            let map = sub
                .subsamples(scheme, sample)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let total: usize = map
                .iter()
                .map(|s| usize::from(s.clear) + s.protected as usize)
                .sum();
            assert_eq!(total, size, "{what} {scheme:?}: map does not add up");
            assert_eq!(
                protected_ranges(&map),
                expected_ranges(&units, scheme),
                "{what} {scheme:?}"
            );
            let big = slices
                .iter()
                .filter(|u| u.len - u.slice.unwrap().data_offset >= 16);
            assert_eq!(protected_ranges(&map).len(), big.count(), "{what}");
            if scheme == Scheme::Cenc {
                assert!(map.iter().all(|s| s.protected % 16 == 0), "{what}");
            }
        }
        counts.samples += 1;
        counts.sync_samples += usize::from(track.samples.is_sync(i));
        counts.slices += slices.len();
    }
    assert!(counts.samples > 0, "{name}: no samples");
    assert!(
        counts.in_band_samples >= expect.in_band_samples,
        "{name}: {counts:?}"
    );
    println!("{name}: {counts:?}");
    counts
}

#[test]
fn h264_cabac_files_progressive_b_frames_and_59_94() {
    for name in [
        "h264_25fps_aac_44.1k.mp4",
        "h264_bframes_ctts_v0_29.97fps.mp4",
        "h264_59.94fps.mp4",
    ] {
        let counts = check_file(name, &expect(CABAC, 1, 0));
        assert_eq!(counts.in_band_samples, 0, "{name}: avc1 has no in-band SPS");
    }
}

#[test]
fn h264_avc3_with_in_band_parameter_sets() {
    check_file("h264_avc3_25fps.mp4", &expect(CABAC, 1, 4));
}

#[test]
fn h264_interlaced_mbaff() {
    check_file("h264_interlaced_mbaff.mp4", &expect(CABAC, 1, 0));
}

#[test]
fn h264_baseline_cavlc_four_slices_per_picture() {
    let counts = check_file(
        "h264_baseline_cavlc_slices.mp4",
        &expect(HeaderAlignment::None, 4, 0),
    );
    // x264 cuts the 240 macroblocks of 320x180 into four slices of 60
    let file = media("h264_baseline_cavlc_slices.mp4");
    let track = video_track(&file);
    let mut sub = subsampler(&track, true);
    for i in 0..track.samples.len() {
        let offset = track.samples.offset(i) as usize;
        let sample = &file[offset..offset + track.samples.size(i) as usize];
        let firsts: Vec<u32> = sub
            .nal_units(sample)
            .unwrap()
            .iter()
            .filter_map(|u| u.slice.map(|s| s.first_block))
            .collect();
        assert_eq!(firsts, [0, 60, 120, 180], "sample {i}");
    }
    assert_eq!(counts.slices, 4 * counts.samples);
}

#[test]
fn hevc_hvc1_and_hev1() {
    check_file("hevc_hvc1_25fps.mp4", &expect(HEVC, 1, 0));
    check_file("hevc_hev1_25fps.mp4", &expect(HEVC, 1, 4));
}

#[test]
fn hevc_two_slices_with_wavefront_entry_points() {
    check_file("hevc_slices_wpp.mp4", &expect(HEVC, 2, 0));
}

/// avc3/hev1 repeat their parameter sets before every IDR/IRAP, so a subsampler that never
/// saw the sample entry makes the same maps.
#[test]
fn in_band_parameter_sets_alone_are_enough_for_avc3_and_hev1() {
    for name in ["h264_avc3_25fps.mp4", "hevc_hev1_25fps.mp4"] {
        let file = media(name);
        let track = video_track(&file);
        let mut with = subsampler(&track, true);
        let mut without = subsampler(&track, false);
        for i in 0..track.samples.len() {
            let offset = track.samples.offset(i) as usize;
            let sample = &file[offset..offset + track.samples.size(i) as usize];
            assert_eq!(
                with.subsamples(Scheme::Cenc, sample).unwrap(),
                without.subsamples(Scheme::Cenc, sample).unwrap(),
                "{name} sample {i}"
            );
        }
    }
}

/// A sample cut anywhere but between two NAL units is an error, not a panic or a wrong map.
#[test]
fn truncated_samples_are_errors() {
    for name in ["h264_25fps_aac_44.1k.mp4", "hevc_hvc1_25fps.mp4"] {
        let file = media(name);
        let track = video_track(&file);
        let mut sub = subsampler(&track, true);
        let offset = track.samples.offset(0) as usize;
        let sample = &file[offset..offset + track.samples.size(0) as usize];
        let ends: Vec<usize> = sub
            .nal_units(sample)
            .unwrap()
            .iter()
            .map(NalUnit::end)
            .collect();
        for cut in (1..sample.len()).step_by(7).filter(|c| !ends.contains(c)) {
            assert!(
                sub.subsamples(Scheme::Cbcs, &sample[..cut]).is_err(),
                "{name}: sample cut at {cut}"
            );
        }
    }
}

/// Corrupted samples and parameter sets (a deterministic xorshift picks the bytes) give a
/// map that adds up or an error, never a panic.
#[test]
fn corrupted_samples_and_parameter_sets_never_panic() {
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let (mut maps, mut errors) = (0, 0);
    for name in [
        "h264_bframes_ctts_v0_29.97fps.mp4",
        "h264_baseline_cavlc_slices.mp4",
        "hevc_hev1_25fps.mp4",
        "hevc_slices_wpp.mp4",
    ] {
        let file = media(name);
        let track = video_track(&file);
        let Codec::Video(video) = &track.codec else {
            unreachable!()
        };
        let format = match video.kind {
            VideoKind::H264 => NalFormat::H264,
            VideoKind::Hevc => NalFormat::Hevc,
        };
        for round in 0..300 {
            let mut sets: Vec<Vec<u8>> = video.parameter_sets.iter().map(|s| s.to_vec()).collect();
            if round % 3 == 0 {
                let which = next() as usize % sets.len();
                let set = &mut sets[which];
                let at = next() as usize % set.len();
                set[at] ^= 1 << (next() % 8);
            }
            let refs: Vec<&[u8]> = sets.iter().map(Vec::as_slice).collect();
            let Ok(mut sub) = VideoSubsampler::new(format, video.nal_length_size, &refs) else {
                errors += 1;
                continue;
            };
            let i = next() as usize % track.samples.len();
            let offset = track.samples.offset(i) as usize;
            let mut sample = file[offset..offset + track.samples.size(i) as usize].to_vec();
            for _ in 0..1 + next() % 3 {
                let at = next() as usize % sample.len();
                sample[at] = next() as u8;
            }
            for scheme in [Scheme::Cenc, Scheme::Cbcs] {
                match sub.subsamples(scheme, &sample) {
                    Ok(map) => {
                        let total: usize = map
                            .iter()
                            .map(|s| usize::from(s.clear) + s.protected as usize)
                            .sum();
                        assert_eq!(total, sample.len(), "{name} round {round}");
                        maps += 1;
                    }
                    Err(_) => errors += 1,
                }
            }
        }
    }
    println!("corrupted inputs: {maps} maps, {errors} errors");
    assert!(maps > 0 && errors > 0);
}
