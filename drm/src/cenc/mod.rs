//! ISO/IEC 23001-7 Common Encryption: the two schemes, subsample maps and sample
//! encryption and decryption.

pub mod sample;
pub mod subsample;

pub use sample::{Pattern, SampleCipher};

/// The protection scheme of a CMAF track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// AES-128 CTR, full-sample or subsample encryption, 8-byte per-sample IVs.
    Cenc,
    /// AES-128 CBC with a 1:9 pattern for video, a constant IV, CBC restarting per subsample.
    Cbcs,
}

impl Scheme {
    /// The `schm` scheme type and DASH mp4protection `@value`.
    pub fn fourcc(self) -> &'static [u8; 4] {
        match self {
            Scheme::Cenc => b"cenc",
            Scheme::Cbcs => b"cbcs",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scheme::Cenc => "cenc",
            Scheme::Cbcs => "cbcs",
        }
    }
}

/// One subsample: `clear` bytes left as they are, then `protected` bytes encrypted
/// (entirely for `cenc`, by the pattern for `cbcs`). The sizes of an `senc` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Subsample {
    pub clear: u16,
    pub protected: u32,
}
