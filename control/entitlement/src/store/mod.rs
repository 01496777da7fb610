//! The embedded entitlement service: grants and sessions on SQL, the decision of
//! [`crate::decide`], tokens from [`crate::tokens`], revocations through a
//! [`crate::revoke::Revoker`]. The catalog is reached through its contract only.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use catalog::cached::CachedCatalog;
use catalog::Catalog;
use control_common::db::{corrupt, page_rows, unavailable, Db};
use control_common::events::{CloudEvent, Events};
use control_common::ids;
use control_common::page::{Page, PageQuery};
use control_common::{clock, Problem, ProblemType};
use sqlx::Row;

use crate::config::EntitlementConfig;
use crate::contract::{Entitlement, Put};
use crate::decide::{decide, Decision, Facts};
use crate::model::{Grant, GrantInput, PlaybackRequest, PlaybackSession, SessionState};
use crate::revoke::Revoker;
use crate::tokens::Minter;

mod issue;
mod rows;

use rows::{bind_session, field, grant_of, id_of, known, session_of, SESSION_COLUMNS};

/// The `source` of entitlement events.
pub const EVENT_SOURCE: &str = "/edgepack/entitlement";

/// Most grants one account may hold (the decision reads them all).
const MAX_GRANTS_PER_ACCOUNT: i64 = 1000;
/// Idempotency keys are kept this long, seconds.
const IDEMPOTENCY_SECONDS: i64 = 24 * 3600;

pub struct SqlEntitlement {
    db: Db,
    catalog: Arc<dyn Catalog>,
    minter: Minter,
    config: EntitlementConfig,
    revoker: Arc<dyn Revoker>,
    events: Events,
}

impl SqlEntitlement {
    /// Ends active session `id` of `account`, publishing `playback.session.ended` with `data`
    /// when it was active.
    async fn end(&self, id: &str, account: &str, data: serde_json::Value) -> Result<(), Problem> {
        if self
            .set_state(id, SessionState::Active, SessionState::Ended)
            .await?
        {
            self.publish("playback.session.ended", id, account, data);
        }
        Ok(())
    }

    /// A page of the rows of `table` (`columns` of each, made into items by `of`), of
    /// `account` when one is given, keyed for the next page by `id`.
    async fn account_page<T>(
        &self,
        columns: &str,
        table: &str,
        account: Option<&str>,
        page: &PageQuery,
        of: fn(&sqlx::any::AnyRow) -> Result<T, Problem>,
        id: impl Fn(&T) -> String,
    ) -> Result<Page<T>, Problem> {
        let limit = page.limit()?;
        if let Some(a) = account {
            id_of("account", a)?;
        }
        let only = account.map(|a| ("account", a));
        let rows = page_rows(&self.db, columns, table, only, page).await?;
        let items = rows.iter().map(of).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_fetched(items, limit, id))
    }

    pub fn new(
        db: Db,
        catalog: Arc<dyn Catalog>,
        config: EntitlementConfig,
        revoker: Arc<dyn Revoker>,
        events: Events,
    ) -> Result<SqlEntitlement, String> {
        config.validate()?;
        let minter = Minter::new(&config).map_err(|e| e.to_string())?;
        // Every decision reads an asset and its products: from memory, for a few seconds.
        let catalog: Arc<dyn Catalog> = match config.catalog_cache_seconds {
            0 => catalog,
            s => Arc::new(CachedCatalog::new(catalog, Duration::from_secs(s))),
        };
        Ok(SqlEntitlement {
            db,
            catalog,
            minter,
            config,
            revoker,
            events,
        })
    }

    fn publish(&self, kind: &str, subject: &str, account: &str, data: serde_json::Value) {
        self.events.publish(CloudEvent::new(
            EVENT_SOURCE,
            &format!("dev.edgepack.{kind}.v1"),
            subject,
            account,
            data,
        ));
    }

    async fn grants_of(&self, account: &str) -> Result<Vec<Grant>, Problem> {
        let rows = sqlx::query(
            "SELECT id, body, revision, updated_at FROM entitlement_grants \
             WHERE account = $1 ORDER BY id LIMIT $2",
        )
        .bind(account)
        .bind(MAX_GRANTS_PER_ACCOUNT)
        .fetch_all(&self.db.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(grant_of).collect()
    }

    /// Runs the decision for `account` on `asset` at `now`.
    async fn decision(
        &self,
        account: &str,
        asset_id: &str,
        country: Option<&str>,
        now: i64,
    ) -> Result<(Decision, Vec<String>), Problem> {
        let asset = match self.catalog.get_asset(asset_id).await {
            Ok(a) => Some(a),
            Err(p) if p.kind == ProblemType::NotFound => None,
            Err(p) => return Err(upstream("catalog", p)),
        };
        let grants = self.grants_of(account).await?;
        // The stream limits of the products that could allow it, asked once each.
        let mut limits: BTreeMap<String, Option<u32>> = BTreeMap::new();
        if let Some(a) = &asset {
            for g in grants.iter().filter(|g| g.holds_at(now)) {
                let p = &g.product;
                if a.products.contains(p) && !limits.contains_key(p) {
                    let limit = match self.catalog.get_product(p).await {
                        Ok(product) => Some(product.max_streams),
                        Err(e) if e.kind == ProblemType::NotFound => None,
                        Err(e) => return Err(upstream("catalog", e)),
                    };
                    limits.insert(p.clone(), limit);
                }
            }
        }
        let lookup = |p: &str| limits.get(p).copied().flatten();
        let d = decide(&Facts {
            asset_id,
            asset: asset.as_ref(),
            grants: &grants,
            max_streams: &lookup,
            country,
            now,
        });
        let territories = asset.map(|a| a.territories).unwrap_or_default();
        Ok((d, territories))
    }

    async fn set_state(
        &self,
        id: &str,
        from: SessionState,
        to: SessionState,
    ) -> Result<bool, Problem> {
        let r =
            sqlx::query("UPDATE entitlement_sessions SET state = $1 WHERE id = $2 AND state = $3")
                .bind(to.as_str())
                .bind(id)
                .bind(from.as_str())
                .execute(&self.db.pool)
                .await
                .map_err(unavailable)?;
        Ok(r.rows_affected() > 0)
    }

    async fn tell_edge(&self, id: &str) -> Result<(), Problem> {
        let until = clock::now() + i64::try_from(self.config.revocation_seconds).unwrap_or(86_400);
        self.revoker.revoke_session(id, until).await.map_err(|e| {
            Problem::new(
                ProblemType::UpstreamFailed,
                format!("the edge did not take the revocation (retry): {e}"),
            )
        })
    }

    async fn session_row(&self, id: &str) -> Result<PlaybackSession, Problem> {
        known("playback session", id)?;
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM entitlement_sessions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| Problem::not_found("playback session", id))?;
        session_of(&row)
    }
}

