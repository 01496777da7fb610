//! SAMPLE-AES segments: PMT signalling, the PES payloads decrypt back to the clear segment's
//! elementary streams, refused codecs, and clear output unchanged by the option's existence.

// `is_multiple_of` is newer than the workspace's rust-version (1.85).
#![allow(clippy::manual_is_multiple_of)]

use drm::sample_aes::{decrypt_aac_frame, decrypt_h264_nal, SampleAesKey};

use super::support::*;
use crate::ts::*;

fn key() -> SampleAesKey {
    SampleAesKey::new(*b"sample-aes-key!!", [7; 16])
}

fn encrypting() -> TsSegmentOptions {
    TsSegmentOptions {
        sample_aes: Some(key()),
        ..TsSegmentOptions::default()
    }
}

/// FNV-1a 64 of the bytes: a compact fingerprint for the golden clear outputs.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Clear segments of assorted shapes, as (name, length, fingerprint).
fn clear_fingerprints() -> Vec<(&'static str, usize, u64)> {
    let f = fixture();
    let video = video_track(&f);
    let aac = aac_track(&f);
    let hevc = TsVideo {
        codec: TsVideoCodec::Hevc,
        parameter_sets: vec![
            &[0x40, 0x01, 0x0c],
            &[0x42, 0x01, 0x01],
            &[0x44, 0x01, 0xc0],
        ],
        ..video.clone()
    };
    let ac3 = TsAudio {
        codec: TsAudioCodec::Ac3,
        ..aac.clone()
    };
    let eac3 = TsAudio {
        codec: TsAudioCodec::Eac3,
        ..aac.clone()
    };
    let unaligned = TsSegmentOptions {
        align_continuity_counters: false,
        sequence_number: 9,
        ..TsSegmentOptions::default()
    };
    let default = TsSegmentOptions::default();
    type Case<'a> = (
        &'static str,
        Option<&'a TsVideo<'a>>,
        Option<&'a TsAudio<'a>>,
        &'a TsSegmentOptions,
    );
    let cases: Vec<Case<'_>> = vec![
        ("h264+aac", Some(&video), Some(&aac), &default),
        ("h264+aac unaligned", Some(&video), Some(&aac), &unaligned),
        ("h264", Some(&video), None, &default),
        ("aac", None, Some(&aac), &default),
        ("hevc+ac3", Some(&hevc), Some(&ac3), &default),
        ("h264+eac3", Some(&video), Some(&eac3), &unaligned),
    ];
    cases
        .into_iter()
        .map(|(name, v, a, o)| {
            let bytes = write_ts_segment(v, a, o).unwrap().bytes;
            (name, bytes.len(), fnv(&bytes))
        })
        .collect()
}

#[test]
fn clear_output_is_unchanged() {
    // Fingerprints of the muxer's output taken before SAMPLE-AES was added.
    assert_eq!(
        clear_fingerprints(),
        [
            ("h264+aac", 21620, 0x91bd_0dc4_ab37_cf1d),
            ("h264+aac unaligned", 18236, 0x154d_8cc8_9310_709e),
            ("h264", 12408, 0x183a_4a80_4286_f556),
            ("aac", 9400, 0xd4f3_c6a7_b029_c66b),
            ("hevc+ac3", 21620, 0x90b7_6219_493b_04a5),
            ("h264+eac3", 18236, 0xf8f1_e5ce_a1d2_9c0f),
        ]
    );
    // The AudioSpecificConfig option is ignored without a key.
    let f = fixture();
    let (video, audio) = (video_track(&f), aac_track(&f));
    let options = TsSegmentOptions {
        sample_aes_aac_config: Some(vec![0x2b, 0x92, 0x08, 0x00]),
        ..TsSegmentOptions::default()
    };
    assert_eq!(
        write_ts_segment(Some(&video), Some(&audio), &options).unwrap(),
        write_ts_segment(Some(&video), Some(&audio), &TsSegmentOptions::default()).unwrap()
    );
}

