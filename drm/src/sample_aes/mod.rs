//! Apple HLS SAMPLE-AES for MPEG-TS ("MPEG-2 Stream Encryption Format for HTTP Live
//! Streaming"): AES-128-CBC over parts of H.264 slice NAL units and AAC frames, and the
//! audio setup information that goes into the PMT.
//!
//! # H.264
//!
//! Only NAL units of type 1 (non-IDR slice) and 5 (IDR slice) are touched, and only when
//! longer than 48 bytes as stored. The unit is encrypted as stored, its own
//! emulation-prevention bytes included: the first 32 bytes (the NAL header byte and 31
//! more) stay clear, then one 16-byte block is encrypted and up to 144 bytes are left clear,
//! repeating while more than 16 bytes remain: a tail of 16 bytes or less is always clear.
//! The encrypted blocks of one NAL unit form one CBC chain that starts from the IV again
//! for every NAL unit. The result is then escaped (emulation prevention inserted), so the
//! unit can only grow. Players unescape, decrypt and hand the result to the decoder without
//! escaping again, so the decoder gets the stored unit back byte for byte (see
//! `SampleAesCipher::h264_nal` for why this, and not unescaping first, is what plays).
//!
//! That is what hls.js 1.7 `src/demux/sample-aes.ts` undoes: `decryptAvcSamples` skips units
//! of 48 bytes or less and types other than 1 and 5, `discardEPB` removes the
//! emulation-prevention bytes, `getAvcEncryptedData` gathers the 16 bytes at 32, 192, 352,
//! ... while `position < length - 16`, and the whole gathered buffer is decrypted as one CBC
//! stream with the key's IV.
//!
//! # AAC
//!
//! An ADTS frame keeps its header (7 bytes, or 9 with a CRC) and the next 16 bytes clear;
//! then every whole 16-byte block is encrypted (one CBC chain per frame, from the IV); the
//! 0 to 15 bytes left over stay clear. A frame whose raw data (after the header) is shorter
//! than 32 bytes therefore stays entirely clear: it has no whole block after the 16-byte
//! leader. hls.js: `decryptAacSamples` skips units shorter than 32 bytes and decrypts
//! `unit[16 .. len - len % 16]`, where a unit is the frame without its ADTS header.
//!
//! [`SampleAesCipher`] expands the key once and keeps a scratch buffer, so muxing a segment
//! allocates nothing per NAL unit once the buffers have grown; the free functions are
//! conveniences for tests and debugging.

use std::fmt;

use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, InnerIvInit, KeyInit};
use aes::Aes128;

use crate::error::{Error, Result};
use crate::key::ContentKey;

type CbcEnc = cbc::Encryptor<Aes128>;
type CbcDec = cbc::Decryptor<Aes128>;

const BLOCK: usize = 16;
/// Clear bytes at the start of an encrypted slice NAL unit (header byte included).
const NAL_CLEAR_LEAD: usize = 32;
/// Distance from one encrypted block of a NAL unit to the next: 16 encrypted, 144 clear.
const NAL_STRIDE: usize = 160;
/// Slice NAL units of this many bytes or fewer (as stored) stay clear.
pub const NAL_MIN_ENCRYPTED_LEN: usize = 48;
/// Clear bytes of an AAC frame after its ADTS header.
const AAC_CLEAR_LEAD: usize = 16;

/// An AES-128 key and the IV of `#EXT-X-KEY:METHOD=SAMPLE-AES`. `Debug` shows the IV (it
/// is in the playlist anyway) but never the key.
#[derive(Clone, PartialEq, Eq)]
pub struct SampleAesKey {
    pub key: [u8; 16],
    pub iv: [u8; 16],
}

impl SampleAesKey {
    pub fn new(key: [u8; 16], iv: [u8; 16]) -> Self {
        SampleAesKey { key, iv }
    }

    /// A content key with the IV that the playlist's `EXT-X-KEY` gives (or that the client
    /// derives from the media sequence number when the tag has no IV).
    pub fn from_content_key(key: &ContentKey, iv: [u8; 16]) -> Self {
        SampleAesKey {
            key: *key.bytes(),
            iv,
        }
    }
}

impl fmt::Debug for SampleAesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SampleAesKey")
            .field("key", &"<redacted>")
            .field("iv", &crate::key::hex(&self.iv))
            .finish()
    }
}

#[derive(Clone, Copy)]
enum Direction {
    Encrypt,
    Decrypt,
}

