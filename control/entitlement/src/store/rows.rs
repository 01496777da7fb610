//! The rows of the entitlement tables: reading grants and sessions out of them, binding a
//! new session into one, and the checks of ids and fields before a query is made.

use std::collections::BTreeMap;

use control_common::db::{corrupt, unavailable};
use control_common::ids;
use control_common::{Problem, ProblemType};
use sqlx::Row;

use crate::model::{Grant, GrantInput, PlaybackSession, SessionState};

pub(super) fn field(what: &str, value: &str, max: usize) -> Result<(), Problem> {
    if value.is_empty() || value.len() > max || value.chars().any(char::is_control) {
        return Err(Problem::bad_request(format!(
            "{what}: 1 to {max} printable characters"
        )));
    }
    Ok(())
}

pub(super) fn id_of(what: &str, id: &str) -> Result<(), Problem> {
    if !ids::valid_id(id) {
        return Err(Problem::bad_request(format!(
            "{what} {id:?}: 1 to 128 characters of A-Z a-z 0-9 . _ - :, not starting with a dot"
        )));
    }
    Ok(())
}

/// An id that is looked up: one no resource can have is not found (404).
pub(super) fn known(what: &str, id: &str) -> Result<(), Problem> {
    if !ids::valid_id(id) {
        return Err(Problem::not_found(what, id));
    }
    Ok(())
}

pub(super) fn grant_of(row: &sqlx::any::AnyRow) -> Result<Grant, Problem> {
    let id: String = row.try_get("id").map_err(unavailable)?;
    let body: String = row.try_get("body").map_err(unavailable)?;
    let input: GrantInput = serde_json::from_str(&body).map_err(|e| corrupt("grant", &id, e))?;
    Ok(Grant::new(
        id,
        input,
        row.try_get("revision").map_err(unavailable)?,
        row.try_get("updated_at").map_err(unavailable)?,
    ))
}

pub(super) fn session_of(row: &sqlx::any::AnyRow) -> Result<PlaybackSession, Problem> {
    let id: String = row.try_get("id").map_err(unavailable)?;
    let state: String = row.try_get("state").map_err(unavailable)?;
    let max_streams: i64 = row.try_get("max_streams").map_err(unavailable)?;
    Ok(PlaybackSession {
        state: SessionState::parse(&state).ok_or_else(|| {
            Problem::new(
                ProblemType::Internal,
                format!("session {id:?} has the unknown state {state:?}"),
            )
        })?,
        account: row.try_get("account").map_err(unavailable)?,
        device: row.try_get("device").map_err(unavailable)?,
        asset: row.try_get("asset").map_err(unavailable)?,
        product: row.try_get("product").map_err(unavailable)?,
        max_streams: u32::try_from(max_streams).unwrap_or(0),
        created_at: row.try_get("created_at").map_err(unavailable)?,
        expires_at: row.try_get("expires_at").map_err(unavailable)?,
        id,
        token: None,
        manifests: None,
        license_urls: BTreeMap::new(),
    })
}

pub(super) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// The values of a new session's row, in `SESSION_COLUMNS` order.
pub(super) fn bind_session<'q>(q: AnyQuery<'q>, s: &PlaybackSession) -> AnyQuery<'q> {
    q.bind(s.id.clone())
        .bind(s.account.clone())
        .bind(s.device.clone())
        .bind(s.asset.clone())
        .bind(s.product.clone())
        .bind(i64::from(s.max_streams))
        .bind(s.state.as_str())
        .bind(s.created_at)
        .bind(s.expires_at)
}

pub(super) const SESSION_COLUMNS: &str =
    "id, account, device, asset, product, max_streams, state, created_at, expires_at";
