//! Finding what an object names inside a presentation: a rendition, one of its segments,
//! and the media type of its segments, each with the problem a missing one gives.

use packager::presentation::{Presentation, Rendition};
use packager::segment::SegmentSpan;

use crate::problem::{Problem, ProblemKind};

/// The problem for something the asset does not have.
pub fn no_rendition(what: &str) -> Problem {
    Problem::new(
        ProblemKind::RenditionNotFound,
        format!("the asset has no {what}"),
    )
}

/// The rendition `id` of `p`.
pub fn rendition<'a>(p: &'a Presentation, id: &str) -> Result<&'a Rendition, Problem> {
    p.rendition(id)
        .ok_or_else(|| no_rendition(&format!("rendition '{id}'")))
}

/// Segment `number` (from 1) of `r`.
pub fn span(r: &Rendition, number: u32) -> Result<SegmentSpan, Problem> {
    r.segments.get(number as usize - 1).copied().ok_or_else(|| {
        no_rendition(&format!(
            "segment {number} in rendition '{}' ({} segments)",
            r.id,
            r.segments.len()
        ))
    })
}

/// The media type of `r`'s CMAF segments.
pub fn media_type(p: &Presentation, r: &Rendition) -> &'static str {
    if p.track(r).is_video() {
        "video/mp4"
    } else {
        "audio/mp4"
    }
}
