//! The pathway order for one playback session. Pathways are taken in priority tiers (lower
//! number first); within a tier, sessions are split by weight with weighted rendezvous hashing
//! (each pathway scores `weight / -ln(u)` for a `u` hashed from the session and the pathway;
//! the highest score wins), so:
//! - the split matches the weights (a pathway wins with probability `weight / total`);
//! - a session's order is the same on every reload and every node, and changes only when a
//!   pathway it ranks comes or goes (a pathway going out moves only the sessions on it);
//! - a pathway that is back and ramping takes its own sessions back gradually: a session
//!   counts it as healthy once its hashed share falls under the ramp's progress.
//!
//! Pathways that are down are left out, unless every pathway is down (then all are listed,
//! in order, since naming none helps no player).

use std::cmp::Ordering;

use crate::hash::unit;
use crate::health::Status;
use crate::pathway::{Pathway, PathwayId};

/// How a pathway ranks for a session: lower sorts first.
struct Rank<'a> {
    class: u8,
    priority: u32,
    score: f64,
    id: &'a PathwayId,
}

fn score(session: &str, p: &Pathway) -> f64 {
    if p.weight == 0 {
        return 0.0;
    }
    f64::from(p.weight) / -unit(session, p.id.as_str()).ln()
}

fn class(session: &str, p: &Pathway, status: Status) -> u8 {
    match status {
        Status::Up => 0,
        Status::Ramping { progress } => {
            // A second, independent hash: which of its sessions a ramping pathway takes
            // back first must not depend on which it wins.
            let admitted = unit(session, &format!("ramp/{}", p.id)) < progress;
            if admitted {
                0
            } else {
                1
            }
        }
        Status::Down => 2,
    }
}

fn compare(a: &Rank<'_>, b: &Rank<'_>) -> Ordering {
    (a.class, a.priority)
        .cmp(&(b.class, b.priority))
        .then(b.score.total_cmp(&a.score))
        .then(a.id.cmp(b.id))
}

/// The pathways `session` should use, best first. `statuses` gives each pathway's health; a
/// pathway missing from it counts as up.
pub fn order(
    session: &str,
    pathways: &[Pathway],
    statuses: &[(PathwayId, Status)],
) -> Vec<PathwayId> {
    let status_of = |id: &PathwayId| {
        statuses
            .iter()
            .find(|(i, _)| i == id)
            .map_or(Status::Up, |(_, s)| *s)
    };
    let mut ranks: Vec<Rank<'_>> = pathways
        .iter()
        .map(|p| Rank {
            class: class(session, p, status_of(&p.id)),
            priority: p.priority,
            score: score(session, p),
            id: &p.id,
        })
        .collect();
    let all_down = ranks.iter().all(|r| r.class == 2);
    if all_down {
        ranks.iter_mut().for_each(|r| r.class = 0);
    }
    ranks.sort_by(compare);
    ranks
        .into_iter()
        .filter(|r| r.class < 2)
        .map(|r| r.id.clone())
        .collect()
}

/// The pathway `session` uses when every pathway is up: its home.
pub fn home(session: &str, pathways: &[Pathway]) -> Option<PathwayId> {
    order(session, pathways, &[]).into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pathways(spec: &[(&str, u32, u32)]) -> Vec<Pathway> {
        spec.iter()
            .map(|(id, weight, priority)| Pathway {
                id: PathwayId::new(id).unwrap(),
                base_url: format!("https://{id}.example"),
                weight: *weight,
                priority: *priority,
            })
            .collect()
    }
    fn id(s: &str) -> PathwayId {
        PathwayId::new(s).unwrap()
    }
    fn ids(v: &[PathwayId]) -> Vec<&str> {
        v.iter().map(PathwayId::as_str).collect()
    }

    #[test]
    /// Within 5 points of each weight's share (a relative 5% of a 20% share is 10 sessions,
    /// less than one standard deviation of a fair 1,000-session split).
    fn a_thousand_sessions_split_within_five_percent_of_the_weights() {
        let ps = pathways(&[("a", 50, 1), ("b", 30, 1), ("c", 20, 1)]);
        let mut counts = [0usize; 3];
        for i in 0..1000 {
            let first = home(&format!("{i:016x}"), &ps).unwrap();
            counts[ps.iter().position(|p| p.id == first).unwrap()] += 1;
        }
        for (n, want) in counts.iter().zip([0.5, 0.3, 0.2]) {
            let share = *n as f64 / 1000.0;
            assert!(
                (share - want).abs() <= 0.05,
                "split {counts:?}: {share} vs {want}"
            );
        }
    }

    #[test]
    fn priority_tiers_come_before_weight() {
        let ps = pathways(&[("a", 1, 2), ("b", 1000, 3), ("c", 1, 1)]);
        for s in ["x", "y", "z"] {
            assert_eq!(ids(&order(s, &ps, &[])), ["c", "a", "b"]);
        }
    }

    #[test]
    fn a_session_keeps_its_pathway_while_it_is_up_and_only_its_sessions_move() {
        let ps = pathways(&[("a", 1, 1), ("b", 1, 1), ("c", 1, 1)]);
        let down_a = [(id("a"), Status::Down)];
        for i in 0..300 {
            let s = format!("s{i}");
            let before = order(&s, &ps, &[]);
            assert_eq!(before, order(&s, &ps, &[]), "stable on reload");
            let after = order(&s, &ps, &down_a);
            assert!(!after.contains(&id("a")));
            if before[0] != id("a") {
                assert_eq!(before[0], after[0], "{s} moved though its pathway is up");
            } else {
                assert_eq!(after[0], before[1], "{s} went to its second choice");
            }
        }
    }

    #[test]
    fn every_pathway_down_lists_them_all() {
        let ps = pathways(&[("a", 1, 1), ("b", 1, 2)]);
        let all = [(id("a"), Status::Down), (id("b"), Status::Down)];
        assert_eq!(ids(&order("s", &ps, &all)), ["a", "b"]);
    }

    #[test]
    fn a_ramping_pathway_takes_back_a_growing_share_of_its_sessions() {
        let ps = pathways(&[("a", 1, 1), ("b", 1, 2)]);
        let share = |progress: f64| {
            let st = [(id("a"), Status::Ramping { progress })];
            (0..1000)
                .filter(|i| order(&format!("s{i}"), &ps, &st)[0] == id("a"))
                .count()
        };
        assert_eq!(share(0.0), 0);
        let (quarter, half) = (share(0.25), share(0.5));
        assert!((200..300).contains(&quarter), "{quarter}");
        assert!((450..550).contains(&half), "{half}");
        assert_eq!(share(1.0), 1000);
        // Not taken back yet: still listed, after the healthy ones.
        assert_eq!(
            ids(&order(
                "s1",
                &ps,
                &[(id("a"), Status::Ramping { progress: 0.0 })]
            )),
            ["b", "a"]
        );
    }

    #[test]
    fn weight_zero_is_a_fallback_only() {
        let ps = pathways(&[("a", 0, 1), ("b", 1, 1)]);
        for i in 0..100 {
            assert_eq!(home(&format!("{i}"), &ps), Some(id("b")));
        }
        assert_eq!(ids(&order("x", &ps, &[(id("b"), Status::Down)])), ["a"]);
    }
}
