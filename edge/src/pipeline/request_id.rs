//! Request ids: the client's `X-Request-Id` when it is short and plain, else a new one,
//! unique within this process and unlikely to repeat across nodes. Echoed on the response
//! and written to logs. Kept as the header value it is sent as: made once, no parsing or
//! copying when it is echoed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use http::{HeaderName, HeaderValue};

use crate::hash::fnv1a;

/// The request id header, read and echoed.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id taken from a client's `X-Request-Id`.
const MAX_REQUEST_ID_LEN: usize = 64;

/// The request's id.
pub fn request_id(headers: &http::HeaderMap) -> HeaderValue {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    if let Some(given) = headers.get(&REQUEST_ID) {
        let bytes = given.as_bytes();
        let plain = bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
        if !bytes.is_empty() && bytes.len() <= MAX_REQUEST_ID_LEN && plain {
            return given.clone();
        }
    }
    // Unique per process start (clock and pid), read once rather than per request.
    static SEED: OnceLock<u64> = OnceLock::new();
    let seed = *SEED.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        now ^ u64::from(std::process::id())
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let h = fnv1a(&n.to_be_bytes(), seed);
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digits: [u8; 16] = std::array::from_fn(|k| HEX[(h >> (4 * (15 - k))) as usize & 0xf]);
    HeaderValue::from_bytes(&digits).unwrap_or_else(|_| HeaderValue::from_static("0"))
}

/// The id as text, for logs (ids are plain ASCII by construction).
pub fn as_text(id: &HeaderValue) -> &str {
    id.to_str().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_differ_and_given_ones_are_kept() {
        let none = http::HeaderMap::new();
        let (a, b) = (request_id(&none), request_id(&none));
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        assert!(as_text(&a).bytes().all(|c| c.is_ascii_hexdigit()));
        let mut given = http::HeaderMap::new();
        given.insert(&REQUEST_ID, HeaderValue::from_static("abc-1"));
        assert_eq!(request_id(&given), "abc-1");
        given.insert(&REQUEST_ID, HeaderValue::from_static("no spaces"));
        assert_ne!(request_id(&given), "no spaces");
    }
}
