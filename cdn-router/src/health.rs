//! Health of each pathway with hysteresis, from probe results and player reports, against a
//! time the caller gives (milliseconds on any monotonic clock). A pathway goes out after
//! `fail_after` failed probes in a row (or after `player_reports` players left it within
//! `report_window_ms`); it comes back only after `recover_after` good probes in a row and
//! `hold_ms` without a failure, and then gradually: for `ramp_ms` it takes a growing share of
//! the sessions whose home it is ([`Status::Ramping`]) before it is fully up.

use std::collections::VecDeque;

use crate::pathway::PathwayId;

/// The hysteresis.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthPolicy {
    /// Failed probes in a row that take a pathway out.
    pub fail_after: u32,
    /// Good probes in a row a pathway that is out needs before it may come back.
    pub recover_after: u32,
    /// Time without a failed probe a pathway that is out needs before it may come back.
    pub hold_ms: u64,
    /// Time over which a pathway that came back takes its share back, linearly.
    pub ramp_ms: u64,
    /// Players that left a pathway within `report_window_ms` that take it out (0: reports
    /// are counted but never take a pathway out).
    pub player_reports: u32,
    pub report_window_ms: u64,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy {
            fail_after: 2,
            recover_after: 3,
            hold_ms: 30_000,
            ramp_ms: 30_000,
            player_reports: 0,
            report_window_ms: 10_000,
        }
    }
}

/// A pathway's health as the steering decision sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Status {
    Up,
    /// Back after an outage and taking its share back: `progress` of it, from 0 to 1.
    Ramping {
        progress: f64,
    },
    Down,
}

impl Status {
    /// Whether the pathway may carry sessions (fully or in part).
    pub fn usable(self) -> bool {
        !matches!(self, Status::Down)
    }

    /// A label for metrics and logs.
    pub fn label(self) -> &'static str {
        match self {
            Status::Up => "up",
            Status::Ramping { .. } => "ramping",
            Status::Down => "down",
        }
    }
}

/// What an observation changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The pathway went out.
    WentDown,
    /// The pathway came back and starts to ramp up.
    CameBack,
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    Up { fails: u32 },
    Down { last_failure_ms: u64, goods: u32 },
    Ramping { since_ms: u64 },
}

/// A session as the report window keeps it.
fn session_hash(session: &str) -> u64 {
    (crate::hash::unit(session, "left") * (1u64 << 53) as f64) as u64
}

/// One pathway's health.
#[derive(Debug, Clone, PartialEq)]
pub struct PathwayHealth {
    state: State,
    /// How many times it came back after an outage.
    returns: u32,
    /// When players reported leaving it and which (a hash of the session), within the
    /// report window: one entry per session, at most `player_reports` entries.
    left_at: VecDeque<(u64, u64)>,
}

impl Default for PathwayHealth {
    fn default() -> Self {
        PathwayHealth {
            state: State::Up { fails: 0 },
            returns: 0,
            left_at: VecDeque::new(),
        }
    }
}

impl PathwayHealth {
    /// Takes in one probe result at `now_ms`.
    pub fn probe(&mut self, ok: bool, now_ms: u64, policy: &HealthPolicy) -> Option<Change> {
        self.settle(now_ms, policy);
        match (&mut self.state, ok) {
            (State::Up { fails }, true) => {
                *fails = 0;
                None
            }
            (State::Up { fails }, false) => {
                *fails += 1;
                (*fails >= policy.fail_after.max(1)).then(|| self.go_down(now_ms))
            }
            (State::Ramping { .. }, true) => None,
            // A failure while ramping is a relapse: out again at once.
            (State::Ramping { .. }, false) => Some(self.go_down(now_ms)),
            (
                State::Down {
                    last_failure_ms,
                    goods,
                },
                true,
            ) => {
                *goods += 1;
                let held = now_ms.saturating_sub(*last_failure_ms) >= policy.hold_ms;
                if *goods >= policy.recover_after.max(1) && held {
                    self.state = State::Ramping { since_ms: now_ms };
                    self.returns = self.returns.saturating_add(1);
                    self.settle(now_ms, policy);
                    Some(Change::CameBack)
                } else {
                    None
                }
            }
            (
                State::Down {
                    last_failure_ms,
                    goods,
                },
                false,
            ) => {
                *last_failure_ms = now_ms;
                *goods = 0;
                None
            }
        }
    }

