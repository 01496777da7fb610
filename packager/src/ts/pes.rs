//! PES packet headers (ISO/IEC 13818-1 §2.4.3.6) with PTS and DTS.

use super::packet::{SmallBuf, TIMESTAMP_MASK};

/// stream_id of the first MPEG video stream.
pub const STREAM_ID_VIDEO: u8 = 0xe0;
/// stream_id of the first MPEG audio stream (AAC).
pub const STREAM_ID_AUDIO: u8 = 0xc0;
/// private_stream_1 (AC-3, E-AC-3), as ffmpeg writes them.
pub const STREAM_ID_PRIVATE_1: u8 = 0xbd;

/// Largest PES_packet_length value.
pub const MAX_PES_PACKET_LENGTH: usize = 0xffff;

/// Encodes a 33-bit timestamp in the 5-byte PTS/DTS layout with the 4-bit `prefix`
/// ('0010' PTS only, '0011' PTS followed by DTS, '0001' DTS). Values wrap at 2^33.
pub fn encode_timestamp(prefix: u8, timestamp: u64) -> [u8; 5] {
    let ts = timestamp & TIMESTAMP_MASK;
    [
        (prefix << 4) | (((ts >> 30) & 0x07) as u8) << 1 | 1,
        (ts >> 22) as u8,
        (((ts >> 15) & 0x7f) as u8) << 1 | 1,
        (ts >> 7) as u8,
        ((ts & 0x7f) as u8) << 1 | 1,
    ]
}

/// Size of a PES header: 9 fixed bytes, PTS, and DTS when it differs from PTS.
pub fn header_len(pts: u64, dts: u64) -> usize {
    if pts == dts {
        14
    } else {
        19
    }
}

/// Builds a PES header for `payload_len` bytes of elementary stream data.
/// DTS is written only when it differs from PTS. PES_packet_length is 0 ("unbounded", allowed
/// for video in transport streams) when `unbounded` is set or the length does not fit.
/// data_alignment_indicator is set: every PES starts with an access unit or a sync word.
pub fn header(stream_id: u8, pts: u64, dts: u64, payload_len: usize, unbounded: bool) -> SmallBuf {
    let with_dts = pts != dts;
    let header_data_len: u8 = if with_dts { 10 } else { 5 };
    let length = 3 + usize::from(header_data_len) + payload_len;
    let packet_length = if unbounded || length > MAX_PES_PACKET_LENGTH {
        0
    } else {
        length as u16
    };
    let [length_high, length_low] = packet_length.to_be_bytes();
    let mut bytes = [0u8; SmallBuf::CAPACITY];
    bytes[..9].copy_from_slice(&[
        0,
        0,
        1,
        stream_id,
        length_high,
        length_low,
        // '10', scrambling 00, priority 0, data_alignment_indicator 1, copyright 0,
        // original 0.
        0x84,
        if with_dts { 0xc0 } else { 0x80 },
        header_data_len,
    ]);
    let len = if with_dts {
        bytes[9..14].copy_from_slice(&encode_timestamp(0b0011, pts));
        bytes[14..19].copy_from_slice(&encode_timestamp(0b0001, dts));
        19
    } else {
        bytes[9..14].copy_from_slice(&encode_timestamp(0b0010, pts));
        14
    };
    SmallBuf::from_prefix(bytes, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(b: &[u8]) -> u64 {
        (u64::from(b[0] >> 1 & 0x07) << 30)
            | (u64::from(b[1]) << 22)
            | (u64::from(b[2] >> 1) << 15)
            | (u64::from(b[3]) << 7)
            | u64::from(b[4] >> 1)
    }

    #[test]
    fn timestamp_bits() {
        // Known vectors: PTS 0 and PTS 90000 (1 s) with prefix '0010'.
        assert_eq!(encode_timestamp(0b0010, 0), [0x21, 0x00, 0x01, 0x00, 0x01]);
        assert_eq!(
            encode_timestamp(0b0010, 90_000),
            [0x21, 0x00, 0x05, 0xbf, 0x21]
        );
        assert_eq!(
            encode_timestamp(0b0011, TIMESTAMP_MASK),
            [0x3f, 0xff, 0xff, 0xff, 0xff]
        );
        for ts in [
            0u64,
            1,
            0x7f,
            0x80,
            0x7fff,
            0x8000,
            0x3fff_ffff,
            0x4000_0000,
            TIMESTAMP_MASK,
        ] {
            let b = encode_timestamp(0b0001, ts);
            assert_eq!(decode(&b), ts);
            // Marker bits.
            assert_eq!(b[0] & 1, 1);
            assert_eq!(b[2] & 1, 1);
            assert_eq!(b[4] & 1, 1);
            assert_eq!(b[0] >> 4, 0b0001);
        }
        // 33-bit wrap.
        assert_eq!(
            encode_timestamp(0b0010, TIMESTAMP_MASK + 1 + 5),
            encode_timestamp(0b0010, 5)
        );
    }

    #[test]
    fn header_pts_only() {
        let h = header(STREAM_ID_AUDIO, 900_000, 900_000, 100, false);
        let b = h.as_slice();
        assert_eq!(b.len(), header_len(900_000, 900_000));
        assert_eq!(&b[..4], &[0, 0, 1, 0xc0]);
        assert_eq!(u16::from_be_bytes([b[4], b[5]]), 3 + 5 + 100);
        assert_eq!(&b[6..9], &[0x84, 0x80, 5]);
        assert_eq!(b[9] >> 4, 0b0010);
        assert_eq!(decode(&b[9..14]), 900_000);
    }

    #[test]
    fn header_pts_and_dts() {
        let h = header(STREAM_ID_VIDEO, 903_600, 900_000, 100_000, true);
        let b = h.as_slice();
        assert_eq!(b.len(), 19);
        assert_eq!(&b[..6], &[0, 0, 1, 0xe0, 0, 0]);
        assert_eq!(&b[6..9], &[0x84, 0xc0, 10]);
        assert_eq!(b[9] >> 4, 0b0011);
        assert_eq!(decode(&b[9..14]), 903_600);
        assert_eq!(b[14] >> 4, 0b0001);
        assert_eq!(decode(&b[14..19]), 900_000);
        // Too long for PES_packet_length: 0.
        let h = header(STREAM_ID_AUDIO, 1, 1, 70_000, false);
        assert_eq!(&h.as_slice()[4..6], &[0, 0]);
    }
}
