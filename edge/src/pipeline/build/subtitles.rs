//! WebVTT subtitles: the subtitle media playlists, their segments (cut to the segment
//! windows, with an `X-TIMESTAMP-MAP` matching the CMAF or the MPEG-TS timestamps), the
//! whole file for DASH, and its slices for the Periods of a stitched MPD.

use packager::hls::subtitle_playlist;
use packager::presentation::Presentation;
use packager::protection::{Output, Protection};
use packager::ts_package;

use crate::built::{Built, Cacheability};
use crate::pipeline::build::manifests::{playlist, M3U8};
use crate::pipeline::build::offer::require;
use crate::pipeline::build::rendition::no_rendition;
use crate::pipeline::route::{Flavor, VodObject};
use crate::problem::Problem;

/// A segment-cacheable WebVTT body.
fn vtt(text: String) -> Built {
    Built {
        cacheability: Cacheability::Segment,
        ..playlist(text, "text/vtt")
    }
}

/// Builds the subtitle object `object` names, with its metrics label.
pub fn build(
    p: &Presentation,
    object: &VodObject,
    protection: Option<&Protection>,
) -> Result<(&'static str, Built), Problem> {
    let subtitles = |lang: &str| {
        p.subtitle(lang)
            .ok_or_else(|| no_rendition(&format!("subtitles in '{lang}'")))
    };
    match object {
        VodObject::SubtitlePlaylist(flavor, lang) => {
            if *flavor == Flavor::Ts {
                require(protection, Output::HlsTs, "MPEG-TS form")?;
            }
            subtitles(lang)?;
            Ok(("hls_media_playlist", playlist(subtitle_playlist(p), M3U8)))
        }
        VodObject::SubtitleSegment(flavor, lang, n) => {
            if *flavor == Flavor::Ts {
                require(protection, Output::HlsTs, "MPEG-TS form")?;
            }
            let sub = subtitles(lang)?;
            let (start, end) = p
                .segment_window_ms(*n as usize - 1)
                .ok_or_else(|| no_rendition(&format!("subtitle segment {n}")))?;
            let mpegts = p.origin_90k()
                + match flavor {
                    Flavor::Cmaf => 0,
                    Flavor::Ts => ts_package::TS_TIMESTAMP_OFFSET,
                };
            Ok(("webvtt", vtt(sub.vtt.segment(start, end, mpegts))))
        }
        VodObject::SubtitleFile(lang) => {
            require(protection, Output::Dash, "DASH form")?;
            Ok(("webvtt", vtt(subtitles(lang)?.text.to_string())))
        }
        VodObject::SubtitlePeriod(lang, from, to) => {
            require(protection, Output::Dash, "DASH form")?;
            let sub = subtitles(lang)?;
            // A slice may run a little past the end (rounding), not anywhere.
            let last_ms = (p.duration_seconds() * 1000.0) as u64 + 1000;
            if *to > last_ms {
                return Err(no_rendition(&format!(
                    "subtitles to {to} ms (the title ends before {last_ms} ms)"
                )));
            }
            Ok(("webvtt", vtt(sub.vtt.period(*from, *to))))
        }
        other => Err(no_rendition(&format!(
            "subtitle at {}",
            other.relative_path()
        ))),
    }
}
