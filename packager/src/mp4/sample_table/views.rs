//! Views of a box's entries kept where the `moov` holds them: `Bytes` slices of the `moov`
//! (of the source's mapping for local files), read in place, so a table costs nothing to
//! build but the check that it agrees with the other boxes.

use std::fmt;
use std::ops::Range;

use bytes::Bytes;

/// `data`, a part of the `moov` whose bytes are `moov`, as a view that keeps them alive:
/// no copy. Anything else (boxes made by hand, in tests) is copied.
pub(super) fn retain(moov: &Bytes, data: &[u8]) -> Bytes {
    let base = moov.as_ptr() as usize;
    let at = data.as_ptr() as usize;
    match at.checked_sub(base) {
        Some(start) if start + data.len() <= moov.len() => moov.slice(start..start + data.len()),
        _ => Bytes::copy_from_slice(data),
    }
}

/// Big-endian `u32` entries of a box, in place: the sizes of an `stsz`.
#[derive(Clone)]
pub(super) struct Be32s(Bytes);

impl Be32s {
    /// The entries of `data`, a whole number of 4-byte entries of `moov`.
    pub(super) fn new(moov: &Bytes, data: &[u8]) -> Self {
        Be32s(retain(moov, data))
    }

    #[inline(always)]
    fn entries(&self) -> &[[u8; 4]] {
        self.0.as_chunks::<4>().0
    }

    /// Entry `i`; panics, as indexing a slice does, past the end.
    #[inline(always)]
    pub(super) fn get(&self, i: usize) -> u32 {
        u32::from_be_bytes(self.entries()[i])
    }

    /// Sum of entries `range`; panics, as slicing does, outside the entries.
    #[inline]
    pub(super) fn sum(&self, range: Range<usize>) -> u64 {
        // An entry `a b c d` read little-endian has `a` and `c` in the low halves of
        // `x & 0x00ff00ff`, `b` and `d` in those of `(x >> 8) & 0x00ff00ff`: summed in
        // 32-bit lanes, 256 entries at a time (255 * 256 < 2^16, so no half carries into
        // the other), then weighed. No byte swap per entry, so the loop vectorises.
        self.entries()[range]
            .chunks(256)
            .map(|block| {
                let (mut ac, mut bd) = (0u32, 0u32);
                for &entry in block {
                    let x = u32::from_le_bytes(entry);
                    ac += x & 0x00ff_00ff;
                    bd += (x >> 8) & 0x00ff_00ff;
                }
                let (a, c) = (u64::from(ac & 0xffff), u64::from(ac >> 16));
                let (b, d) = (u64::from(bd & 0xffff), u64::from(bd >> 16));
                (a << 24) + (b << 16) + (c << 8) + d
            })
            .sum()
    }

    /// The entries as a slice of 4-byte arrays.
    #[inline]
    pub(super) fn as_chunks(&self) -> &[[u8; 4]] {
        self.entries()
    }

    pub(super) fn len(&self) -> usize {
        self.0.len() / 4
    }

    /// Bytes the view keeps alive.
    pub(super) fn heap_bytes(&self) -> usize {
        self.0.len()
    }

    /// The first `n` entries (all of them when there are fewer).
    pub(super) fn first(&self, n: usize) -> Self {
        Be32s(self.0.slice(..n.saturating_mul(4).min(self.0.len())))
    }
}

impl fmt::Debug for Be32s {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Be32s({} entries)", self.len())
    }
}

/// A big-endian number of `W` bytes.
#[inline(always)]
pub(super) fn be_uint<const W: usize>(b: &[u8; W]) -> u64 {
    let mut wide = [0u8; 8];
    wide[8 - W..].copy_from_slice(b);
    u64::from_be_bytes(wide)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_of_the_moov_is_a_view_and_anything_else_a_copy() {
        let moov = Bytes::from((0u8..64).collect::<Vec<_>>());
        let inside = retain(&moov, &moov[8..24]);
        assert_eq!(inside.as_ptr(), moov[8..].as_ptr());
        assert_eq!(&inside[..], &moov[8..24]);
        let other = vec![1u8, 2, 3];
        let copied = retain(&moov, &other);
        assert_ne!(copied.as_ptr(), other.as_ptr());
        assert_eq!(&copied[..], &other[..]);
        assert!(retain(&moov, &moov[64..]).is_empty());
    }

    #[test]
    fn sums_match_plain_sums_up_to_the_largest_entries() {
        let values: Vec<u32> = (0..100_000u32)
            .map(|i| match i % 3 {
                0 => u32::MAX,
                1 => i,
                _ => 0xffff,
            })
            .collect();
        let data: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes()).collect();
        let view = Be32s::new(&Bytes::new(), &data);
        assert_eq!(view.len(), values.len());
        for range in [0..0, 0..1, 5..70_000, 0..100_000, 99_999..100_000] {
            let plain: u64 = values[range.clone()].iter().map(|&v| u64::from(v)).sum();
            assert_eq!(view.sum(range.clone()), plain, "{range:?}");
        }
        assert_eq!(view.get(3), u32::MAX);
        assert_eq!(format!("{view:?}"), "Be32s(100000 entries)");
    }
}
