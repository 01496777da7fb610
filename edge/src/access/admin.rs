//! The admin API of access control: `POST /admin/v1/revocations` with the configured bearer
//! key revokes one session, every session of an account, or one token id, on every node
//! (through the shared store) within a second. The body is JSON:
//! `{"session": "..."}`, `{"account": "..."}` or `{"token_id": "<cti hex>"}`, with an optional
//! `"until"` (Unix seconds; at most, and by default, now + `access.revocation_ttl_seconds`). The answer is
//! `201 Created` with the revocation.

use bytes::Bytes;
use http::request::Parts;
use http_body_util::BodyExt;
use serde::Deserialize;

use crate::access::clock;
use crate::access::revocations::{Revocation, Subject};
use crate::access::Access;
use crate::problem::{Problem, ProblemKind};

/// Largest revocation request body.
const MAX_BODY: usize = 16 * 1024;
/// Longest id accepted.
const MAX_ID: usize = 256;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevocationRequest {
    session: Option<String>,
    account: Option<String>,
    token_id: Option<String>,
    until: Option<u64>,
}

/// Whether the request carries `Authorization: Bearer <key>`.
pub fn bearer_ok(req: &Parts, key: &str) -> bool {
    req.headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| same(given.trim().as_bytes(), key.as_bytes()))
}

/// Compares in time that depends on the length only, not on where the bytes differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn bad(detail: impl Into<String>) -> Problem {
    Problem::new(ProblemKind::BadRequest, detail)
}

/// Revokes `subject` on this node at once and through the shared store on every node,
/// until `until` (Unix seconds; at most, and by default, now + `revocation_ttl_seconds`).
/// `source` labels the metric (`api`, `control`). Shared by the admin API and the control
/// plane embedded in the node.
pub async fn apply(
    access: &Access,
    subject: Subject,
    until: Option<u64>,
    source: &str,
) -> Result<Revocation, Problem> {
    let at_ms = clock::now_ms();
    // At most `revocation_ttl_seconds`: the store keeps revocations that long, so a node that
    // starts later still learns of every revocation in force.
    let longest = at_ms / 1000 + access.config.revocation_ttl_seconds;
    let until = until.unwrap_or(longest).min(longest);
    if until <= at_ms / 1000 {
        return Err(bad("until is in the past"));
    }
    let revocation = Revocation {
        subject,
        at_ms,
        until,
    };
    access
        .store
        .revoke(&revocation, &access.revocations)
        .await
        .map_err(|e| {
            Problem::new(
                ProblemKind::AccessStoreUnavailable,
                format!("the revocation could not be shared with other nodes: {e}"),
            )
        })?;
    access
        .metrics
        .revocations_received
        .with_label_values(&[source])
        .inc();
    access
        .metrics
        .revocations_known
        .set(access.revocations.len() as i64);
    tracing::info!(
        kind = revocation.subject.kind(),
        id = revocation.subject.id(),
        until,
        source,
        "revoked"
    );
    Ok(revocation)
}

/// Takes a revocation and returns its JSON.
pub async fn revoke<B>(access: Option<&Access>, req: &Parts, body: B) -> Result<Vec<u8>, Problem>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Some((access, key)) = access.and_then(|a| a.config.admin_key.as_deref().map(|k| (a, k)))
    else {
        return Err(Problem::new(
            ProblemKind::NotFound,
            "the admin API is off (no access.admin_key)",
        ));
    };
    if !bearer_ok(req, key) {
        return Err(Problem::new(
            ProblemKind::AdminUnauthorized,
            "the admin API needs Authorization: Bearer <access.admin_key>",
        ));
    }
    let body = http_body_util::Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|e| {
            bad(format!(
                "cannot read the body (at most {MAX_BODY} bytes): {e}"
            ))
        })?
        .to_bytes();
    let request: RevocationRequest = serde_json::from_slice(&body)
        .map_err(|e| bad(format!("the body is not a revocation: {e}")))?;
    let subjects: Vec<Subject> = [
        request.session.map(Subject::Session),
        request.account.map(Subject::Account),
        request
            .token_id
            .map(|t| Subject::TokenId(t.to_ascii_lowercase())),
    ]
    .into_iter()
    .flatten()
    .collect();
    let [subject] = <[Subject; 1]>::try_from(subjects)
        .map_err(|_| bad("name exactly one of session, account and token_id"))?;
    let id = subject.id();
    if id.is_empty() || id.len() > MAX_ID || id.chars().any(char::is_control) {
        return Err(bad(format!(
            "the id must be 1 to {MAX_ID} printable characters"
        )));
    }
    let revocation = apply(access, subject, request.until, "api").await?;
    Ok(serde_json::json!({
        "kind": revocation.subject.kind(),
        "id": revocation.subject.id(),
        "at_ms": revocation.at_ms,
        "until": revocation.until,
    })
    .to_string()
    .into_bytes())
}
