//! The access decision for one request: find the token, verify it (once per node, then from
//! the cache), check its claims against this request, then the revocations this node knows,
//! single-use marks and the account's stream limit. The first token that passes wins; when
//! none does, the first one's reason is the answer.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use access::akamai::{self, EdgeAuthToken};
use access::cat::Replay;
use access::{Refusal, RequestFacts};
use http::request::Parts;

use crate::access::clock;
use crate::access::config::StoreUnavailable;
use crate::access::extract::{presented, query_without, Carrier, Presented};
use crate::access::revocations::{Holder, Revocation, Subject};
use crate::access::sessions::Beat;
use crate::access::store::{Admission, SlotRequest, StoreError};
use crate::access::{Access, CatEntry, VerifiedCat};
use crate::problem::{Problem, ProblemKind};

/// A verified token.
#[derive(Debug, Clone)]
pub enum Verified {
    Cat(VerifiedCat),
    Akamai(EdgeAuthToken),
}

/// Who a request is from, once its token passed.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub token: Verified,
    /// The token as presented.
    pub text: Arc<str>,
    pub carrier: Carrier,
    pub session: Option<Arc<str>>,
    pub account: Option<Arc<str>>,
    /// The CAT's id (`cti`, hex).
    pub token_id: Option<Arc<str>>,
}

impl Viewer {
    /// The CAT, when the token is one.
    pub fn cat(&self) -> Option<&access::cat::Token> {
        match &self.token {
            Verified::Cat(v) => v.as_ref().as_ref().ok().map(|e| &e.token),
            Verified::Akamai(_) => None,
        }
    }
}

/// The request as the claims see it, apart from the query and the time.
pub struct Origin<'a> {
    pub scheme: &'a str,
    pub client_ip: Option<IpAddr>,
}

/// Why a request is refused: the problem to answer with.
pub fn refusal_problem(r: &Refusal) -> Problem {
    let kind = match r {
        Refusal::Missing => ProblemKind::TokenMissing,
        Refusal::Malformed(_) | Refusal::Unsupported(_) => ProblemKind::TokenMalformed,
        Refusal::BadSignature(_) => ProblemKind::TokenSignatureInvalid,
        Refusal::Expired { .. } | Refusal::NotYetValid { .. } => ProblemKind::TokenExpired,
        Refusal::WrongParty(_) => ProblemKind::TokenWrongParty,
        Refusal::WrongUri(_) => ProblemKind::TokenUriNotAllowed,
        Refusal::WrongMethod(_) => ProblemKind::TokenMethodNotAllowed,
        Refusal::IpNotAllowed(_) | Refusal::GeoNotAllowed(_) => {
            ProblemKind::TokenLocationNotAllowed
        }
    };
    Problem::new(kind, r.to_string())
}

fn alpn(req: &Parts) -> &'static str {
    match req.version {
        http::Version::HTTP_2 => "h2",
        http::Version::HTTP_3 => "h3",
        _ => "http/1.1",
    }
}

/// The Host header split into host and port.
fn host_port<'a>(req: &'a Parts, scheme: &str) -> (Cow<'a, str>, u16) {
    let authority = req
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri.authority().map(|a| a.as_str()))
        .unwrap_or("");
    let default_port = if scheme == "https" { 443 } else { 80 };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => match p.parse() {
            Ok(port) => (h, port),
            Err(_) => (authority, default_port),
        },
        _ => (authority, default_port),
    };
    let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(host.to_ascii_lowercase())
    } else {
        Cow::Borrowed(host)
    };
    (host, port)
}

/// The client address: the configured header's first entry, else the connection's peer.
pub fn client_ip(access: &Access, req: &Parts, peer: Option<IpAddr>) -> Option<IpAddr> {
    match &access.client_ip_header {
        Some(name) => req
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok()),
        None => peer,
    }
}

fn verify_cat(access: &Access, text: &str) -> VerifiedCat {
    if let Some(hit) = access.verified.get(text) {
        return hit;
    }
    let config = &access.config;
    let verified = Arc::new(access::cat::verify(text, &access.cat_keys).map(|token| {
        let c = &token.claims;
        let arc = |s: Option<String>| s.map(Arc::from);
        CatEntry {
            text: Arc::from(text),
            session: arc(c.sid.clone().or_else(|| c.text_of(&config.session_claim))),
            account: arc(c.text_of(&config.account_claim)),
            token_id: arc(c.text_of("cti")),
            max_sessions: config
                .max_sessions_claim
                .as_deref()
                .and_then(|name| c.uint_of(name))
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            token,
        }
    }));
    // Only tokens of a plausible size are kept, so junk cannot flush the cache of good ones.
    if text.len() <= access::text::MAX_TOKEN_TEXT {
        access.verified.insert(text.to_owned(), verified.clone());
    }
    verified
}

/// Checks one presented token against the request.
fn check_one(
    access: &Access,
    req: &Parts,
    origin: &Origin<'_>,
    p: &Presented<'_>,
    now: u64,
) -> Result<Verified, Refusal> {
    let (host, port) = host_port(req, origin.scheme);
    let token_param = match &p.carrier {
        Carrier::Query(name) => Some(name.as_ref()),
        _ => None,
    };
    let query = query_without(req.uri.query(), token_param);
    let facts = RequestFacts {
        scheme: origin.scheme,
        host: &host,
        port,
        path: req.uri.path(),
        query: &query,
        method: req.method.as_str(),
        client_ip: origin.client_ip,
        country: req
            .headers
            .get(&access.country_header)
            .and_then(|v| v.to_str().ok()),
        alpn: alpn(req),
        now,
    };
    if p.akamai {
        return akamai::verify(
            &p.text,
            &access.akamai_keys,
            &facts,
            access.config.leeway_seconds,
        )
        .map(Verified::Akamai);
    }
    let verified = verify_cat(access, &p.text);
    match verified.as_ref() {
        Ok(entry) => entry.token.check(&facts, &access.policy)?,
        Err(refusal) => return Err(refusal.clone()),
    }
    Ok(Verified::Cat(verified))
}