fn upstream(what: &str, p: Problem) -> Problem {
    match p.kind {
        ProblemType::UpstreamFailed | ProblemType::DatabaseUnavailable => Problem::new(
            ProblemType::UpstreamFailed,
            format!("the {what} did not answer: {}", p.detail),
        ),
        _ => Problem::new(
            ProblemType::UpstreamFailed,
            format!("the {what} answered {}: {}", p.kind.slug(), p.detail),
        ),
    }
}

fn denied(reasons: Vec<control_common::problem::Reason>) -> Problem {
    let summary = reasons
        .iter()
        .map(|r| r.detail.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    Problem::new(ProblemType::PlaybackDenied, summary).with_reasons(reasons)
}

#[async_trait::async_trait]
impl Entitlement for SqlEntitlement {
    async fn put_grant(&self, id: &str, input: GrantInput) -> Result<Put<Grant>, Problem> {
        id_of("grant", id)?;
        id_of("account", &input.account)?;
        id_of("product", &input.product)?;
        field("source", &input.source, 128)?;
        if let (Some(s), Some(e)) = (input.starts_at, input.ends_at) {
            if e <= s {
                return Err(Problem::bad_request("ends_at must be after starts_at"));
            }
        }
        match self.catalog.get_product(&input.product).await {
            Ok(_) => {}
            Err(p) if p.kind == ProblemType::NotFound => {
                return Err(Problem::new(
                    ProblemType::ReferenceUnknown,
                    format!("product: the catalog has no product {:?}", input.product),
                ))
            }
            Err(p) => return Err(upstream("catalog", p)),
        }
        let body = serde_json::to_string(&input)
            .map_err(|e| Problem::new(ProblemType::Internal, e.to_string()))?;
        let now = clock::now();
        let before = self.get_grant(id).await.ok();
        let row = sqlx::query(
            "INSERT INTO entitlement_grants (id, account, product, body, revision, updated_at) \
             VALUES ($1, $2, $3, $4, 1, $5) \
             ON CONFLICT (id) DO UPDATE SET account = excluded.account, \
             product = excluded.product, body = excluded.body, \
             revision = entitlement_grants.revision + 1, updated_at = excluded.updated_at \
             WHERE entitlement_grants.body <> excluded.body RETURNING revision",
        )
        .bind(id)
        .bind(input.account.as_str())
        .bind(input.product.as_str())
        .bind(body.as_str())
        .bind(now)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(unavailable)?;
        let grant = self.get_grant(id).await?;
        let created = grant.revision == 1 && before.is_none();
        if row.is_some() {
            let data = serde_json::to_value(&grant).unwrap_or_default();
            let kind = if created {
                "entitlement.granted"
            } else {
                "entitlement.changed"
            };
            self.publish(kind, id, &grant.account, data);
        }
        Ok(Put {
            value: grant,
            created,
        })
    }

    async fn get_grant(&self, id: &str) -> Result<Grant, Problem> {
        known("grant", id)?;
        let row = sqlx::query(
            "SELECT id, body, revision, updated_at FROM entitlement_grants WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| Problem::not_found("grant", id))?;
        grant_of(&row)
    }

    async fn list_grants(
        &self,
        account: Option<&str>,
        page: &PageQuery,
    ) -> Result<Page<Grant>, Problem> {
        self.account_page(
            "id, body, revision, updated_at",
            "entitlement_grants",
            account,
            page,
            grant_of,
            |g| g.id.clone(),
        )
        .await
    }

    async fn delete_grant(&self, id: &str) -> Result<(), Problem> {
        let grant = self.get_grant(id).await?;
        let r = sqlx::query("DELETE FROM entitlement_grants WHERE id = $1")
            .bind(id)
            .execute(&self.db.pool)
            .await
            .map_err(unavailable)?;
        if r.rows_affected() > 0 {
            let data = serde_json::to_value(&grant).unwrap_or_default();
            self.publish("entitlement.withdrawn", id, &grant.account, data);
        }
        Ok(())
    }

    async fn create_session(
        &self,
        request: PlaybackRequest,
        idempotency_key: Option<&str>,
    ) -> Result<PlaybackSession, Problem> {
        id_of("account", &request.account)?;
        id_of("asset", &request.asset)?;
        field("device", &request.device, 128)?;
        if let Some(c) = &request.country {
            if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(Problem::bad_request(format!(
                    "country {c:?}: an ISO 3166-1 alpha-2 code"
                )));
            }
        }
        let request_text = serde_json::to_string(&request)
            .map_err(|e| Problem::new(ProblemType::Internal, e.to_string()))?;
        if let Some(key) = idempotency_key {
            field("Idempotency-Key", key, 255)?;
            let row = sqlx::query(
                "SELECT request, response FROM entitlement_idempotency \
                 WHERE key = $1 AND created_at > $2",
            )
            .bind(key)
            .bind(clock::now() - IDEMPOTENCY_SECONDS)
            .fetch_optional(&self.db.pool)
            .await
            .map_err(unavailable)?;
            if let Some(row) = row {
                let earlier: String = row.try_get("request").map_err(unavailable)?;
                if earlier != request_text {
                    return Err(Problem::new(
                        ProblemType::IdempotencyConflict,
                        "this Idempotency-Key came earlier with another request",
                    ));
                }
                let response: String = row.try_get("response").map_err(unavailable)?;
                return serde_json::from_str(&response)
                    .map_err(|e| corrupt("idempotent answer", key, e));
            }
        }
        let now = clock::now();
        let country = request.country.as_deref().map(str::to_ascii_uppercase);
        let (decision, territories) = self
            .decision(&request.account, &request.asset, country.as_deref(), now)
            .await?;
        let (product, max_streams) = match decision {
            Decision::Allowed {
                product,
                max_streams,
            } => (product, max_streams),
            Decision::Denied(reasons) => return Err(denied(reasons)),
        };
        let mut session = PlaybackSession {
            id: ids::random_hex(16),
            account: request.account.clone(),
            device: request.device.clone(),
            asset: request.asset.clone(),
            product,
            max_streams,
            state: SessionState::Active,
            created_at: now,
            expires_at: now,
            token: None,
            manifests: None,
            license_urls: BTreeMap::new(),
        };
        self.issue(&mut session, &territories, now)?;
        let insert = format!(
            "INSERT INTO entitlement_sessions ({SESSION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        match idempotency_key {
            // One statement: no transaction to open and close (the common case).
            None => {
                bind_session(sqlx::query(&insert), &session)
                    .execute(&self.db.pool)
                    .await
                    .map_err(unavailable)?;
            }
            Some(key) => {
                let mut tx = self.db.pool.begin().await.map_err(unavailable)?;
                bind_session(sqlx::query(&insert), &session)
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                let response = serde_json::to_string(&session)
                    .map_err(|e| Problem::new(ProblemType::Internal, e.to_string()))?;
                sqlx::query("DELETE FROM entitlement_idempotency WHERE created_at <= $1")
                    .bind(now - IDEMPOTENCY_SECONDS)
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                let inserted = sqlx::query(
                    "INSERT INTO entitlement_idempotency (key, request, response, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING",
                )
                .bind(key)
                .bind(request_text.as_str())
                .bind(response.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
                if inserted.rows_affected() == 0 {
                    // A concurrent request with the same key won: answer as it did.
                    drop(tx);
                    return Box::pin(self.create_session(request, Some(key))).await;
                }
                tx.commit().await.map_err(unavailable)?;
            }
        }
        self.publish(
            "playback.session.started",
            &session.id,
            &session.account,
            serde_json::json!({
                "session": session.id, "account": session.account, "device": session.device,
                "asset": session.asset, "product": session.product,
                "max_streams": session.max_streams,
            }),
        );
        Ok(session)
    }

    async fn get_session(&self, id: &str) -> Result<PlaybackSession, Problem> {
        self.session_row(id).await
    }

    async fn list_sessions(
        &self,
        account: Option<&str>,
        page: &PageQuery,
    ) -> Result<Page<PlaybackSession>, Problem> {
        self.account_page(
            SESSION_COLUMNS,
            "entitlement_sessions",
            account,
            page,
            session_of,
            |s| s.id.clone(),
        )
        .await
    }

    async fn renew_session(&self, id: &str) -> Result<PlaybackSession, Problem> {
        let mut session = self.session_row(id).await?;
        if session.state != SessionState::Active {
            return Err(Problem::new(
                ProblemType::SessionNotActive,
                format!("the session is {}", session.state.as_str()),
            ));
        }
        let now = clock::now();
        let (decision, territories) = self
            .decision(&session.account, &session.asset, None, now)
            .await?;
        // The country is not known at renewal; the token keeps the territories, so the
        // edge goes on checking the viewer's country on every request.
        let reasons = match decision {
            Decision::Allowed {
                product,
                max_streams,
            } => {
                session.product = product;
                session.max_streams = max_streams;
                None
            }
            Decision::Denied(reasons) => {
                let only_territory = reasons
                    .iter()
                    .all(|r| r.type_uri.ends_with(crate::decide::TERRITORY_NOT_ALLOWED));
                if only_territory {
                    None
                } else {
                    Some(reasons)
                }
            }
        };
        if let Some(reasons) = reasons {
            self.end(
                id,
                &session.account,
                serde_json::json!({"session": id, "why": "no longer entitled", "reasons": reasons}),
            )
            .await?;
            self.tell_edge(id).await?;
            return Err(denied(reasons));
        }
        self.issue(&mut session, &territories, now)?;
        sqlx::query(
            "UPDATE entitlement_sessions SET expires_at = $1, product = $2, max_streams = $3 \
             WHERE id = $4",
        )
        .bind(session.expires_at)
        .bind(session.product.as_str())
        .bind(i64::from(session.max_streams))
        .bind(id)
        .execute(&self.db.pool)
        .await
        .map_err(unavailable)?;
        self.publish(
            "playback.session.renewed",
            id,
            &session.account,
            serde_json::json!({"session": id, "expires_at": session.expires_at}),
        );
        Ok(session)
    }

    async fn end_session(&self, id: &str) -> Result<PlaybackSession, Problem> {
        let session = self.session_row(id).await?;
        self.end(
            id,
            &session.account,
            serde_json::json!({"session": id, "why": "ended by the caller"}),
        )
        .await?;
        // Always told again: a retry after a failed call must reach the edge.
        if session.state != SessionState::Revoked {
            self.tell_edge(id).await?;
        }
        self.session_row(id).await
    }

    async fn revoke_session(&self, id: &str) -> Result<PlaybackSession, Problem> {
        let session = self.session_row(id).await?;
        let mut changed = false;
        for from in [SessionState::Active, SessionState::Ended] {
            changed |= self.set_state(id, from, SessionState::Revoked).await?;
        }
        if changed {
            self.publish(
                "playback.session.revoked",
                id,
                &session.account,
                serde_json::json!({"session": id}),
            );
        }
        // Told on every call: a retry after a failed call must reach the edge.
        self.tell_edge(id).await?;
        self.session_row(id).await
    }
}
