//! Request ids: the client's `X-Request-Id` when it is short and plain, else a new one,
//! unique within this process and unlikely to repeat across nodes. Echoed on the response
//! and written to logs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use crate::hash::{fnv1a, hex16};

/// The request id header, read and echoed.
pub const REQUEST_ID: &str = "x-request-id";

/// Longest request id taken from a client's `X-Request-Id`.
const MAX_REQUEST_ID_LEN: usize = 64;

/// The request's id.
pub fn request_id(headers: &http::HeaderMap) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    if let Some(given) = headers.get(REQUEST_ID).and_then(|v| v.to_str().ok()) {
        let plain = given
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
        if !given.is_empty() && given.len() <= MAX_REQUEST_ID_LEN && plain {
            return given.to_owned();
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
    hex16(fnv1a(&n.to_be_bytes(), seed), "")
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
        let mut given = http::HeaderMap::new();
        given.insert(REQUEST_ID, http::HeaderValue::from_static("abc-1"));
        assert_eq!(request_id(&given), "abc-1");
    }
}
