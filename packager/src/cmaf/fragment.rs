//! CMAF media segments: one `moof` + `mdat` per segment, whose payload is the source's sample
//! bytes handed through as zero-copy slices.

use bytes::Bytes;

use crate::cmaf::init::OUTPUT_TRACK_ID;
use crate::cmaf::writer::{BoxWriter, Mark};
use crate::error::{Error, Result};
use crate::mp4::Track;
use crate::segment::{SegmentSpan, SourceRange};

const TRUN_DATA_OFFSET: u32 = 0x0001;
const TRUN_DURATION: u32 = 0x0100;
const TRUN_SIZE: u32 = 0x0200;
const TRUN_FLAGS: u32 = 0x0400;
const TRUN_CTO: u32 = 0x0800;
const TFHD_DEFAULT_FLAGS: u32 = 0x20;
const TFHD_DEFAULT_BASE_IS_MOOF: u32 = 0x02_0000;
const SYNC_FLAGS: u32 = 0x0200_0000;
const NON_SYNC_FLAGS: u32 = 0x0101_0000;

/// A built media segment: the box headers, then the payload slices in order.
#[derive(Debug, Clone)]
pub struct CmafSegment {
    pub header: Bytes,
    pub payload: Vec<Bytes>,
}

impl CmafSegment {
    pub fn len(&self) -> u64 {
        self.header.len() as u64 + self.payload.iter().map(|b| b.len() as u64).sum::<u64>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All parts in order: header first.
    pub fn parts(&self) -> impl Iterator<Item = &Bytes> {
        std::iter::once(&self.header).chain(self.payload.iter())
    }
}

pub(crate) struct Layout {
    trun_flags: u32,
    per_sample: usize,
    video: bool,
}

pub(crate) fn layout(track: &Track) -> Layout {
    let video = track.is_video();
    let mut trun_flags = TRUN_DATA_OFFSET | TRUN_DURATION | TRUN_SIZE;
    let mut per_sample = 8;
    if video {
        trun_flags |= TRUN_FLAGS | TRUN_CTO;
        per_sample += 8;
    }
    Layout {
        trun_flags,
        per_sample,
        video,
    }
}

/// Bytes of `moof` + `mdat` header for `count` samples of `track`.
fn header_len(layout: &Layout, count: usize) -> usize {
    let mfhd = 16;
    let tfhd = 16 + if layout.video { 0 } else { 4 };
    let tfdt = 20;
    let trun = 20 + layout.per_sample * count;
    8 + mfhd + 8 + tfhd + tfdt + trun + 8
}

/// The exact size of the segment `span` of `track`, without building it.
pub fn media_segment_len(track: &Track, span: &SegmentSpan) -> u64 {
    media_segment_header_len(track, span) + track.samples.bytes_in(span.samples())
}

/// Bytes of the segment `span` of `track` before its samples: `moof` and `mdat` header.
pub(crate) fn media_segment_header_len(track: &Track, span: &SegmentSpan) -> u64 {
    header_len(&layout(track), span.count()) as u64
}

/// Size of the segment's headers plus its first sample: the byte range an I-frame playlist
/// names for the keyframe that starts the segment.
pub fn first_sample_range_len(track: &Track, span: &SegmentSpan) -> u64 {
    let l = layout(track);
    header_len(&l, span.count()) as u64 + u64::from(track.samples.size(span.first))
}

/// Builds segment `span` of `track` from `source`, a read that covers the span's bytes.
/// `timeline_offset` (track timescale) moves decode times onto the output timeline.
pub fn write_media_segment(
    track: &Track,
    span: &SegmentSpan,
    sequence_number: u32,
    timeline_offset: u64,
    source: &SourceRange,
) -> Result<CmafSegment> {
    let l = layout(track);
    let samples = &track.samples;
    let count = span.count();
    let header_len = header_len(&l, count);
    let mut w = BoxWriter::with_capacity(header_len);
    let moof = w.open(b"moof");
    let traf = write_traf_start(&mut w, track, span, sequence_number, timeline_offset);
    let data_offset_at = write_trun(&mut w, track, span);
    w.buf[data_offset_at..data_offset_at + 4].copy_from_slice(&(header_len as u32).to_be_bytes());
    // Runs of contiguous samples (a chunk's, or more) are one slice each.
    let payload = samples
        .byte_runs(span.samples())
        .map(|bytes| source.slice(bytes))
        .collect::<Result<Vec<Bytes>>>()?;
    w.close(traf);
    w.close(moof);
    write_mdat_header(&mut w, samples.bytes_in(span.samples()))?;
    debug_assert_eq!(w.len(), header_len);
    Ok(CmafSegment {
        header: Bytes::from(w.buf),
        payload,
    })
}

/// Opens `traf` inside an open `moof` after writing `mfhd`, and writes `tfhd` and `tfdt`.
/// Returns the `traf` mark for the caller to close.
pub(crate) fn write_traf_start(
    w: &mut BoxWriter,
    track: &Track,
    span: &SegmentSpan,
    sequence_number: u32,
    timeline_offset: u64,
) -> Mark {
    let video = track.is_video();
    let mfhd = w.open_full(b"mfhd", 0, 0);
    w.u32(sequence_number);
    w.close(mfhd);
    let traf = w.open(b"traf");
    let tfhd_flags = TFHD_DEFAULT_BASE_IS_MOOF | if video { 0 } else { TFHD_DEFAULT_FLAGS };
    let tfhd = w.open_full(b"tfhd", 0, tfhd_flags);
    w.u32(OUTPUT_TRACK_ID);
    if !video {
        w.u32(SYNC_FLAGS);
    }
    w.close(tfhd);
    let tfdt = w.open_full(b"tfdt", 1, 0);
    w.u64(track.samples.decode_time(span.first) + timeline_offset);
    w.close(tfdt);
    traf
}

/// Writes the `trun` of `span` with a zero data offset; returns where the offset field is,
/// for the caller to patch once the `moof` size is known.
pub(crate) fn write_trun(w: &mut BoxWriter, track: &Track, span: &SegmentSpan) -> usize {
    let l = layout(track);
    let samples = &track.samples;
    let trun = w.open_full(b"trun", 1, l.trun_flags);
    w.u32(span.count() as u32);
    let data_offset_at = w.len();
    w.u32(0);
    // One walk of each column, not one search of it per sample.
    let columns = samples
        .times(span.samples())
        .zip(samples.sync_flags(span.samples()))
        .zip(samples.composition_offsets(span.samples()));
    for (i, (((_, duration), sync), composition)) in span.samples().zip(columns) {
        w.u32(duration);
        w.u32(samples.size(i));
        if l.video {
            w.u32(if sync { SYNC_FLAGS } else { NON_SYNC_FLAGS });
            w.i32(composition);
        }
    }
    w.close(trun);
    data_offset_at
}

/// Writes the 8-byte `mdat` header for `payload_len` bytes.
pub(crate) fn write_mdat_header(w: &mut BoxWriter, payload_len: u64) -> Result<()> {
    let mdat_size = 8 + payload_len;
    let mdat_size = u32::try_from(mdat_size).map_err(|_| Error::Output {
        what: "CMAF segment",
        reason: format!("mdat of {mdat_size} bytes does not fit a 32-bit box size"),
    })?;
    w.u32(mdat_size);
    w.bytes(b"mdat");
    Ok(())
}
