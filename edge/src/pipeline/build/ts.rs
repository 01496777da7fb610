//! MPEG-TS segments: video with the default audio muxed in, or audio alone, clear,
//! SAMPLE-AES, or whole-segment AES-128. The reads of a muxed segment's renditions go to
//! the origin together.

use bytes::Bytes;
use futures_util::future::try_join_all;
use packager::protection::{Output, Protection};
use packager::ts_package;

use crate::built::{Built, Cacheability};
use crate::media::title::Title;
use crate::pipeline::build::offer::require;
use crate::pipeline::build::rendition::{no_rendition, rendition};
use crate::pipeline::build::source_read::read_span;
use crate::problem::Problem;
use crate::state::AppState;

/// Segment `number` of rendition `id` as MPEG-TS.
pub async fn segment(
    state: &AppState,
    title: &Title,
    id: &str,
    number: u32,
    protection: Option<&Protection>,
) -> Result<(&'static str, Built), Problem> {
    require(protection, Output::HlsTs, "MPEG-TS form")?;
    let p = &title.presentation;
    let r = rendition(p, id)?;
    let plan = ts_package::plan_ts_segment(p, r, number)?;
    let reads = try_join_all(plan.parts.iter().map(|part| async move {
        let pr = p
            .video
            .iter()
            .chain(&p.audio)
            .find(|x| x.id == part.rendition_id)
            .ok_or_else(|| no_rendition(&part.rendition_id))?;
        read_span(state, title, pr, &part.span).await
    }))
    .await?;
    let mut bytes = ts_package::write_ts(p, &plan, &reads, protection)?;
    if let Some(pr) = protection.filter(|pr| pr.is_whole_segment()) {
        bytes = pr.encrypt_whole_segment(number, [&bytes[..]]);
    }
    Ok((
        "ts_segment",
        Built {
            parts: vec![Bytes::from(bytes)],
            content_type: "video/mp2t",
            cacheability: Cacheability::Segment,
        },
    ))
}
