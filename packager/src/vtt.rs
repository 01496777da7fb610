//! WebVTT subtitles: parsed into cues once, then cut into segments that line up with the
//! media segments (HLS) or passed through whole (DASH).

use crate::error::{Error, Result};

/// Largest subtitle file we accept.
pub const MAX_VTT_BYTES: usize = 16 * 1024 * 1024;

/// A parsed WebVTT file.
#[derive(Debug, Clone, PartialEq)]
pub struct WebVtt {
    /// STYLE and REGION blocks, kept for every segment.
    pub header_blocks: Vec<String>,
    pub cues: Vec<Cue>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    /// Start and end in milliseconds.
    pub start_ms: u64,
    pub end_ms: u64,
    /// The cue block as written (identifier, timing line with settings, payload).
    pub block: String,
}

/// Parses `text` (`name` is used in errors).
pub fn parse_vtt(name: &str, text: &str) -> Result<WebVtt> {
    if text.len() > MAX_VTT_BYTES {
        return Err(Error::limit(
            name,
            format!(
                "subtitle file of {} bytes exceeds {MAX_VTT_BYTES}",
                text.len()
            ),
        ));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut blocks = normalized.split("\n\n").filter(|b| !b.trim().is_empty());
    let first = blocks.next().unwrap_or("");
    if !first.starts_with("WEBVTT") {
        return Err(Error::malformed(name, 0, "does not start with 'WEBVTT'"));
    }
    let mut vtt = WebVtt {
        header_blocks: Vec::new(),
        cues: Vec::new(),
    };
    for block in blocks {
        let block = block.trim_matches('\n');
        if block.starts_with("NOTE") {
            continue;
        }
        if block.starts_with("STYLE") || block.starts_with("REGION") {
            vtt.header_blocks.push(block.to_owned());
            continue;
        }
        let Some(timing) = block.lines().find(|l| l.contains("-->")) else {
            return Err(Error::malformed(
                name,
                0,
                format!("block without a cue timing line: {:?}", truncate(block)),
            ));
        };
        let mut parts = timing.split("-->");
        let start = parts.next().unwrap_or("").trim();
        let end = parts
            .next()
            .unwrap_or("")
            .split_whitespace()
            .next()
            .unwrap_or("");
        let (Some(start_ms), Some(end_ms)) = (parse_timestamp(start), parse_timestamp(end)) else {
            return Err(Error::malformed(
                name,
                0,
                format!("bad cue timing line {:?}", truncate(timing)),
            ));
        };
        vtt.cues.push(Cue {
            start_ms,
            end_ms: end_ms.max(start_ms),
            block: block.to_owned(),
        });
    }
    Ok(vtt)
}

fn truncate(s: &str) -> String {
    s.chars().take(60).collect()
}

/// Parses `hh:mm:ss.ttt` or `mm:ss.ttt` into milliseconds.
fn parse_timestamp(s: &str) -> Option<u64> {
    let (clock, millis) = s.split_once('.')?;
    if millis.len() != 3 {
        return None;
    }
    let millis: u64 = millis.parse().ok()?;
    let fields: Vec<u64> = clock
        .split(':')
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    // Checked: a field of 20 digits parses as a u64 but overflows once scaled.
    let seconds = match fields.as_slice() {
        [m, s] => m.checked_mul(60)?.checked_add(*s)?,
        [h, m, s] => h
            .checked_mul(3600)?
            .checked_add(m.checked_mul(60)?)?
            .checked_add(*s)?,
        _ => return None,
    };
    seconds.checked_mul(1000)?.checked_add(millis)
}

impl WebVtt {
    /// One segment holding the cues that overlap `[start_ms, end_ms)`, with an
    /// `X-TIMESTAMP-MAP` that ties local time zero to `mpegts` (90 kHz).
    pub fn segment(&self, start_ms: u64, end_ms: u64, mpegts: u64) -> String {
        let mut out = format!("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:{mpegts},LOCAL:00:00:00.000\n\n");
        for block in &self.header_blocks {
            out.push_str(block);
            out.push_str("\n\n");
        }
        for cue in &self.cues {
            if cue.start_ms < end_ms && cue.end_ms > start_ms {
                out.push_str(&cue.block);
                out.push_str("\n\n");
            }
        }
        out
    }
}

/// `ms` as a WebVTT timestamp, `hh:mm:ss.ttt`.
fn timestamp(ms: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

impl WebVtt {
    /// The cues that overlap `[from_ms, to_ms)`, their times made relative to `from_ms` and
    /// kept inside the slice, as a document of their own: a DASH Period's sidecar file for
    /// its stretch of the content. Cue settings and payloads are kept as written.
    pub fn period(&self, from_ms: u64, to_ms: u64) -> String {
        let mut out = String::from("WEBVTT\n\n");
        for block in &self.header_blocks {
            out.push_str(block);
            out.push_str("\n\n");
        }
        let len = to_ms.saturating_sub(from_ms);
        for cue in &self.cues {
            if cue.start_ms >= to_ms || cue.end_ms <= from_ms {
                continue;
            }
            let start = cue.start_ms.saturating_sub(from_ms);
            let end = (cue.end_ms - from_ms).min(len);
            for line in cue.block.lines() {
                match line.split_once("-->") {
                    Some((_, after)) => {
                        // The end timestamp, then the settings as written.
                        let after = after.trim_start();
                        let settings = after
                            .split_once(char::is_whitespace)
                            .map_or("", |(_, rest)| rest.trim());
                        out.push_str(&timestamp(start));
                        out.push_str(" --> ");
                        out.push_str(&timestamp(end));
                        if !settings.is_empty() {
                            out.push(' ');
                            out.push_str(settings);
                        }
                    }
                    None => out.push_str(line),
                }
                out.push('\n');
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "WEBVTT\n\nNOTE a note\n\n1\n00:00:01.000 --> 00:00:03.500 line:90%\nHello\n\n00:04.000 --> 00:00:06.000\nWorld\n";

    #[test]
    fn a_period_slice_holds_its_cues_relative_to_its_start() {
        let vtt = parse_vtt("s.vtt", SAMPLE).unwrap();
        let slice = vtt.period(3000, 5000);
        assert_eq!(
            slice,
            "WEBVTT\n\n1\n00:00:00.000 --> 00:00:00.500 line:90%\nHello\n\n00:00:01.000 --> 00:00:02.000\nWorld\n\n"
        );
        // It reads back, with the same cues.
        let back = parse_vtt("slice.vtt", &slice).unwrap();
        assert_eq!(back.cues.len(), 2);
        assert_eq!((back.cues[1].start_ms, back.cues[1].end_ms), (1000, 2000));
        // Nothing in the window: a document without cues.
        assert_eq!(vtt.period(7000, 9000), "WEBVTT\n\n");
        assert_eq!(timestamp(3_723_004), "01:02:03.004");
    }

    #[test]
    fn parses_cues_and_segments_by_overlap() {
        let vtt = parse_vtt("t.vtt", SAMPLE).unwrap();
        assert_eq!(vtt.cues.len(), 2);
        assert_eq!(vtt.cues[0].start_ms, 1000);
        assert_eq!(vtt.cues[1].start_ms, 4000);
        let seg = vtt.segment(0, 4000, 900000);
        assert!(seg.starts_with("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n"));
        assert!(seg.contains("Hello") && !seg.contains("World"));
        let seg = vtt.segment(3000, 8000, 0);
        assert!(seg.contains("Hello") && seg.contains("World"));
    }

    #[test]
    fn rejects_non_vtt_and_bad_timing() {
        assert!(parse_vtt("x", "hello").is_err());
        assert!(parse_vtt("x", "WEBVTT\n\n00:01 --> 00:02\nx").is_err());
    }

    #[test]
    fn timestamps_too_large_for_milliseconds_are_bad_timing() {
        // Found by the webvtt fuzz target (fuzz/corpus/webvtt/regression-timestamp-overflow):
        // each field fits a u64, the time in milliseconds does not.
        let text = "WEBVTT]\n03\n\n2\n001111111111111111:11.000 --> s";
        let e = parse_vtt("x", text).unwrap_err();
        assert!(e.to_string().contains("bad cue timing line"), "{e}");
        for stamp in [
            "18446744073709551615:00.000",
            "5124095576030432:00:00.000",
            "00:18446744073709552.000",
            "18446744073709551:615.000",
        ] {
            let text = format!("WEBVTT\n\n00:00.000 --> {stamp}\nx");
            assert!(parse_vtt("x", &text).is_err(), "{stamp}");
        }
        assert_eq!(parse_timestamp("100:00:00.001"), Some(360_000_001));
    }
}