/// The PMT section of a segment (after the pointer field), CRC checked.
fn pmt_of(bytes: &[u8]) -> Vec<u8> {
    let packets = parse_packets(bytes);
    assert_eq!((packets[1].pid, packets[1].pusi), (0x1000, true));
    let pmt = &packets[1].payload[1..];
    let len = 3 + ((usize::from(pmt[1] & 0x0f) << 8) | usize::from(pmt[2]));
    assert_eq!(crc32_mpeg2(&pmt[..len]), 0);
    pmt[..len].to_vec()
}

/// The elementary stream entries of a PMT: (stream_type, PID, descriptors).
fn pmt_streams(pmt: &[u8]) -> Vec<(u8, u16, Vec<u8>)> {
    let program_info = (usize::from(pmt[10] & 0x0f) << 8) | usize::from(pmt[11]);
    let mut at = 12 + program_info;
    let end = pmt.len() - 4;
    let mut streams = Vec::new();
    while at < end {
        let pid = (u16::from(pmt[at + 1] & 0x1f) << 8) | u16::from(pmt[at + 2]);
        let info = (usize::from(pmt[at + 3] & 0x0f) << 8) | usize::from(pmt[at + 4]);
        streams.push((pmt[at], pid, pmt[at + 5..at + 5 + info].to_vec()));
        at += 5 + info;
    }
    assert_eq!(at, end);
    streams
}

#[test]
fn pmt_signals_encrypted_streams() {
    let f = fixture();
    let (video, audio) = (video_track(&f), aac_track(&f));
    let segment = write_ts_segment(Some(&video), Some(&audio), &encrypting()).unwrap();
    let zavc = [0x0f, 4, b'z', b'a', b'v', b'c'];
    let aacd = [0x0f, 4, b'a', b'a', b'c', b'd'];
    // AAC-LC (profile 1), 48 kHz (index 3), stereo: AudioSpecificConfig 11 90.
    let apad_lc = [
        0x05, 14, b'a', b'p', b'a', b'd', b'z', b'a', b'a', b'c', 0, 0, 1, 2, 0x11, 0x90,
    ];
    assert_eq!(
        pmt_streams(&pmt_of(&segment.bytes)),
        [
            (0xdb, 0x100, zavc.to_vec()),
            (0xcf, 0x101, [&aacd[..], &apad_lc].concat()),
        ]
    );
    // A given AudioSpecificConfig (HE-AAC) is used as it is.
    let options = TsSegmentOptions {
        sample_aes_aac_config: Some(vec![0x2b, 0x92, 0x08, 0x00]),
        ..encrypting()
    };
    let segment = write_ts_segment(None, Some(&audio), &options).unwrap();
    let apad_he = [
        0x05, 16, b'a', b'p', b'a', b'd', b'z', b'a', b'c', b'h', 0, 0, 1, 4, 0x2b, 0x92, 0x08,
        0x00,
    ];
    assert_eq!(
        pmt_streams(&pmt_of(&segment.bytes)),
        [(0xcf, 0x101, [&aacd[..], &apad_he].concat())]
    );
    // Video only.
    let segment = write_ts_segment(Some(&video), None, &encrypting()).unwrap();
    assert_eq!(
        pmt_streams(&pmt_of(&segment.bytes)),
        [(0xdb, 0x100, zavc.to_vec())]
    );
}

/// Splits an Annex B access unit written by the muxer (4-byte start codes, NAL units with
/// emulation prevention, so no 00 00 00 inside them) into NAL units.
fn split_annexb(au: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 4 <= au.len() {
        if au[i..i + 4] == [0, 0, 0, 1] {
            starts.push(i + 4);
            i += 4;
        } else {
            i += 1;
        }
    }
    assert_eq!(starts.first(), Some(&4), "starts with a start code");
    starts
        .iter()
        .enumerate()
        .map(|(n, &s)| &au[s..starts.get(n + 1).map_or(au.len(), |&next| next - 4)])
        .collect()
}

