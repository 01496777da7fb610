//! Reading the source bytes of one segment: the samples of a span of a rendition, in one
//! coalesced range read through the origin (a zero-copy slice of a mapped local file, or
//! one HTTP range request).

use bytes::Bytes;
use packager::presentation::Rendition;
use packager::segment::{SegmentSpan, SourceRange};

use crate::media::title::Title;
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;

/// Reads the bytes of samples `span` of rendition `r` in one coalesced range.
pub async fn read_span(
    state: &AppState,
    title: &Title,
    r: &Rendition,
    span: &SegmentSpan,
) -> Result<SourceRange, Problem> {
    let track = title.presentation.track(r);
    let Some((start, end)) = track.samples.byte_span(span.samples()) else {
        return Ok(SourceRange {
            offset: 0,
            data: Bytes::new(),
        });
    };
    let limit = state.config.limits.max_segment_read_bytes;
    if end - start > limit {
        return Err(Problem::new(
            ProblemKind::SourceUnpackable,
            format!(
                "segment needs a read of {} bytes, over the limit of {limit} (limits.max_segment_read_bytes)",
                end - start
            ),
        ));
    }
    let (source, id) = &title.sources[r.source];
    let data = state
        .origins
        .read_range(source, id, start, end - start)
        .await?;
    Ok(SourceRange {
        offset: start,
        data,
    })
}
