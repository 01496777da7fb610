//! The running daemon: the [`AppState`] in force, swapped whole on reload, and whether the
//! daemon is draining. Requests take the current state when they start and keep it to the
//! end; a reload (SIGHUP) swaps in a new one atomically, so nothing in flight sees a
//! half-applied configuration and no connection is dropped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::config::Config;
use crate::state::{AppState, StateError};

/// The running daemon's state in force, replaceable while it serves.
pub struct Daemon {
    current: ArcSwap<AppState>,
    draining: AtomicBool,
}

impl Daemon {
    /// Sets up the first state from `config`.
    pub fn new(config: Config) -> Result<Arc<Self>, StateError> {
        Ok(Self::from_state(AppState::new(config)?))
    }

    /// Wraps an already built state.
    pub fn from_state(state: Arc<AppState>) -> Arc<Self> {
        Arc::new(Daemon {
            current: ArcSwap::new(state),
            draining: AtomicBool::new(false),
        })
    }

    /// The state in force now.
    pub fn current(&self) -> Arc<AppState> {
        self.current.load_full()
    }

    /// Marks the daemon as draining: `/readyz` answers 503 from now on, so that load
    /// balancers stop sending new requests while the in-flight ones finish.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Puts `config` in force. The metrics carry over, and so do the caches when the
    /// settings they depend on are unchanged. On error the old state stays in force.
    /// The listen address, TLS and HTTP/3 settings need a restart; a change to them is
    /// refused so that the configuration in force never differs from what is served. The
    /// listener's connection limits (`limits.header_read_timeout_seconds`,
    /// `max_header_bytes`, `max_connections`, `max_streams_per_connection`,
    /// `idle_timeout_seconds`) are read when it starts and also apply on restart only.
    pub fn reload(&self, config: Config) -> Result<(), StateError> {
        let old = self.current();
        let fixed = |c: &Config| (c.listen, c.tls.clone(), c.http3.clone());
        if fixed(&config) != fixed(&old.config) {
            return Err(StateError::NeedsRestart(
                "listen, [tls] and [http3] take effect only on restart".into(),
            ));
        }
        let next = old.successor(config)?;
        self.current.store(next);
        Ok(())
    }
}
