//! Keys and licenses: the raw content key for players that fetch it themselves (HLS
//! AES-128, SAMPLE-AES, ClearKey) and the W3C ClearKey license endpoint (a JSON request for
//! key ids, a JSON Web Key Set back). Answered `no-store`, never cached.

use bytes::Bytes;
use http::request::Parts;
use http::Response;
use http_body_util::BodyExt;

use crate::http::body::PartsBody;
use crate::http::response::no_store;
use crate::keys::policy::EncryptionPolicy;
use crate::pipeline::protect::{host, plan, protect};
use crate::pipeline::resolve::Resolved;
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;

/// Largest license request body read.
const MAX_LICENSE_REQUEST_BYTES: usize = 16 * 1024;

fn key_not_delivered(asset: &str, policy: &EncryptionPolicy) -> Problem {
    Problem::new(
        ProblemKind::KeyNotDelivered,
        format!(
            "'{asset}' is {} without ClearKey: its key is not handed out",
            match policy.method {
                drm::Method::None => "not encrypted",
                m => m.name(),
            }
        ),
    )
}

/// The raw key with id `kid` of `asset`, when its policy hands raw keys out.
pub async fn key(
    state: &AppState,
    req: &Parts,
    asset: &str,
    resolved: &Resolved,
    kid: drm::KeyId,
) -> Result<Response<PartsBody>, Problem> {
    let policy = resolved.policy(state);
    if !policy.delivers_raw_key() {
        return Err(key_not_delivered(asset, policy));
    }
    let planned =
        plan(state, asset, policy, host(req)).ok_or_else(|| key_not_delivered(asset, policy))?;
    let protection = protect(state, asset, planned).await?;
    if protection.key.kid != kid {
        return Err(Problem::new(
            ProblemKind::RenditionNotFound,
            format!("'{asset}' has no key with id {kid}"),
        ));
    }
    let key = protection.key.key.bytes().to_vec();
    Ok(no_store(key, "application/octet-stream", &req.method))
}

/// Reads a ClearKey license request body (at most [`MAX_LICENSE_REQUEST_BYTES`]).
pub async fn read_license_request<B>(body: B) -> Result<drm::clearkey::LicenseRequest, Problem>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let body = http_body_util::Limited::new(body, MAX_LICENSE_REQUEST_BYTES)
        .collect()
        .await
        .map_err(|e| {
            invalid(format!(
                "cannot read the request body (at most {MAX_LICENSE_REQUEST_BYTES} bytes): {e}"
            ))
        })?
        .to_bytes();
    drm::clearkey::parse_request(&body).map_err(|e| invalid(e.to_string()))
}

fn invalid(detail: String) -> Problem {
    Problem::new(ProblemKind::LicenseRequestInvalid, detail)
}

/// The ClearKey license for `request`: the asset's key, when the request asks for it and
/// the asset signals ClearKey.
pub async fn license(
    state: &AppState,
    req: &Parts,
    asset: &str,
    resolved: &Resolved,
    request: &drm::clearkey::LicenseRequest,
) -> Result<Response<PartsBody>, Problem> {
    let policy = resolved.policy(state);
    if !policy.signals_clearkey() {
        return Err(key_not_delivered(asset, policy));
    }
    let planned =
        plan(state, asset, policy, host(req)).ok_or_else(|| key_not_delivered(asset, policy))?;
    let protection = protect(state, asset, planned).await?;
    if !request.kids.contains(&protection.key.kid) {
        return Err(invalid(format!(
            "none of the requested key ids belongs to '{asset}'"
        )));
    }
    let answer = drm::clearkey::license_response(request, std::slice::from_ref(&protection.key));
    Ok(no_store(answer, "application/json", &req.method))
}
