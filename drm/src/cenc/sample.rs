//! Encrypting and decrypting one sample under `cenc` (AES-CTR) or `cbcs` (AES-CBC with a
//! pattern), given its subsample map. One [`SampleCipher`] holds the expanded key and is
//! reused for every sample of a segment.

use aes::cipher::{
    BlockModeDecrypt, BlockModeEncrypt, InnerIvInit, KeyInit, StreamCipher, StreamCipherCoreWrapper,
};
use aes::Aes128;

use crate::cenc::{Scheme, Subsample};
use crate::error::{Error, Result};
use crate::key::ContentKey;

type Ctr = ctr::Ctr64BE<Aes128>;
type CbcEnc = cbc::Encryptor<Aes128>;
type CbcDec = cbc::Decryptor<Aes128>;

const BLOCK: usize = 16;

/// The `cbcs` encryption pattern: `crypt` blocks encrypted, then `skip` blocks left clear,
/// repeating. `(0, 0)` means every whole block (audio, and `cenc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pattern {
    pub crypt: u8,
    pub skip: u8,
}

impl Pattern {
    /// 1:9, what `cbcs` uses for video.
    pub const VIDEO: Pattern = Pattern { crypt: 1, skip: 9 };
    /// No pattern: every whole block of the protected range.
    pub const WHOLE: Pattern = Pattern { crypt: 0, skip: 0 };

    /// The `tenc` pattern byte, `crypt << 4 | skip`.
    pub fn byte(self) -> u8 {
        (self.crypt << 4) | (self.skip & 0x0f)
    }
}

/// Encrypts or decrypts samples of one track under one key.
#[derive(Clone)]
pub struct SampleCipher {
    scheme: Scheme,
    aes: Aes128,
}

impl std::fmt::Debug for SampleCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SampleCipher")
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy)]
enum Direction {
    Encrypt,
    Decrypt,
}

impl SampleCipher {
    pub fn new(scheme: Scheme, key: &ContentKey) -> Self {
        SampleCipher {
            scheme,
            aes: Aes128::new(key.bytes().into()),
        }
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Encrypts `sample` in place. `iv` is the 16-byte counter block start for `cenc` (an
    /// 8-byte IV followed by zeros) or the constant IV for `cbcs`. An empty `subsamples`
    /// means the whole sample is protected.
    pub fn encrypt(
        &self,
        iv: &[u8; 16],
        pattern: Pattern,
        subsamples: &[Subsample],
        sample: &mut [u8],
    ) -> Result<()> {
        self.apply(Direction::Encrypt, iv, pattern, subsamples, sample)
    }

    /// Decrypts `sample` in place; the inverse of [`SampleCipher::encrypt`].
    pub fn decrypt(
        &self,
        iv: &[u8; 16],
        pattern: Pattern,
        subsamples: &[Subsample],
        sample: &mut [u8],
    ) -> Result<()> {
        self.apply(Direction::Decrypt, iv, pattern, subsamples, sample)
    }

    fn apply(
        &self,
        direction: Direction,
        iv: &[u8; 16],
        pattern: Pattern,
        subsamples: &[Subsample],
        sample: &mut [u8],
    ) -> Result<()> {
        let whole = [Subsample {
            clear: 0,
            protected: sample.len() as u32,
        }];
        let map = if subsamples.is_empty() {
            &whole[..]
        } else {
            subsamples
        };
        let total: u64 = map
            .iter()
            .map(|s| u64::from(s.clear) + u64::from(s.protected))
            .sum();
        if total != sample.len() as u64 {
            return Err(Error::malformed(
                "subsample map",
                format!("covers {total} bytes of a {}-byte sample", sample.len()),
            ));
        }
        match self.scheme {
            Scheme::Cenc => {
                // One keystream runs across every protected range of the sample; XOR is its
                // own inverse, so both directions are the same.
                let mut ctr: Ctr = StreamCipherCoreWrapper::from_core(ctr::CtrCore::inner_iv_init(
                    self.aes.clone(),
                    iv.into(),
                ));
                for_each_protected(map, sample, |range| ctr.apply_keystream(range));
            }
            Scheme::Cbcs => {
                for_each_protected(map, sample, |range| {
                    cbc_pattern(&self.aes, direction, iv, pattern, range)
                });
            }
        }
        Ok(())
    }
}

fn for_each_protected(map: &[Subsample], sample: &mut [u8], mut f: impl FnMut(&mut [u8])) {
    let mut at = 0usize;
    for s in map {
        at += usize::from(s.clear);
        let end = at + s.protected as usize;
        if s.protected > 0 {
            f(&mut sample[at..end]);
        }
        at = end;
    }
}

/// CBC over one protected range with the chain restarting from `iv`: `crypt` blocks
/// processed, `skip` blocks left, repeating; a trailing partial block stays clear.
fn cbc_pattern(
    aes: &Aes128,
    direction: Direction,
    iv: &[u8; 16],
    pattern: Pattern,
    range: &mut [u8],
) {
    let whole_len = range.len() / BLOCK * BLOCK;
    if whole_len == 0 {
        // Shorter than one block: nothing to encrypt (the partial block stays clear).
        return;
    }
    let range = &mut range[..whole_len];
    let (crypt, skip) = if pattern.crypt == 0 {
        (whole_len, 0)
    } else {
        (
            usize::from(pattern.crypt) * BLOCK,
            usize::from(pattern.skip) * BLOCK,
        )
    };
    if skip == 0 {
        run_cbc(aes, direction, iv, range);
        return;
    }
    // The crypt blocks form one CBC chain; gather them, run the chain in one call (one
    // backend dispatch instead of one per block), and put them back.
    let stride = crypt + skip;
    let mut chain: Vec<u8> = Vec::with_capacity(range.len().div_ceil(stride) * crypt);
    for chunk in range.chunks(stride) {
        chain.extend_from_slice(&chunk[..chunk.len().min(crypt)]);
    }
    run_cbc(aes, direction, iv, &mut chain);
    let mut from = chain.chunks(crypt);
    for chunk in range.chunks_mut(stride) {
        if let Some(done) = from.next() {
            chunk[..done.len()].copy_from_slice(done);
        }
    }
}

/// CBC over whole blocks of `data`, in place.
fn run_cbc(aes: &Aes128, direction: Direction, iv: &[u8; 16], data: &mut [u8]) {
    let (blocks, _) = aes::Block::slice_as_chunks_mut(data);
    match direction {
        Direction::Encrypt => CbcEnc::inner_iv_init(aes.clone(), iv.into()).encrypt_blocks(blocks),
        Direction::Decrypt => CbcDec::inner_iv_init(aes.clone(), iv.into()).decrypt_blocks(blocks),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ContentKey {
        ContentKey(*b"0123456789abcdef")
    }

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + 3) as u8).collect()
    }

