//! Transport packets (ISO/IEC 13818-1 §2.4.3): the 188-byte packet header, adaptation fields
//! with PCR, random access indicator and stuffing, and the split of one PES packet or PSI
//! section into packets.
//!
//! Everything here writes through [`Out`], so the very same code path either appends to a
//! `Vec<u8>` or only counts bytes (for [`super::ts_segment_len`]).

/// Size of one transport packet.
pub const TS_PACKET_SIZE: usize = 188;
/// Bytes after the 4-byte packet header.
const PACKET_BODY: usize = TS_PACKET_SIZE - 4;
const SYNC_BYTE: u8 = 0x47;
/// Longest PSI section [`write_section`] writes: one packet minus the pointer_field.
pub const MAX_SECTION_LEN: usize = PACKET_BODY - 1;
/// Size of an encoded PCR inside an adaptation field.
const PCR_BYTES: usize = 6;
/// 2^33 - 1: PTS, DTS and PCR base are 33-bit counters.
pub const TIMESTAMP_MASK: u64 = (1 << 33) - 1;

/// A byte sink: a growing buffer, or a counter that only adds lengths.
pub trait Out {
    /// Appends bytes.
    fn put(&mut self, bytes: &[u8]);
    /// Appends `count` copies of `byte`.
    fn fill(&mut self, byte: u8, count: usize);
    /// Bytes written so far.
    fn position(&self) -> usize;
    /// Makes room for `additional` more bytes up front (a hint; counting sinks ignore it).
    fn reserve(&mut self, _additional: usize) {}
}

impl Out for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    fn fill(&mut self, byte: u8, count: usize) {
        self.resize(self.len() + count, byte);
    }
    fn position(&self) -> usize {
        self.len()
    }
    fn reserve(&mut self, additional: usize) {
        Vec::reserve(self, additional);
    }
}

/// An [`Out`] that writes nothing and counts bytes.
#[derive(Debug, Default)]
pub struct Counter(pub usize);

impl Out for Counter {
    fn put(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
    fn fill(&mut self, _byte: u8, count: usize) {
        self.0 += count;
    }
    fn position(&self) -> usize {
        self.0
    }
}

/// Continuity counter of one PID. The first packet with payload gets 0.
#[derive(Debug, Default, Clone, Copy)]
pub struct ContinuityCounter {
    next: u8,
}

impl ContinuityCounter {
    /// A counter whose first payload packet gets `value` (mod 16).
    pub fn starting_at(value: u8) -> Self {
        ContinuityCounter { next: value & 0x0f }
    }

    /// Value for the next packet that carries payload; advances the counter.
    pub fn advance(&mut self) -> u8 {
        let value = self.next;
        self.next = (self.next + 1) & 0x0f;
        value
    }

    /// Value for a packet without payload: the counter does not advance, so it repeats the
    /// value of the previous packet (15 before the first one, so the first payload packet's 0
    /// follows in order).
    pub fn current(&self) -> u8 {
        self.next.wrapping_sub(1) & 0x0f
    }

    /// How many packets beyond `natural` a PES of `natural` packets needs so that the
    /// counter is back at 0 after it.
    pub fn packets_to_wrap(&self, natural: usize) -> usize {
        (16 - (usize::from(self.next) + natural) % 16) % 16
    }
}

/// A piece of a PES payload: borrowed sample bytes, or a small header owned by the muxer.
#[derive(Debug, Clone, Copy)]
pub enum Chunk<'a> {
    Data(&'a [u8]),
    Small(SmallBuf),
}

impl Chunk<'_> {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Chunk::Data(data) => data,
            Chunk::Small(small) => small.as_slice(),
        }
    }
}

/// A short inline byte string (PES header, ADTS header, HEVC access unit delimiter).
#[derive(Debug, Clone, Copy)]
pub struct SmallBuf {
    buf: [u8; SmallBuf::CAPACITY],
    len: u8,
}

