//! Random identifiers: request ids, playback session ids, event ids, token ids.

use ring::rand::{SecureRandom, SystemRandom};

/// `n` random bytes as lowercase hex (2n characters). The system generator does not fail on
/// Linux; should it, the ids fall back to the time, which keeps them unique enough to trace.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    if SystemRandom::new().fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (nanos >> ((i % 16) * 8)) as u8;
        }
    }
    hex::encode(bytes)
}

/// Whether `id` is a usable resource id: 1 to 128 characters of `A-Z a-z 0-9 . _ - :`, not
/// starting with a dot. The same rule as the edge's asset names, plus `:` for namespaced ids
/// such as `stripe:sub_123`.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_hex_and_differ() {
        let (a, b) = (random_hex(16), random_hex(16));
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn ids_are_checked() {
        assert!(valid_id("demo"));
        assert!(valid_id("stripe:sub_1"));
        assert!(!valid_id(""));
        assert!(!valid_id(".hidden"));
        assert!(!valid_id("a/b"));
        assert!(!valid_id(&"x".repeat(129)));
    }
}
