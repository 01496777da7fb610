//! Segments read back: packets, PES, PCR, stream types, timestamps.

// `is_multiple_of` is newer than the workspace's rust-version (1.85).
#![allow(clippy::manual_is_multiple_of)]

use super::support::*;
use crate::ts::*;

#[test]
fn audio_video_segment_reads_back() {
    let f = fixture();
    let video = video_track(&f);
    let audio = aac_track(&f);
    let options = TsSegmentOptions::default();
    let segment = write_ts_segment(Some(&video), Some(&audio), &options).unwrap();
    assert_eq!(
        ts_segment_len(Some(&video), Some(&audio), &options).unwrap(),
        segment.bytes.len()
    );
    // Deterministic.
    assert_eq!(
        write_ts_segment(Some(&video), Some(&audio), &options).unwrap(),
        segment
    );

    let packets = parse_packets(&segment.bytes);
    // PAT then PMT.
    assert_eq!((packets[0].pid, packets[0].pusi), (0, true));
    assert_eq!(
        &packets[0].payload[..17],
        &[
            0, 0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x00, 0x2a, 0xb1,
            0x04, 0xb2
        ]
    );
    assert!(packets[0].payload[17..].iter().all(|&b| b == 0xff));
    assert_eq!((packets[1].pid, packets[1].pusi), (0x1000, true));
    let pmt = &packets[1].payload[1..];
    let pmt_len = 3 + ((usize::from(pmt[1] & 0x0f) << 8) | usize::from(pmt[2]));
    assert_eq!(crc32_mpeg2(&pmt[..pmt_len]), 0);
    assert_eq!(&pmt[8..10], &[0xe1, 0x00], "PCR PID is video");
    assert_eq!(
        &pmt[12..22],
        &[0x1b, 0xe1, 0x00, 0xf0, 0x00, 0x0f, 0xe1, 0x01, 0xf0, 0x00]
    );
    check_continuity(&packets);

    let pes = parse_pes(&packets);
    let (video_pes, audio_pes): (Vec<&Pes>, Vec<&Pes>) = pes.iter().partition(|p| p.pid == 0x100);
    assert_eq!(video_pes.len(), 12);
    for (i, (p, s)) in video_pes.iter().zip(&video.samples).enumerate() {
        assert_eq!(p.stream_id, 0xe0);
        assert_eq!(p.pts, s.pts);
        assert_eq!(p.dts, Some(s.dts), "DTS differs from PTS in this fixture");
        assert_eq!(p.data, expected_annexb(s.data, s.keyframe), "sample {i}");
        assert_eq!(p.random_access, s.keyframe);
        assert!(p.pcr.is_some(), "PCR on every video PES");
    }
    // Audio: frames back from the ADTS stream, in order, grouped by 4 (85 ms).
    let mut frames = Vec::new();
    let mut frame_index = 0;
    for p in &audio_pes {
        assert_eq!(p.stream_id, 0xc0);
        assert_eq!(p.dts, None);
        assert_eq!(
            p.pts, audio.samples[frame_index].pts,
            "PES PTS is its first frame's"
        );
        assert!(p.random_access);
        let mut rest = &p.data[..];
        while !rest.is_empty() {
            let len = (usize::from(rest[3] & 3) << 11)
                | (usize::from(rest[4]) << 3)
                | usize::from(rest[5] >> 5);
            assert_eq!(&rest[..3], &[0xff, 0xf1, 0x4c]);
            frames.push(rest[7..len].to_vec());
            rest = &rest[len..];
            frame_index += 1;
        }
    }
    assert_eq!(frames, f.audio);
    assert_eq!(audio_pes.len(), 7);
    // Interleaved by DTS.
    let dts: Vec<u64> = pes.iter().map(|p| p.dts.unwrap_or(p.pts)).collect();
    assert!(dts.windows(2).all(|w| w[0] <= w[1]), "{dts:?}");
    check_pcr(&packets, &pes, 0x100);
    // Every PES PID ends at counter 15, so the next segment (starting at 0) continues it.
    for pid in [0x100, 0x101] {
        assert_eq!(packets.iter().rev().find(|p| p.pid == pid).unwrap().cc, 15);
    }
    // With the default 100 ms delay.
    assert_eq!(video_pes[0].pcr, Some(START - 7200 - 9000));

    // Keyframe ranges.
    assert_eq!(segment.keyframes.len(), 2);
    for (k, sample) in segment.keyframes.iter().zip([0usize, 6]) {
        assert_eq!(k.sample, sample);
        assert_eq!(k.pts, video.samples[sample].pts);
        let first = (k.offset / 188) as usize;
        let count = (k.len / 188) as usize;
        assert_eq!(k.offset % 188, 0);
        assert_eq!(packets[first].pid, 0x100);
        assert!(packets[first].pusi && packets[first].random_access);
        assert!(packets[first + 1..first + count]
            .iter()
            .all(|p| p.pid == 0x100 && !p.pusi));
        // The next video packet after the range starts a new PES.
        let next = packets[first + count..]
            .iter()
            .find(|p| p.pid == 0x100)
            .unwrap();
        assert!(next.pusi);
    }
    let (start, len) = segment.first_keyframe_range().unwrap();
    assert_eq!(start, 0);
    assert_eq!(len, segment.keyframes[0].offset + segment.keyframes[0].len);
    // The range is a playable segment on its own: PAT, PMT, one keyframe.
    let head = parse_packets(&segment.bytes[..len as usize]);
    let head_pes = parse_pes(&head);
    assert_eq!(head_pes.iter().filter(|p| p.pid == 0x100).count(), 1);
}