    /// Takes in the report of the player of `session` that it left this pathway. A session
    /// counts once per window, so one player (or one client replaying a URL) cannot take a
    /// pathway out alone.
    pub fn player_left(
        &mut self,
        session: &str,
        now_ms: u64,
        policy: &HealthPolicy,
    ) -> Option<Change> {
        if policy.player_reports == 0 {
            return None;
        }
        let window_start = now_ms.saturating_sub(policy.report_window_ms);
        while self.left_at.front().is_some_and(|&(t, _)| t < window_start) {
            self.left_at.pop_front();
        }
        let who = session_hash(session);
        if self.left_at.iter().any(|&(_, s)| s == who) {
            return None;
        }
        self.left_at.push_back((now_ms, who));
        while self.left_at.len() > policy.player_reports as usize {
            self.left_at.pop_front();
        }
        self.settle(now_ms, policy);
        let enough = self.left_at.len() >= policy.player_reports as usize;
        if enough && !matches!(self.state, State::Down { .. }) {
            self.left_at.clear();
            return Some(self.go_down(now_ms));
        }
        None
    }

    /// The status at `now_ms`.
    pub fn status(&self, now_ms: u64, policy: &HealthPolicy) -> Status {
        match self.state {
            State::Up { .. } => Status::Up,
            State::Down { .. } => Status::Down,
            State::Ramping { since_ms } => {
                let elapsed = now_ms.saturating_sub(since_ms);
                if policy.ramp_ms == 0 || elapsed >= policy.ramp_ms {
                    Status::Up
                } else {
                    Status::Ramping {
                        progress: elapsed as f64 / policy.ramp_ms as f64,
                    }
                }
            }
        }
    }

    /// How many times the pathway came back after an outage.
    pub fn returns(&self) -> u32 {
        self.returns
    }

    fn go_down(&mut self, now_ms: u64) -> Change {
        self.state = State::Down {
            last_failure_ms: now_ms,
            goods: 0,
        };
        Change::WentDown
    }

    /// A finished ramp becomes plain up.
    fn settle(&mut self, now_ms: u64, policy: &HealthPolicy) {
        if let State::Ramping { .. } = self.state {
            if self.status(now_ms, policy) == Status::Up {
                self.state = State::Up { fails: 0 };
            }
        }
    }
}

/// The health of every pathway of a delivery, in configuration order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Board {
    entries: Vec<(PathwayId, PathwayHealth)>,
}

impl Board {
    /// Every pathway up.
    pub fn new(ids: impl IntoIterator<Item = PathwayId>) -> Board {
        Board {
            entries: ids
                .into_iter()
                .map(|id| (id, PathwayHealth::default()))
                .collect(),
        }
    }

    fn entry(&mut self, id: &PathwayId) -> Option<&mut PathwayHealth> {
        self.entries
            .iter_mut()
            .find(|(i, _)| i == id)
            .map(|(_, h)| h)
    }

    /// A probe result for `id` (unknown ids are ignored).
    pub fn probe(
        &mut self,
        id: &PathwayId,
        ok: bool,
        now_ms: u64,
        policy: &HealthPolicy,
    ) -> Option<Change> {
        self.entry(id)?.probe(ok, now_ms, policy)
    }

    /// The report of the player of `session` that it left `id`.
    pub fn player_left(
        &mut self,
        id: &PathwayId,
        session: &str,
        now_ms: u64,
        policy: &HealthPolicy,
    ) -> Option<Change> {
        self.entry(id)?.player_left(session, now_ms, policy)
    }

    /// How many times each pathway came back after an outage.
    pub fn returns(&self) -> Vec<(PathwayId, u32)> {
        self.entries
            .iter()
            .map(|(id, h)| (id.clone(), h.returns()))
            .collect()
    }

