//! The static DASH MPD (ISO/IEC 23009-1, live profile): one AdaptationSet per content type
//! and language, SegmentTemplate with SegmentTimeline per Representation, and a text
//! AdaptationSet per WebVTT subtitle. Segment URLs are the very ones HLS-CMAF uses.

use crate::ascii::AsciiWriter;
use crate::dash::content_protection::{write_content_protection, NAMESPACES};
use crate::protection::Protection;
use crate::xml::xml_escape;
use std::fmt::Write;

use crate::language::bcp47;
use crate::mp4::{Codec, Track};
use crate::presentation::{Presentation, Rendition};

/// An xs:duration with millisecond precision.
pub fn iso_duration(seconds: f64) -> String {
    let mut out = String::with_capacity(24);
    out.push_str("PT");
    crate::fixed::push_fixed(&mut out, seconds.max(0.0), 3);
    out.push('S');
    out
}

/// Writes the MPD; with `protection`, every audio and video AdaptationSet carries its
/// ContentProtection elements.
pub fn write_mpd(p: &Presentation, protection: Option<&Protection>) -> String {
    let duration = iso_duration(p.duration_seconds());
    let max_segment = p
        .video
        .iter()
        .chain(&p.audio)
        .filter_map(|r| {
            let longest = r.segment_times.iter().map(|t| t.duration).max()?;
            Some(longest as f64 / f64::from(p.track(r).timescale.max(1)))
        })
        .fold(0.0, f64::max);
    let mut out = String::new();
    let _ = write!(
        out,
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\"{namespaces} ",
            "profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" type=\"static\" ",
            "mediaPresentationDuration=\"{duration}\" minBufferTime=\"{min_buffer}\" ",
            "maxSegmentDuration=\"{max_segment}\">\n",
            "  <Period id=\"0\" start=\"PT0S\">\n"
        ),
        duration = duration,
        namespaces = if protection.is_some() { NAMESPACES } else { "" },
        min_buffer = iso_duration(max_segment.ceil().max(1.0)),
        max_segment = iso_duration(max_segment),
    );
    let mut set_id = 0u32;
    if !p.video.is_empty() {
        let aligned = p.video_segments_aligned();
        let (max_w, max_h) = p
            .video
            .iter()
            .filter_map(|r| match &p.track(r).codec {
                Codec::Video(v) => Some((v.width, v.height)),
                Codec::Audio(_) => None,
            })
            .fold((0, 0), |(w, h), (vw, vh)| (w.max(vw), h.max(vh)));
        let _ = writeln!(
            out,
            "    <AdaptationSet id=\"{set_id}\" contentType=\"video\" mimeType=\"video/mp4\" segmentAlignment=\"{aligned}\" startWithSAP=\"1\" maxWidth=\"{max_w}\" maxHeight=\"{max_h}\">"
        );
        if let Some(pr) = protection {
            write_content_protection(&mut out, pr, "      ");
        }
        for r in &p.video {
            write_representation(&mut out, p, r);
        }
        out.push_str("    </AdaptationSet>\n");
        set_id += 1;
    }
    // Audio: one AdaptationSet per language and codec.
    for r in &p.audio {
        let track = p.track(r);
        let lang = bcp47(&track.language)
            .map(|l| format!(" lang=\"{}\"", xml_escape(&l)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    <AdaptationSet id=\"{set_id}\" contentType=\"audio\" mimeType=\"audio/mp4\"{lang} segmentAlignment=\"true\" startWithSAP=\"1\">"
        );
        if let Some(pr) = protection {
            write_content_protection(&mut out, pr, "      ");
        }
        if set_id == u32::from(!p.video.is_empty()) {
            out.push_str("      <Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"main\"/>\n");
        }
        write_representation(&mut out, p, r);
        out.push_str("    </AdaptationSet>\n");
        set_id += 1;
    }
    for s in &p.subtitles {
        let lang = bcp47(&s.language).unwrap_or_else(|| s.language.clone());
        let _ = writeln!(
            out,
            concat!(
                "    <AdaptationSet id=\"{id}\" contentType=\"text\" mimeType=\"text/vtt\" lang=\"{lang}\">\n",
                "      <Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"subtitle\"/>\n",
                "      <Representation id=\"sub-{file}\" bandwidth=\"256\">\n",
                "        <BaseURL>sub/{file}.vtt</BaseURL>\n",
                "      </Representation>\n",
                "    </AdaptationSet>"
            ),
            id = set_id,
            lang = xml_escape(&lang),
            file = xml_escape(&s.language),
        );
        set_id += 1;
    }
    out.push_str("  </Period>\n</MPD>\n");
    out
}

