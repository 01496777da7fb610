//! The in-process access store: one node's revocations, sessions and single-use marks, with
//! the same rules as the Redis store (the tests run both through the same cases).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::access::config::OverLimit;
use crate::access::revocations::{Revocation, RevocationSet};
use crate::access::store::{Admission, SlotRequest};

#[derive(Default)]
pub struct MemoryStore {
    /// Sessions by account: (session, last seen ms).
    sessions: Mutex<HashMap<String, Vec<(String, u64)>>>,
    /// Used single-use token ids, until when they are remembered (seconds).
    used: Mutex<HashMap<String, u64>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl MemoryStore {
    pub fn revoke(&self, r: &Revocation, set: &Arc<RevocationSet>) {
        set.apply(std::slice::from_ref(r), r.at_ms / 1000);
    }

    pub fn admit(&self, q: SlotRequest<'_>) -> Admission {
        let mut all = lock(&self.sessions);
        // As the Redis script: a session last seen `timeout` ago or more is gone.
        all.retain(|_, s| {
            s.retain(|(_, seen)| seen.saturating_add(q.timeout_ms) > q.now_ms);
            !s.is_empty()
        });
        let sessions = all.entry(q.account.to_owned()).or_default();
        if let Some(entry) = sessions.iter_mut().find(|(s, _)| s == q.session) {
            entry.1 = q.now_ms;
            return Admission::Admitted;
        }
        let limit = q.limit as usize;
        if sessions.len() < limit {
            sessions.push((q.session.to_owned(), q.now_ms));
            return Admission::Admitted;
        }
        if q.over_limit == OverLimit::Refuse {
            return Admission::Refused;
        }
        sessions.sort_by_key(|(_, seen)| *seen);
        let evict = sessions.len() + 1 - limit;
        let evicted = sessions.drain(..evict).map(|(s, _)| s).collect();
        sessions.push((q.session.to_owned(), q.now_ms));
        Admission::Evicting(evicted)
    }

    pub fn first_use(&self, token_id: &str, until: u64) -> bool {
        let mut used = lock(&self.used);
        if used.len() > 100_000 {
            let now = until.saturating_sub(24 * 3600);
            used.retain(|_, u| *u > now);
        }
        used.insert(token_id.to_owned(), until).is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q<'a>(session: &'a str, now_ms: u64, over_limit: OverLimit) -> SlotRequest<'a> {
        SlotRequest {
            account: "acct",
            session,
            limit: 2,
            over_limit,
            now_ms,
            timeout_ms: 1_000,
        }
    }

    #[test]
    fn limit_refuses_then_frees_after_the_timeout() {
        let m = MemoryStore::default();
        assert_eq!(m.admit(q("a", 0, OverLimit::Refuse)), Admission::Admitted);
        assert_eq!(m.admit(q("b", 10, OverLimit::Refuse)), Admission::Admitted);
        assert_eq!(m.admit(q("c", 20, OverLimit::Refuse)), Admission::Refused);
        assert_eq!(m.admit(q("a", 500, OverLimit::Refuse)), Admission::Admitted);
        // b last seen at 10: gone after 1,010 ms
        assert_eq!(
            m.admit(q("c", 1_100, OverLimit::Refuse)),
            Admission::Admitted
        );
    }

    #[test]
    fn evict_oldest_names_the_evicted_session() {
        let m = MemoryStore::default();
        m.admit(q("a", 0, OverLimit::EvictOldest));
        m.admit(q("b", 10, OverLimit::EvictOldest));
        assert_eq!(
            m.admit(q("c", 20, OverLimit::EvictOldest)),
            Admission::Evicting(vec!["a".into()])
        );
    }

    #[test]
    fn a_token_id_is_used_once() {
        let m = MemoryStore::default();
        assert!(m.first_use("t", 100));
        assert!(!m.first_use("t", 100));
    }
}
