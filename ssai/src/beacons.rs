//! When the edge fires an ad's beacons: from the segments a session fetches. An ad is cut into
//! segments; fetching the first one means the ad started (impressions, `creativeView`,
//! `start`), fetching the segment that covers a quartile or a `progress` offset means the ad
//! got there, and fetching the last one means it completed. This module turns an ad and its
//! segment durations into the beacons each segment fetch fires; firing them once per session,
//! ad and event is the edge's job.

use crate::chain::ResolvedAd;
use crate::vast::Event;

/// What a beacon reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Impression,
    Tracking(Event),
}

/// One URL to call.
#[derive(Debug, Clone, PartialEq)]
pub struct Beacon {
    pub kind: Kind,
    pub url: String,
}

/// The index of the segment (of `durations_ms`, in order) that covers `at_ms`; the last one
/// for the end and beyond.
fn segment_at(durations_ms: &[u64], at_ms: u64) -> usize {
    let mut end = 0u64;
    for (i, d) in durations_ms.iter().enumerate() {
        end += d;
        if at_ms < end {
            return i;
        }
    }
    durations_ms.len().saturating_sub(1)
}

/// For each segment of `ad` (of `durations_ms`), the beacons its first fetch fires. Events a
/// server cannot see (pause, mute...) fire nowhere. Empty when the ad has no segments.
pub fn by_segment(ad: &ResolvedAd, durations_ms: &[u64]) -> Vec<Vec<Beacon>> {
    let mut out = vec![Vec::new(); durations_ms.len()];
    let Some(first) = out.first_mut() else {
        return out;
    };
    first.extend(ad.impressions.iter().map(|u| Beacon {
        kind: Kind::Impression,
        url: u.clone(),
    }));
    let total: u64 = durations_ms.iter().sum();
    for t in &ad.tracking {
        let Some(at) = t.event.at_ms(total) else {
            continue;
        };
        // `complete` fires with the last segment, whatever the rounding of its duration.
        let i = if t.event == Event::Complete {
            durations_ms.len() - 1
        } else {
            segment_at(durations_ms, at)
        };
        out[i].push(Beacon {
            kind: Kind::Tracking(t.event.clone()),
            url: t.url.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Chain;
    use crate::vast::parse;

    fn ad() -> ResolvedAd {
        let v = parse(include_str!("../testdata/vast4_inline_pod.xml")).unwrap();
        let a = &v.ads[0];
        Chain::new(5).resolve(a, a.inline().unwrap()).unwrap()
    }

    fn events(seg: &[Beacon]) -> Vec<String> {
        seg.iter()
            .map(|b| match &b.kind {
                Kind::Impression => "impression".to_owned(),
                Kind::Tracking(e) => format!("{e:?}"),
            })
            .collect()
    }

    #[test]
    fn a_10_s_ad_in_4_s_segments() {
        // 0-4, 4-8, 8-10: q1 at 2.5 s and progress at 2.5 s in the first, midpoint (5 s) in
        // the second, q3 (7.5 s) in the second, complete with the last.
        let s = by_segment(&ad(), &[4_000, 4_000, 2_000]);
        assert_eq!(
            events(&s[0]),
            [
                "impression",
                "Start",
                "FirstQuartile",
                "Progress(Time(2500))"
            ]
        );
        assert_eq!(events(&s[1]), ["Midpoint", "ThirdQuartile"]);
        assert_eq!(events(&s[2]), ["Complete"]);
    }

    #[test]
    fn one_segment_fires_everything_and_none_fires_nothing() {
        let s = by_segment(&ad(), &[10_000]);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].len(), 7);
        assert!(by_segment(&ad(), &[]).is_empty());
    }
}
