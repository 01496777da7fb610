//! Which outputs an asset's protection offers: DASH needs Common Encryption, MPEG-TS cannot
//! carry `cenc`, I-frame playlists are clear only. An object of an output not offered is
//! refused before anything is built.

use packager::protection::{Output, Protection};

use crate::problem::{Problem, ProblemKind};

/// The problem for an object that `protection` has no form of.
pub fn not_offered(protection: &Protection, what: &str) -> Problem {
    Problem::new(
        ProblemKind::OutputNotOffered,
        format!(
            "the asset is encrypted with '{}', which has no {what}",
            protection.method.name()
        ),
    )
}

/// Refuses `output` when the asset's protection has no form of it.
pub fn require(protection: Option<&Protection>, output: Output, what: &str) -> Result<(), Problem> {
    match protection {
        Some(pr) if !pr.offers(output) => Err(not_offered(pr, what)),
        _ => Ok(()),
    }
}
