//! The per-account stream limit, across every node: a session's first request here asks the
//! shared store for a slot; later requests refresh it in the background at most once per
//! heartbeat; a session over the limit is refused, or the oldest is cut off everywhere.

use std::sync::Arc;

use crate::access::denied::{unavailable, Denied};
use crate::access::revocations::{Revocation, RevocationSet, Subject};
use crate::access::sessions::Beat;
use crate::access::store::{Admission, SlotRequest, Store};
use crate::access::viewer::{Verified, Viewer};
use crate::access::Access;
use crate::problem::{Problem, ProblemKind};

/// Admits or refreshes the viewer's session under its account's limit.
pub async fn check(access: &Access, v: &Viewer, now_ms: u64) -> Result<(), Denied> {
    let stated = match &v.token {
        Verified::Cat(entry) => entry.as_ref().as_ref().ok().and_then(|e| e.max_sessions),
        Verified::Akamai(_) => None,
    };
    let limit = stated.unwrap_or(access.config.max_sessions_per_account);
    let (Some(session), Some(account)) = (&v.session, &v.account) else {
        return Ok(());
    };
    if limit == 0 {
        return Ok(());
    }
    let heartbeat_ms = access.config.heartbeat_seconds * 1000;
    let slot = SlotRequest {
        account,
        session,
        limit,
        over_limit: access.config.over_limit,
        now_ms,
        timeout_ms: access.config.session_timeout_seconds * 1000,
    };
    match access.sessions.beat(session, now_ms, heartbeat_ms) {
        Beat::Fresh => Ok(()),
        Beat::Refused => Err(limit_reached(account, limit)),
        Beat::Refresh(entry) => {
            let store = access.store.clone();
            let revocations = access.revocations.clone();
            let (account, session) = (account.clone(), session.clone());
            let ttl = access.config.revocation_ttl_seconds;
            let (over_limit, timeout_ms) = (slot.over_limit, slot.timeout_ms);
            tokio::spawn(async move {
                let slot = SlotRequest {
                    account: &account,
                    session: &session,
                    limit,
                    over_limit,
                    now_ms,
                    timeout_ms,
                };
                match store.admit(slot).await {
                    Ok(Admission::Admitted) => {}
                    Ok(Admission::Refused) => entry
                        .refused
                        .store(true, std::sync::atomic::Ordering::Relaxed),
                    Ok(Admission::Evicting(evicted)) => {
                        evict(&store, &revocations, &evicted, now_ms, ttl).await
                    }
                    Err(e) => tracing::debug!(error = %e, "heartbeat not written"),
                }
            });
            Ok(())
        }
        Beat::Admit => match access.store.admit(slot).await {
            Ok(Admission::Admitted) => {
                access.sessions.admitted(session, account, now_ms);
                publish_counts(access);
                Ok(())
            }
            Ok(Admission::Refused) => Err(limit_reached(account, limit)),
            Ok(Admission::Evicting(evicted)) => {
                access.sessions.admitted(session, account, now_ms);
                evict(
                    &access.store,
                    &access.revocations,
                    &evicted,
                    now_ms,
                    access.config.revocation_ttl_seconds,
                )
                .await;
                publish_counts(access);
                Ok(())
            }
            Err(e) => {
                unavailable(access, "the stream limit", &e)?;
                // Allowed without the store: remember the session so the next request does
                // not wait on the store again before its heartbeat is due.
                access.sessions.admitted(session, account, now_ms);
                Ok(())
            }
        },
    }
}

fn publish_counts(access: &Access) {
    let (sessions, accounts) = access.sessions.counts();
    access.metrics.sessions_active.set(sessions as i64);
    access.metrics.accounts_active.set(accounts as i64);
}

/// Cuts evicted sessions off on every node.
async fn evict(
    store: &Store,
    revocations: &Arc<RevocationSet>,
    evicted: &[String],
    now_ms: u64,
    ttl: u64,
) {
    for s in evicted {
        let r = Revocation {
            subject: Subject::Session(s.clone()),
            at_ms: now_ms,
            until: now_ms / 1000 + ttl,
        };
        if let Err(e) = store.revoke(&r, revocations).await {
            tracing::warn!(error = %e, session = %s, "an evicted session could not be revoked everywhere");
            revocations.apply(std::slice::from_ref(&r), now_ms / 1000);
        }
    }
}

fn limit_reached(account: &str, limit: u32) -> Denied {
    (
        "stream_limit",
        Problem::new(
            ProblemKind::StreamLimitReached,
            format!(
                "account {:?} already plays {limit} stream{} at once",
                account.chars().take(64).collect::<String>(),
                if limit == 1 { "" } else { "s" }
            ),
        ),
    )
}
