//! A session's manifests with its ads in: the content's media playlists and MPD (built and
//! cached once, shared by every session) rewritten on the way out with `ssai`.
//!
//! Ad URLs sit below the session (`ad/{slot}/{title}/...`, relative to the session's root), so
//! a fetch is attributed to the session and its ad for beacons; the cache key of what they
//! name leaves the session and slot out. A video rendition plays the ad's rendition closest in
//! size; every audio rendition plays the ad's audio; subtitles get an empty WebVTT document
//! (`blank.vtt`) for each ad segment. Ads are encrypted with the content's key, so the
//! content's `EXT-X-KEY` lines are the ads' too.

use std::sync::Arc;

use packager::mp4::Codec;
use packager::presentation::{Presentation, Rendition};
use ssai::dash::{AdPeriod, DashBreak};
use ssai::hls::{AdSegments, Break};
use ssai::interstitials::{Asset, Interstitial};

use crate::ads::config::AdMode;
use crate::ads::plan::Plan;
use crate::ads::session::AdSession;
use crate::media::title::Title;

/// The empty WebVTT document subtitles play during ads.
pub const BLANK_VTT: &str = "WEBVTT\n\n";

/// A session's plan with its ads' titles loaded, as the stitching needs them.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub session: Arc<AdSession>,
    /// Stitched, or guided (HLS Interstitials).
    pub mode: AdMode,
    pub plan: Arc<Plan>,
    pub breaks: Vec<LoadedBreak>,
    /// Each ad's own MPD by slot (for an MPD request only), under the content's protection.
    pub ad_mpds: Vec<(String, String)>,
}

/// A break whose ads' titles are loaded.
#[derive(Debug, Clone)]
pub struct LoadedBreak {
    /// Its number in the session, from 1 (its asset list is `assets/{number}.json`).
    pub number: u32,
    pub before_segment: usize,
    /// Where it is, milliseconds into the content.
    pub at_ms: u64,
    pub ads: Vec<LoadedAd>,
}

#[derive(Debug, Clone)]
pub struct LoadedAd {
    pub slot: String,
    pub title_name: String,
    pub title: Arc<Title>,
}

/// The duration of each segment of `p`'s lead rendition, in milliseconds.
pub fn segment_durations_ms(p: &Presentation) -> Vec<u64> {
    let Some(lead) = p.lead() else {
        return Vec::new();
    };
    let scale = u64::from(p.track(lead).timescale.max(1));
    lead.segment_times
        .iter()
        .map(|t| t.duration * 1000 / scale)
        .collect()
}

/// An ad's length as players see it: its lead rendition's segments (the audio track may run a
/// few milliseconds longer).
pub fn ad_seconds(p: &Presentation) -> f64 {
    segment_durations_ms(p).iter().sum::<u64>() as f64 / 1000.0
}

/// Whether an ad title can stand in for content `p`: video where the content has video,
/// audio where it has audio.
pub fn fits(content: &Presentation, ad: &Presentation) -> bool {
    (content.video.is_empty() || !ad.video.is_empty())
        && (content.audio.is_empty() || !ad.audio.is_empty())
}

fn height(p: &Presentation, r: &Rendition) -> u32 {
    match &p.track(r).codec {
        Codec::Video(v) => u32::from(v.height),
        Codec::Audio(_) => 0,
    }
}

/// The ad rendition that plays in place of content rendition `id`.
fn ad_rendition<'a>(
    content: &Presentation,
    ad: &'a Presentation,
    id: &str,
) -> Option<&'a Rendition> {
    let r = content.rendition(id)?;
    if content.track(r).is_video() {
        let h = height(content, r);
        ad.video.iter().min_by_key(|a| height(ad, a).abs_diff(h))
    } else {
        ad.audio.first()
    }
}

/// A playlist of the session that ads go into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Playlist<'a> {
    /// The media playlist of content rendition `rendition`, TS or CMAF.
    Media {
        rendition: &'a str,
        ts: bool,
    },
    Subtitles,
}

/// `../` once per directory of `path` (the playlist's path below the session root).
fn to_root(path: &str) -> String {
    "../".repeat(path.matches('/').count())
}

/// The content playlist's `EXT-X-KEY` lines in force at its first segment.
fn content_key_lines(text: &str) -> Vec<String> {
    text.lines()
        .take_while(|l| l.starts_with('#') || l.trim().is_empty())
        .filter(|l| l.starts_with("#EXT-X-KEY:"))
        .map(str::to_owned)
        .collect()
}

