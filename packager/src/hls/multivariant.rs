//! HLS multivariant playlists: one `EXT-X-STREAM-INF` per video rendition and audio group,
//! `EXT-X-MEDIA` for audio languages and subtitles, and I-frame streams for trick play.

use std::fmt::Write;

use crate::bandwidth::Bandwidth;
use crate::hls::flavor::HlsFlavor;
use crate::hls::keys::{key_lines, KeyTag};
use crate::language::{bcp47, display_name};
use crate::mp4::{Codec, Track};
use crate::presentation::{Presentation, Rendition};
use crate::protection::Protection;

const SUBTITLE_GROUP: &str = "subs";

/// Audio group id for a codec: renditions of one codec form one group.
fn audio_group(track: &Track) -> String {
    match &track.codec {
        Codec::Audio(a) => format!("audio-{}", a.codec_string.replace('.', "_")),
        Codec::Video(_) => "audio".into(),
    }
}

/// Bit rates of each video rendition as the flavor's segments will have them, given by
/// the caller (the TS muxer's sizes differ from CMAF's).
pub struct VariantRates<'a> {
    pub video: &'a dyn Fn(&Rendition) -> Bandwidth,
    pub audio: &'a dyn Fn(&Rendition) -> Bandwidth,
}

/// Writes the multivariant playlist. URIs are relative to the playlist's own URL.
/// With `protection`, `EXT-X-SESSION-KEY` lines announce the keys up front, and there are no
/// I-frame streams (their byte ranges are those of clear segments).
pub fn write_multivariant(
    p: &Presentation,
    flavor: HlsFlavor,
    rates: &VariantRates<'_>,
    protection: Option<&Protection>,
) -> String {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    if let Some(pr) = protection {
        let to_root = match flavor {
            HlsFlavor::Cmaf => "",
            HlsFlavor::Ts => "../",
        };
        out.push_str(&key_lines(pr, flavor, KeyTag::SessionKey, to_root, None));
    }
    // The group of each audio rendition (named once), and the groups in first-seen order.
    let audio_groups: Vec<String> = p.audio.iter().map(|r| audio_group(p.track(r))).collect();
    let mut groups: Vec<&str> = Vec::new();
    for g in &audio_groups {
        if !groups.contains(&g.as_str()) {
            groups.push(g);
        }
    }
    for (i, (r, group)) in p.audio.iter().zip(&audio_groups).enumerate() {
        let track = p.track(r);
        let first_in_group = audio_groups.iter().position(|g| g == group) == Some(i);
        let channels = match &track.codec {
            Codec::Audio(a) => a.channels,
            Codec::Video(_) => 0,
        };
        let _ = write!(out, "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"{group}\"");
        if let Some(lang) = bcp47(&track.language) {
            let _ = write!(out, ",LANGUAGE=\"{lang}\"");
        }
        let _ = write!(
            out,
            ",NAME=\"{}\",DEFAULT={},AUTOSELECT=YES,CHANNELS=\"{channels}\"",
            media_name(p, r),
            if first_in_group { "YES" } else { "NO" }
        );
        // In TS the default audio travels inside the video segments.
        let muxed = flavor == HlsFlavor::Ts && i == 0 && !p.video.is_empty();
        if !muxed {
            let _ = write!(out, ",URI=\"{}/media.m3u8\"", r.id);
        }
        out.push('\n');
    }
    for s in &p.subtitles {
        let lang = bcp47(&s.language).unwrap_or_else(|| s.language.clone());
        let _ = writeln!(
            out,
            "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"{SUBTITLE_GROUP}\",LANGUAGE=\"{lang}\",NAME=\"{}\",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI=\"sub/{}/media.m3u8\"",
            display_name(&s.language),
            s.language
        );
    }
    let subs = if p.subtitles.is_empty() {
        String::new()
    } else {
        format!(",SUBTITLES=\"{SUBTITLE_GROUP}\"")
    };
    if p.video.is_empty() {
        // Audio-only title: each audio rendition is a variant of its own.
        for r in &p.audio {
            let bw = (rates.audio)(r);
            let _ = writeln!(
                out,
                "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},CODECS=\"{}\"{subs}\n{}/media.m3u8",
                bw.peak.max(1),
                bw.average.max(1),
                p.track(r).codec.codec_string(),
                r.id
            );
        }
        return out;
    }
    let group_list: Vec<Option<&str>> = if groups.is_empty() {
        vec![None]
    } else {
        groups.iter().copied().map(Some).collect()
    };
    for r in &p.video {
        let track = p.track(r);
        let video_bw = (rates.video)(r);
        for group in &group_list {
            let audio_in_group: Vec<&Rendition> = p
                .audio
                .iter()
                .zip(&audio_groups)
                .filter(|(_, g)| Some(g.as_str()) == *group)
                .map(|(a, _)| a)
                .collect();
            let audio_peak = audio_in_group
                .iter()
                .map(|a| (rates.audio)(a).peak)
                .max()
                .unwrap_or(0);
            let audio_avg = audio_in_group
                .iter()
                .map(|a| (rates.audio)(a).average)
                .max()
                .unwrap_or(0);
            let mut codecs = track.codec.codec_string().to_owned();
            if let Some(a) = audio_in_group.first() {
                codecs.push(',');
                codecs.push_str(p.track(a).codec.codec_string());
            }
            let _ = write!(
                out,
                "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},CODECS=\"{codecs}\"",
                video_bw.peak + audio_peak,
                video_bw.average + audio_avg
            );
            write_picture_attributes(&mut out, track);
            if let Some(g) = group {
                let _ = write!(out, ",AUDIO=\"{g}\"");
            }
            let _ = writeln!(out, "{subs}\n{}/media.m3u8", r.id);
        }
    }
    if flavor == HlsFlavor::Cmaf && protection.is_none() {
        for r in &p.video {
            let track = p.track(r);
            let Bandwidth { peak, average } = r.iframe_bandwidth;
            let _ = write!(
                out,
                "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},CODECS=\"{}\"",
                peak.max(1),
                average.max(1),
                track.codec.codec_string()
            );
            write_picture_attributes(&mut out, track);
            let _ = writeln!(out, ",URI=\"{}/iframes.m3u8\"", r.id);
        }
    }
    out
}

fn write_picture_attributes(out: &mut String, track: &Track) {
    if let Codec::Video(v) = &track.codec {
        let _ = write!(out, ",RESOLUTION={}x{}", v.width, v.height);
    }
    if let Some(fps) = track.frame_rate() {
        out.push_str(",FRAME-RATE=");
        crate::fixed::push_fixed(out, fps, 3);
    }
}

/// A unique, readable NAME for an audio rendition.
fn media_name(p: &Presentation, r: &Rendition) -> String {
    let track = p.track(r);
    let base = display_name(&track.language);
    let same_language = p
        .audio
        .iter()
        .filter(|o| p.track(o).language == track.language)
        .count();
    if same_language > 1 {
        format!("{base} ({})", track.codec.codec_string())
    } else {
        base
    }
}
