//! A stable hash of a session and a pathway to a number in (0, 1): the same on every node and
//! in every version, so a session keeps its pathway across reloads and across edge nodes.

/// FNV-1a over `session`, a separator and `pathway`, finished with the splitmix64 mixer (FNV
/// alone spreads short, similar keys poorly).
pub(crate) fn unit(session: &str, pathway: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in session.bytes().chain([0xff]).chain(pathway.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    // 53 bits, centred in their interval: never 0, never 1.
    ((h >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_inside_the_open_interval() {
        assert_eq!(unit("s1", "a"), unit("s1", "a"));
        assert_ne!(unit("s1", "a"), unit("s1", "b"));
        // The session and pathway are separated: ("ab", "c") is not ("a", "bc").
        assert_ne!(unit("ab", "c"), unit("a", "bc"));
        for i in 0..1000 {
            let u = unit(&i.to_string(), "x");
            assert!(u > 0.0 && u < 1.0);
        }
    }
}
