//! Bad and unusual input: errors not panics, options, arbitrary data, counters across segments.

// `is_multiple_of` is newer than the workspace's rust-version (1.85).
#![allow(clippy::manual_is_multiple_of)]

use super::support::*;
use crate::ts::*;

#[test]
fn input_errors() {
    let f = fixture();
    let options = TsSegmentOptions::default();
    let mut video = video_track(&f);
    let mut bad = f.video[3].clone();
    bad[3] = 0xff; // first NAL length 255, only 4 bytes
    video.samples[3].data = &bad;
    let err = write_ts_segment(Some(&video), None, &options).unwrap_err();
    assert_eq!(
        err,
        TsError::NalLengthOverrun {
            sample: 3,
            offset: 0,
            nal_length: 255,
            available: bad.len() - 4
        }
    );
    assert_eq!(
        ts_segment_len(Some(&video), None, &options).unwrap_err(),
        err
    );
    assert_eq!(
        err.to_string(),
        format!(
            "MPEG-TS: video sample 3: NAL length 255 at byte offset 0 runs past the end of the sample: only {} bytes \
             follow the prefix",
            bad.len() - 4
        )
    );

    let mut video = video_track(&f);
    video.samples[2].pts = video.samples[2].dts - 1;
    assert!(matches!(
        write_ts_segment(Some(&video), None, &options),
        Err(TsError::PtsBeforeDts {
            track: TsTrack::Video,
            sample: 2,
            ..
        })
    ));
    let mut audio = aac_track(&f);
    audio.samples[5].dts = 0;
    audio.samples[5].pts = 0;
    assert!(matches!(
        write_ts_segment(None, Some(&audio), &options),
        Err(TsError::DtsNotMonotonic {
            track: TsTrack::Audio,
            sample: 5,
            dts: 0,
            ..
        })
    ));
    let mut video = video_track(&f);
    video.nal_length_size = 3;
    assert_eq!(
        write_ts_segment(Some(&video), None, &options).unwrap_err(),
        TsError::InvalidNalLengthSize(3)
    );

    let mut audio = aac_track(&f);
    audio.codec = TsAudioCodec::Aac {
        profile: 4,
        sampling_index: 3,
        channel_config: 2,
    };
    assert!(matches!(
        write_ts_segment(None, Some(&audio), &options),
        Err(TsError::InvalidAacConfig {
            field: "profile",
            value: 4,
            ..
        })
    ));
    audio.codec = TsAudioCodec::Aac {
        profile: 1,
        sampling_index: 13,
        channel_config: 2,
    };
    assert!(matches!(
        write_ts_segment(None, Some(&audio), &options),
        Err(TsError::InvalidAacConfig { .. })
    ));
    audio.codec = TsAudioCodec::Aac {
        profile: 1,
        sampling_index: 3,
        channel_config: 8,
    };
    assert!(matches!(
        write_ts_segment(None, Some(&audio), &options),
        Err(TsError::InvalidAacConfig { .. })
    ));

    let audio = aac_track(&f);
    for options in [
        TsSegmentOptions {
            audio_pid: 0x100,
            ..Default::default()
        },
        TsSegmentOptions {
            pmt_pid: 0x101,
            ..Default::default()
        },
        TsSegmentOptions {
            video_pid: 0x1fff,
            ..Default::default()
        },
        TsSegmentOptions {
            pmt_pid: 0,
            ..Default::default()
        },
        TsSegmentOptions {
            program_number: 0,
            ..Default::default()
        },
        TsSegmentOptions {
            audio_max_frames_per_pes: 0,
            ..Default::default()
        },
    ] {
        assert!(matches!(
            write_ts_segment(None, Some(&audio), &options),
            Err(TsError::InvalidOption { .. })
        ));
    }
}

#[test]
fn options_change_pids_and_grouping() {
    let f = fixture();
    let video = video_track(&f);
    let audio = aac_track(&f);
    let options = TsSegmentOptions {
        pmt_pid: 0x20,
        video_pid: 0x31,
        audio_pid: 0x32,
        pcr_delay: 0,
        audio_max_frames_per_pes: 1,
        ..Default::default()
    };
    let segment = write_ts_segment(Some(&video), Some(&audio), &options).unwrap();
    let packets = parse_packets(&segment.bytes);
    assert_eq!(packets[1].pid, 0x20);
    assert!(packets[2..].iter().all(|p| p.pid == 0x31 || p.pid == 0x32));
    // Map the stream PIDs to the defaults the test demuxer knows; drop the PSI.
    let remapped: Vec<Packet> = packets[2..]
        .iter()
        .map(|p| Packet {
            pid: p.pid + 0x100 - 0x31,
            ..p.clone()
        })
        .collect();
    let pes = parse_pes(&remapped);
    assert_eq!(pes.iter().filter(|p| p.pid == 0x101).count(), 26);
    assert_eq!(pes[0].pcr, Some(START - 7200));
}