    /// Every pathway's status at `now_ms`.
    pub fn statuses(&self, now_ms: u64, policy: &HealthPolicy) -> Vec<(PathwayId, Status)> {
        self.entries
            .iter()
            .map(|(id, h)| (id.clone(), h.status(now_ms, policy)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> HealthPolicy {
        HealthPolicy {
            fail_after: 2,
            recover_after: 3,
            hold_ms: 5_000,
            ramp_ms: 10_000,
            player_reports: 3,
            report_window_ms: 10_000,
        }
    }

    /// A scripted timeline of probe results, one a second: `'+'` good, `'-'` failed. Returns
    /// the status after each probe.
    fn run(script: &str) -> Vec<&'static str> {
        let p = policy();
        let mut h = PathwayHealth::default();
        script
            .chars()
            .enumerate()
            .map(|(i, c)| {
                let now = i as u64 * 1000;
                h.probe(c == '+', now, &p);
                h.status(now, &p).label()
            })
            .collect()
    }

    #[test]
    fn one_failed_probe_is_not_an_outage() {
        assert!(run("++-+-+++").iter().all(|s| *s == "up"));
    }

    #[test]
    fn out_after_two_failures_in_a_row() {
        assert_eq!(run("+--"), ["up", "up", "down"]);
    }

    #[test]
    fn back_after_three_good_probes_and_the_hold_time_then_ramping_then_up() {
        // Fails at t=1,2 (down at 2). Good from t=3: three good by t=5, but the hold (5 s
        // since the last failure at t=2) ends at t=7.
        let s = run("+--+++++++++++++++++++");
        assert_eq!(
            &s[..7],
            ["up", "up", "down", "down", "down", "down", "down"]
        );
        assert_eq!(s[7], "ramping");
        // The ramp lasts 10 s from t=7.
        assert!(s[8..17].iter().all(|x| *x == "ramping"), "{s:?}");
        assert_eq!(s[17], "up");
    }

    #[test]
    fn each_return_is_counted() {
        let p = policy();
        let mut h = PathwayHealth::default();
        assert_eq!(h.returns(), 0);
        for round in 1..=2u64 {
            let t0 = round * 100_000;
            h.probe(false, t0, &p);
            h.probe(false, t0 + 1, &p);
            for i in 0..3 {
                h.probe(true, t0 + 5_000 + i, &p);
            }
            assert_eq!(h.returns(), round as u32);
        }
    }

    #[test]
    fn a_failure_during_the_hold_restarts_it() {
        // Down at t=2; good at 3,4,5, failed at 6, then good: the hold runs from t=6.
        let s = run("+--+++-++++++");
        assert_eq!(s[10], "down");
        assert_eq!(s[11], "ramping");
    }

    #[test]
    fn a_failure_while_ramping_is_out_at_once() {
        let s = run("+--+++++-");
        assert_eq!(s[7], "ramping");
        assert_eq!(s[8], "down");
    }

    #[test]
    fn the_ramp_progress_grows_linearly() {
        let p = policy();
        let mut h = PathwayHealth::default();
        h.probe(false, 0, &p);
        h.probe(false, 0, &p);
        for t in [5_000, 5_001, 5_002] {
            h.probe(true, t, &p);
        }
        assert_eq!(h.status(5_002, &p), Status::Ramping { progress: 0.0 });
        assert_eq!(h.status(10_002, &p), Status::Ramping { progress: 0.5 });
        assert_eq!(h.status(15_002, &p), Status::Up);
    }

    #[test]
    fn players_leaving_take_a_pathway_out_only_in_numbers_within_the_window() {
        let p = policy();
        let mut h = PathwayHealth::default();
        assert_eq!(h.player_left("s1", 0, &p), None);
        assert_eq!(h.player_left("s2", 20_000, &p), None);
        assert_eq!(h.player_left("s3", 21_000, &p), None);
        // One player reporting again and again is one report.
        for t in 21_001..21_100 {
            assert_eq!(h.player_left("s3", t, &p), None);
        }
        assert_eq!(h.status(21_100, &p), Status::Up);
        assert_eq!(h.player_left("s4", 22_000, &p), Some(Change::WentDown));
        assert_eq!(h.status(22_000, &p), Status::Down);
        // Off by policy: counted nowhere.
        let off = HealthPolicy {
            player_reports: 0,
            ..policy()
        };
        let mut h = PathwayHealth::default();
        for t in 0..100 {
            assert_eq!(h.player_left(&t.to_string(), t, &off), None);
        }
        assert!(h.left_at.is_empty());
    }

    #[test]
    fn the_board_ignores_unknown_pathways() {
        let a = PathwayId::new("a").unwrap();
        let mut b = Board::new([a.clone()]);
        let p = policy();
        assert_eq!(b.probe(&PathwayId::new("zz").unwrap(), false, 0, &p), None);
        b.probe(&a, false, 0, &p);
        assert_eq!(b.probe(&a, false, 1, &p), Some(Change::WentDown));
        assert_eq!(b.statuses(1, &p), vec![(a, Status::Down)]);
    }
}
