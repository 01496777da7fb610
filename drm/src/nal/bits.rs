//! A bit reader over one NAL unit as it is stored (escaped): it reads the RBSP, skipping
//! emulation-prevention bytes (the `0x03` of `0x00 0x00 0x03`), and reports where it is in
//! the stored bytes, which is what a subsample map counts.

use crate::error::{Error, Result};

/// Reads bits, Exp-Golomb codes and flags, MSB first. Every read names the syntax element
/// it reads, so running out of bits is an error that says where.
#[derive(Debug, Clone)]
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// What is being read, for errors (`"H.264 slice header"`).
    what: &'static str,
    /// Index in `data` of the byte holding the next bit.
    byte: usize,
    /// Bits of `data[byte]` already read (0..8).
    bit: u8,
    /// Zero payload bytes read right before `byte`.
    zeros: u8,
}

impl<'a> BitReader<'a> {
    /// A reader at the first bit of `data` (a whole NAL unit, header included).
    pub(crate) fn new(data: &'a [u8], what: &'static str) -> Self {
        BitReader {
            data,
            what,
            byte: 0,
            bit: 0,
            zeros: 0,
        }
    }

    /// An error about the bytes being read, naming what they are.
    pub(crate) fn malformed(&self, reason: impl Into<String>) -> Error {
        Error::malformed(self.what, reason)
    }

    /// An error for a well-formed feature this crate does not handle.
    pub(crate) fn unsupported(&self, reason: impl Into<String>) -> Error {
        Error::unsupported(self.what, reason)
    }

    /// Position of the next bit, counted in bits from the first stored byte (emulation
    /// prevention bytes count; one not yet reached does not).
    pub(crate) fn escaped_bit_position(&self) -> usize {
        self.byte * 8 + usize::from(self.bit)
    }

    /// Whether the next bit is the first of a byte.
    pub(crate) fn byte_aligned(&self) -> bool {
        self.bit == 0
    }

    /// One bit as a flag.
    pub(crate) fn flag(&mut self, field: &str) -> Result<bool> {
        if self.bit == 0 && self.zeros >= 2 && self.data.get(self.byte) == Some(&0x03) {
            self.byte += 1;
            self.zeros = 0;
        }
        let Some(&b) = self.data.get(self.byte) else {
            return Err(self.malformed(format!(
                "the NAL unit ({} bytes) ends while reading {field}",
                self.data.len()
            )));
        };
        let v = (b >> (7 - self.bit)) & 1;
        self.bit += 1;
        if self.bit == 8 {
            self.zeros = if b == 0 {
                self.zeros.saturating_add(1)
            } else {
                0
            };
            self.byte += 1;
            self.bit = 0;
        }
        Ok(v == 1)
    }

    /// `n` bits (at most 32) as an unsigned number: `u(n)`.
    pub(crate) fn bits(&mut self, n: u32, field: &str) -> Result<u32> {
        if n > 32 {
            return Err(self.malformed(format!("{field} is {n} bits long (more than 32)")));
        }
        let mut v: u64 = 0;
        for _ in 0..n {
            v = (v << 1) | u64::from(self.flag(field)?);
        }
        u32::try_from(v).map_err(|_| self.malformed(format!("{field} does not fit 32 bits")))
    }

    /// Skips `n` bits.
    pub(crate) fn skip(&mut self, n: u64, field: &str) -> Result<()> {
        for _ in 0..n {
            self.flag(field)?;
        }
        Ok(())
    }

    /// An unsigned Exp-Golomb code: `ue(v)`, 0 to 2^32 - 2.
    pub(crate) fn ue(&mut self, field: &str) -> Result<u32> {
        let mut zeros = 0u32;
        while !self.flag(field)? {
            zeros += 1;
            if zeros > 31 {
                return Err(self.malformed(format!(
                    "{field} has more than 31 leading zero bits (not a valid ue(v))"
                )));
            }
        }
        let rest = u64::from(self.bits(zeros, field)?);
        let v = (1u64 << zeros) - 1 + rest;
        u32::try_from(v).map_err(|_| self.malformed(format!("{field} does not fit 32 bits")))
    }