/// Decrypts the elementary streams of an encrypted segment's PES packets: each video NAL
/// unit and each ADTS frame on its own, as a player does.
fn decrypt_pes(pes: &[Pes]) -> Vec<(u16, u64, Vec<u8>)> {
    pes.iter()
        .map(|p| {
            let data = if p.pid == 0x100 {
                let mut au = Vec::new();
                for nal in split_annexb(&p.data) {
                    au.extend_from_slice(&[0, 0, 0, 1]);
                    au.extend_from_slice(&decrypt_h264_nal(&key(), nal));
                }
                au
            } else {
                let mut frames = Vec::new();
                let mut rest = &p.data[..];
                while !rest.is_empty() {
                    let len = (usize::from(rest[3] & 3) << 11)
                        | (usize::from(rest[4]) << 3)
                        | usize::from(rest[5] >> 5);
                    frames.extend(decrypt_aac_frame(&key(), &rest[..len]).unwrap());
                    rest = &rest[len..];
                }
                frames
            };
            (p.pid, p.pts, data)
        })
        .collect()
}

/// Whether a clear PES has a slice NAL unit over 48 bytes as stored (emulation-prevention
/// bytes counted) or an AAC frame with at least 32 bytes after its ADTS header.
fn has_protected_bytes(clear: &Pes) -> bool {
    if clear.pid == 0x100 {
        split_annexb(&clear.data)
            .iter()
            .any(|nal| matches!(nal[0] & 0x1f, 1 | 5) && nal.len() > 48)
    } else {
        let mut rest = &clear.data[..];
        let mut any = false;
        while !rest.is_empty() {
            let len = (usize::from(rest[3] & 3) << 11)
                | (usize::from(rest[4]) << 3)
                | usize::from(rest[5] >> 5);
            any |= len - 7 >= 32;
            rest = &rest[len..];
        }
        any
    }
}

fn clear_pes(pes: &[Pes]) -> Vec<(u16, u64, Vec<u8>)> {
    pes.iter().map(|p| (p.pid, p.pts, p.data.clone())).collect()
}

/// A video track whose slices need emulation prevention, in the clear and after
/// encryption, with lengths around the thresholds (48, 49, 208, 209 bytes).
fn tricky_video(samples: &[Vec<u8>]) -> TsVideo<'_> {
    TsVideo {
        codec: TsVideoCodec::H264,
        nal_length_size: 4,
        parameter_sets: vec![SPS, PPS],
        samples: samples
            .iter()
            .enumerate()
            .map(|(i, data)| {
                let dts = START + i as u64 * 3000;
                TsSample {
                    dts,
                    pts: dts + 3000,
                    keyframe: i % 8 == 0,
                    data,
                }
            })
            .collect(),
    }
}

fn tricky_samples() -> Vec<Vec<u8>> {
    let mut samples = Vec::new();
    for (i, len) in [48usize, 49, 208, 209, 1000, 5000, 30, 400, 161, 333]
        .into_iter()
        .enumerate()
    {
        let mut slice = filler(len, i as u8 * 17);
        slice[0] = if i % 8 == 0 { 0x65 } else { 0x41 };
        // Emulation prevention in the clear lead, in the first block and further on.
        for at in [8usize, 35, 100, 200, 900] {
            if at + 4 < len {
                slice[at..at + 4].copy_from_slice(&[0, 0, 3, (i % 4) as u8]);
            }
        }
        let sei = vec![0x06, 0x05, 0x10, 0, 0, 3, 0x01, 0x80];
        samples.push(sample_bytes(&[sei, slice]));
    }
    samples
}

