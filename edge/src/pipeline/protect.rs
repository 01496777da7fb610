//! The protect phase: how an asset's output is encrypted, in two steps.
//!
//! [`plan`] reads the asset's policy into a [`ProtectionPlan`]: the method, key id, DRM
//! signalling and key URLs, everything that shapes the bytes and so the ETag, without asking
//! the key source. [`protect`] adds the content key, and runs only when an object is built
//! or a key is handed out: a cache hit, a 304 or a HEAD of known length never waits on the
//! key source. Encryption itself happens while the object is written (one copy of the
//! payload), so the build phase takes the finished [`Protection`].

use drm::{KeyId, Method, Signalling};
use http::request::Parts;
use packager::protection::{KeyUrls, Protection};

use crate::keys::policy::{key_path, EncryptionPolicy};
use crate::keys::{KeyError, KeyRequest};
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;

/// An asset's protection before its key is known.
pub struct ProtectionPlan {
    pub method: Method,
    pub kid: KeyId,
    pub signalling: Signalling,
    pub urls: KeyUrls,
    pub raw_key_delivery: bool,
}

/// The request's Host header, for absolute license URLs.
pub fn host(req: &Parts) -> Option<&str> {
    req.headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri.authority().map(|a| a.as_str()))
}

/// The protection `policy` gives `asset`; `None` when it is clear. `host` is the request's
/// Host header, for absolute license URLs.
pub fn plan(
    state: &AppState,
    asset: &str,
    policy: &EncryptionPolicy,
    host: Option<&str>,
) -> Option<ProtectionPlan> {
    if !policy.method.is_encrypted() {
        return None;
    }
    let drm = &state.config.drm;
    let kid = state.config.keys.key_id(asset);
    let base = match (&drm.public_base_url, host) {
        (Some(base), _) => base.trim_end_matches('/').to_owned(),
        (None, Some(host)) => format!("{}://{host}", state.scheme()),
        (None, None) => format!("{}://{}", state.scheme(), state.config.listen),
    };
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
    Some(ProtectionPlan {
        method: policy.method,
        kid,
        signalling,
        urls: KeyUrls {
            key_path: key_path(kid),
            clearkey_license: format!("{base}/vod/{asset}/license/clearkey"),
            fairplay: format!("{}{}", drm.fairplay_key_uri_prefix, kid.hex()),
        },
        raw_key_delivery: policy.delivers_raw_key(),
    })
}

/// The finished protection of `plan`: the same, with the content key from the key source.
pub async fn protect(
    state: &AppState,
    asset: &str,
    plan: ProtectionPlan,
) -> Result<Protection, Problem> {
    let request = KeyRequest {
        content_id: asset.to_owned(),
        kid: plan.kid,
    };
    let key = state
        .keys
        .content_key(&request)
        .await
        .map_err(|e| key_problem(asset, &e))?;
    Ok(Protection {
        method: plan.method,
        key,
        signalling: plan.signalling,
        urls: plan.urls,
        raw_key_delivery: plan.raw_key_delivery,
    })
}

fn key_problem(asset: &str, e: &KeyError) -> Problem {
    let kind = match e {
        KeyError::Unavailable(_) => ProblemKind::KeyServiceUnavailable,
        KeyError::NoKey(_) | KeyError::Refused(_) => ProblemKind::KeyUnavailable,
    };
    Problem::new(kind, format!("no content key for '{asset}': {e}"))
}