/// The segments of `ad` for `playlist`, if it plays there.
fn ad_segments(
    content: &Presentation,
    playlist: Playlist<'_>,
    ad: &LoadedAd,
    root: &str,
    keys: &[String],
) -> Option<AdSegments> {
    let p = &ad.title.presentation;
    let base = format!("{root}ad/{}/{}/", ad.slot, ad.title_name);
    let seconds = |r: &Rendition| -> Vec<f64> {
        let scale = f64::from(p.track(r).timescale.max(1));
        r.segment_times
            .iter()
            .map(|t| t.duration as f64 / scale)
            .collect()
    };
    match playlist {
        Playlist::Media { rendition, ts } => {
            let r = ad_rendition(content, p, rendition)?;
            let (map_uri, dir, ext) = if ts {
                (None, format!("{base}ts/{}/", r.id), "ts")
            } else {
                (
                    Some(format!("{base}{}/init.mp4", r.id)),
                    format!("{base}{}/", r.id),
                    "m4s",
                )
            };
            Some(AdSegments {
                map_uri,
                key_lines: keys.to_vec(),
                segments: seconds(r)
                    .into_iter()
                    .enumerate()
                    .map(|(i, d)| (d, format!("{dir}{}.{ext}", i + 1)))
                    .collect(),
            })
        }
        Playlist::Subtitles => Some(AdSegments {
            map_uri: None,
            key_lines: Vec::new(),
            segments: seconds(p.lead()?)
                .into_iter()
                .map(|d| (d, format!("{root}blank.vtt")))
                .collect(),
        }),
    }
}

/// A media or subtitle playlist of the session at `path` (below the session root): `text`
/// (the content's) with the ads in.
pub fn hls_playlist(
    view: &SessionView,
    content: &Presentation,
    playlist: Playlist<'_>,
    path: &str,
    text: &str,
) -> Result<String, ssai::hls::StitchError> {
    let root = to_root(path);
    let keys = content_key_lines(text);
    let breaks: Vec<Break> = view
        .breaks
        .iter()
        .map(|b| Break {
            before_segment: b.before_segment,
            ads: b
                .ads
                .iter()
                .filter_map(|ad| ad_segments(content, playlist, ad, &root, &keys))
                .collect(),
        })
        .collect();
    let stitched = ssai::hls::stitch(text, &breaks)?;
    Ok(if keys.iter().any(|k| is_aes128_without_iv(k)) {
        explicit_aes_ivs(&stitched)
    } else {
        stitched
    })
}

fn is_aes128_without_iv(line: &str) -> bool {
    line.starts_with("#EXT-X-KEY:") && line.contains("METHOD=AES-128") && !line.contains(",IV=")
}

/// The segment number (from 1) a segment URI ends in (`.../7.ts`).
fn segment_number(uri: &str) -> Option<u64> {
    let file = uri.rsplit('/').next()?.split('?').next()?;
    let (stem, _) = file.split_once('.')?;
    stem.parse().ok().filter(|&n| n > 0)
}

