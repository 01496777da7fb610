//! Stable hashing shared by every layer: FNV-1a for fingerprints, ETags and ids that must be
//! the same on every node and every build, and their fixed-width hex form.

/// FNV-1a, for fingerprints that must be the same on every node and every build.
pub fn fnv1a(data: &[u8], seed: u64) -> u64 {
    let mut h = seed ^ 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// `{quote}{h:016x}{quote}` without the formatting machinery (ETags and request ids are
/// made for every request).
pub fn hex16(h: u64, quote: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(16 + 2 * quote.len());
    s.push_str(quote);
    for k in (0..16).rev() {
        s.push(char::from(HEX[(h >> (4 * k)) as usize & 0xf]));
    }
    s.push_str(quote);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a(b"", 0), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a", 0), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn hex_is_sixteen_digits() {
        for h in [0, 1, 0xabc, u64::MAX, 0x0123_4567_89ab_cdef] {
            assert_eq!(hex16(h, "\""), format!("\"{h:016x}\""));
            assert_eq!(hex16(h, ""), format!("{h:016x}"));
        }
    }
}