#[test]
fn audio_first_gets_a_pcr_packet_before_it() {
    let f = fixture();
    let mut video = video_track(&f);
    for s in &mut video.samples {
        s.dts += 20_000;
        s.pts += 20_000;
    }
    let audio = aac_track(&f);
    let segment =
        write_ts_segment(Some(&video), Some(&audio), &TsSegmentOptions::default()).unwrap();
    let packets = parse_packets(&segment.bytes);
    assert_eq!(packets[2].pid, 0x100);
    assert!(!packets[2].has_payload);
    assert_eq!(packets[2].cc, 15);
    assert_eq!(packets[2].pcr, Some(START - 9000));
    assert_eq!(packets[3].pid, 0x101);
    check_continuity(&packets);
    let pes = parse_pes(&packets);
    check_pcr(&packets, &pes, 0x100);
    assert_eq!(
        ts_segment_len(Some(&video), Some(&audio), &TsSegmentOptions::default()).unwrap(),
        segment.bytes.len()
    );
}

#[test]
fn audio_only_segment_has_pcr_on_audio() {
    let f = fixture();
    let audio = aac_track(&f);
    let segment = write_ts_segment(None, Some(&audio), &TsSegmentOptions::default()).unwrap();
    assert!(segment.keyframes.is_empty());
    assert_eq!(segment.first_keyframe_range(), None);
    let packets = parse_packets(&segment.bytes);
    let pmt = &packets[1].payload[1..];
    assert_eq!(&pmt[8..10], &[0xe1, 0x01], "PCR PID is audio");
    assert_eq!(&pmt[12..17], &[0x0f, 0xe1, 0x01, 0xf0, 0x00]);
    assert_eq!(pmt[2], 18, "one stream");
    check_continuity(&packets);
    let pes = parse_pes(&packets);
    assert!(pes.iter().all(|p| p.pid == 0x101 && p.pcr.is_some()));
    check_pcr(&packets, &pes, 0x101);
}

#[test]
fn low_frame_rate_video_gets_pcr_packets_between_frames() {
    let f = fixture();
    let mut video = video_track(&f);
    for (i, s) in video.samples.iter_mut().enumerate() {
        // 2 fps.
        s.dts = START + i as u64 * 45_000;
        s.pts = s.dts;
    }
    let segment = write_ts_segment(Some(&video), None, &TsSegmentOptions::default()).unwrap();
    let packets = parse_packets(&segment.bytes);
    check_continuity(&packets);
    let pes = parse_pes(&packets);
    assert!(
        pes.iter().all(|p| p.dts.is_none()),
        "no DTS when it equals PTS"
    );
    check_pcr(&packets, &pes, 0x100);
    let fill = packets.iter().filter(|p| !p.has_payload).count();
    assert_eq!(fill, 11 * 4, "4 PCR-only packets fill each 500 ms gap");
    assert_eq!(
        ts_segment_len(Some(&video), None, &TsSegmentOptions::default()).unwrap(),
        segment.bytes.len()
    );
}

#[test]
fn huge_timestamp_gap_is_bounded() {
    let f = fixture();
    let mut video = video_track(&f);
    video.samples.truncate(2);
    video.samples[1].dts = START + 90_000 * 3600;
    video.samples[1].pts = video.samples[1].dts;
    let segment = write_ts_segment(Some(&video), None, &TsSegmentOptions::default()).unwrap();
    assert!(segment.bytes.len() < 200 * 188);
}