/// Encrypts and decrypts NAL units and AAC frames under one [`SampleAesKey`].
#[derive(Clone)]
pub struct SampleAesCipher {
    aes: Aes128,
    iv: [u8; 16],
    /// Working copy of one NAL unit, reused from one unit to the next.
    scratch: Vec<u8>,
}

impl fmt::Debug for SampleAesCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SampleAesCipher").finish_non_exhaustive()
    }
}

/// Whether SAMPLE-AES encrypts an H.264 NAL unit of this type (1 and 5, the slices).
pub fn is_encrypted_nal_type(nal_unit_type: u8) -> bool {
    matches!(nal_unit_type, 1 | 5)
}

impl SampleAesCipher {
    pub fn new(key: &SampleAesKey) -> Self {
        SampleAesCipher {
            aes: Aes128::new(&key.key.into()),
            iv: key.iv,
            scratch: Vec::new(),
        }
    }

    /// Appends the encrypted form of `nal` (one H.264 NAL unit, header byte first, no start
    /// code) to `out`. Units that are not slices, or too short, are appended unchanged.
    pub fn encrypt_h264_nal(&mut self, nal: &[u8], out: &mut Vec<u8>) {
        self.h264_nal(Direction::Encrypt, nal, out);
    }

    /// Appends the decrypted form of `nal` to `out`, as players do it (unescape, decrypt):
    /// the exact inverse of [`SampleAesCipher::encrypt_h264_nal`].
    pub fn decrypt_h264_nal(&mut self, nal: &[u8], out: &mut Vec<u8>) {
        self.h264_nal(Direction::Decrypt, nal, out);
    }

    /// Players (hls.js, ffmpeg) take the NAL from the stream, remove emulation prevention,
    /// decrypt, and hand the result to the decoder without escaping it again. So what we
    /// encrypt is the NAL exactly as stored (its own emulation-prevention bytes included),
    /// and we escape the ciphertext: the decoder then gets the stored NAL back byte for
    /// byte. (nginx-vod-module does the same; Apple's text suggests unescaping first, which
    /// breaks every slice holding an emulation-prevention byte in those players.)
    fn h264_nal(&mut self, direction: Direction, nal: &[u8], out: &mut Vec<u8>) {
        let eligible = nal
            .first()
            .is_some_and(|&header| is_encrypted_nal_type(header & 0x1f))
            && nal.len() > NAL_MIN_ENCRYPTED_LEN;
        if !eligible {
            out.extend_from_slice(nal);
            return;
        }
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        match direction {
            Direction::Encrypt => {
                buf.extend_from_slice(nal);
                self.nal_blocks(direction, &mut buf);
                insert_emulation_prevention(&buf, out);
            }
            Direction::Decrypt => {
                remove_emulation_prevention(nal, &mut buf);
                if buf.len() > NAL_MIN_ENCRYPTED_LEN {
                    self.nal_blocks(direction, &mut buf);
                }
                out.extend_from_slice(&buf);
            }
        }
        self.scratch = buf;
    }

    /// CBC over the blocks at 32, 192, 352, ... that have more than 16 bytes after their start.
    fn nal_blocks(&self, direction: Direction, data: &mut [u8]) {
        let len = data.len();
        let starts = (NAL_CLEAR_LEAD..)
            .step_by(NAL_STRIDE)
            .take_while(|&start| start + BLOCK < len);
        match direction {
            Direction::Encrypt => {
                let mut cbc = CbcEnc::inner_iv_init(self.aes.clone(), &self.iv.into());
                for start in starts {
                    if let Some(block) = block_at(data, start) {
                        cbc.encrypt_block(block);
                    }
                }
            }
            Direction::Decrypt => {
                let mut cbc = CbcDec::inner_iv_init(self.aes.clone(), &self.iv.into());
                for start in starts {
                    if let Some(block) = block_at(data, start) {
                        cbc.decrypt_block(block);
                    }
                }
            }
        }
    }

    /// Encrypts, in place, the raw data of one AAC frame (the frame without its ADTS
    /// header): 16 bytes clear, then every whole 16-byte block; the rest stays clear.
    pub fn encrypt_aac_raw(&self, raw: &mut [u8]) {
        self.aac_raw(Direction::Encrypt, raw);
    }

