//! Static keys from the configuration: for tests and small deployments. Each entry names a
//! content id (or `*` for every asset) and a key; the key id is the entry's own or, when
//! left out, the one the edge derives from the asset id.

use drm::{ContentKey, ContentKeyPair, KeyId};
use serde::Deserialize;

use crate::keys::{KeyError, KeyFuture, KeyRequest, KeySource};

/// One configured key.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StaticKey {
    /// The asset id (`demo`, `movie.mp4`) or `*` for any asset without its own entry.
    pub content_id: String,
    /// Optional fixed key id; by default the edge's deterministic key id of the asset.
    #[serde(default)]
    pub key_id: Option<KeyId>,
    /// The AES-128 key, 32 hex digits.
    pub key: ContentKey,
}

impl std::fmt::Debug for StaticKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticKey")
            .field("content_id", &self.content_id)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// Looks keys up in the configured list.
#[derive(Debug, Clone)]
pub struct StaticKeySource {
    keys: Vec<StaticKey>,
}

impl StaticKeySource {
    pub fn new(keys: Vec<StaticKey>) -> Self {
        StaticKeySource { keys }
    }

    /// The entry for `content_id`: its own, else the `*` entry.
    pub fn entry(&self, content_id: &str) -> Option<&StaticKey> {
        entry_in(&self.keys, content_id)
    }

    /// The key id an asset's key has under this source.
    pub fn key_id(&self, content_id: &str) -> KeyId {
        key_id_in(&self.keys, content_id)
    }
}

/// The entry of `keys` for `content_id`: its own, else the `*` entry.
fn entry_in<'a>(keys: &'a [StaticKey], content_id: &str) -> Option<&'a StaticKey> {
    keys.iter()
        .find(|k| k.content_id == content_id)
        .or_else(|| keys.iter().find(|k| k.content_id == "*"))
}

/// The key id an asset's key has under the static keys `keys` (asked on every request of an
/// encrypted asset, for its ETag: a lookup in place, no copy of the list).
pub fn key_id_in(keys: &[StaticKey], content_id: &str) -> KeyId {
    entry_in(keys, content_id)
        .and_then(|k| k.key_id)
        .unwrap_or_else(|| drm::derive::key_id_for(content_id))
}

impl KeySource for StaticKeySource {
    fn content_key<'a>(&'a self, request: &'a KeyRequest) -> KeyFuture<'a> {
        let found = self
            .entry(&request.content_id)
            .filter(|k| k.key_id.is_none_or(|kid| kid == request.kid))
            .map(|k| ContentKeyPair {
                kid: request.kid,
                key: k.key.clone(),
            })
            .ok_or_else(|| KeyError::NoKey(request.content_id.clone()));
        Box::pin(async move { found })
    }
}