/// An AES-128 playlist with each segment's IV written out. Without an `IV` attribute the IV
/// is the segment's media sequence number (RFC 8216 5.2), and each segment was encrypted with
/// its number in its own title less one; in a stitched playlist its position no longer says
/// that, so every segment gets its key line with its own IV.
pub fn explicit_aes_ivs(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len() * 2);
    let mut key: Option<&str> = None;
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("#EXT-X-KEY:") {
            if is_aes128_without_iv(line) {
                key = Some(line);
                continue;
            }
            key = None;
        }
        if let (Some(k), true) = (key, line.starts_with("#EXTINF")) {
            let uri = lines[i + 1..].iter().find(|l| !l.starts_with('#'));
            if let Some(n) = uri.and_then(|u| segment_number(u)) {
                out.push_str(k);
                out.push_str(&format!(",IV=0x{:032x}\n", n - 1));
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// A media or subtitle playlist of a guided session at `path`: `text` (the content's) with an
/// interstitial per break, whose asset list is the session's `assets/{number}.json` (with
/// `query`, the playlist request's, so a token in it reaches the asset lists too).
pub fn interstitials(view: &SessionView, path: &str, text: &str, query: Option<&str>) -> String {
    let root = to_root(path);
    let query = query.map(|q| format!("?{q}")).unwrap_or_default();
    let breaks: Vec<Interstitial> = view
        .breaks
        .iter()
        .map(|b| Interstitial {
            id: format!("break-{}", b.number),
            at_ms: b.at_ms,
            asset_list: format!("{root}assets/{}.json{query}", b.number),
            planned_s: Some(
                b.ads
                    .iter()
                    .map(|a| a.title.presentation.duration_seconds())
                    .sum(),
            ),
        })
        .collect();
    ssai::interstitials::media_playlist(text, &breaks)
}

/// The asset list of break `number` of a guided session: its ads' multivariant playlists, as
/// absolute URLs below `session_root` (the session's URL, ending in `/`; players resolve an
/// asset's URI against the page, not the list), with `query` (the list request's).
pub fn asset_list(
    view: &SessionView,
    number: u32,
    session_root: &str,
    query: Option<&str>,
) -> Option<String> {
    let query = query.map(|q| format!("?{q}")).unwrap_or_default();
    let b = view.breaks.iter().find(|b| b.number == number)?;
    let assets: Vec<Asset> = b
        .ads
        .iter()
        .map(|ad| Asset {
            uri: format!(
                "{session_root}ad/{}/{}/master.m3u8{query}",
                ad.slot, ad.title_name
            ),
            duration_s: ad_seconds(&ad.title.presentation),
        })
        .collect();
    Some(ssai::interstitials::asset_list(&assets))
}

/// The session's multivariant playlist: the content's without I-frame streams (their
/// timeline has no ads in it).
pub fn multivariant(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if !line.starts_with("#EXT-X-I-FRAME-STREAM-INF") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The session's MPD: the content's `mpd` with one Period per ad (from the view's ad MPDs).
pub fn mpd(view: &SessionView, content_mpd: &str) -> Result<String, ssai::dash::DashError> {
    let breaks: Vec<DashBreak> = view
        .breaks
        .iter()
        .map(|b| DashBreak {
            before_segment: b.before_segment,
            ads: b
                .ads
                .iter()
                .filter_map(|ad| {
                    Some(AdPeriod {
                        id: ad.slot.clone(),
                        mpd: view
                            .ad_mpds
                            .iter()
                            .find(|(slot, _)| *slot == ad.slot)?
                            .1
                            .clone(),
                        base_url: format!("ad/{}/{}/", ad.slot, ad.title_name),
                        // The session's empty WebVTT document, from `ad/{slot}/{title}/`.
                        blank_text: Some("../../../blank.vtt".into()),
                    })
                })
                .collect(),
        })
        .collect();
    ssai::dash::stitch_mpd(content_mpd, &breaks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_as_deep_as_the_object() {
        assert_eq!(to_root("v1/media.m3u8"), "../");
        assert_eq!(to_root("ts/v1/media.m3u8"), "../../");
        assert_eq!(to_root("ts/sub/en/media.m3u8"), "../../../");
    }

    #[test]
    fn key_lines_are_those_before_the_first_segment() {
        let text = "#EXTM3U\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"a\"\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:4,\n1.m4s\n#EXT-X-KEY:METHOD=NONE\n";
        assert_eq!(
            content_key_lines(text),
            ["#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"a\""]
        );
    }

    #[test]
    fn aes_128_segments_get_their_own_iv() {
        let stitched = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-KEY:METHOD=AES-128,URI=\"../../keys/k.key\"\n#EXTINF:4.000,\n../../ad/0-0/a.mp4/ts/v1/1.ts\n#EXTINF:4.000,\n../../ad/0-0/a.mp4/ts/v1/2.ts\n#EXT-X-DISCONTINUITY\n#EXT-X-KEY:METHOD=AES-128,URI=\"../../keys/k.key\"\n#EXTINF:4.00000,\n1.ts\n#EXT-X-ENDLIST\n";
        let out = explicit_aes_ivs(stitched);
        let keys: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("#EXT-X-KEY"))
            .collect();
        assert_eq!(keys.len(), 3, "{out}");
        assert!(keys[0].ends_with(",IV=0x00000000000000000000000000000000"));
        assert!(keys[1].ends_with(",IV=0x00000000000000000000000000000001"));
        // The content's first segment after the ad: its own number, not its position.
        assert!(keys[2].ends_with(",IV=0x00000000000000000000000000000000"));
        assert!(out.contains("#EXT-X-DISCONTINUITY\n#EXT-X-KEY"), "{out}");
        let parsed = m3u8_rs::parse_media_playlist_res(out.as_bytes()).unwrap();
        assert_eq!(parsed.segments.len(), 3);
    }

    #[test]
    fn i_frame_streams_leave_the_session_multivariant() {
        let text = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv1/media.m3u8\n#EXT-X-I-FRAME-STREAM-INF:URI=\"v1/iframes.m3u8\"\n";
        assert_eq!(
            multivariant(text),
            "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv1/media.m3u8\n"
        );
    }
}