    /// `ue(v)` that must not exceed `max`.
    pub(crate) fn ue_max(&mut self, field: &str, max: u32) -> Result<u32> {
        let v = self.ue(field)?;
        if v > max {
            return Err(self.malformed(format!("{field} is {v}, more than the maximum {max}")));
        }
        Ok(v)
    }

    /// A signed Exp-Golomb code: `se(v)`.
    pub(crate) fn se(&mut self, field: &str) -> Result<i32> {
        let k = i64::from(self.ue(field)?);
        let v = if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) };
        i32::try_from(v).map_err(|_| self.malformed(format!("{field} does not fit 32 bits")))
    }

    /// `se(v)` that must lie in `min..=max`.
    pub(crate) fn se_range(&mut self, field: &str, min: i32, max: i32) -> Result<i32> {
        let v = self.se(field)?;
        if v < min || v > max {
            return Err(self.malformed(format!("{field} is {v}, outside {min}..={max}")));
        }
        Ok(v)
    }
}

/// Ceil(Log2(n)): the bit width of an index below `n` (0 for `n` <= 1).
pub(crate) fn ceil_log2(n: u64) -> u32 {
    if n <= 1 {
        0
    } else {
        64 - (n - 1).leading_zeros()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bits_and_exp_golomb() {
        // 1 | 010 | 011 | 00100 | 00101 | 1 -> ue 0, 1, 2, 3, se -2, flag
        let data = [0b1010_0110, 0b0100_0010, 0b1100_0000];
        let mut r = BitReader::new(&data, "test");
        assert_eq!(r.ue("a").unwrap(), 0);
        assert_eq!(r.ue("b").unwrap(), 1);
        assert_eq!(r.ue("c").unwrap(), 2);
        assert_eq!(r.ue("d").unwrap(), 3);
        assert_eq!(r.se("e").unwrap(), -2);
        assert!(r.flag("f").unwrap());
        assert_eq!(r.escaped_bit_position(), 18);
        assert!(!r.byte_aligned());
        assert_eq!(r.bits(6, "g").unwrap(), 0);
        assert!(r.byte_aligned());
        let err = r.flag("h").unwrap_err();
        assert!(err.to_string().contains("ends while reading h"), "{err}");
    }

    #[test]
    fn skips_emulation_prevention_bytes_and_counts_them_in_the_position() {
        // payload 00 00 01 ff is stored as 00 00 03 01 ff
        let data = [0x00, 0x00, 0x03, 0x01, 0xff];
        let mut r = BitReader::new(&data, "test");
        assert_eq!(r.bits(16, "zeros").unwrap(), 0);
        assert_eq!(r.escaped_bit_position(), 16);
        assert_eq!(r.bits(8, "one").unwrap(), 1);
        assert_eq!(r.escaped_bit_position(), 32);
        assert_eq!(r.bits(8, "ff").unwrap(), 0xff);
        assert_eq!(r.escaped_bit_position(), 40);
    }

    #[test]
    fn a_three_not_after_two_zeros_is_data_and_the_zero_count_restarts() {
        // 00 03: data; 00 00 03 00 00 03 02: two EPBs; then 03 is data
        let data = [0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x02, 0x03];
        let mut r = BitReader::new(&data, "test");
        let mut got = Vec::new();
        while let Ok(b) = r.bits(8, "byte") {
            got.push(b);
        }
        assert_eq!(got, [0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03]);
        assert_eq!(r.escaped_bit_position(), 80);
    }

    #[test]
    fn ue_limits() {
        // 32 leading zeros: not a valid ue(v)
        let mut r = BitReader::new(&[0, 0, 0, 0, 0x80], "test");
        assert!(r.ue("x").is_err());
        // 31 zeros then 1 and 31 ones: 2^32 - 2
        let mut r = BitReader::new(&[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe], "test");
        assert_eq!(r.ue("x").unwrap(), u32::MAX - 1);
        let mut r = BitReader::new(&[0b0001_0000], "test");
        assert!(r.ue_max("x", 6).is_err());
        let mut r = BitReader::new(&[0b0010_0000], "test");
        assert_eq!(r.se("x").unwrap(), 2);
    }

    #[test]
    fn ceil_log2_is_the_index_width() {
        assert_eq!(
            [0, 1, 2, 3, 4, 5, 8, 9].map(ceil_log2),
            [0, 0, 1, 2, 2, 3, 3, 4]
        );
    }
}
