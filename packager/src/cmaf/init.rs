//! CMAF init segments (`ftyp` + `moov` with `mvex`) for one track, with the source's sample
//! entry copied verbatim so every codec detail (avcC, hvcC, esds, dac3, dec3, pasp, colr)
//! survives.

use bytes::Bytes;

use crate::cmaf::protected_entry::protected_sample_entry;
use crate::cmaf::writer::BoxWriter;
use crate::error::Result;
use crate::mp4::{Codec, Track};
use crate::protection::TrackCrypto;

/// Track id used in every output init and media segment: one track per CMAF file.
pub const OUTPUT_TRACK_ID: u32 = 1;

const MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

/// Writes the init segment of `track`.
pub fn write_init_segment(track: &Track) -> Bytes {
    write_init(track, &track.sample_entry, &[])
}

/// Writes the init segment of an encrypted `track`: an `encv`/`enca` sample entry with its
/// `sinf`, and the `pssh` boxes (`pssh`, several boxes back to back) at the end of `moov`.
pub fn write_protected_init_segment(
    track: &Track,
    crypto: &TrackCrypto,
    pssh: &[u8],
) -> Result<Bytes> {
    let entry = protected_sample_entry(&track.sample_entry, crypto)?;
    Ok(write_init(track, &entry, pssh))
}

fn write_init(track: &Track, sample_entry: &[u8], pssh: &[u8]) -> Bytes {
    let mut w = BoxWriter::with_capacity(1024 + sample_entry.len() + pssh.len());
    let ftyp = w.open(b"ftyp");
    w.bytes(b"iso6");
    w.u32(0);
    for brand in [b"iso6", b"cmfc", b"dash"] {
        w.bytes(brand);
    }
    w.close(ftyp);

    let moov = w.open(b"moov");
    write_mvhd(&mut w, track.timescale);
    let trak = w.open(b"trak");
    write_tkhd(&mut w, track);
    let mdia = w.open(b"mdia");
    write_mdhd(&mut w, track);
    write_hdlr(&mut w, track.is_video());
    let minf = w.open(b"minf");
    if track.is_video() {
        let vmhd = w.open_full(b"vmhd", 0, 1);
        w.zeros(8);
        w.close(vmhd);
    } else {
        let smhd = w.open_full(b"smhd", 0, 0);
        w.zeros(4);
        w.close(smhd);
    }
    let dinf = w.open(b"dinf");
    let dref = w.open_full(b"dref", 0, 0);
    w.u32(1);
    let url = w.open_full(b"url ", 0, 1);
    w.close(url);
    w.close(dref);
    w.close(dinf);
    let stbl = w.open(b"stbl");
    let stsd = w.open_full(b"stsd", 0, 0);
    w.u32(1);
    w.bytes(sample_entry);
    w.close(stsd);
    for kind in [b"stts", b"stsc", b"stco"] {
        let b = w.open_full(kind, 0, 0);
        w.u32(0);
        w.close(b);
    }
    let stsz = w.open_full(b"stsz", 0, 0);
    w.u32(0);
    w.u32(0);
    w.close(stsz);
    w.close(stbl);
    w.close(minf);
    w.close(mdia);
    w.close(trak);
    let mvex = w.open(b"mvex");
    let trex = w.open_full(b"trex", 0, 0);
    w.u32(OUTPUT_TRACK_ID);
    w.u32(1);
    w.u32(0);
    w.u32(0);
    w.u32(0);
    w.close(trex);
    w.close(mvex);
    w.bytes(pssh);
    w.close(moov);
    Bytes::from(w.buf)
}

fn write_mvhd(w: &mut BoxWriter, timescale: u32) {
    let mvhd = w.open_full(b"mvhd", 0, 0);
    w.u32(0);
    w.u32(0);
    w.u32(timescale);
    w.u32(0);
    w.u32(0x0001_0000);
    w.u16(0x0100);
    w.zeros(10);
    for m in MATRIX {
        w.u32(m);
    }
    w.zeros(24);
    w.u32(OUTPUT_TRACK_ID + 1);
    w.close(mvhd);
}

fn write_tkhd(w: &mut BoxWriter, track: &Track) {
    let tkhd = w.open_full(b"tkhd", 0, 3);
    w.u32(0);
    w.u32(0);
    w.u32(OUTPUT_TRACK_ID);
    w.u32(0);
    w.u32(0);
    w.zeros(8);
    w.u16(0);
    w.u16(0);
    w.u16(if track.is_audio() { 0x0100 } else { 0 });
    w.u16(0);
    for m in MATRIX {
        w.u32(m);
    }
    let (width, height) = match &track.codec {
        Codec::Video(v) => (u32::from(v.width), u32::from(v.height)),
        Codec::Audio(_) => (0, 0),
    };
    w.u32(width << 16);
    w.u32(height << 16);
    w.close(tkhd);
}

fn write_mdhd(w: &mut BoxWriter, track: &Track) {
    let mdhd = w.open_full(b"mdhd", 0, 0);
    w.u32(0);
    w.u32(0);
    w.u32(track.timescale);
    w.u32(0);
    w.u16(pack_language(&track.language));
    w.u16(0);
    w.close(mdhd);
}

fn pack_language(code: &str) -> u16 {
    let b = code.as_bytes();
    if b.len() != 3 || !b.iter().all(u8::is_ascii_lowercase) {
        return pack_language("und");
    }
    b.iter()
        .fold(0u16, |acc, &c| (acc << 5) | u16::from(c - 0x60))
}

fn write_hdlr(w: &mut BoxWriter, video: bool) {
    let hdlr = w.open_full(b"hdlr", 0, 0);
    w.u32(0);
    w.bytes(if video { b"vide" } else { b"soun" });
    w.zeros(12);
    w.bytes(if video {
        b"VideoHandler\0"
    } else {
        b"SoundHandler\0"
    });
    w.close(hdlr);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_packs_like_mdhd() {
        assert_eq!(pack_language("eng"), (5 << 10) | (14 << 5) | 7);
        assert_eq!(pack_language("xx"), pack_language("und"));
    }
}
