//! The sessions this node has seen, for stream limits: the first request of a session waits
//! for the shared store to admit it; later requests write a heartbeat at most once per
//! `heartbeat_seconds`, in the background, so they never wait on the store. A session that
//! stops requesting leaves this table after `session_timeout_seconds`, as it leaves the store.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// One session seen here.
pub struct SessionEntry {
    pub account: String,
    /// When the store last heard of it (ms).
    pub last_beat_ms: AtomicU64,
    /// Set when a heartbeat learnt that the session lost its slot.
    pub refused: AtomicBool,
}

pub struct SessionTable {
    sessions: moka::sync::Cache<String, Arc<SessionEntry>>,
    accounts: moka::sync::Cache<String, ()>,
}

/// What a request's session needs.
pub enum Beat {
    /// Not seen here: ask the store before serving.
    Admit,
    /// Seen, and the heartbeat is due: serve, and tell the store in the background.
    Refresh(Arc<SessionEntry>),
    /// Seen recently: nothing to do.
    Fresh,
    /// Seen, and it lost its slot.
    Refused,
}

impl SessionTable {
    pub fn new(timeout: Duration) -> SessionTable {
        SessionTable {
            sessions: moka::sync::Cache::builder()
                .max_capacity(1_000_000)
                .time_to_idle(timeout)
                .build(),
            accounts: moka::sync::Cache::builder()
                .max_capacity(1_000_000)
                .time_to_idle(timeout)
                .build(),
        }
    }

    /// What `session` needs at `now_ms`; a due heartbeat is claimed by this call, so
    /// concurrent requests of one session write it once.
    pub fn beat(&self, session: &str, now_ms: u64, heartbeat_ms: u64) -> Beat {
        let Some(entry) = self.sessions.get(session) else {
            return Beat::Admit;
        };
        if entry.refused.load(Ordering::Relaxed) {
            return Beat::Refused;
        }
        let last = entry.last_beat_ms.load(Ordering::Relaxed);
        if now_ms.saturating_sub(last) >= heartbeat_ms
            && entry
                .last_beat_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Beat::Refresh(entry);
        }
        Beat::Fresh
    }

    /// Records an admitted session.
    pub fn admitted(&self, session: &str, account: &str, now_ms: u64) {
        self.sessions.insert(
            session.to_owned(),
            Arc::new(SessionEntry {
                account: account.to_owned(),
                last_beat_ms: AtomicU64::new(now_ms),
                refused: AtomicBool::new(false),
            }),
        );
        self.accounts.insert(account.to_owned(), ());
    }

    /// (sessions, accounts) seen within the timeout.
    pub fn counts(&self) -> (u64, u64) {
        self.sessions.run_pending_tasks();
        self.accounts.run_pending_tasks();
        (self.sessions.entry_count(), self.accounts.entry_count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admit_once_then_one_heartbeat_per_interval() {
        let t = SessionTable::new(Duration::from_secs(30));
        assert!(matches!(t.beat("s", 0, 10_000), Beat::Admit));
        t.admitted("s", "a", 0);
        assert!(matches!(t.beat("s", 5_000, 10_000), Beat::Fresh));
        assert!(matches!(t.beat("s", 10_000, 10_000), Beat::Refresh(_)));
        assert!(matches!(t.beat("s", 10_001, 10_000), Beat::Fresh));
        if let Beat::Refresh(e) = t.beat("s", 20_000, 10_000) {
            e.refused.store(true, Ordering::Relaxed);
        }
        assert!(matches!(t.beat("s", 20_001, 10_000), Beat::Refused));
        assert_eq!(t.counts(), (1, 1));
    }
}