impl SmallBuf {
    pub const CAPACITY: usize = 24;

    pub fn new() -> Self {
        SmallBuf {
            buf: [0; Self::CAPACITY],
            len: 0,
        }
    }

    /// Appends a byte. The callers only build strings far below the capacity; a byte past
    /// the capacity is dropped rather than panicking.
    pub fn push(&mut self, byte: u8) {
        if let Some(slot) = self.buf.get_mut(usize::from(self.len)) {
            *slot = byte;
            self.len += 1;
        }
    }

    pub fn extend(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.push(byte);
        }
    }

    /// The first `len` bytes of `buf` (all of them if `len` is larger).
    pub fn from_prefix(buf: [u8; Self::CAPACITY], len: usize) -> Self {
        SmallBuf {
            buf,
            len: len.min(Self::CAPACITY) as u8,
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

impl Default for SmallBuf {
    fn default() -> Self {
        Self::new()
    }
}

/// What the adaptation field of a PES packet's first transport packet carries.
#[derive(Debug, Clone, Copy, Default)]
pub struct FirstPacket {
    /// random_access_indicator: the PES starts a keyframe.
    pub random_access: bool,
    /// Program clock reference base (90 kHz); the extension is always 0.
    pub pcr: Option<u64>,
}

fn put_header<O: Out>(out: &mut O, pid: u16, unit_start: bool, afc: u8, cc: u8) {
    let pid_high = ((pid >> 8) & 0x1f) as u8;
    out.put(&[
        SYNC_BYTE,
        if unit_start { 0x40 } else { 0 } | pid_high,
        (pid & 0xff) as u8,
        (afc << 4) | (cc & 0x0f),
    ]);
}

/// Encodes a PCR (base in 90 kHz, extension 0) as the 6 bytes of an adaptation field.
pub fn encode_pcr(pcr_base: u64) -> [u8; PCR_BYTES] {
    let base = pcr_base & TIMESTAMP_MASK;
    [
        (base >> 25) as u8,
        (base >> 17) as u8,
        (base >> 9) as u8,
        (base >> 1) as u8,
        // Low bit of the base, 6 reserved bits set, extension bit 8 (0).
        (((base & 1) as u8) << 7) | 0x7e,
        0, // extension bits 7..0
    ]
}

/// Number of transport packets a PES of `len` bytes takes when its first packet carries
/// `first` in an adaptation field.
pub fn pes_packet_count(len: usize, first: &FirstPacket) -> usize {
    let first_capacity = PACKET_BODY - first_adaptation_len(first);
    if len <= first_capacity {
        1
    } else {
        1 + (len - first_capacity).div_ceil(PACKET_BODY)
    }
}

/// Adaptation field bytes (length byte included) the first packet needs before stuffing.
fn first_adaptation_len(first: &FirstPacket) -> usize {
    if first.random_access || first.pcr.is_some() {
        2 + if first.pcr.is_some() { PCR_BYTES } else { 0 }
    } else {
        0
    }
}

/// Reads a list of chunks as one byte stream.
struct ChunkReader<'c, 'a> {
    chunks: &'c [Chunk<'a>],
    index: usize,
    offset: usize,
}

impl ChunkReader<'_, '_> {
    /// Copies up to `count` bytes to `out`; stops early only if the chunks run out.
    fn copy<O: Out>(&mut self, out: &mut O, mut count: usize) {
        while count > 0 {
            let Some(chunk) = self.chunks.get(self.index) else {
                return;
            };
            let rest = chunk.bytes().get(self.offset..).unwrap_or(&[]);
            let take = count.min(rest.len());
            out.put(rest.get(..take).unwrap_or(&[]));
            count -= take;
            if take == rest.len() {
                self.index += 1;
                self.offset = 0;
            } else {
                self.offset += take;
            }
        }
    }
}

/// Writes one PES packet (header included in `chunks`) as transport packets on `pid`.
/// The first packet has payload_unit_start_indicator set and, if asked, an adaptation
/// field with PCR and/or random_access_indicator; the last packet is padded to 188 bytes
/// with adaptation field stuffing. Returns the number of packets written.
///
/// With `min_packets` above the natural count the PES is spread over that many packets (as
/// long as each still carries a byte): packets are filled as usual and the last ones carry
/// one byte each behind adaptation field stuffing. The PES bytes do not change; this only
/// advances the continuity counter, in a way every demuxer accepts.
pub fn write_pes<O: Out>(
    out: &mut O,
    pid: u16,
    cc: &mut ContinuityCounter,
    first: FirstPacket,
    chunks: &[Chunk<'_>],
    min_packets: usize,
) -> usize {
    let total: usize = chunks.iter().map(|c| c.bytes().len()).sum();
    let target = pes_packet_count(total, &first).max(min_packets.min(total));
    out.reserve(target * TS_PACKET_SIZE);
    let mut reader = ChunkReader {
        chunks,
        index: 0,
        offset: 0,
    };
    let mut remaining = total;
    let mut packets = 0;
    loop {
        let is_first = packets == 0;
        let (flags, pcr) = if is_first {
            (
                if first.random_access { 0x40 } else { 0 }
                    | if first.pcr.is_some() { 0x10 } else { 0 },
                first.pcr,
            )
        } else {
            (0, None)
        };
        let needed = if is_first {
            first_adaptation_len(&first)
        } else {
            0
        };
        // Leave at least one byte for each packet still to come.
        let later = target.saturating_sub(packets + 1);
        let payload = remaining
            .saturating_sub(later)
            .max(1)
            .min(remaining)
            .min(PACKET_BODY - needed);
        // Whatever the payload does not fill becomes adaptation field (length byte included).
        let adaptation = PACKET_BODY - payload;
        let afc = if adaptation > 0 { 0b11 } else { 0b01 };
        put_header(out, pid, is_first, afc, cc.advance());
        if adaptation > 0 {
            let field_len = adaptation - 1;
            out.put(&[field_len as u8]);
            if field_len > 0 {
                out.put(&[flags]);
                let mut used = 1;
                if let Some(pcr) = pcr {
                    out.put(&encode_pcr(pcr));
                    used += PCR_BYTES;
                }
                out.fill(0xff, field_len.saturating_sub(used));
            }
        }
        reader.copy(out, payload);
        remaining -= payload;
        packets += 1;
        if remaining == 0 {
            return packets;
        }
    }
}

/// Writes a packet that only carries a PCR (adaptation_field_control 10, no payload, so the
/// continuity counter does not advance).
pub fn write_pcr_only<O: Out>(out: &mut O, pid: u16, cc: &ContinuityCounter, pcr_base: u64) {
    put_header(out, pid, false, 0b10, cc.current());
    out.put(&[(PACKET_BODY - 1) as u8, 0x10]);
    out.put(&encode_pcr(pcr_base));
    out.fill(0xff, PACKET_BODY - 2 - PCR_BYTES);
}

/// Writes one PSI section (shorter than 184 bytes) in a single packet: pointer_field 0, the
/// section, then 0xFF filler bytes.
pub fn write_section<O: Out>(out: &mut O, pid: u16, cc: &mut ContinuityCounter, section: &[u8]) {
    put_header(out, pid, true, 0b01, cc.advance());
    out.put(&[0]);
    let section = section.get(..MAX_SECTION_LEN).unwrap_or(section);
    out.put(section);
    out.fill(0xff, MAX_SECTION_LEN - section.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_chunks(data: &[u8]) -> Vec<Chunk<'_>> {
        vec![Chunk::Data(data)]
    }

    fn pid_of(packet: &[u8]) -> u16 {
        (u16::from(packet[1] & 0x1f) << 8) | u16::from(packet[2])
    }

    /// Reassembles the payload of packets (skipping adaptation fields).
    fn payloads(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for packet in bytes.chunks(TS_PACKET_SIZE) {
            let afc = (packet[3] >> 4) & 3;
            let start = if afc & 0b10 != 0 {
                5 + usize::from(packet[4])
            } else {
                4
            };
            if afc & 0b01 != 0 {
                out.extend_from_slice(&packet[start..]);
            }
        }
        out
    }

    #[test]
    fn sizes_cc_pusi_and_stuffing_for_many_lengths() {
        let data: Vec<u8> = (0..2000u32).map(|i| (i % 251) as u8).collect();
        for len in [
            1usize, 2, 100, 175, 176, 177, 182, 183, 184, 185, 367, 368, 369, 1000, 2000,
        ] {
            for first in [
                FirstPacket::default(),
                FirstPacket {
                    random_access: true,
                    pcr: None,
                },
                FirstPacket {
                    random_access: true,
                    pcr: Some(123_456),
                },
                FirstPacket {
                    random_access: false,
                    pcr: Some(1),
                },
            ] {
                let mut out = Vec::new();
                let mut cc = ContinuityCounter::default();
                let n = write_pes(
                    &mut out,
                    0x100,
                    &mut cc,
                    first,
                    &data_chunks(&data[..len]),
                    0,
                );
                assert_eq!(n, pes_packet_count(len, &first), "len {len}");
                assert_eq!(out.len(), n * TS_PACKET_SIZE);
                let mut counter = Counter::default();
                let mut cc2 = ContinuityCounter::default();
                write_pes(
                    &mut counter,
                    0x100,
                    &mut cc2,
                    first,
                    &data_chunks(&data[..len]),
                    0,
                );
                assert_eq!(counter.0, out.len());
                for (i, packet) in out.chunks(TS_PACKET_SIZE).enumerate() {
                    assert_eq!(packet[0], 0x47);
                    assert_eq!(pid_of(packet), 0x100);
                    assert_eq!(
                        packet[1] & 0x40 != 0,
                        i == 0,
                        "PUSI only on the first packet"
                    );
                    assert_eq!(usize::from(packet[3] & 0x0f), i % 16, "continuity counter");
                    let afc = (packet[3] >> 4) & 3;
                    assert!(afc == 1 || afc == 3);
                    if afc == 3 {
                        let af_len = usize::from(packet[4]);
                        assert!(5 + af_len <= TS_PACKET_SIZE);
                        if af_len > 0 {
                            let flags = packet[5];
                            if i == 0 {
                                assert_eq!(flags & 0x40 != 0, first.random_access);
                                assert_eq!(flags & 0x10 != 0, first.pcr.is_some());
                            } else {
                                assert_eq!(flags, 0);
                                // Only the last packet may be stuffed.
                                assert_eq!(i, n - 1);
                            }
                            let pcr_len = if i == 0 && first.pcr.is_some() { 6 } else { 0 };
                            assert!(packet[6 + pcr_len..5 + af_len].iter().all(|&b| b == 0xff));
                        }
                    }
                }
                assert_eq!(payloads(&out), &data[..len]);
            }
        }
    }

    #[test]
    fn payload_spans_chunks() {
        let a = [1u8; 100];
        let b = [2u8; 150];
        let mut small = SmallBuf::new();
        small.extend(&[9, 9, 9]);
        let chunks = [
            Chunk::Small(small),
            Chunk::Data(&a),
            Chunk::Data(&[]),
            Chunk::Data(&b),
        ];
        let mut out = Vec::new();
        let mut cc = ContinuityCounter::default();
        assert_eq!(
            write_pes(&mut out, 0x101, &mut cc, FirstPacket::default(), &chunks, 0),
            2
        );
        let mut expected = vec![9, 9, 9];
        expected.extend_from_slice(&a);
        expected.extend_from_slice(&b);
        assert_eq!(payloads(&out), expected);
        // The next PES on the PID continues the counter.
        let mut out2 = Vec::new();
        write_pes(
            &mut out2,
            0x101,
            &mut cc,
            FirstPacket::default(),
            &chunks,
            0,
        );
        assert_eq!(out2[3] & 0x0f, 2);
    }

    #[test]
    fn spreading_over_more_packets_keeps_the_bytes() {
        let data: Vec<u8> = (0..3000u32).map(|i| (i % 253) as u8).collect();
        for len in [14usize, 20, 183, 184, 185, 700, 3000] {
            for start_cc in 0..16u8 {
                for first in [
                    FirstPacket::default(),
                    FirstPacket {
                        random_access: true,
                        pcr: Some(5),
                    },
                ] {
                    let mut cc = ContinuityCounter::default();
                    for _ in 0..start_cc {
                        cc.advance();
                    }
                    let natural = pes_packet_count(len, &first);
                    let wanted = natural + cc.packets_to_wrap(natural);
                    let mut out = Vec::new();
                    let n = write_pes(
                        &mut out,
                        0x100,
                        &mut cc,
                        first,
                        &data_chunks(&data[..len]),
                        wanted,
                    );
                    assert_eq!(n, wanted.min(len), "len {len} cc {start_cc}");
                    assert_eq!(out.len(), n * TS_PACKET_SIZE);
                    if wanted <= len {
                        assert_eq!(cc.advance(), 0, "counter wrapped");
                    }
                    assert_eq!(payloads(&out), &data[..len]);
                    for (i, packet) in out.chunks(TS_PACKET_SIZE).enumerate() {
                        assert_eq!(packet[1] & 0x40 != 0, i == 0);
                        if (packet[3] >> 4) & 3 == 3 {
                            assert!(packet[4] <= 182, "payload packets keep a payload byte");
                        }
                    }
                    let mut counter = Counter::default();
                    let mut cc2 = ContinuityCounter::default();
                    for _ in 0..start_cc {
                        cc2.advance();
                    }
                    write_pes(
                        &mut counter,
                        0x100,
                        &mut cc2,
                        first,
                        &data_chunks(&data[..len]),
                        wanted,
                    );
                    assert_eq!(counter.0, out.len());
                }
            }
        }
    }

    #[test]
    fn pcr_encoding() {
        assert_eq!(encode_pcr(0), [0, 0, 0, 0, 0x7e, 0]);
        assert_eq!(encode_pcr(1), [0, 0, 0, 0, 0xfe, 0]);
        assert_eq!(
            encode_pcr(TIMESTAMP_MASK),
            [0xff, 0xff, 0xff, 0xff, 0xfe, 0]
        );
        // Wraps at 33 bits.
        assert_eq!(encode_pcr(TIMESTAMP_MASK + 3), encode_pcr(2));
        let pcr: u64 = 0x1_2345_6789;
        let b = encode_pcr(pcr);
        let decoded = (u64::from(b[0]) << 25)
            | (u64::from(b[1]) << 17)
            | (u64::from(b[2]) << 9)
            | (u64::from(b[3]) << 1)
            | u64::from(b[4] >> 7);
        assert_eq!(decoded, pcr);
    }

    #[test]
    fn pcr_only_packet_keeps_counter() {
        let mut cc = ContinuityCounter::default();
        let mut out = Vec::new();
        write_pcr_only(&mut out, 0x100, &cc, 90_000);
        assert_eq!(out.len(), TS_PACKET_SIZE);
        assert_eq!(
            out[3],
            0x20 | 15,
            "adaptation only, counter before the first packet"
        );
        assert_eq!(out[4], 183);
        assert_eq!(out[5], 0x10);
        assert!(out[12..].iter().all(|&b| b == 0xff));
        cc.advance();
        out.clear();
        write_pcr_only(&mut out, 0x100, &cc, 90_000);
        assert_eq!(out[3], 0x20);
    }
}
