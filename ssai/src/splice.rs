//! Where breaks go in content: on segment boundaries. A break asked for at a cue goes to the
//! first content segment boundary at or after it (segments start on keyframes, so this is
//! the keyframe at or after the cue when the packager cuts there), and the drift from the cue
//! is reported. Breaks past the end become the post-roll; two cues that land on the same
//! boundary are one break.

use crate::time::Offset;

/// A break placed in the content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The cue asked for, milliseconds into the content.
    pub cue_ms: u64,
    /// The index of the first content segment after the break (the number of content
    /// segments before it): 0 for a pre-roll, the segment count for a post-roll.
    pub before_segment: usize,
    /// Where the break is, milliseconds into the content.
    pub at_ms: u64,
    /// How far after the cue that is.
    pub drift_ms: u64,
}

/// Places breaks at `offsets` in content whose segments start at `starts_ms` (ascending, the
/// first at 0) and which lasts `duration_ms`. Positions (`#n`) take the n-th segment
/// boundary after the start. The result is in content order, one placement per boundary.
pub fn place(offsets: &[Offset], starts_ms: &[u64], duration_ms: u64) -> Vec<Placement> {
    let mut out: Vec<Placement> = Vec::new();
    for o in offsets {
        let (cue_ms, before_segment) = match *o {
            Offset::Position(n) => {
                let i = (n as usize).min(starts_ms.len());
                (starts_ms.get(i).copied().unwrap_or(duration_ms), i)
            }
            other => {
                let Some(cue) = other.resolve(duration_ms) else {
                    continue;
                };
                let i = starts_ms.partition_point(|&s| s < cue);
                (cue, i)
            }
        };
        let at_ms = starts_ms
            .get(before_segment)
            .copied()
            .unwrap_or(duration_ms);
        let p = Placement {
            cue_ms,
            before_segment,
            at_ms,
            drift_ms: at_ms.saturating_sub(cue_ms),
        };
        if !out.iter().any(|q| q.before_segment == p.before_segment) {
            out.push(p);
        }
    }
    out.sort_by_key(|p| p.before_segment);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cues_go_to_the_boundary_at_or_after_them() {
        // 30 s of 4 s segments (the last 2 s).
        let starts: Vec<u64> = (0..8).map(|i| i * 4_000).collect();
        let p = place(
            &[
                Offset::Start,
                Offset::Time(10_000),
                Offset::Time(12_000),
                Offset::Percent(50.0),
                Offset::Position(2),
                Offset::End,
            ],
            &starts,
            30_000,
        );
        let got: Vec<(usize, u64, u64)> = p
            .iter()
            .map(|p| (p.before_segment, p.at_ms, p.drift_ms))
            .collect();
        assert_eq!(
            got,
            [
                (0, 0, 0),
                // #2: the second boundary after the start.
                (2, 8_000, 0),
                // 10 s goes to 12 s (2 s of drift); 12 s is the same boundary.
                (3, 12_000, 2_000),
                // 50% = 15 s goes to 16 s.
                (4, 16_000, 1_000),
                (8, 30_000, 0),
            ]
        );
    }

    #[test]
    fn a_cue_past_the_last_boundary_is_the_post_roll() {
        let p = place(&[Offset::Time(29_000)], &[0, 4_000, 28_000], 30_000);
        assert_eq!(p[0].before_segment, 3);
        assert_eq!(p[0].at_ms, 30_000);
    }
}
