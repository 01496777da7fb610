//! HLS `METHOD=AES-128`: the whole segment encrypted with AES-128-CBC and PKCS#7 padding
//! (RFC 8216 5.2). With no IV attribute, the IV is the media sequence number as a 128-bit
//! big-endian integer, which keeps the output deterministic.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};

use crate::error::{Error, Result};
use crate::key::ContentKey;

type CbcEnc = cbc::Encryptor<aes::Aes128>;
type CbcDec = cbc::Decryptor<aes::Aes128>;

/// The IV a player uses when EXT-X-KEY has no IV: the media sequence number.
pub fn iv_for_sequence(sequence: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[8..].copy_from_slice(&sequence.to_be_bytes());
    iv
}

/// Size of `len` clear bytes once encrypted: padded up to the next whole block (a full block
/// of padding when `len` is already a multiple of 16).
pub fn encrypted_len(len: u64) -> u64 {
    (len / 16 + 1) * 16
}

/// Encrypts the concatenation of `parts`, copying once into the output buffer.
pub fn encrypt_segment<'a>(
    key: &ContentKey,
    iv: &[u8; 16],
    parts: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<u8> {
    let mut buf = Vec::new();
    for p in parts {
        buf.extend_from_slice(p);
    }
    // PKCS#7: pad with n bytes of value n, 1 <= n <= 16.
    let pad = 16 - buf.len() % 16;
    buf.resize(buf.len() + pad, pad as u8);
    let mut enc = CbcEnc::new(key.bytes().into(), iv.into());
    let (blocks, _) = aes::Block::slice_as_chunks_mut(&mut buf);
    enc.encrypt_blocks(blocks);
    buf
}

/// Decrypts an AES-128 segment (for tests and tools).
pub fn decrypt_segment(key: &ContentKey, iv: &[u8; 16], data: &[u8]) -> Result<Vec<u8>> {
    let mut buf = data.to_vec();
    let dec = CbcDec::new(key.bytes().into(), iv.into());
    let n = dec
        .decrypt_padded::<Pkcs7>(&mut buf)
        .map_err(|_| Error::malformed("AES-128 segment", "bad length or padding"))?
        .len();
    buf.truncate(n);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_padding() {
        let key = ContentKey([7; 16]);
        for len in [0usize, 1, 15, 16, 17, 188 * 3] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let iv = iv_for_sequence(5);
            let enc = encrypt_segment(&key, &iv, [&data[..3.min(len)], &data[3.min(len)..]]);
            assert_eq!(enc.len() as u64, encrypted_len(len as u64));
            assert_eq!(decrypt_segment(&key, &iv, &enc).unwrap(), data);
        }
    }

    #[test]
    fn known_answer_from_openssl() {
        // printf 'edgepack segment' | openssl enc -aes-128-cbc -K 000102030405060708090a0b0c0d0e0f \
        //   -iv 00000000000000000000000000000001 | xxd -p
        let key = ContentKey(std::array::from_fn(|i| i as u8));
        let enc = encrypt_segment(&key, &iv_for_sequence(1), [&b"edgepack segment"[..]]);
        assert_eq!(crate::key::hex(&enc), OPENSSL_ANSWER);
    }

    const OPENSSL_ANSWER: &str = "772d32dcbdbacf10ef1bce476d5f17dc4d844809ddac073a1b150d199196220d";

    #[test]
    fn sequence_number_is_big_endian_in_the_low_half() {
        assert_eq!(iv_for_sequence(0x0102)[14..], [1, 2]);
        assert_eq!(iv_for_sequence(0x0102)[..8], [0; 8]);
    }

    #[test]
    fn a_truncated_segment_is_an_error() {
        let key = ContentKey([7; 16]);
        assert!(decrypt_segment(&key, &[0; 16], &[1, 2, 3]).is_err());
    }
}
