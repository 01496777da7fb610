//! CMAF (fragmented MP4) init and media segments, shared by HLS and DASH: clear, Common
//! Encryption (`cenc`/`cbcs`, written while the samples are copied) or whole-segment
//! AES-128. A clear media segment's size is known without building it, for HEAD.

use bytes::Bytes;
use packager::cmaf::{
    media_segment_len, write_init_segment, write_media_segment, write_protected_init_segment,
};
use packager::presentation::Presentation;
use packager::protection::{write_protected_segment, Protection};

use crate::built::{Built, Cacheability};
use crate::media::title::Title;
use crate::pipeline::build::rendition::{media_type, rendition, span};
use crate::pipeline::build::source_read::read_span;
use crate::problem::Problem;
use crate::state::AppState;

/// The init segment of rendition `id`.
pub fn init(
    p: &Presentation,
    id: &str,
    protection: Option<&Protection>,
) -> Result<(&'static str, Built), Problem> {
    let r = rendition(p, id)?;
    let track = p.track(r);
    let init = match protection.and_then(|pr| Some((pr, pr.track_crypto(&r.id, track.is_video())?)))
    {
        Some((pr, crypto)) => {
            write_protected_init_segment(track, &crypto, &pr.signalling.init_pssh_boxes())?
        }
        None => write_init_segment(track),
    };
    Ok((
        "cmaf_init",
        Built {
            parts: vec![init],
            content_type: media_type(p, r),
            cacheability: Cacheability::Segment,
        },
    ))
}

/// Media segment `number` of rendition `id`: its header, then slices of the source read
/// (clear) or the encrypted samples.
pub async fn segment(
    state: &AppState,
    title: &Title,
    id: &str,
    number: u32,
    protection: Option<&Protection>,
) -> Result<(&'static str, Built), Problem> {
    let p = &title.presentation;
    let r = rendition(p, id)?;
    let s = span(r, number)?;
    let source = read_span(state, title, r, &s).await?;
    let track = p.track(r);
    let parts = match protection {
        None => write_media_segment(track, &s, number, r.timeline_offset, &source)?
            .parts()
            .cloned()
            .collect(),
        Some(pr) => match pr.track_crypto(&r.id, track.is_video()) {
            Some(crypto) => {
                write_protected_segment(track, &s, number, r.timeline_offset, &source, &crypto)?
                    .parts()
                    .cloned()
                    .collect()
            }
            None => {
                let clear = write_media_segment(track, &s, number, r.timeline_offset, &source)?;
                vec![Bytes::from(pr.encrypt_whole_segment(
                    number,
                    clear.parts().map(|b| &b[..]),
                ))]
            }
        },
    };
    Ok((
        "cmaf_segment",
        Built {
            parts,
            content_type: media_type(p, r),
            cacheability: Cacheability::Segment,
        },
    ))
}

/// The exact size of clear media segment `number` of rendition `id`, known from the plan
/// alone (for HEAD); `None` when unknown without building (encrypted, or no such segment).
pub fn clear_segment_len(p: &Presentation, id: &str, number: u32, protected: bool) -> Option<u64> {
    if protected {
        return None;
    }
    let r = p.rendition(id)?;
    let s = r.segments.get((number as usize).checked_sub(1)?)?;
    Some(media_segment_len(p.track(r), s))
}
