//! NAL units of H.264 and HEVC samples, read as far as Common Encryption needs: which units
//! are video slices, and where each slice header ends in the stored bytes. The parameter
//! sets seen so far (from the sample entry, then in band) are kept, since a slice header
//! cannot be read without its SPS and PPS.

#[cfg(test)]
pub(crate) mod bit_writer;
mod bits;
mod h264;
mod hevc;
mod sample;

pub use sample::NalParser;

/// The video coding of a track's samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NalFormat {
    /// H.264 / AVC (`avc1`, `avc3`).
    H264,
    /// H.265 / HEVC (`hvc1`, `hev1`).
    Hevc,
}

/// The coding type of a slice (H.264 `slice_type % 5`; HEVC has only B, P and I).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SliceType {
    P,
    B,
    I,
    /// H.264 switching P.
    Sp,
    /// H.264 switching I.
    Si,
}

/// What follows the last syntax element of a slice header up to the next byte boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderAlignment {
    /// H.264 CAVLC: slice data starts on the very next bit.
    None,
    /// H.264 CABAC: `cabac_alignment_one_bit`s, each 1 (checked while parsing).
    CabacOnes,
    /// HEVC `byte_alignment()`: a 1 bit, then 0 bits (checked while parsing).
    ByteAlignment,
}

/// Where a slice header ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SliceHeader {
    /// The slice type (for an HEVC dependent slice segment, that of its independent one).
    pub slice_type: SliceType,
    /// H.264 `first_mb_in_slice`, HEVC `slice_segment_address` (0 for the first segment).
    pub first_block: u32,
    /// The first bit after the last slice header syntax element (before any alignment
    /// bits), counted from the first byte of the NAL unit (its header) in stored bytes.
    pub end_bit: usize,
    /// The first whole byte after the header and its alignment, from the first byte of the
    /// NAL unit in stored bytes: where protection may start. A byte the header ends in stays
    /// clear.
    pub data_offset: usize,
    pub alignment: HeaderAlignment,
}

/// One NAL unit of a length-prefixed sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NalUnit {
    /// Offset of the unit's length prefix in the sample.
    pub offset: usize,
    /// Bytes of the length prefix (the `nal_length_size` of avcC/hvcC).
    pub prefix_len: usize,
    /// Bytes of the NAL unit, header included.
    pub len: usize,
    /// `nal_unit_type` (0 for an empty unit).
    pub nal_type: u8,
    /// For a video coding layer unit (a slice), its header; `None` otherwise.
    pub slice: Option<SliceHeader>,
}

impl NalUnit {
    /// Offset in the sample of the NAL unit header (after the length prefix).
    pub fn start(&self) -> usize {
        self.offset + self.prefix_len
    }

    /// Offset in the sample just past the unit.
    pub fn end(&self) -> usize {
        self.start() + self.len
    }
}
