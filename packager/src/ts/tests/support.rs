//! A small transport stream demuxer and fixtures that read the muxer's output back.

// `is_multiple_of` is newer than the workspace's rust-version (1.85).
#![allow(clippy::manual_is_multiple_of)]

use crate::ts::*;

#[derive(Debug, Clone)]
pub(super) struct Packet {
    pub(super) pid: u16,
    pub(super) pusi: bool,
    pub(super) cc: u8,
    pub(super) has_payload: bool,
    pub(super) random_access: bool,
    pub(super) pcr: Option<u64>,
    pub(super) payload: Vec<u8>,
}

pub(super) fn parse_packets(bytes: &[u8]) -> Vec<Packet> {
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

pub(super) fn decode_ts(b: &[u8]) -> u64 {
    (u64::from(b[0] >> 1 & 0x07) << 30)
        | (u64::from(b[1]) << 22)
        | (u64::from(b[2] >> 1) << 15)
        | (u64::from(b[3]) << 7)
        | u64::from(b[4] >> 1)
}

#[derive(Debug, Clone)]
pub(super) struct Pes {
    pub(super) pid: u16,
    pub(super) stream_id: u8,
    pub(super) pts: u64,
    pub(super) dts: Option<u64>,
    pub(super) data: Vec<u8>,
    /// Index of the first packet.
    pub(super) packet: usize,
    pub(super) random_access: bool,
    pub(super) pcr: Option<u64>,
}

/// Reassembles every PES of every PID, in the order they start.
pub(super) fn parse_pes(packets: &[Packet]) -> Vec<Pes> {
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

pub(super) fn check_continuity(packets: &[Packet]) {
    check_continuity_from(packets, 0);
}

/// Checks the counters of every PID, PAT and PMT starting at `psi_cc`, the others at 0.
pub(super) fn check_continuity_from(packets: &[Packet], psi_cc: u8) {
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
pub(super) fn check_pcr(packets: &[Packet], pes: &[Pes], pcr_pid: u16) {
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

pub(super) const SPS: &[u8] = &[0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9];
pub(super) const PPS: &[u8] = &[0x68, 0xeb, 0xe3, 0xcb];

/// Builds a 4-byte length-prefixed sample from NAL units.
pub(super) fn sample_bytes(nals: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for nal in nals {
        out.extend_from_slice(&(nal.len() as u32).to_be_bytes());
        out.extend_from_slice(nal);
    }
    out
}

pub(super) fn filler(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

pub(super) struct Fixture {
    pub(super) video: Vec<Vec<u8>>,
    pub(super) audio: Vec<Vec<u8>>,
}

/// 12 frames of 25 fps video (IDR at 0 and 6, B-frame-like PTS) and matching AAC 48 kHz frames.
pub(super) fn fixture() -> Fixture {
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

pub(super) const START: u64 = 900_000;

pub(super) fn video_track(f: &Fixture) -> TsVideo<'_> {
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

pub(super) fn aac_track(f: &Fixture) -> TsAudio<'_> {
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

pub(super) fn expected_annexb(sample: &[u8], keyframe: bool) -> Vec<u8> {
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
