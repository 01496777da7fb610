//! A circuit breaker per origin host: after `failures` consecutive failed reads the host is
//! refused for `cooldown`, then one trial read is let through; its success closes the
//! breaker, its failure opens it again. Refusing at once keeps requests from piling up
//! behind an origin that is down.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// A trial read is in flight; others are refused until it ends, or until `until` if
    /// the trial never reports (its request was dropped).
    HalfOpen {
        until: Instant,
    },
}

/// What the breaker says about a read about to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Allowed,
    Refused { retry_in: Duration },
}

/// The breakers of every origin host seen.
#[derive(Debug)]
pub struct Breakers {
    failures: u32,
    cooldown: Duration,
    hosts: Mutex<HashMap<String, State>>,
}

/// What a recorded outcome changed, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    None,
    Opened,
    Closed,
}

impl Breakers {
    pub fn new(failures: u32, cooldown: Duration) -> Self {
        Breakers {
            failures: failures.max(1),
            cooldown,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, State>) -> R) -> R {
        // A panic while holding this lock cannot leave a map half-updated in a way that
        // matters (each update is one insert), so a poisoned lock is used as is.
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut hosts)
    }

    /// Asks whether a read of `host` may start now.
    pub fn admit(&self, host: &str, now: Instant) -> Admission {
        self.with(|hosts| {
            let state = hosts
                .entry(host.to_owned())
                .or_insert(State::Closed { failures: 0 });
            match *state {
                State::Closed { .. } => Admission::Allowed,
                State::Open { until } | State::HalfOpen { until } if now >= until => {
                    *state = State::HalfOpen {
                        until: now + self.cooldown,
                    };
                    Admission::Allowed
                }
                State::Open { until } | State::HalfOpen { until } => Admission::Refused {
                    retry_in: until - now,
                },
            }
        })
    }

    /// Records the outcome of an admitted read.
    pub fn record(&self, host: &str, ok: bool, now: Instant) -> Transition {
        self.with(|hosts| {
            let state = hosts
                .entry(host.to_owned())
                .or_insert(State::Closed { failures: 0 });
            let was_open = !matches!(state, State::Closed { .. });
            *state = match (*state, ok) {
                (_, true) => State::Closed { failures: 0 },
                (State::Closed { failures }, false) if failures + 1 < self.failures => {
                    State::Closed {
                        failures: failures + 1,
                    }
                }
                (_, false) => State::Open {
                    until: now + self.cooldown,
                },
            };
            match (was_open, matches!(state, State::Closed { .. })) {
                (false, false) => Transition::Opened,
                (true, true) => Transition::Closed,
                _ => Transition::None,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_consecutive_failures_and_closes_after_a_good_trial() {
        let b = Breakers::new(3, Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(b.record("o", false, t0), Transition::None);
        assert_eq!(b.record("o", true, t0), Transition::None);
        assert_eq!(b.record("o", false, t0), Transition::None);
        assert_eq!(b.record("o", false, t0), Transition::None);
        assert_eq!(b.admit("o", t0), Admission::Allowed);
        assert_eq!(b.record("o", false, t0), Transition::Opened);
        assert!(matches!(b.admit("o", t0), Admission::Refused { .. }));
        assert_eq!(b.admit("other", t0), Admission::Allowed);
        let later = t0 + Duration::from_secs(11);
        assert_eq!(b.admit("o", later), Admission::Allowed);
        // Only one trial at a time.
        assert!(matches!(b.admit("o", later), Admission::Refused { .. }));
        assert_eq!(b.record("o", true, later), Transition::Closed);
        assert_eq!(b.admit("o", later), Admission::Allowed);
    }

    #[test]
    fn a_failed_trial_opens_it_again() {
        let b = Breakers::new(1, Duration::from_secs(5));
        let t0 = Instant::now();
        assert_eq!(b.record("o", false, t0), Transition::Opened);
        let later = t0 + Duration::from_secs(6);
        assert_eq!(b.admit("o", later), Admission::Allowed);
        assert_eq!(b.record("o", false, later), Transition::None);
        assert!(matches!(b.admit("o", later), Admission::Refused { .. }));
    }
}
