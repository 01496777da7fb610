//! Encryption policies: the `[encryption]` section of an asset definition file (or the
//! config's default for the whole media root), and turning a policy into the packager's
//! [`Protection`] for one asset: key from the key source, DRM signalling, key URLs.

use drm::{DrmSystem, Method, Signalling};
use packager::protection::{KeyUrls, Protection};
use serde::Deserialize;

use crate::keys::{KeyError, KeyRequest};
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;

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

/// Resolves `policy` for `asset` into a [`Protection`]; `None` when clear. `host` is the
/// request's Host header, for absolute license URLs.
pub async fn protection_for(
    state: &AppState,
    asset: &str,
    policy: &EncryptionPolicy,
    host: Option<&str>,
) -> Result<Option<Protection>, Problem> {
    if !policy.method.is_encrypted() {
        return Ok(None);
    }
    let kid = state.config.keys.key_id(asset);
    let request = KeyRequest {
        content_id: asset.to_owned(),
        kid,
    };
    let key = state
        .keys
        .content_key(&request)
        .await
        .map_err(|e| key_problem(asset, &e))?;
    let base = match (&state.config.drm.public_base_url, host) {
        (Some(base), _) => base.trim_end_matches('/').to_owned(),
        (None, Some(host)) => format!("{}://{host}", state.scheme()),
        (None, None) => format!("{}://{}", state.scheme(), state.config.listen),
    };
    let drm = &state.config.drm;
    let scheme = policy
        .method
        .cmaf_scheme()
        .unwrap_or(drm::cenc::Scheme::Cbcs);
    let signalling = Signalling::new(
        kid,
        scheme,
        asset,
        &policy.drm,
        drm.playready_license_url.as_deref(),
    );
    Ok(Some(Protection {
        method: policy.method,
        key,
        signalling,
        urls: KeyUrls {
            key_path: key_path(kid),
            clearkey_license: format!("{base}/vod/{asset}/license/clearkey"),
            fairplay: format!("{}{}", drm.fairplay_key_uri_prefix, kid.hex()),
        },
        raw_key_delivery: policy.delivers_raw_key(),
    }))
}

fn key_problem(asset: &str, e: &KeyError) -> Problem {
    let kind = match e {
        KeyError::Unavailable(_) => ProblemKind::KeyServiceUnavailable,
        KeyError::NoKey(_) | KeyError::Refused(_) => ProblemKind::KeyUnavailable,
    };
    Problem::new(kind, format!("no content key for '{asset}': {e}"))
}
