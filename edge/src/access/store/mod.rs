//! The shared access store: where revocations, stream-limit sessions and single-use token
//! marks live so that every node sees them. Redis ([`redis`]) for a fleet; an in-process
//! store ([`memory`]) with the same behaviour for a single node and the demo.
//!
//! Revocations reach requests through the node's in-memory [`RevocationSet`]: the Redis store
//! follows a stream into it, the in-process store writes it directly. So a request never waits
//! on the store to learn of a revocation; it waits only to admit a new session (once per
//! session per node) and to mark a single-use token used.

pub mod memory;
pub mod redis;

use std::sync::Arc;

use crate::access::config::OverLimit;
use crate::access::revocations::{Revocation, RevocationSet};

/// Why the store could not answer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("access store: {0}")]
pub struct StoreError(pub String);

/// The answer to a session asking for a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// The session holds a slot (new or refreshed).
    Admitted,
    /// The account is at its limit and the policy refuses.
    Refused,
    /// Admitted by evicting these sessions (the least recently seen).
    Evicting(Vec<String>),
}

/// One stream-limit question.
#[derive(Debug, Clone, Copy)]
pub struct SlotRequest<'a> {
    pub account: &'a str,
    pub session: &'a str,
    pub limit: u32,
    pub over_limit: OverLimit,
    pub now_ms: u64,
    pub timeout_ms: u64,
}

/// The store in use.
pub enum Store {
    Memory(memory::MemoryStore),
    Redis(Arc<redis::RedisStore>),
}

impl Store {
    /// `memory` or `redis`, for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Store::Memory(_) => "memory",
            Store::Redis(_) => "redis",
        }
    }

    /// Records a revocation for every node (this one included).
    pub async fn revoke(&self, r: &Revocation, set: &Arc<RevocationSet>) -> Result<(), StoreError> {
        match self {
            Store::Memory(m) => {
                m.revoke(r, set);
                Ok(())
            }
            Store::Redis(s) => {
                // This node knows at once (no round trip through the stream), even when the
                // store cannot be reached.
                set.apply(std::slice::from_ref(r), r.at_ms / 1000);
                s.revoke(r).await
            }
        }
    }

    /// Admits or refreshes a session under its account's limit.
    pub async fn admit(&self, q: SlotRequest<'_>) -> Result<Admission, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.admit(q)),
            Store::Redis(s) => s.admit(q).await,
        }
    }

    /// Marks a token id used; `true` when this is its first use.
    pub async fn first_use(&self, token_id: &str, until: u64) -> Result<bool, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.first_use(token_id, until)),
            Store::Redis(s) => s.first_use(token_id, until).await,
        }
    }
}
