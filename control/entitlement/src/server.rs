//! The entitlement HTTP API: grants under `/v1/grants`, the playback decision and sessions
//! under `/v1/playback-sessions`. Each operation checks its scope first.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use control_common::body::{authorized, Query};
use control_common::page::{Page, PageQuery};
use control_common::problem::ProblemDocument;
use control_common::{ApiKeys, Problem, Scope};

use crate::contract::Entitlement;
use crate::model::{AccountListQuery, Grant, GrantInput, PlaybackRequest, PlaybackSession};

/// The header that makes a session request idempotent.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

#[derive(Clone)]
pub struct Api {
    pub entitlement: Arc<dyn Entitlement>,
    pub keys: ApiKeys,
}

pub fn router(entitlement: Arc<dyn Entitlement>, keys: ApiKeys) -> Router {
    Router::new()
        .route("/v1/grants", get(list_grants))
        .route(
            "/v1/grants/{id}",
            get(get_grant).put(put_grant).delete(delete_grant),
        )
        .route(
            "/v1/playback-sessions",
            get(list_sessions).post(create_session),
        )
        .route(
            "/v1/playback-sessions/{id}",
            get(get_session).delete(end_session),
        )
        .route("/v1/playback-sessions/{id}/renewal", post(renew_session))
        .route(
            "/v1/playback-sessions/{id}/revocation",
            post(revoke_session),
        )
        .with_state(Api { entitlement, keys })
}

fn page(q: AccountListQuery) -> (Option<String>, PageQuery) {
    (
        q.account,
        PageQuery {
            limit: q.limit,
            after: q.after,
        },
    )
}

/// Creates or replaces a grant (idempotent).
#[utoipa::path(put, path = "/v1/grants/{id}", tag = "grants",
    params(("id" = String, Path, description = "The grant id, chosen by the caller (billing uses its subscription id)", min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$")),
    request_body = GrantInput,
    responses(
        (status = 200, description = "Replaced (or unchanged)", body = Grant),
        (status = 201, description = "Created", body = Grant),
        (status = 400, description = "Malformed or invalid", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "The product does not exist", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 502, description = "The catalog did not answer", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["grants:write"])))]
pub async fn put_grant(
    State(api): State<Api>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, Problem> {
    let input: GrantInput = authorized(&api.keys, Scope::GrantsWrite, req).await?;
    let put = api.entitlement.put_grant(&id, input).await?;
    let status = if put.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(put.value)).into_response())
}

/// One grant.
#[utoipa::path(get, path = "/v1/grants/{id}", tag = "grants",
    params(("id" = String, Path, description = "The grant id", min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$")),
    responses(
        (status = 200, description = "The grant", body = Grant),
        (status = 401, description = "No valid API key", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such grant", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["grants:read"])))]
pub async fn get_grant(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<axum::Json<Grant>, Problem> {
    api.keys.authorize(&headers, Scope::GrantsRead)?;
    Ok(axum::Json(api.entitlement.get_grant(&id).await?))
}

/// Grants in id order, optionally one account's.
#[utoipa::path(get, path = "/v1/grants", tag = "grants",
    params(AccountListQuery),
    responses(
        (status = 200, description = "A page of grants", body = Page<Grant>),
        (status = 400, description = "Bad query", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["grants:read"])))]
pub async fn list_grants(
    State(api): State<Api>,
    headers: HeaderMap,
    Query(q): Query<AccountListQuery>,
) -> Result<axum::Json<Page<Grant>>, Problem> {
    api.keys.authorize(&headers, Scope::GrantsRead)?;
    let (account, page) = page(q);
    Ok(axum::Json(
        api.entitlement
            .list_grants(account.as_deref(), &page)
            .await?,
    ))
}

/// Withdraws a grant: the next session or renewal it would have allowed is denied.
#[utoipa::path(delete, path = "/v1/grants/{id}", tag = "grants",
    params(("id" = String, Path, description = "The grant id", min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$")),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 401, description = "No valid API key", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such grant", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["grants:write"])))]
pub async fn delete_grant(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    api.keys.authorize(&headers, Scope::GrantsWrite)?;
    api.entitlement.delete_grant(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The playback decision: a session with its token, manifest URLs and license URLs, or
/// `playback-denied` with every reason.
#[utoipa::path(post, path = "/v1/playback-sessions", tag = "playback-sessions",
    params(("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key and body returns the same session; with another body, 409")),
    request_body = PlaybackRequest,
    responses(
        (status = 201, description = "Allowed: the session and its token", body = PlaybackSession),
        (status = 400, description = "Malformed or invalid", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Denied (reasons listed), or scope missing", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The idempotency key came with another request", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 502, description = "The catalog did not answer", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["sessions:create"])))]
pub async fn create_session(State(api): State<Api>, req: Request) -> Result<Response, Problem> {
    let key = match req.headers().get(IDEMPOTENCY_KEY) {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| Problem::bad_request("Idempotency-Key: printable ASCII"))?
                .to_owned(),
        ),
        None => None,
    };
    let request: PlaybackRequest = authorized(&api.keys, Scope::SessionsCreate, req).await?;
    let session = api
        .entitlement
        .create_session(request, key.as_deref())
        .await?;
    let mut r = (StatusCode::CREATED, axum::Json(&session)).into_response();
    if let Ok(v) = format!("/v1/playback-sessions/{}", session.id).parse() {
        r.headers_mut().insert(http::header::LOCATION, v);
    }
    r.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    Ok(r)
}