    /// Decrypts what [`SampleAesCipher::encrypt_aac_raw`] encrypted.
    pub fn decrypt_aac_raw(&self, raw: &mut [u8]) {
        self.aac_raw(Direction::Decrypt, raw);
    }

    fn aac_raw(&self, direction: Direction, raw: &mut [u8]) {
        let Some(protected) = raw.get_mut(AAC_CLEAR_LEAD..) else {
            return;
        };
        let whole = protected.len() / BLOCK * BLOCK;
        let (blocks, _) = aes::Block::slice_as_chunks_mut(&mut protected[..whole]);
        if blocks.is_empty() {
            return;
        }
        match direction {
            Direction::Encrypt => {
                CbcEnc::inner_iv_init(self.aes.clone(), &self.iv.into()).encrypt_blocks(blocks);
            }
            Direction::Decrypt => {
                CbcDec::inner_iv_init(self.aes.clone(), &self.iv.into()).decrypt_blocks(blocks);
            }
        }
    }

    /// Encrypts one ADTS frame in place (header included; its size does not change).
    /// Errors when `frame` does not start with an ADTS header.
    pub fn encrypt_aac_frame(&self, frame: &mut [u8]) -> Result<()> {
        let header = adts_header_len(frame)?;
        self.encrypt_aac_raw(frame.get_mut(header..).unwrap_or_default());
        Ok(())
    }

    /// Decrypts one ADTS frame in place; the inverse of [`SampleAesCipher::encrypt_aac_frame`].
    pub fn decrypt_aac_frame(&self, frame: &mut [u8]) -> Result<()> {
        let header = adts_header_len(frame)?;
        self.decrypt_aac_raw(frame.get_mut(header..).unwrap_or_default());
        Ok(())
    }
}

/// The 16-byte block of `data` at `start`, when it is all there.
fn block_at(data: &mut [u8], start: usize) -> Option<&mut aes::Block> {
    let bytes = data.get_mut(start..start.checked_add(BLOCK)?)?;
    <&mut aes::Block>::try_from(bytes).ok()
}

/// Length of the ADTS header at the start of `frame`: 7, or 9 with a CRC
/// (protection_absent 0).
fn adts_header_len(frame: &[u8]) -> Result<usize> {
    let (Some(&sync), Some(&flags)) = (frame.first(), frame.get(1)) else {
        return Err(Error::malformed(
            "ADTS frame",
            format!("{} bytes, shorter than a header", frame.len()),
        ));
    };
    if sync != 0xff || flags & 0xf0 != 0xf0 {
        return Err(Error::malformed("ADTS frame", "no syncword 0xFFF"));
    }
    let len = if flags & 0x01 == 0 { 9 } else { 7 };
    if frame.len() < len {
        return Err(Error::malformed(
            "ADTS frame",
            format!("{} bytes, shorter than its {len}-byte header", frame.len()),
        ));
    }
    Ok(len)
}

/// Appends `nal` to `out` without its emulation-prevention bytes: every 0x03 that follows two
/// zero bytes (counting from after the previous one removed) is dropped, as H.264 §7.3.1
/// and hls.js `discardEPB` do.
pub fn remove_emulation_prevention(nal: &[u8], out: &mut Vec<u8>) {
    out.reserve(nal.len());
    let mut zeros = 0usize;
    let mut copied = 0usize;
    for (i, &byte) in nal.iter().enumerate() {
        if zeros >= 2 && byte == 0x03 {
            out.extend_from_slice(nal.get(copied..i).unwrap_or_default());
            copied = i + 1;
            zeros = 0;
        } else if byte == 0 {
            zeros += 1;
        } else {
            zeros = 0;
        }
    }
    out.extend_from_slice(nal.get(copied..).unwrap_or_default());
}

/// Appends `rbsp` to `out` with emulation-prevention bytes: an 0x03 before any byte up to
/// 0x03 that follows two zero bytes, and after two trailing zero bytes (H.264 §7.4.1), so
/// that no start code can appear inside the NAL unit.
pub fn insert_emulation_prevention(rbsp: &[u8], out: &mut Vec<u8>) {
    out.reserve(rbsp.len() + rbsp.len() / 64 + 1);
    let mut zeros = 0usize;
    let mut copied = 0usize;
    for (i, &byte) in rbsp.iter().enumerate() {
        if zeros >= 2 && byte <= 0x03 {
            out.extend_from_slice(rbsp.get(copied..i).unwrap_or_default());
            out.push(0x03);
            copied = i;
            zeros = 0;
        }
        if byte == 0 {
            zeros += 1;
        } else {
            zeros = 0;
        }
    }
    out.extend_from_slice(rbsp.get(copied..).unwrap_or_default());
    if zeros >= 2 {
        out.push(0x03);
    }
}

