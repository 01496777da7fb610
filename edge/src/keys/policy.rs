//! Encryption policies: the `[encryption]` section of an asset definition file (or the
//! config's default for the whole media root). The protect phase of the pipeline
//! (`pipeline/protect.rs`) turns one into the packager's protection for an asset.

use drm::{DrmSystem, Method};
use serde::Deserialize;

/// How an asset is encrypted and which DRM systems are signalled.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EncryptionPolicy {
    /// `none`, `aes-128`, `sample-aes`, `cenc` or `cbcs`.
    pub method: Method,
    /// Any of `widevine`, `playready`, `fairplay`, `clearkey`.
    pub drm: Vec<DrmSystem>,
}

impl Default for EncryptionPolicy {
    fn default() -> Self {
        EncryptionPolicy {
            method: Method::None,
            drm: vec![
                DrmSystem::Widevine,
                DrmSystem::PlayReady,
                DrmSystem::FairPlay,
            ],
        }
    }
}

impl EncryptionPolicy {
    /// Whether the raw key may be handed out by the key endpoint: AES-128 and SAMPLE-AES
    /// deliver keys that way by design, and ClearKey has no other secret.
    pub fn delivers_raw_key(&self) -> bool {
        matches!(self.method, Method::Aes128 | Method::SampleAes) || self.signals_clearkey()
    }

    pub fn signals_clearkey(&self) -> bool {
        self.method.is_encrypted() && self.drm.contains(&DrmSystem::ClearKey)
    }
}

/// The path of an asset's key endpoint below `/vod/{asset}/`.
pub fn key_path(kid: drm::KeyId) -> String {
    format!("keys/{}.key", kid.hex())
}