fn write_representation(out: &mut String, p: &Presentation, r: &Rendition) {
    let track = p.track(r);
    let _ = write!(
        out,
        "      <Representation id=\"{}\" bandwidth=\"{}\" codecs=\"{}\"",
        xml_escape(&r.id),
        r.bandwidth.peak.max(1),
        xml_escape(track.codec.codec_string())
    );
    match &track.codec {
        Codec::Video(v) => {
            let _ = write!(out, " width=\"{}\" height=\"{}\"", v.width, v.height);
            if let Some(rate) = frame_rate_attribute(track) {
                let _ = write!(out, " frameRate=\"{rate}\"");
            }
            out.push_str(" sar=\"1:1\">\n");
        }
        Codec::Audio(a) => {
            let _ = writeln!(out, " audioSamplingRate=\"{}\">", a.sample_rate);
            let _ = writeln!(
                out,
                "        <AudioChannelConfiguration schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"{}\"/>",
                a.channels
            );
        }
    }
    let id = xml_escape(&r.id);
    let _ = writeln!(
        out,
        "        <SegmentTemplate timescale=\"{}\" presentationTimeOffset=\"{}\" initialization=\"{id}/init.mp4\" media=\"{id}/$Number$.m4s\" startNumber=\"1\">",
        track.timescale,
        presentation_time_offset(p, r)
    );
    out.push_str("          <SegmentTimeline>\n");
    write_timeline(out, p, r);
    out.push_str(
        "          </SegmentTimeline>\n        </SegmentTemplate>\n      </Representation>\n",
    );
}

/// The media time of presentation time zero: the origin in the track's timescale.
fn presentation_time_offset(p: &Presentation, r: &Rendition) -> u64 {
    r.timeline_offset + u64::try_from(p.track(r).presentation_offset).unwrap_or(0)
}

/// `<S t d r>` runs: a repeat count collapses equal, contiguous segments. `t` is the
/// segment's decode start on the output timeline plus the composition offset of the track's
/// first sample: its earliest presentation time for the usual constant-delay B-frames.
fn write_timeline(out: &mut String, p: &Presentation, r: &Rendition) {
    let track = p.track(r);
    let shift = u64::try_from(track.samples.composition_offset(0)).unwrap_or(0);
    let segs = &r.segment_times;
    let mut w = AsciiWriter::with_capacity(segs.len() * 48);
    let mut i = 0;
    while i < segs.len() {
        let t = segs[i].start + r.timeline_offset + shift;
        let d = segs[i].duration;
        let mut repeat = 0;
        while i + repeat + 1 < segs.len() && segs[i + repeat + 1].duration == d {
            repeat += 1;
        }
        w.lit(b"            <S t=\"");
        w.u64(t);
        w.lit(b"\" d=\"");
        w.u64(d);
        if repeat > 0 {
            w.lit(b"\" r=\"");
            w.u64(repeat as u64);
        }
        w.lit(b"\"/>\n");
        i += repeat + 1;
    }
    out.push_str(&w.finish_string());
}

/// `frameRate` as an exact fraction where it is one (30000/1001).
fn frame_rate_attribute(track: &Track) -> Option<String> {
    let fps = track.frame_rate()?;
    let rounded = fps.round();
    if (fps - rounded).abs() < 1e-6 {
        return Some(format!("{rounded}"));
    }
    let ntsc = (rounded * 1000.0) / 1001.0;
    if (fps - ntsc).abs() < 1e-3 {
        return Some(format!("{}/1001", rounded * 1000.0));
    }
    Some(format!("{}/1000", crate::fixed::fixed(fps * 1000.0, 0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_xs_duration() {
        assert_eq!(iso_duration(30.0), "PT30.000S");
        assert_eq!(iso_duration(4.0041), "PT4.004S");
    }
}