/// Encrypts one H.264 NAL unit (no start code); see the module documentation.
pub fn encrypt_h264_nal(key: &SampleAesKey, nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len() + 8);
    SampleAesCipher::new(key).encrypt_h264_nal(nal, &mut out);
    out
}

/// Decrypts one H.264 NAL unit made by [`encrypt_h264_nal`].
pub fn decrypt_h264_nal(key: &SampleAesKey, nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    SampleAesCipher::new(key).decrypt_h264_nal(nal, &mut out);
    out
}

/// Encrypts one AAC frame with its ADTS header; the result has the same size.
pub fn encrypt_aac_frame(key: &SampleAesKey, frame: &[u8]) -> Result<Vec<u8>> {
    let mut out = frame.to_vec();
    SampleAesCipher::new(key).encrypt_aac_frame(&mut out)?;
    Ok(out)
}

/// Decrypts one AAC frame made by [`encrypt_aac_frame`].
pub fn decrypt_aac_frame(key: &SampleAesKey, frame: &[u8]) -> Result<Vec<u8>> {
    let mut out = frame.to_vec();
    SampleAesCipher::new(key).decrypt_aac_frame(&mut out)?;
    Ok(out)
}

/// The `audio_setup_information` of an encrypted AAC stream, carried in the PMT in a
/// registration descriptor with format identifier `apad`: audio_type (`zaac` for AAC-LC,
/// `zach` for HE-AAC, `zacp` for HE-AAC v2, from the first audio object type of the
/// config), priming (2 bytes, 0: unknown), version (1), setup_data_length and the
/// AudioSpecificConfig itself as setup_data. Shaka Packager writes the same bytes
/// (`hls_audio_util.cc`).
///
/// Errors when `audio_specific_config` is empty, longer than 255 bytes, or of an object
/// type that Apple's format has no audio_type for (only AAC-LC, SBR and PS are defined).
pub fn aac_audio_setup_information(audio_specific_config: &[u8]) -> Result<Vec<u8>> {
    let audio_type: &[u8; 4] = match aac_object_type(audio_specific_config) {
        Some(2) => b"zaac",
        Some(5) => b"zach",
        Some(29) => b"zacp",
        Some(other) => {
            return Err(Error::unsupported(
                "SAMPLE-AES audio setup",
                format!("AAC audio object type {other} (only 2, 5 and 29 have an audio_type)"),
            ))
        }
        None => {
            return Err(Error::malformed(
                "AudioSpecificConfig",
                "too short for an audio object type",
            ))
        }
    };
    let length = u8::try_from(audio_specific_config.len()).map_err(|_| {
        Error::malformed(
            "AudioSpecificConfig",
            format!(
                "{} bytes do not fit the 1-byte setup_data_length",
                audio_specific_config.len()
            ),
        )
    })?;
    let mut info = Vec::with_capacity(8 + audio_specific_config.len());
    info.extend_from_slice(audio_type);
    info.extend_from_slice(&[0, 0]); // priming
    info.push(1); // version
    info.push(length);
    info.extend_from_slice(audio_specific_config);
    Ok(info)
}

/// The first audioObjectType of an AudioSpecificConfig (5 bits, 31 escapes to 32 + 6 bits).
fn aac_object_type(asc: &[u8]) -> Option<u8> {
    let first = *asc.first()?;
    let object_type = first >> 3;
    if object_type == 31 {
        let second = *asc.get(1)?;
        Some(32 + (((first & 0x07) << 3) | (second >> 5)))
    } else {
        Some(object_type)
    }
}

/// The 2-byte AudioSpecificConfig that an ADTS header describes: object type `profile + 1`,
/// its sampling frequency index and channel configuration, 1024-sample frames.
pub fn aac_config_from_adts(profile: u8, sampling_index: u8, channel_config: u8) -> [u8; 2] {
    let object_type = (profile & 0x03) + 1;
    [
        (object_type << 3) | ((sampling_index & 0x0f) >> 1),
        ((sampling_index & 0x01) << 7) | ((channel_config & 0x0f) << 3),
    ]
}

#[cfg(test)]
mod tests;
