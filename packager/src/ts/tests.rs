//! Segment-level tests: a small transport stream demuxer reads the muxer's output back.

// `is_multiple_of` is newer than the workspace's rust-version (1.85).
#![allow(clippy::manual_is_multiple_of)]

use super::*;

#[derive(Debug, Clone)]
struct Packet {
    pid: u16,
    pusi: bool,
    cc: u8,
    has_payload: bool,
    random_access: bool,
    pcr: Option<u64>,
    payload: Vec<u8>,
}

fn parse_packets(bytes: &[u8]) -> Vec<Packet> {
    assert_eq!(bytes.len() % TS_PACKET_SIZE, 0, "whole packets");
    bytes
        .chunks(TS_PACKET_SIZE)
        .map(|p| {
            assert_eq!(p[0], 0x47, "sync byte");
            assert_eq!(p[1] & 0x80, 0, "transport_error_indicator");
            let afc = (p[3] >> 4) & 3;
            assert_ne!(afc, 0, "reserved adaptation_field_control");
            assert_eq!(p[3] & 0xc0, 0, "not scrambled");
            let mut start = 4;
            let mut random_access = false;
            let mut pcr = None;
            if afc & 2 != 0 {
                let len = usize::from(p[4]);
                start = 5 + len;
                assert!(start <= TS_PACKET_SIZE);
                if afc == 2 {
                    assert_eq!(len, 183, "adaptation-only packet fills the packet");
                }
                if len > 0 {
                    random_access = p[5] & 0x40 != 0;
                    if p[5] & 0x10 != 0 {
                        pcr = Some(
                            (u64::from(p[6]) << 25)
                                | (u64::from(p[7]) << 17)
                                | (u64::from(p[8]) << 9)
                                | (u64::from(p[9]) << 1)
                                | u64::from(p[10] >> 7),
                        );
                        assert_eq!(p[10] & 0x7e, 0x7e, "reserved bits");
                        assert_eq!((p[10] & 1, p[11]), (0, 0), "PCR extension");
                    }
                }
            }
            Packet {
                pid: (u16::from(p[1] & 0x1f) << 8) | u16::from(p[2]),
                pusi: p[1] & 0x40 != 0,
                cc: p[3] & 0x0f,
                has_payload: afc & 1 != 0,
                random_access,
                pcr,
                payload: if afc & 1 != 0 {
                    p[start..].to_vec()
                } else {
                    Vec::new()
                },
            }
        })
        .collect()
}

fn decode_ts(b: &[u8]) -> u64 {
    (u64::from(b[0] >> 1 & 0x07) << 30)
        | (u64::from(b[1]) << 22)
        | (u64::from(b[2] >> 1) << 15)
        | (u64::from(b[3]) << 7)
        | u64::from(b[4] >> 1)
}

#[derive(Debug, Clone)]
struct Pes {
    pid: u16,
    stream_id: u8,
    pts: u64,
    dts: Option<u64>,
    data: Vec<u8>,
    /// Index of the first packet.
    packet: usize,
    random_access: bool,
    pcr: Option<u64>,
}

/// Reassembles every PES of every PID, in the order they start.
fn parse_pes(packets: &[Packet]) -> Vec<Pes> {
    let mut done: Vec<Pes> = Vec::new();
    let mut open: Vec<(u16, Vec<u8>, usize)> = Vec::new();
    let finish = |pid: u16, buf: Vec<u8>, packet: usize, done: &mut Vec<Pes>| {
        assert_eq!(&buf[..3], &[0, 0, 1], "PES start code");
        let declared = usize::from(u16::from_be_bytes([buf[4], buf[5]]));
        if declared != 0 {
            assert_eq!(declared + 6, buf.len(), "PES_packet_length");
        }
        assert_eq!(buf[6], 0x84);
        let flags = buf[7];
        let header_len = usize::from(buf[8]);
        let pts = decode_ts(&buf[9..14]);
        let dts = match flags {
            0x80 => {
                assert_eq!(buf[9] >> 4, 2);
                assert_eq!(header_len, 5);
                None
            }
            0xc0 => {
                assert_eq!(buf[9] >> 4, 3);
                assert_eq!(buf[14] >> 4, 1);
                assert_eq!(header_len, 10);
                Some(decode_ts(&buf[14..19]))
            }
            other => panic!("PES flags {other:#x}"),
        };
        done.push(Pes {
            pid,
            stream_id: buf[3],
            pts,
            dts,
            data: buf[9 + header_len..].to_vec(),
            packet,
            random_access: false,
            pcr: None,
        });
    };
    for (index, p) in packets.iter().enumerate() {
        if p.pid == 0 || p.pid == 0x1000 || !p.has_payload {
            continue;
        }
        if p.pusi {
            if let Some(pos) = open.iter().position(|(pid, _, _)| *pid == p.pid) {
                let (pid, buf, start) = open.remove(pos);
                finish(pid, buf, start, &mut done);
            }
            open.push((p.pid, p.payload.clone(), index));
        } else {
            let entry = open
                .iter_mut()
                .find(|(pid, _, _)| *pid == p.pid)
                .expect("continuation after a start");
            entry.1.extend_from_slice(&p.payload);
        }
    }
    for (pid, buf, start) in open {
        finish(pid, buf, start, &mut done);
    }
    done.sort_by_key(|p| p.packet);
    for pes in &mut done {
        pes.random_access = packets[pes.packet].random_access;
        pes.pcr = packets[pes.packet].pcr;
    }
    done
}