/// A tiny deterministic generator for the robustness test.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

#[test]
fn arbitrary_input_never_panics_and_len_matches() {
    let mut rng = Lcg(42);
    for round in 0..300 {
        let samples_data: Vec<Vec<u8>> = (0..(rng.next() % 8))
            .map(|_| {
                let len = (rng.next() % 600) as usize;
                let mut v: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                // Mostly well-formed 2-byte lengths, sometimes not.
                if round % 3 != 0 && len >= 2 {
                    let n = len - 2;
                    v[0] = (n >> 8) as u8;
                    v[1] = n as u8;
                }
                v
            })
            .collect();
        let mut t = rng.next() % 1_000_000;
        let samples: Vec<TsSample<'_>> = samples_data
            .iter()
            .map(|d| {
                t += rng.next() % 20_000;
                TsSample {
                    dts: t,
                    pts: t + rng.next() % 3,
                    keyframe: rng.next() % 2 == 0,
                    data: d,
                }
            })
            .collect();
        let codec = if round % 2 == 0 {
            TsVideoCodec::H264
        } else {
            TsVideoCodec::Hevc
        };
        let video = TsVideo {
            codec,
            nal_length_size: 2,
            parameter_sets: vec![SPS, &[]],
            samples: samples.clone(),
        };
        let audio = TsAudio {
            codec: match round % 3 {
                0 => TsAudioCodec::Ac3,
                1 => TsAudioCodec::Eac3,
                _ => TsAudioCodec::Aac {
                    profile: 1,
                    sampling_index: 4,
                    channel_config: 1,
                },
            },
            samples,
        };
        let options = TsSegmentOptions::default();
        let video = (round % 4 != 1).then_some(&video);
        let audio = (round % 4 != 2).then_some(&audio);
        match write_ts_segment(video, audio, &options) {
            Ok(segment) => {
                assert_eq!(
                    ts_segment_len(video, audio, &options).unwrap(),
                    segment.bytes.len()
                );
                let packets = parse_packets(&segment.bytes);
                check_continuity(&packets);
            }
            Err(err) => {
                assert_eq!(ts_segment_len(video, audio, &options).unwrap_err(), err);
                assert!(!err.to_string().is_empty());
            }
        }
    }
}

#[test]
fn consecutive_segments_continue_counters() {
    let f = fixture();
    let video = video_track(&f);
    let audio = aac_track(&f);
    let cut = video.samples[6].pts;
    let split = |v: std::ops::Range<usize>, before: bool| {
        (
            TsVideo {
                samples: video.samples[v].to_vec(),
                ..video.clone()
            },
            TsAudio {
                samples: audio
                    .samples
                    .iter()
                    .copied()
                    .filter(|s| (s.pts < cut) == before)
                    .collect(),
                ..audio.clone()
            },
        )
    };
    let (v1, a1) = split(0..6, true);
    let (v2, a2) = split(6..12, false);
    let mut bytes = Vec::new();
    for (sequence_number, v, a) in [(7, &v1, &a1), (8, &v2, &a2)] {
        let options = TsSegmentOptions {
            sequence_number,
            ..Default::default()
        };
        let segment = write_ts_segment(Some(v), Some(a), &options).unwrap();
        assert_eq!(
            ts_segment_len(Some(v), Some(a), &options).unwrap(),
            segment.bytes.len()
        );
        let packets = parse_packets(&segment.bytes);
        assert_eq!(packets[0].cc, (sequence_number % 16) as u8);
        assert_eq!(packets[1].cc, (sequence_number % 16) as u8);
        bytes.extend_from_slice(&segment.bytes);
    }
    let packets = parse_packets(&bytes);
    check_continuity_from(&packets, 7);
    // The same payload as without the padding.
    let pes = parse_pes(&packets);
    assert_eq!(pes.iter().filter(|p| p.pid == 0x100).count(), 12);

    // Without alignment: fewer bytes, counters end wherever they end.
    let options = TsSegmentOptions {
        align_continuity_counters: false,
        ..Default::default()
    };
    let plain = write_ts_segment(Some(&v1), Some(&a1), &options).unwrap();
    let aligned = write_ts_segment(Some(&v1), Some(&a1), &TsSegmentOptions::default()).unwrap();
    assert!(plain.bytes.len() < aligned.bytes.len());
    assert!(aligned.bytes.len() - plain.bytes.len() <= 30 * 188);
    let plain_pes = parse_pes(&parse_packets(&plain.bytes));
    let aligned_pes = parse_pes(&parse_packets(&aligned.bytes));
    assert_eq!(
        plain_pes
            .iter()
            .map(|p| (p.pid, p.pts, p.data.clone()))
            .collect::<Vec<_>>(),
        aligned_pes
            .iter()
            .map(|p| (p.pid, p.pts, p.data.clone()))
            .collect::<Vec<_>>()
    );
}
