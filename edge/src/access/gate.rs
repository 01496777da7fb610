//! The access decision for one request: find the token, verify it (once per node, then from
//! the cache), check its claims against this request, then the revocations this node knows,
//! single-use marks and the account's stream limit. The first token that passes wins; when
//! none does, the first one's reason is the answer.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use access::akamai;
use access::{Refusal, RequestFacts};
use http::request::Parts;

use crate::access::clock;
use crate::access::denied::{refusal_problem, Denied};
use crate::access::extract::{presented, query_without, Carrier, Presented};
use crate::access::revocations::Holder;
pub use crate::access::viewer::{Verified, Viewer};
use crate::access::{replay, stream_limit};
use crate::access::{Access, CatEntry, VerifiedCat};
use crate::problem::{Problem, ProblemKind};

/// The request as the claims see it, apart from the query and the time.
pub struct Origin<'a> {
    pub scheme: &'a str,
    pub client_ip: Option<IpAddr>,
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

async fn decide(access: &Access, req: &Parts, origin: &Origin<'_>) -> Result<Viewer, Denied> {
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
    replay::check(access, &viewer).await?;
    stream_limit::check(access, &viewer, now_ms).await?;
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

fn check_revocations(access: &Access, v: &Viewer, now: u64) -> Result<(), Denied> {
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
