//! Building the object a request names, from its title: manifests from the plan, segments
//! from the plan plus one coalesced read of the source.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::future::try_join_all;
use packager::cmaf::{
    media_segment_len, write_init_segment, write_media_segment, write_protected_init_segment,
};
use packager::dash::write_mpd;
use packager::hls::{
    cmaf_iframe_playlist, cmaf_media_playlist, subtitle_playlist, write_multivariant, HlsFlavor,
    VariantRates,
};
use packager::presentation::{Presentation, Rendition};
use packager::protection::{write_protected_segment, Output, Protection};
use packager::segment::{SegmentSpan, SourceRange};
use packager::ts_package;

use crate::body::gather_small_parts;
use crate::media::title::Title;
use crate::problem::{Problem, ProblemKind};
use crate::route::{Flavor, VodObject};
use crate::state::AppState;

/// How a response may be cached downstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cacheability {
    Playlist,
    Segment,
}

/// A built object: its parts, type and cacheability. Cloning shares the parts.
#[derive(Clone)]
pub struct Built {
    pub parts: Vec<Bytes>,
    pub content_type: &'static str,
    pub cacheability: Cacheability,
}

const M3U8: &str = "application/vnd.apple.mpegurl";

fn playlist(text: String, content_type: &'static str) -> Built {
    Built {
        parts: vec![Bytes::from(text)],
        content_type,
        cacheability: Cacheability::Playlist,
    }
}

fn no_rendition(what: &str) -> Problem {
    Problem::new(
        ProblemKind::RenditionNotFound,
        format!("the asset has no {what}"),
    )
}

fn rendition<'a>(p: &'a Presentation, id: &str) -> Result<&'a Rendition, Problem> {
    p.rendition(id)
        .ok_or_else(|| no_rendition(&format!("rendition '{id}'")))
}

fn span(r: &Rendition, number: u32) -> Result<SegmentSpan, Problem> {
    r.segments.get(number as usize - 1).copied().ok_or_else(|| {
        no_rendition(&format!(
            "segment {number} in rendition '{}' ({} segments)",
            r.id,
            r.segments.len()
        ))
    })
}

fn media_type(p: &Presentation, r: &Rendition) -> &'static str {
    if p.track(r).is_video() {
        "video/mp4"
    } else {
        "audio/mp4"
    }
}

