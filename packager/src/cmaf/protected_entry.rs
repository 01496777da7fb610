//! The sample entry of an encrypted track (ISO/IEC 23001-7 8.12, 14496-12 8.12): the
//! source's entry with its type changed to `encv`/`enca` and a `sinf` appended holding
//! `frma` (the original type), `schm` (`cenc` or `cbcs`) and `schi/tenc`.

use crate::cmaf::writer::BoxWriter;
use crate::error::{Error, Result};
use crate::protection::{IvPlan, TrackCrypto};

/// Rewrites `entry` (a whole sample entry box, header included) for `crypto`.
pub fn protected_sample_entry(entry: &[u8], crypto: &TrackCrypto) -> Result<Vec<u8>> {
    let size = entry
        .get(0..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
    if size != Some(entry.len()) || entry.len() < 8 {
        return Err(Error::Output {
            what: "encrypted sample entry",
            reason: "sample entry size does not match its bytes".into(),
        });
    }
    let original = [entry[4], entry[5], entry[6], entry[7]];
    let mut w = BoxWriter::with_capacity(entry.len() + 96);
    w.bytes(entry);
    w.buf[4..8].copy_from_slice(if crypto.video { b"encv" } else { b"enca" });
    write_sinf(&mut w, original, crypto);
    let total = w.len() as u32;
    w.buf[0..4].copy_from_slice(&total.to_be_bytes());
    Ok(w.buf)
}

fn write_sinf(w: &mut BoxWriter, original: [u8; 4], crypto: &TrackCrypto) {
    let sinf = w.open(b"sinf");
    let frma = w.open(b"frma");
    w.bytes(&original);
    w.close(frma);
    let schm = w.open_full(b"schm", 0, 0);
    w.bytes(crypto.scheme.fourcc());
    w.u32(0x0001_0000);
    w.close(schm);
    let schi = w.open(b"schi");
    write_tenc(w, crypto);
    w.close(schi);
    w.close(sinf);
}

/// `tenc`: version 0 for `cenc` (8-byte per-sample IVs), version 1 for `cbcs` with the
/// pattern and a 16-byte constant IV.
fn write_tenc(w: &mut BoxWriter, crypto: &TrackCrypto) {
    let constant = match crypto.iv {
        IvPlan::Constant(iv) => Some(iv),
        IvPlan::PerSample { .. } => None,
    };
    let version = if constant.is_some() { 1 } else { 0 };
    let tenc = w.open_full(b"tenc", version, 0);
    w.u8(0);
    w.u8(if version == 1 {
        crypto.pattern.byte()
    } else {
        0
    });
    w.u8(1);
    w.u8(crypto.per_sample_iv_size());
    w.bytes(&crypto.kid.0);
    if let Some(iv) = constant {
        w.u8(16);
        w.bytes(&iv);
    }
    w.close(tenc);
}

#[cfg(test)]
mod tests {
    use super::*;
    use drm::cenc::{Pattern, SampleCipher, Scheme};
    use drm::{ContentKey, KeyId};

    fn crypto(scheme: Scheme, video: bool) -> TrackCrypto {
        TrackCrypto {
            scheme,
            kid: KeyId([0xaa; 16]),
            cipher: SampleCipher::new(scheme, &ContentKey([1; 16])),
            iv: match scheme {
                Scheme::Cenc => IvPlan::PerSample { base: 7 },
                Scheme::Cbcs => IvPlan::Constant([0xcc; 16]),
            },
            pattern: if video && scheme == Scheme::Cbcs {
                Pattern::VIDEO
            } else {
                Pattern::WHOLE
            },
            video,
        }
    }

    fn entry(kind: &[u8; 4]) -> Vec<u8> {
        let mut e = vec![0, 0, 0, 20];
        e.extend_from_slice(kind);
        e.extend_from_slice(&[9; 12]);
        e
    }

    #[test]
    fn cbcs_video_entry_has_pattern_and_constant_iv() {
        let out = protected_sample_entry(&entry(b"avc1"), &crypto(Scheme::Cbcs, true)).unwrap();
        assert_eq!(&out[4..8], b"encv");
        assert_eq!(
            u32::from_be_bytes(out[0..4].try_into().unwrap()) as usize,
            out.len()
        );
        assert_eq!(&out[8..20], &[9; 12]);
        let sinf = &out[20..];
        assert_eq!(&sinf[4..8], b"sinf");
        assert_eq!(&sinf[8..20], b"\0\0\0\x0cfrmaavc1");
        assert_eq!(&sinf[24..28], b"schm");
        assert_eq!(&sinf[32..36], b"cbcs");
        let tenc = &sinf[48..];
        assert_eq!(&tenc[4..8], b"tenc");
        assert_eq!(tenc[8], 1, "version 1");
        assert_eq!(tenc[13], 0x19, "1:9 pattern");
        assert_eq!(tenc[14], 1, "protected");
        assert_eq!(tenc[15], 0, "no per-sample IV");
        assert_eq!(&tenc[16..32], &[0xaa; 16]);
        assert_eq!(tenc[32], 16);
        assert_eq!(&tenc[33..49], &[0xcc; 16]);
        assert_eq!(u32::from_be_bytes(tenc[0..4].try_into().unwrap()), 49);
    }

    #[test]
    fn cenc_audio_entry_has_eight_byte_ivs() {
        let out = protected_sample_entry(&entry(b"mp4a"), &crypto(Scheme::Cenc, false)).unwrap();
        assert_eq!(&out[4..8], b"enca");
        let tenc = &out[20 + 48..];
        assert_eq!(u32::from_be_bytes(tenc[0..4].try_into().unwrap()), 32);
        assert_eq!(tenc[8], 0);
        assert_eq!(tenc[15], 8);
    }

    #[test]
    fn a_bad_entry_is_an_error() {
        assert!(protected_sample_entry(&[0, 0, 0, 99, b'a'], &crypto(Scheme::Cenc, true)).is_err());
    }
}
