//! A session's ad plan: where its breaks go in the content and which ads play in each (decided
//! by [`planner`](crate::ads::planner), kept in the session).

use std::sync::OnceLock;

use ssai::beacons::Beacon;
use ssai::chain::ResolvedAd;
use ssai::splice::Placement;

/// The breaks of a session, in content order.
#[derive(Debug, Default)]
pub struct Plan {
    pub breaks: Vec<PlannedBreak>,
}

/// One break: where it is and what plays.
#[derive(Debug)]
pub struct PlannedBreak {
    pub placement: Placement,
    pub ads: Vec<PlannedAd>,
    /// Why nothing plays, when nothing does (a metrics label).
    pub skipped: Option<&'static str>,
}

/// One ad that plays.
#[derive(Debug)]
pub struct PlannedAd {
    /// Where it is in the session (`{break}-{ad}`), in its segment URLs.
    pub slot: String,
    /// Its title: the conditioned creative's file in the conditioning directory.
    pub title: String,
    pub ad: ResolvedAd,
    /// The beacons each of its segments fires, worked out on its first fetch (they depend
    /// on its title's segments).
    pub beacons: OnceLock<Vec<Vec<Beacon>>>,
}

impl Plan {
    /// The ad in `slot`.
    pub fn ad(&self, slot: &str) -> Option<&PlannedAd> {
        self.breaks
            .iter()
            .flat_map(|b| &b.ads)
            .find(|a| a.slot == slot)
    }

    /// The breaks that have ads.
    pub fn filled(&self) -> impl Iterator<Item = &PlannedBreak> {
        self.breaks.iter().filter(|b| !b.ads.is_empty())
    }
}