/// Reads the bytes of samples `span` of rendition `r` in one coalesced range.
async fn read_span(
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

/// Exact size of an object whose size is known without building it (for HEAD): clear CMAF
/// segments.
pub fn known_len(
    title: &Title,
    object: &VodObject,
    protection: Option<&Protection>,
) -> Option<u64> {
    let p = &title.presentation;
    match object {
        VodObject::CmafSegment(..) if protection.is_some() => None,
        VodObject::CmafSegment(id, n) => {
            let r = p.rendition(id)?;
            let s = r.segments.get((*n as usize).checked_sub(1)?)?;
            Some(media_segment_len(p.track(r), s))
        }
        _ => None,
    }
}

fn not_offered(protection: &Protection, what: &str) -> Problem {
    Problem::new(
        ProblemKind::OutputNotOffered,
        format!(
            "the asset is encrypted with '{}', which has no {what}",
            protection.method.name()
        ),
    )
}

/// Refuses `output` when the asset's protection has no form of it.
fn require(protection: Option<&Protection>, output: Output, what: &str) -> Result<(), Problem> {
    match protection {
        Some(pr) if !pr.offers(output) => Err(not_offered(pr, what)),
        _ => Ok(()),
    }
}

/// Builds `object` of `title`, encrypted under `protection` when there is one.
pub async fn build(
    state: &AppState,
    title: Arc<Title>,
    object: &VodObject,
    protection: Option<&Protection>,
) -> Result<Built, Problem> {
    let p = &title.presentation;
    let started = Instant::now();
    match object {
        VodObject::Multivariant(Flavor::Ts)
        | VodObject::MediaPlaylist(Flavor::Ts, _)
        | VodObject::TsSegment(..)
        | VodObject::SubtitlePlaylist(Flavor::Ts, _)
        | VodObject::SubtitleSegment(Flavor::Ts, ..) => {
            require(protection, Output::HlsTs, "MPEG-TS form")?
        }
        VodObject::Mpd | VodObject::SubtitleFile(_) => {
            require(protection, Output::Dash, "DASH form")?
        }
        VodObject::IframePlaylist(_) => {
            if let Some(pr) = protection {
                return Err(not_offered(pr, "I-frame playlists"));
            }
        }
        _ => {}
    }
    let (output, built) = match object {
        VodObject::Key(_) | VodObject::ClearKeyLicense => {
            return Err(Problem::new(
                ProblemKind::NotFound,
                "keys and licenses are not packaged objects",
            ))
        }
        VodObject::Multivariant(Flavor::Cmaf) => {
            let rates = VariantRates {
                video: &|r| r.bandwidth,
                audio: &|r| r.bandwidth,
            };
            (
                "hls_multivariant",
                playlist(
                    write_multivariant(p, HlsFlavor::Cmaf, &rates, protection),
                    M3U8,
                ),
            )
        }
        VodObject::Multivariant(Flavor::Ts) => (
            "hls_multivariant",
            playlist(ts_package::ts_multivariant(p, protection), M3U8),
        ),
        VodObject::Mpd => (
            "dash_mpd",
            playlist(write_mpd(p, protection), "application/dash+xml"),
        ),
        VodObject::MediaPlaylist(Flavor::Cmaf, id) => (
            "hls_media_playlist",
            playlist(cmaf_media_playlist(rendition(p, id)?, protection), M3U8),
        ),
        VodObject::MediaPlaylist(Flavor::Ts, id) => (
            "hls_media_playlist",
            playlist(
                ts_package::ts_media_playlist(rendition(p, id)?, protection),
                M3U8,
            ),
        ),
        VodObject::IframePlaylist(id) => {
            let r = rendition(p, id)?;
            if !p.track(r).is_video() {
                return Err(no_rendition(&format!("I-frame playlist for audio '{id}'")));
            }
            (
                "hls_media_playlist",
                playlist(cmaf_iframe_playlist(r), M3U8),
            )
        }
        VodObject::SubtitlePlaylist(_, lang) => {
            p.subtitle(lang)
                .ok_or_else(|| no_rendition(&format!("subtitles in '{lang}'")))?;
            ("hls_media_playlist", playlist(subtitle_playlist(p), M3U8))
        }
        VodObject::SubtitleSegment(flavor, lang, n) => {
            let sub = p
                .subtitle(lang)
                .ok_or_else(|| no_rendition(&format!("subtitles in '{lang}'")))?;
            let (start, end) = p
                .segment_window_ms(*n as usize - 1)
                .ok_or_else(|| no_rendition(&format!("subtitle segment {n}")))?;
            let mpegts = p.origin_90k()
                + match flavor {
                    Flavor::Cmaf => 0,
                    Flavor::Ts => ts_package::TS_TIMESTAMP_OFFSET,
                };
            let mut built = playlist(sub.vtt.segment(start, end, mpegts), "text/vtt");
            built.cacheability = Cacheability::Segment;
            ("webvtt", built)
        }
        VodObject::SubtitleFile(lang) => {
            let sub = p
                .subtitle(lang)
                .ok_or_else(|| no_rendition(&format!("subtitles in '{lang}'")))?;
            let mut built = playlist(sub.text.to_string(), "text/vtt");
            built.cacheability = Cacheability::Segment;
            ("webvtt", built)
        }
        VodObject::Init(id) => {
            let r = rendition(p, id)?;
            let track = p.track(r);
            let init = match protection
                .and_then(|pr| Some((pr, pr.track_crypto(&r.id, track.is_video())?)))
            {
                Some((pr, crypto)) => {
                    write_protected_init_segment(track, &crypto, &pr.signalling.init_pssh_boxes())?
                }
                None => write_init_segment(track),
            };
            (
                "cmaf_init",
                Built {
                    parts: vec![init],
                    content_type: media_type(p, r),
                    cacheability: Cacheability::Segment,
                },
            )
        }
        VodObject::CmafSegment(id, n) => {
            let r = rendition(p, id)?;
            let s = span(r, *n)?;
            let source = read_span(state, &title, r, &s).await?;
            let track = p.track(r);
            let parts = match protection {
                None => write_media_segment(track, &s, *n, r.timeline_offset, &source)?
                    .parts()
                    .cloned()
                    .collect(),
                Some(pr) => match pr.track_crypto(&r.id, track.is_video()) {
                    Some(crypto) => {
                        write_protected_segment(track, &s, *n, r.timeline_offset, &source, &crypto)?
                            .parts()
                            .cloned()
                            .collect()
                    }
                    None => {
                        let clear = write_media_segment(track, &s, *n, r.timeline_offset, &source)?;
                        vec![Bytes::from(
                            pr.encrypt_whole_segment(*n, clear.parts().map(|b| &b[..])),
                        )]
                    }
                },
            };
            (
                "cmaf_segment",
                Built {
                    parts,
                    content_type: media_type(p, r),
                    cacheability: Cacheability::Segment,
                },
            )
        }
        VodObject::TsSegment(id, n) => {
            let r = rendition(p, id)?;
            let plan = ts_package::plan_ts_segment(p, r, *n)?;
            // The video and audio reads of a muxed segment go to the origin together.
            let reads = try_join_all(plan.parts.iter().map(|part| {
                let title = &title;
                async move {
                    let pr = p
                        .video
                        .iter()
                        .chain(&p.audio)
                        .find(|x| x.id == part.rendition_id)
                        .ok_or_else(|| no_rendition(&part.rendition_id))?;
                    read_span(state, title, pr, &part.span).await
                }
            }))
            .await?;
            let mut bytes = ts_package::write_ts(p, &plan, &reads, protection)?;
            if let Some(pr) = protection.filter(|pr| pr.is_whole_segment()) {
                bytes = pr.encrypt_whole_segment(*n, [&bytes[..]]);
            }
            (
                "ts_segment",
                Built {
                    parts: vec![Bytes::from(bytes)],
                    content_type: "video/mp2t",
                    cacheability: Cacheability::Segment,
                },
            )
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
