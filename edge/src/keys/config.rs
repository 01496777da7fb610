//! The `[keys]` and `[drm]` configuration sections, and building the configured key source.

use std::sync::Arc;

use serde::Deserialize;

use crate::keys::derived::DerivedKeySource;
use crate::keys::speke::{SpekeConfig, SpekeKeySource};
use crate::keys::static_keys::{self, StaticKey, StaticKeySource};
use crate::keys::KeySource;

/// Which key source serves content keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeySourceKind {
    /// `[[keys.static]]` entries.
    #[default]
    Static,
    /// HKDF from `keys.master_secret` (or the variable named by `keys.master_secret_env`).
    Derived,
    /// A SPEKE v2 key server, `[keys.speke]`.
    Speke,
}

/// A secret string whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<secret>")
    }
}

/// `[keys]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    pub source: KeySourceKind,
    /// Static keys, `[[keys.static]]`.
    #[serde(rename = "static")]
    pub static_keys: Vec<StaticKey>,
    /// The tenant's master secret (hex, at least 16 bytes) for the derived source.
    pub master_secret: Option<Secret>,
    /// Name of an environment variable holding the master secret instead.
    pub master_secret_env: Option<String>,
    pub speke: Option<SpekeConfig>,
}

/// `[drm]`: how DRM systems are signalled.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DrmConfig {
    /// FairPlay key URI prefix; the key id in hex follows it.
    pub fairplay_key_uri_prefix: String,
    /// PlayReady license server URL written into the WRMHEADER (`LA_URL`), if any.
    pub playready_license_url: Option<String>,
    /// The URL players reach this node at (for the absolute ClearKey license URL in MPDs);
    /// by default `http://` plus the request's Host header.
    pub public_base_url: Option<String>,
}

impl Default for DrmConfig {
    fn default() -> Self {
        DrmConfig {
            fairplay_key_uri_prefix: "skd://".into(),
            playready_license_url: None,
            public_base_url: None,
        }
    }
}

impl KeysConfig {
    /// Builds the configured key source, or says what is missing.
    pub fn build(&self) -> Result<Arc<dyn KeySource>, String> {
        match self.source {
            KeySourceKind::Static => Ok(Arc::new(StaticKeySource::new(self.static_keys.clone()))),
            KeySourceKind::Derived => {
                let text = match (&self.master_secret, &self.master_secret_env) {
                    (Some(s), _) => s.0.clone(),
                    (None, Some(var)) => std::env::var(var)
                        .map_err(|_| format!("keys.master_secret_env: ${var} is not set"))?,
                    (None, None) => {
                        return Err(
                            "keys.source = \"derived\" needs keys.master_secret or keys.master_secret_env".into(),
                        )
                    }
                };
                let secret = decode_hex(text.trim())
                    .filter(|s| s.len() >= 16)
                    .ok_or("keys.master_secret must be at least 32 hex digits")?;
                Ok(Arc::new(DerivedKeySource::new(secret)))
            }
            KeySourceKind::Speke => {
                let speke = self
                    .speke
                    .as_ref()
                    .ok_or("keys.source = \"speke\" needs a [keys.speke] section")?;
                let source = SpekeKeySource::new(speke).map_err(|e| format!("keys.speke: {e}"))?;
                Ok(Arc::new(source))
            }
        }
    }

    /// The key id of an asset: fixed by a static entry, else derived from the asset id.
    pub fn key_id(&self, content_id: &str) -> drm::KeyId {
        match self.source {
            KeySourceKind::Static => static_keys::key_id_in(&self.static_keys, content_id),
            _ => drm::derive::key_id_for(content_id),
        }
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_needs_a_long_enough_secret() {
        let mut c = KeysConfig {
            source: KeySourceKind::Derived,
            ..KeysConfig::default()
        };
        assert!(c.build().is_err());
        c.master_secret = Some(Secret("abcd".into()));
        assert!(c.build().is_err());
        c.master_secret = Some(Secret("00112233445566778899aabbccddeeff".into()));
        assert!(c.build().is_ok());
        assert!(!format!("{c:?}").contains("0011"));
    }

    #[test]
    fn speke_needs_its_section() {
        let c = KeysConfig {
            source: KeySourceKind::Speke,
            ..KeysConfig::default()
        };
        assert!(c.build().is_err());
    }
}
