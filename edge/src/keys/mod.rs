//! Key sources: where the edge gets the content key of an asset. One contract
//! ([`KeySource`]) with three implementations chosen by configuration: static keys from the
//! config, keys derived from a per-tenant master secret (no network), and a SPEKE v2 / CPIX
//! key server client.

use std::future::Future;
use std::pin::Pin;

use drm::{ContentKeyPair, KeyId};

pub mod config;
pub mod derived;
pub mod policy;
pub mod speke;
pub mod static_keys;

/// What the edge asks for: the key of one asset, under a key id the edge chose
/// deterministically from the asset id (so every node asks for the same one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRequest {
    /// The asset id as in the URL (`demo`, `movie.mp4`), the CPIX `contentId`.
    pub content_id: String,
    pub kid: KeyId,
}

/// Why a key could not be had. Never carries key material.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The source has no key for this asset (for example no static key configured).
    #[error("no key for content id {0:?}")]
    NoKey(String),
    /// The key server answered, but with an error or an answer we cannot use.
    #[error("key server refused: {0}")]
    Refused(String),
    /// The key server could not be reached or did not answer in time; a retry may help.
    #[error("key server unavailable: {0}")]
    Unavailable(String),
}

/// A boxed future, so key sources can be trait objects.
pub type KeyFuture<'a> =
    Pin<Box<dyn Future<Output = Result<ContentKeyPair, KeyError>> + Send + 'a>>;

/// The contract every key source keeps: the same request always yields the same key.
pub trait KeySource: Send + Sync {
    /// The content key for `request`. The returned pair's `kid` equals `request.kid`.
    fn content_key<'a>(&'a self, request: &'a KeyRequest) -> KeyFuture<'a>;
}