fn check_continuity(packets: &[Packet]) {
    check_continuity_from(packets, 0);
}

/// Checks the counters of every PID, PAT and PMT starting at `psi_cc`, the others at 0.
fn check_continuity_from(packets: &[Packet], psi_cc: u8) {
    let mut last: std::collections::HashMap<u16, u8> = std::collections::HashMap::new();
    for p in packets {
        let expected = match last.get(&p.pid) {
            Some(&cc) if p.has_payload => (cc + 1) & 0x0f,
            Some(&cc) => cc,
            None if p.pid == 0 || p.pid == 0x1000 => psi_cc,
            None if p.has_payload => 0,
            None => 15,
        };
        assert_eq!(p.cc, expected, "continuity counter on PID {:#x}", p.pid);
        last.insert(p.pid, p.cc);
    }
}

/// PCRs never decrease, are at most 100 ms apart and never exceed the DTS of a later PES.
fn check_pcr(packets: &[Packet], pes: &[Pes], pcr_pid: u16) {
    let pcrs: Vec<(usize, u64)> = packets
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.pcr.map(|pcr| (i, pcr)))
        .collect();
    assert!(!pcrs.is_empty());
    for &(i, _) in &pcrs {
        assert_eq!(packets[i].pid, pcr_pid, "PCR on the PCR PID only");
    }
    for pair in pcrs.windows(2) {
        assert!(pair[1].1 >= pair[0].1, "PCR decreases");
        assert!(
            pair[1].1 - pair[0].1 <= 9000,
            "PCR interval {}",
            pair[1].1 - pair[0].1
        );
    }
    // The first PCR comes before the first PES.
    assert!(pcrs[0].0 <= pes[0].packet);
    for p in pes {
        let dts = p.dts.unwrap_or(p.pts);
        for &(i, pcr) in &pcrs {
            if i <= p.packet {
                assert!(pcr <= dts, "PCR {pcr} after DTS {dts}");
            }
        }
    }
}

const SPS: &[u8] = &[0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9];
const PPS: &[u8] = &[0x68, 0xeb, 0xe3, 0xcb];

/// Builds a 4-byte length-prefixed sample from NAL units.
fn sample_bytes(nals: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for nal in nals {
        out.extend_from_slice(&(nal.len() as u32).to_be_bytes());
        out.extend_from_slice(nal);
    }
    out
}

fn filler(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

struct Fixture {
    video: Vec<Vec<u8>>,
    audio: Vec<Vec<u8>>,
}

/// 12 frames of 25 fps video (IDR at 0 and 6, B-frame-like PTS) and matching AAC 48 kHz frames.
fn fixture() -> Fixture {
    let video = (0..12)
        .map(|i| {
            let idr = i % 6 == 0;
            let slice_len = if idr { 3000 } else { 50 + i * 37 };
            let mut slice = filler(slice_len, i as u8);
            slice[0] = if idr { 0x65 } else { 0x41 };
            sample_bytes(&[vec![0x06, 0x05, 0x01, 0x80], slice])
        })
        .collect();
    let audio = (0..26).map(|i| filler(200 + i * 3, i as u8)).collect();
    Fixture { video, audio }
}

const START: u64 = 900_000;

fn video_track(f: &Fixture) -> TsVideo<'_> {
    TsVideo {
        codec: TsVideoCodec::H264,
        nal_length_size: 4,
        parameter_sets: vec![SPS, PPS],
        samples: f
            .video
            .iter()
            .enumerate()
            .map(|(i, data)| {
                let i = i as u64;
                let dts = START - 7200 + i * 3600;
                // Decode order I P B B ... style: PTS two frames ahead for even, same for odd.
                let pts = if i % 2 == 0 { dts + 7200 } else { dts + 3600 };
                TsSample {
                    dts,
                    pts,
                    keyframe: i % 6 == 0,
                    data,
                }
            })
            .collect(),
    }
}

fn aac_track(f: &Fixture) -> TsAudio<'_> {
    TsAudio {
        codec: TsAudioCodec::Aac {
            profile: 1,
            sampling_index: 3,
            channel_config: 2,
        },
        samples: f
            .audio
            .iter()
            .enumerate()
            .map(|(i, data)| {
                let t = START + i as u64 * 1920;
                TsSample {
                    dts: t,
                    pts: t,
                    keyframe: true,
                    data,
                }
            })
            .collect(),
    }
}

fn expected_annexb(sample: &[u8], keyframe: bool) -> Vec<u8> {
    let mut out = vec![0, 0, 0, 1, 0x09, 0xf0];
    if keyframe {
        for set in [SPS, PPS] {
            out.extend_from_slice(&[0, 0, 0, 1]);
            out.extend_from_slice(set);
        }
    }
    for nal in video::split_nals(sample, 4, 0).unwrap() {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(nal);
    }
    out
}

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
