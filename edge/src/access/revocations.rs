//! The revocations a node knows, held in memory so a request never waits on the network to
//! learn whether its session was cut off. Lookups are lock-free (an immutable snapshot behind
//! an `ArcSwap`); revocations are rare and arrive in batches, which replace the snapshot.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};

/// What a revocation names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// One viewing session (its session id).
    Session(String),
    /// Every session of an account whose token was issued before the revocation.
    Account(String),
    /// One token (its `cti`, hex).
    TokenId(String),
}

impl Subject {
    /// `session`, `account` or `token_id`: the kind, as in the API and the store.
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::Session(_) => "session",
            Subject::Account(_) => "account",
            Subject::TokenId(_) => "token_id",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Subject::Session(s) | Subject::Account(s) | Subject::TokenId(s) => s,
        }
    }

    pub fn from_parts(kind: &str, id: &str) -> Option<Subject> {
        let id = id.to_owned();
        match kind {
            "session" => Some(Subject::Session(id)),
            "account" => Some(Subject::Account(id)),
            "token_id" => Some(Subject::TokenId(id)),
            _ => None,
        }
    }
}

/// One revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub subject: Subject,
    /// When it was made (Unix milliseconds), at the node that took the call.
    pub at_ms: u64,
    /// Until when it holds (Unix seconds).
    pub until: u64,
}

#[derive(Debug, Default, Clone)]
struct Snapshot {
    sessions: HashMap<String, Revocation>,
    accounts: HashMap<String, Revocation>,
    tokens: HashMap<String, Revocation>,
}

impl Snapshot {
    fn map(&mut self, s: &Subject) -> &mut HashMap<String, Revocation> {
        match s {
            Subject::Session(_) => &mut self.sessions,
            Subject::Account(_) => &mut self.accounts,
            Subject::TokenId(_) => &mut self.tokens,
        }
    }
}

/// The set of revocations in force on this node.
#[derive(Default)]
pub struct RevocationSet {
    current: ArcSwap<Snapshot>,
    writer: Mutex<()>,
}

/// What a request is checked against.
pub struct Holder<'a> {
    pub session: Option<&'a str>,
    pub account: Option<&'a str>,
    pub token_id: Option<&'a str>,
    /// When the token was issued (seconds), for account revocations.
    pub issued_at: Option<u64>,
}

impl RevocationSet {
    /// Adds revocations (dropping the ones that have ended). Returns how many were new.
    pub fn apply(&self, batch: &[Revocation], now: u64) -> usize {
        let _guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = Snapshot::clone(&self.current.load());
        for m in [&mut next.sessions, &mut next.accounts, &mut next.tokens] {
            m.retain(|_, r| r.until > now);
        }
        let mut added = 0;
        for r in batch.iter().filter(|r| r.until > now) {
            let map = next.map(&r.subject);
            let newer = map
                .get(r.subject.id())
                .is_none_or(|old| old.at_ms < r.at_ms || old.until < r.until);
            if newer {
                map.insert(r.subject.id().to_owned(), r.clone());
                added += 1;
            }
        }
        self.current.store(Arc::new(next));
        added
    }

    /// The revocation that refuses `holder` at `now`, if any.
    pub fn find(&self, holder: &Holder<'_>, now: u64) -> Option<Revocation> {
        let snap = self.current.load();
        let live = |r: &&Revocation| r.until > now;
        if let Some(r) = holder
            .session
            .and_then(|s| snap.sessions.get(s))
            .filter(live)
        {
            return Some(r.clone());
        }
        if let Some(r) = holder
            .token_id
            .and_then(|s| snap.tokens.get(s))
            .filter(live)
        {
            return Some(r.clone());
        }
        if let Some(r) = holder
            .account
            .and_then(|s| snap.accounts.get(s))
            .filter(live)
        {
            // Tokens issued after the revocation (a new login) are not affected.
            let issued_ms = holder.issued_at.map(|s| s.saturating_mul(1000));
            if issued_ms.is_none_or(|i| i < r.at_ms) {
                return Some(r.clone());
            }
        }
        None
    }

    pub fn len(&self) -> usize {
        let s = self.current.load();
        s.sessions.len() + s.accounts.len() + s.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(subject: Subject, at_ms: u64, until: u64) -> Revocation {
        Revocation {
            subject,
            at_ms,
            until,
        }
    }

    fn holder<'a>(session: &'a str, account: &'a str, iat: Option<u64>) -> Holder<'a> {
        Holder {
            session: Some(session),
            account: Some(account),
            token_id: Some("c0ffee"),
            issued_at: iat,
        }
    }

    #[test]
    fn sessions_tokens_and_accounts_are_refused_until_the_revocation_ends() {
        let set = RevocationSet::default();
        set.apply(&[rev(Subject::Session("s1".into()), 1_000, 100)], 0);
        assert!(set.find(&holder("s1", "a", None), 50).is_some());
        assert!(set.find(&holder("s2", "a", None), 50).is_none());
        assert!(set.find(&holder("s1", "a", None), 100).is_none());
        set.apply(&[rev(Subject::TokenId("c0ffee".into()), 1_000, 100)], 0);
        assert!(set.find(&holder("s2", "a", None), 50).is_some());
    }

    #[test]
    fn an_account_revocation_spares_tokens_issued_after_it() {
        let set = RevocationSet::default();
        set.apply(&[rev(Subject::Account("alice".into()), 10_000, 100)], 0);
        let mut h = holder("s", "alice", Some(9));
        h.token_id = None;
        assert!(set.find(&h, 20).is_some());
        h.issued_at = None;
        assert!(set.find(&h, 20).is_some());
        h.issued_at = Some(11);
        assert!(set.find(&h, 20).is_none());
    }

    #[test]
    fn ended_revocations_are_dropped_on_the_next_batch() {
        let set = RevocationSet::default();
        set.apply(&[rev(Subject::Session("old".into()), 1, 10)], 0);
        assert_eq!(set.len(), 1);
        set.apply(&[rev(Subject::Session("new".into()), 2, 100)], 20);
        assert_eq!(set.len(), 1);
    }
}
