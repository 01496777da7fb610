//! The build phase: the object a request names, made from its title, encrypted under its
//! protection when it has one. One file per family of objects: [`manifests`] (HLS playlists,
//! DASH MPD), [`cmaf`] (init and media segments), [`ts`] (MPEG-TS segments), [`subtitles`]
//! (WebVTT), and [`keys`] (raw keys and ClearKey licenses, answered uncached). This file only
//! dispatches and times the build.

pub mod cmaf;
pub mod keys;
pub mod manifests;
pub mod offer;
pub mod rendition;
pub mod source_read;
pub mod subtitles;
pub mod ts;

use std::time::Instant;

use packager::protection::Protection;

use crate::built::Built;
use crate::http::body::gather_small_parts;
use crate::media::title::Title;
use crate::pipeline::route::VodObject;
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;

/// Builds `object` of `title`, encrypted under `protection` when there is one.
pub async fn build(
    state: &AppState,
    title: &Title,
    object: &VodObject,
    protection: Option<&Protection>,
) -> Result<Built, Problem> {
    use VodObject::*;
    let started = Instant::now();
    let p = &title.presentation;
    let (output, built) = match object {
        Multivariant(_) | Mpd | MediaPlaylist(..) | IframePlaylist(_) => {
            manifests::build(p, object, protection)?
        }
        SubtitlePlaylist(..) | SubtitleSegment(..) | SubtitleFile(_) | SubtitlePeriod(..) => {
            subtitles::build(p, object, protection)?
        }
        Init(id) => cmaf::init(p, id, protection)?,
        CmafSegment(id, n) => cmaf::segment(state, title, id, *n, protection).await?,
        TsSegment(id, n) => ts::segment(state, title, id, *n, protection).await?,
        Key(_) | ClearKeyLicense | Steering(_) | Ad(_) | BlankSubtitle | AssetList(_) => {
            return Err(Problem::new(
                ProblemKind::NotFound,
                "keys, licenses, steering answers and ad objects are not packaged from the asset",
            ))
        }
    };
    let built = Built {
        parts: gather_small_parts(built.parts),
        ..built
    };
    state
        .metrics
        .packaging_duration
        .with_label_values(&[output])
        .observe(started.elapsed().as_secs_f64());
    Ok(built)
}