#[test]
fn ac3_and_eac3_signalling() {
    let f = fixture();
    for (codec, stream_type, tag) in [
        (TsAudioCodec::Ac3, 0x81, b"AC-3"),
        (TsAudioCodec::Eac3, 0x87, b"EAC3"),
    ] {
        let audio = TsAudio {
            codec,
            samples: (0..10)
                .map(|i| TsSample {
                    dts: START + i * 2880,
                    pts: START + i * 2880,
                    keyframe: true,
                    data: &f.audio[0],
                })
                .collect(),
        };
        let segment = write_ts_segment(None, Some(&audio), &TsSegmentOptions::default()).unwrap();
        let packets = parse_packets(&segment.bytes);
        let pmt = &packets[1].payload[1..];
        assert_eq!(&pmt[12..17], &[stream_type, 0xe1, 0x01, 0xf0, 0x06]);
        assert_eq!(&pmt[17..19], &[0x05, 0x04]);
        assert_eq!(&pmt[19..23], tag);
        let pes = parse_pes(&packets);
        // 3 frames of 32 ms per PES; frames unchanged.
        assert_eq!(pes.len(), 4);
        assert!(pes.iter().all(|p| p.stream_id == 0xbd));
        assert_eq!(
            pes[0].data,
            [&f.audio[0][..], &f.audio[0], &f.audio[0]].concat()
        );
        assert_eq!(pes[3].pts, START + 9 * 2880);
    }
}

#[test]
fn hevc_stream_type_and_aud() {
    let idr = sample_bytes(&[vec![0x26, 0x01, 0xaf, 0x00]]);
    let video = TsVideo {
        codec: TsVideoCodec::Hevc,
        nal_length_size: 4,
        parameter_sets: vec![
            &[0x40u8, 0x01, 0x0c][..],
            &[0x42, 0x01, 0x01],
            &[0x44, 0x01, 0xc1],
        ],
        samples: vec![TsSample {
            dts: START,
            pts: START,
            keyframe: true,
            data: &idr,
        }],
    };
    let segment = write_ts_segment(Some(&video), None, &TsSegmentOptions::default()).unwrap();
    let packets = parse_packets(&segment.bytes);
    assert_eq!(&packets[1].payload[13..18], &[0x24, 0xe1, 0x00, 0xf0, 0x00]);
    let pes = parse_pes(&packets);
    assert_eq!(
        pes[0].data,
        [
            0, 0, 0, 1, 0x46, 0x01, 0x50, 0, 0, 0, 1, 0x40, 0x01, 0x0c, 0, 0, 0, 1, 0x42, 0x01,
            0x01, 0, 0, 0, 1, 0x44, 0x01, 0xc1, 0, 0, 0, 1, 0x26, 0x01, 0xaf, 0x00
        ]
    );
}

#[test]
fn timestamps_wrap_at_33_bits() {
    let f = fixture();
    let mut video = video_track(&f);
    video.samples.truncate(1);
    let t = (1u64 << 33) + 1234;
    video.samples[0].dts = t;
    video.samples[0].pts = t;
    let segment = write_ts_segment(Some(&video), None, &TsSegmentOptions::default()).unwrap();
    let pes = parse_pes(&parse_packets(&segment.bytes));
    assert_eq!(pes[0].pts, 1234);
    assert_eq!(pes[0].pcr, Some(1234 + (1 << 33) - 9000));
}

#[test]
fn empty_tracks_and_samples() {
    let video = TsVideo {
        codec: TsVideoCodec::H264,
        nal_length_size: 4,
        parameter_sets: vec![],
        samples: vec![],
    };
    let segment = write_ts_segment(Some(&video), None, &TsSegmentOptions::default()).unwrap();
    assert_eq!(segment.bytes.len(), 2 * 188);
    // Empty samples are skipped.
    let data = sample_bytes(&[vec![0x65, 1, 2]]);
    let video = TsVideo {
        codec: TsVideoCodec::H264,
        nal_length_size: 4,
        parameter_sets: vec![],
        samples: vec![
            TsSample {
                dts: 0,
                pts: 0,
                keyframe: true,
                data: &[],
            },
            TsSample {
                dts: 3600,
                pts: 3600,
                keyframe: true,
                data: &data,
            },
        ],
    };
    let segment = write_ts_segment(Some(&video), None, &TsSegmentOptions::default()).unwrap();
    assert_eq!(segment.keyframes.len(), 1);
    assert_eq!(segment.keyframes[0].sample, 1);
    assert_eq!(
        write_ts_segment(None, None, &TsSegmentOptions::default()).unwrap_err(),
        TsError::NoTracks
    );
}