#[test]
fn encrypted_segment_decrypts_to_the_clear_one() {
    let f = fixture();
    let tricky = tricky_samples();
    let videos = [video_track(&f), tricky_video(&tricky)];
    let audio = aac_track(&f);
    for video in &videos {
        for (v, a) in [
            (Some(video), Some(&audio)),
            (Some(video), None),
            (None, Some(&audio)),
        ] {
            let clear = write_ts_segment(v, a, &TsSegmentOptions::default()).unwrap();
            let encrypted = write_ts_segment(v, a, &encrypting()).unwrap();
            // ts_segment_len stays exact, and the output is deterministic.
            assert_eq!(
                ts_segment_len(v, a, &encrypting()).unwrap(),
                encrypted.bytes.len()
            );
            assert_eq!(write_ts_segment(v, a, &encrypting()).unwrap(), encrypted);

            let packets = parse_packets(&encrypted.bytes);
            check_continuity(&packets);
            let pes = parse_pes(&packets);
            check_pcr(&packets, &pes, if v.is_some() { 0x100 } else { 0x101 });
            let clear_pes = parse_pes(&parse_packets(&clear.bytes));
            assert_eq!(pes.len(), clear_pes.len());
            for (e, c) in pes.iter().zip(&clear_pes) {
                assert_eq!(
                    (e.pid, e.stream_id, e.pts, e.dts, e.random_access),
                    (c.pid, c.stream_id, c.pts, c.dts, c.random_access)
                );
                // Only the audio sizes are known in advance (PES_packet_length is set);
                // parse_pes checked them against the payloads.
                if e.pid == 0x101 {
                    assert_eq!(e.data.len(), c.data.len());
                }
            }
            assert_eq!(decrypt_pes(&pes), self::clear_pes(&clear_pes));
            // Something was encrypted in every PES with a slice or frame long enough, and
            // nothing in the others.
            for (e, c) in pes.iter().zip(&clear_pes) {
                assert_eq!(
                    e.data != c.data,
                    has_protected_bytes(c),
                    "PES at packet {}",
                    e.packet
                );
            }
            assert_eq!(encrypted.keyframes.len(), clear.keyframes.len());
            for (e, c) in encrypted.keyframes.iter().zip(&clear.keyframes) {
                assert_eq!((e.sample, e.pts, e.dts), (c.sample, c.pts, c.dts));
            }
        }
    }
}

#[test]
fn clear_nal_units_stay_clear() {
    let tricky = tricky_samples();
    let video = tricky_video(&tricky);
    let segment = write_ts_segment(Some(&video), None, &encrypting()).unwrap();
    let pes = parse_pes(&parse_packets(&segment.bytes));
    for (p, s) in pes.iter().zip(&video.samples) {
        let nals = split_annexb(&p.data);
        let clear = video::split_nals(s.data, 4, 0).unwrap();
        // AUD, (SPS, PPS on keyframes), SEI: byte for byte; the slice only when short.
        assert_eq!(nals[0], &[0x09, 0xf0]);
        let rest = if s.keyframe {
            assert_eq!((nals[1], nals[2]), (SPS, PPS));
            &nals[3..]
        } else {
            &nals[1..]
        };
        assert_eq!(rest[0], clear[0], "SEI");
        // Eligibility counts the slice as stored, emulation-prevention bytes included.
        if clear[1].len() <= 48 {
            assert_eq!(rest[1], clear[1]);
        } else {
            assert_eq!(rest[1][..8], clear[1][..8]);
            assert_ne!(rest[1], clear[1]);
        }
    }
}

