//! Test helper: writes NAL units bit by bit (fixed-width fields and Exp-Golomb codes) and
//! escapes them with emulation-prevention bytes, to make hand-made parameter sets and slices.

/// Bits written so far, MSB first.
#[derive(Debug, Default, Clone)]
pub(crate) struct BitWriter {
    bits: Vec<bool>,
}

impl BitWriter {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// `n` bits of `v`.
    pub(crate) fn u(&mut self, n: u32, v: u64) -> &mut Self {
        for i in (0..n).rev() {
            self.bits.push((v >> i) & 1 == 1);
        }
        self
    }

    pub(crate) fn flag(&mut self, v: bool) -> &mut Self {
        self.u(1, u64::from(v))
    }

    pub(crate) fn ue(&mut self, v: u32) -> &mut Self {
        let code = u64::from(v) + 1;
        let len = 64 - code.leading_zeros();
        self.u(len - 1, 0).u(len, code)
    }

    pub(crate) fn se(&mut self, v: i32) -> &mut Self {
        let k = if v > 0 {
            2 * v.unsigned_abs() - 1
        } else {
            2 * v.unsigned_abs()
        };
        self.ue(k)
    }

    /// Bits written so far.
    pub(crate) fn len(&self) -> usize {
        self.bits.len()
    }

    /// Pads with `pad` bits to a byte boundary.
    pub(crate) fn align(&mut self, pad: bool) -> &mut Self {
        while !self.bits.len().is_multiple_of(8) {
            self.bits.push(pad);
        }
        self
    }

    /// The bits as bytes (the last byte padded with zeros), without escaping.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        self.bits
            .chunks(8)
            .map(|c| {
                c.iter()
                    .enumerate()
                    .fold(0u8, |b, (i, &bit)| b | (u8::from(bit) << (7 - i)))
            })
            .collect()
    }
}

/// Inserts emulation-prevention bytes: `00 00 0x` (x <= 3) becomes `00 00 03 0x`.
pub(crate) fn escape(rbsp: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rbsp.len() + rbsp.len() / 2);
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
    out
}
