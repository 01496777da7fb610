//! Encrypted CMAF media segments (ISO/IEC 23001-7): every sample is copied once into the
//! output buffer and encrypted there, and the `traf` gains the sample auxiliary information
//! players need: `saiz`, `saio` and `senc` (per-sample IVs for `cenc`, subsample maps for
//! video). `cbcs` audio, with a constant IV and no subsamples, has none of them.

use bytes::Bytes;
use drm::cenc::Subsample;

use crate::cmaf::fragment::{write_mdat_header, write_traf_start, write_trun, CmafSegment};
use crate::cmaf::writer::BoxWriter;
use crate::error::{Error, Result};
use crate::mp4::Track;
use crate::protection::TrackCrypto;
use crate::segment::{SegmentSpan, SourceRange};

const SENC_USE_SUBSAMPLES: u32 = 0x2;

/// The subsample map of one sample, given its index in the track and its bytes (video:
/// NAL and slice header aware).
pub type SubsampleMapper<'a> = dyn FnMut(usize, &[u8]) -> Result<Vec<Subsample>> + 'a;

/// Auxiliary information of one sample: its IV bytes and subsamples.
struct AuxEntry {
    iv: [u8; 8],
    subsamples: Vec<Subsample>,
}

/// Builds encrypted segment `span` of `track`. `subsamples` maps each video sample (it is
/// not called for audio, whose samples are protected whole).
pub fn write_encrypted_segment(
    track: &Track,
    span: &SegmentSpan,
    sequence_number: u32,
    timeline_offset: u64,
    source: &SourceRange,
    crypto: &TrackCrypto,
    subsamples: &mut SubsampleMapper<'_>,
) -> Result<CmafSegment> {
    let samples = &track.samples;
    let payload_len = samples.bytes_in(span.samples());
    let mut payload = Vec::with_capacity(payload_len as usize);
    let mut aux = Vec::with_capacity(span.count());
    for (i, offset) in span.samples().zip(samples.offsets(span.samples())) {
        let size = samples.size(i);
        let start = source.position(offset, size)?;
        let at = payload.len();
        payload.extend_from_slice(&source.data[start..start + size as usize]);
        let sample = &mut payload[at..];
        let map = if crypto.video {
            subsamples(i, sample)?
        } else {
            Vec::new()
        };
        let (iv, block) = crypto.sample_iv(i);
        crypto
            .cipher
            .encrypt(&block, crypto.pattern, &map, sample)
            .map_err(|e| Error::Output {
                what: "encrypted CMAF segment",
                reason: format!("sample {i}: {e}"),
            })?;
        aux.push(AuxEntry {
            iv,
            subsamples: map,
        });
    }

    let iv_size = usize::from(crypto.per_sample_iv_size());
    let has_aux = iv_size > 0 || aux.iter().any(|a| !a.subsamples.is_empty());
    let mut w = BoxWriter::with_capacity(256 + span.count() * (16 + iv_size + 14));
    let moof = w.open(b"moof");
    let traf = write_traf_start(&mut w, track, span, sequence_number, timeline_offset);
    let data_offset_at = write_trun(&mut w, track, span);
    if has_aux {
        write_aux(&mut w, &aux, iv_size, crypto.video)?;
    }
    w.close(traf);
    w.close(moof);
    let moof_len = w.len();
    let data_offset = (moof_len + 8) as u32;
    w.buf[data_offset_at..data_offset_at + 4].copy_from_slice(&data_offset.to_be_bytes());
    write_mdat_header(&mut w, payload_len)?;
    Ok(CmafSegment {
        header: Bytes::from(w.buf),
        payload: vec![Bytes::from(payload)],
    })
}

/// `saiz`, `saio` and `senc`. The `saio` offset (relative to the `moof`, which is the base
/// with default-base-is-moof) points at the first `senc` entry; `moof` starts at byte 0.
fn write_aux(w: &mut BoxWriter, aux: &[AuxEntry], iv_size: usize, video: bool) -> Result<()> {
    let sizes: Vec<usize> = aux
        .iter()
        .map(|a| iv_size + if video { 2 + 6 * a.subsamples.len() } else { 0 })
        .collect();
    let uniform = sizes.windows(2).all(|p| p[0] == p[1]);
    let too_big = |n: usize| Error::Output {
        what: "encrypted CMAF segment",
        reason: format!("sample auxiliary information of {n} bytes does not fit saiz"),
    };
    let saiz = w.open_full(b"saiz", 0, 0);
    match sizes.first() {
        Some(&first) if uniform => {
            w.u8(u8::try_from(first).map_err(|_| too_big(first))?);
            w.u32(aux.len() as u32);
        }
        _ => {
            w.u8(0);
            w.u32(aux.len() as u32);
            for &s in &sizes {
                w.u8(u8::try_from(s).map_err(|_| too_big(s))?);
            }
        }
    }
    w.close(saiz);
    let saio = w.open_full(b"saio", 0, 0);
    w.u32(1);
    let saio_offset_at = w.len();
    w.u32(0);
    w.close(saio);
    let flags = if video { SENC_USE_SUBSAMPLES } else { 0 };
    let senc = w.open_full(b"senc", 0, flags);
    w.u32(aux.len() as u32);
    let first_entry = w.len() as u32;
    for a in aux {
        w.bytes(&a.iv[..iv_size]);
        if video {
            w.u16(a.subsamples.len() as u16);
            for s in &a.subsamples {
                w.u16(s.clear);
                w.u32(s.protected);
            }
        }
    }
    w.close(senc);
    w.buf[saio_offset_at..saio_offset_at + 4].copy_from_slice(&first_entry.to_be_bytes());
    Ok(())
}