    #[test]
    fn cenc_keystream_runs_across_protected_ranges() {
        let c = SampleCipher::new(Scheme::Cenc, &key());
        let iv = [9u8, 8, 7, 6, 5, 4, 3, 2, 0, 0, 0, 0, 0, 0, 0, 0];
        let plain = data(100);
        let map = [
            Subsample {
                clear: 5,
                protected: 32,
            },
            Subsample {
                clear: 7,
                protected: 48,
            },
            Subsample {
                clear: 8,
                protected: 0,
            },
        ];
        let mut sample = plain.clone();
        c.encrypt(&iv, Pattern::WHOLE, &map, &mut sample).unwrap();
        // The protected bytes, gathered, equal one CTR pass over the gathered plaintext.
        let mut gathered: Vec<u8> = plain[5..37].iter().chain(&plain[44..92]).copied().collect();
        c.encrypt(&iv, Pattern::WHOLE, &[], &mut gathered).unwrap();
        assert_eq!(&sample[5..37], &gathered[..32]);
        assert_eq!(&sample[44..92], &gathered[32..]);
        assert_eq!(&sample[..5], &plain[..5]);
        assert_eq!(&sample[37..44], &plain[37..44]);
        assert_eq!(&sample[92..], &plain[92..]);
        c.decrypt(&iv, Pattern::WHOLE, &map, &mut sample).unwrap();
        assert_eq!(sample, plain);
    }

    #[test]
    fn cbcs_pattern_encrypts_one_block_in_ten_and_leaves_the_tail() {
        let c = SampleCipher::new(Scheme::Cbcs, &key());
        let iv = [3u8; 16];
        let plain = data(16 * 21 + 5);
        let mut sample = plain.clone();
        let map = [Subsample {
            clear: 0,
            protected: plain.len() as u32,
        }];
        c.encrypt(&iv, Pattern::VIDEO, &map, &mut sample).unwrap();
        for block in 0..21 {
            let r = block * 16..block * 16 + 16;
            let encrypted = block % 10 == 0;
            assert_eq!(sample[r.clone()] != plain[r], encrypted, "block {block}");
        }
        assert_eq!(&sample[16 * 21..], &plain[16 * 21..]);
        c.decrypt(&iv, Pattern::VIDEO, &map, &mut sample).unwrap();
        assert_eq!(sample, plain);
    }

    #[test]
    fn cbcs_chain_restarts_at_every_subsample() {
        let c = SampleCipher::new(Scheme::Cbcs, &key());
        let iv = [1u8; 16];
        let plain = [0x55u8; 64];
        let mut sample = plain;
        let map = [
            Subsample {
                clear: 0,
                protected: 32,
            },
            Subsample {
                clear: 0,
                protected: 32,
            },
        ];
        c.encrypt(&iv, Pattern::WHOLE, &map, &mut sample).unwrap();
        // Same plaintext and same IV at each subsample start: same ciphertext.
        assert_eq!(sample[..32], sample[32..]);
    }

    #[test]
    fn cbcs_ranges_shorter_than_a_block_stay_clear() {
        for pattern in [Pattern::WHOLE, Pattern::VIDEO] {
            let c = SampleCipher::new(Scheme::Cbcs, &key());
            let mut sample = data(15);
            c.encrypt(&[0; 16], pattern, &[], &mut sample).unwrap();
            assert_eq!(sample, data(15));
        }
    }

    #[test]
    fn a_map_that_does_not_cover_the_sample_is_an_error() {
        let c = SampleCipher::new(Scheme::Cenc, &key());
        let mut sample = data(10);
        let map = [Subsample {
            clear: 2,
            protected: 16,
        }];
        assert!(c
            .encrypt(&[0; 16], Pattern::WHOLE, &map, &mut sample)
            .is_err());
    }

    #[test]
    fn debug_hides_the_key() {
        let c = SampleCipher::new(Scheme::Cenc, &key());
        assert!(!format!("{c:?}").contains("0123"));
    }
}