/// Decides whether the request may be served, and who it is from.
pub async fn admit(access: &Access, req: &Parts, origin: &Origin<'_>) -> Result<Viewer, Problem> {
    match decide(access, req, origin).await {
        Ok(viewer) => {
            access.metrics.allowed.inc();
            Ok(viewer)
        }
        Err((label, problem)) => {
            access.metrics.decisions.with_label_values(&[label]).inc();
            Err(problem)
        }
    }
}

async fn decide(
    access: &Access,
    req: &Parts,
    origin: &Origin<'_>,
) -> Result<Viewer, (&'static str, Problem)> {
    let now_ms = clock::now_ms();
    let now = now_ms / 1000;
    let candidates = presented(&access.names, req);
    let mut first_refusal = None;
    let mut passed = None;
    for p in &candidates {
        match check_one(access, req, origin, p, now) {
            Ok(v) => {
                passed = Some((p, v));
                break;
            }
            Err(r) => {
                first_refusal.get_or_insert(r);
            }
        }
    }
    let Some((p, token)) = passed else {
        let r = first_refusal.unwrap_or(Refusal::Missing);
        return Err((r.label(), refusal_problem(&r)));
    };
    let viewer = identify(p, token);
    check_revocations(access, &viewer, now)?;
    check_replay(access, &viewer).await?;
    check_sessions(access, &viewer, now_ms).await?;
    Ok(viewer)
}

fn identify(p: &Presented<'_>, token: Verified) -> Viewer {
    let (text, session, account, token_id) = match &token {
        Verified::Cat(v) => match v.as_ref() {
            Ok(e) => (
                e.text.clone(),
                e.session.clone(),
                e.account.clone(),
                e.token_id.clone(),
            ),
            Err(_) => (Arc::from(p.text.as_ref()), None, None, None),
        },
        Verified::Akamai(t) => (
            Arc::from(p.text.as_ref()),
            t.id.as_deref().map(Arc::from),
            None,
            None,
        ),
    };
    Viewer {
        token,
        text,
        carrier: p.carrier.clone(),
        session,
        account,
        token_id,
    }
}

fn check_revocations(access: &Access, v: &Viewer, now: u64) -> Result<(), (&'static str, Problem)> {
    if access.revocations.is_empty() {
        return Ok(());
    }
    let holder = Holder {
        session: v.session.as_deref(),
        account: v.account.as_deref(),
        token_id: v.token_id.as_deref(),
        issued_at: v.cat().and_then(|t| t.claims.iat),
    };
    match access.revocations.find(&holder, now) {
        None => Ok(()),
        Some(r) => Err((
            "revoked",
            Problem::new(
                ProblemKind::SessionRevoked,
                format!(
                    "{} {:?} was revoked",
                    r.subject.kind().replace('_', " "),
                    r.subject.id()
                ),
            ),
        )),
    }
}

/// Applies `access.store_unavailable` to a store failure.
fn unavailable(access: &Access, what: &str, e: &StoreError) -> Result<(), (&'static str, Problem)> {
    match access.config.store_unavailable {
        StoreUnavailable::Allow => {
            tracing::warn!(error = %e, "{what} not checked: the access store is unavailable (store_unavailable = allow)");
            Ok(())
        }
        StoreUnavailable::Deny => Err((
            "store_unavailable",
            Problem::new(
                ProblemKind::AccessStoreUnavailable,
                format!("{what} cannot be checked now: {e}"),
            ),
        )),
    }
}

async fn check_replay(access: &Access, v: &Viewer) -> Result<(), (&'static str, Problem)> {
    let Some(token) = v.cat() else { return Ok(()) };
    let replay = token.claims.catreplay;
    if replay == Replay::Permitted {
        return Ok(());
    }
    let Some(id) = v.token_id.as_deref() else {
        return Err((
            "malformed",
            Problem::new(
                ProblemKind::TokenMalformed,
                "catreplay needs a token id (cti)".to_owned(),
            ),
        ));
    };
    let seen_here = access.seen_token_ids.contains_key(id);
    let first = if seen_here {
        false
    } else {
        let until = token.claims.exp.unwrap_or(0).max(clock::now_s() + 60);
        match access.store.first_use(id, until).await {
            Ok(first) => first,
            Err(e) => return unavailable(access, "single use of the token", &e),
        }
    };
    access.seen_token_ids.insert(id.to_owned(), ());
    if first {
        return Ok(());
    }
    if replay == Replay::Prohibited {
        access
            .metrics
            .token_reuse
            .with_label_values(&["refused"])
            .inc();
        return Err((
            "replayed",
            Problem::new(
                ProblemKind::TokenReplayed,
                "this token may be used once, and it was".to_owned(),
            ),
        ));
    }
    if !seen_here {
        access
            .metrics
            .token_reuse
            .with_label_values(&["detected"])
            .inc();
        tracing::warn!(token_id = %id, "a reuse-detected token (catreplay 2) is used again");
    }
    Ok(())
}

async fn check_sessions(
    access: &Access,
    v: &Viewer,
    now_ms: u64,
) -> Result<(), (&'static str, Problem)> {
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
    store: &crate::access::store::Store,
    revocations: &Arc<crate::access::revocations::RevocationSet>,
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

fn limit_reached(account: &str, limit: u32) -> (&'static str, Problem) {
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