#[test]
fn unsupported_codecs_are_refused() {
    let f = fixture();
    let video = video_track(&f);
    let audio = aac_track(&f);
    let hevc = TsVideo {
        codec: TsVideoCodec::Hevc,
        ..video.clone()
    };
    let ac3 = TsAudio {
        codec: TsAudioCodec::Ac3,
        ..audio.clone()
    };
    let eac3 = TsAudio {
        codec: TsAudioCodec::Eac3,
        ..audio.clone()
    };
    for (v, a, codec) in [
        (Some(&hevc), None, "HEVC"),
        (Some(&hevc), Some(&audio), "HEVC"),
        (None, Some(&ac3), "AC-3"),
        (Some(&video), Some(&ac3), "AC-3"),
        (Some(&video), Some(&eac3), "E-AC-3"),
    ] {
        let err = write_ts_segment(v, a, &encrypting()).unwrap_err();
        assert!(
            matches!(
                &err,
                TsError::SampleAes(drm::Error::Unsupported { reason, .. }) if reason.contains(codec)
            ),
            "{err}"
        );
        assert_eq!(ts_segment_len(v, a, &encrypting()).unwrap_err(), err);
        assert!(err.to_string().contains(codec), "{err}");
        // The same input in the clear is fine.
        write_ts_segment(v, a, &TsSegmentOptions::default()).unwrap();
    }
    // AudioSpecificConfigs that cannot be signalled.
    for (config, unsupported) in [
        (vec![], false),
        (vec![0x0a, 0x10], true), // AAC Main
        (vec![0x12; 300], false),
    ] {
        let options = TsSegmentOptions {
            sample_aes_aac_config: Some(config),
            ..encrypting()
        };
        let err = write_ts_segment(None, Some(&audio), &options).unwrap_err();
        assert!(
            matches!(
                (&err, unsupported),
                (TsError::SampleAes(drm::Error::Unsupported { .. }), true)
                    | (TsError::SampleAes(drm::Error::Malformed { .. }), false)
            ),
            "{err}"
        );
    }
    // A config that fits the descriptor but not the PMT packet.
    let options = TsSegmentOptions {
        sample_aes_aac_config: Some([&[0x12u8, 0x10][..], &[0; 150]].concat()),
        ..encrypting()
    };
    assert!(matches!(
        write_ts_segment(Some(&video), Some(&audio), &options),
        Err(TsError::InvalidOption {
            name: "sample_aes_aac_config",
            ..
        })
    ));
}

#[test]
fn options_debug_hides_the_key() {
    let text = format!("{:?}", encrypting());
    assert!(text.contains("<redacted>"), "{text}");
    assert!(!text.contains("sample-aes-key"), "{text}");
    let bytes = format!("{:?}", b"sample-aes-key!!");
    assert!(!text.contains(&bytes[1..bytes.len() - 1]), "{text}");
}

#[test]
fn arbitrary_input_does_not_panic() {
    // Random samples (random NAL types and lengths, many zero bytes): every encrypted
    // segment's length is predicted exactly and it decrypts back to the clear segment.
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..40 {
        let mut data = Vec::new();
        for _ in 0..(1 + next() % 12) {
            let mut sample = Vec::new();
            for _ in 0..(1 + next() % 4) {
                let len = (next() % 700) as usize + 1;
                let mut nal: Vec<u8> = (0..len)
                    .map(|_| if next() % 3 == 0 { 0 } else { next() as u8 })
                    .collect();
                nal[0] = [0x65, 0x41, 0x01, 0x06, 0x67, 0x09][(next() % 6) as usize];
                let mut escaped = Vec::new();
                drm::sample_aes::insert_emulation_prevention(&nal, &mut escaped);
                sample.extend_from_slice(&(escaped.len() as u32).to_be_bytes());
                sample.extend_from_slice(&escaped);
            }
            data.push(sample);
        }
        let audio_data: Vec<Vec<u8>> = (0..(next() % 10))
            .map(|_| (0..(next() % 300)).map(|_| next() as u8).collect())
            .collect();
        let video = tricky_video(&data);
        let fixture = Fixture {
            video: Vec::new(),
            audio: audio_data,
        };
        let mut audio = aac_track(&fixture);
        audio.samples.retain(|s| !s.data.is_empty());
        let a = (!audio.samples.is_empty() && round % 3 != 0).then_some(&audio);
        let clear = write_ts_segment(Some(&video), a, &TsSegmentOptions::default()).unwrap();
        let encrypted = write_ts_segment(Some(&video), a, &encrypting()).unwrap();
        assert_eq!(
            ts_segment_len(Some(&video), a, &encrypting()).unwrap(),
            encrypted.bytes.len()
        );
        let pes = parse_pes(&parse_packets(&encrypted.bytes));
        let clear_pes = parse_pes(&parse_packets(&clear.bytes));
        assert_eq!(
            decrypt_pes(&pes),
            self::clear_pes(&clear_pes),
            "round {round}"
        );
    }
}