/// One session (without its token).
#[utoipa::path(get, path = "/v1/playback-sessions/{id}", tag = "playback-sessions",
    params(("id" = String, Path, description = "The session id", min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$")),
    responses(
        (status = 200, description = "The session", body = PlaybackSession),
        (status = 401, description = "No valid API key", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["sessions:read"])))]
pub async fn get_session(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<axum::Json<PlaybackSession>, Problem> {
    api.keys.authorize(&headers, Scope::SessionsRead)?;
    Ok(axum::Json(api.entitlement.get_session(&id).await?))
}

/// Sessions in id order, optionally one account's (without tokens).
#[utoipa::path(get, path = "/v1/playback-sessions", tag = "playback-sessions",
    params(AccountListQuery),
    responses(
        (status = 200, description = "A page of sessions", body = Page<PlaybackSession>),
        (status = 400, description = "Bad query", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["sessions:read"])))]
pub async fn list_sessions(
    State(api): State<Api>,
    headers: HeaderMap,
    Query(q): Query<AccountListQuery>,
) -> Result<axum::Json<Page<PlaybackSession>>, Problem> {
    api.keys.authorize(&headers, Scope::SessionsRead)?;
    let (account, page) = page(q);
    Ok(axum::Json(
        api.entitlement
            .list_sessions(account.as_deref(), &page)
            .await?,
    ))
}

/// A new token for an active session, if the account is still entitled; otherwise the
/// session ends and the answer is `playback-denied`.
#[utoipa::path(post, path = "/v1/playback-sessions/{id}/renewal", tag = "playback-sessions",
    params(("id" = String, Path, description = "The session id", min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$")),
    responses(
        (status = 200, description = "Renewed: a new token", body = PlaybackSession),
        (status = 401, description = "No valid API key", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "No longer entitled (the session ended), or scope missing", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The session is not active", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 502, description = "The catalog or the edge did not answer", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["sessions:create"])))]
pub async fn renew_session(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    api.keys.authorize(&headers, Scope::SessionsCreate)?;
    let session = api.entitlement.renew_session(&id).await?;
    let mut r = axum::Json(session).into_response();
    r.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    Ok(r)
}

/// Ends a session (the viewer stopped); its token stops working on every node.
#[utoipa::path(delete, path = "/v1/playback-sessions/{id}", tag = "playback-sessions",
    params(("id" = String, Path, description = "The session id", min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$")),
    responses(
        (status = 200, description = "Ended (or already ended or revoked)", body = PlaybackSession),
        (status = 401, description = "No valid API key", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 502, description = "The edge did not take the revocation; retry", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["sessions:create"])))]
pub async fn end_session(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<axum::Json<PlaybackSession>, Problem> {
    api.keys.authorize(&headers, Scope::SessionsCreate)?;
    Ok(axum::Json(api.entitlement.end_session(&id).await?))
}

/// Cuts a session off on every edge node within a second.
#[utoipa::path(post, path = "/v1/playback-sessions/{id}/revocation", tag = "playback-sessions",
    params(("id" = String, Path, description = "The session id", min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$")),
    responses(
        (status = 200, description = "Revoked (or already revoked)", body = PlaybackSession),
        (status = 401, description = "No valid API key", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Scope missing", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such session", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 502, description = "The edge did not take the revocation; retry", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("api_key" = ["sessions:revoke"])))]
pub async fn revoke_session(
    State(api): State<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<axum::Json<PlaybackSession>, Problem> {
    api.keys.authorize(&headers, Scope::SessionsRevoke)?;
    Ok(axum::Json(api.entitlement.revoke_session(&id).await?))
}
