//! Stitched HLS media playlists: a content media playlist (as the packager wrote it) with ad
//! breaks spliced in on segment boundaries. Every content/ad and ad/ad boundary gets an
//! `EXT-X-DISCONTINUITY`; each side gets its own `EXT-X-MAP` and `EXT-X-KEY` (the content's
//! are written again after each break, and a clear side after an encrypted one says
//! `METHOD=NONE`); `EXT-X-TARGETDURATION` covers the longest segment of either. The same
//! breaks spliced into every variant and rendition (subtitles get empty WebVTT segments for
//! the ads) keep their boundaries aligned.

use std::fmt::Write as _;

use thiserror::Error;

/// A media playlist that cannot be stitched: not one the packager wrote.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum StitchError {
    #[error("not a media playlist: {0}")]
    NotMediaPlaylist(&'static str),
    #[error("a break is placed before segment {at}, but the playlist has {count}")]
    BreakOutOfRange { at: usize, count: usize },
    #[error("the content and an ad are not both fMP4 (with EXT-X-MAP) or both TS")]
    MixedFlavours,
}

/// One ad's segments for this rendition.
#[derive(Debug, Clone, PartialEq)]
pub struct AdSegments {
    /// The `EXT-X-MAP` URI (CMAF), if any.
    pub map_uri: Option<String>,
    /// The whole `EXT-X-KEY` lines for the ad's segments (one per DRM system), none when
    /// they are clear.
    pub key_lines: Vec<String>,
    /// (duration in seconds, URI) of each segment.
    pub segments: Vec<(f64, String)>,
}

/// A break: the ads played in it, in order, before content segment `before_segment`.
#[derive(Debug, Clone, PartialEq)]
pub struct Break {
    pub before_segment: usize,
    pub ads: Vec<AdSegments>,
}

/// A content segment and the lines that go with it.
struct Segment<'a> {
    /// Its own tag lines (EXTINF, BYTERANGE, ...), in order.
    tags: Vec<&'a str>,
    uri: &'a str,
    /// The MAP and KEY lines in effect for it (a KEY line per DRM system).
    map: Option<&'a str>,
    keys: Vec<&'a str>,
}

const MAP: &str = "#EXT-X-MAP:";
const KEY: &str = "#EXT-X-KEY:";
const CLEAR: &str = "#EXT-X-KEY:METHOD=NONE";

/// `content` with `breaks` spliced in (sorted by position; empty breaks are skipped).
pub fn stitch(content: &str, breaks: &[Break]) -> Result<String, StitchError> {
    let mut lines = content.lines().map(str::trim_end);
    if lines.next() != Some("#EXTM3U") {
        return Err(StitchError::NotMediaPlaylist("no #EXTM3U first line"));
    }
    let mut header: Vec<&str> = Vec::new();
    let mut segments: Vec<Segment<'_>> = Vec::new();
    let mut map: Option<&str> = None;
    // The KEY lines in effect; a run of KEY lines after a segment replaces them all.
    let mut keys: Vec<&str> = Vec::new();
    let mut keys_closed = true;
    let mut pending: Vec<&str> = Vec::new();
    let mut target = 0u64;
    let mut ended = false;
    for line in lines {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("#EXT-X-TARGETDURATION:") {
            target = rest
                .trim()
                .parse()
                .map_err(|_| StitchError::NotMediaPlaylist("a bad EXT-X-TARGETDURATION"))?;
        } else if line.starts_with(MAP) {
            map = Some(line);
        } else if line.starts_with(KEY) {
            if keys_closed {
                keys.clear();
                keys_closed = false;
            }
            if line != CLEAR {
                keys.push(line);
            }
        } else if line == "#EXT-X-ENDLIST" {
            ended = true;
        } else if line.starts_with("#EXTINF:")
            || line.starts_with("#EXT-X-BYTERANGE:")
            || line == "#EXT-X-DISCONTINUITY"
        {
            pending.push(line);
        } else if line.starts_with("#EXT-X-STREAM-INF") {
            return Err(StitchError::NotMediaPlaylist("a multivariant playlist"));
        } else if line.starts_with('#') {
            if segments.is_empty() && pending.is_empty() {
                header.push(line);
            } else {
                pending.push(line);
            }
        } else {
            if !pending.iter().any(|t| t.starts_with("#EXTINF:")) {
                return Err(StitchError::NotMediaPlaylist("a URI without #EXTINF"));
            }
            keys_closed = true;
            segments.push(Segment {
                tags: std::mem::take(&mut pending),
                uri: line,
                map,
                keys: keys.clone(),
            });
        }
    }
    if segments.is_empty() {
        return Err(StitchError::NotMediaPlaylist("no segment"));
    }
    let mut breaks: Vec<&Break> = breaks.iter().filter(|b| !b.ads.is_empty()).collect();
    breaks.sort_by_key(|b| b.before_segment);
    if let Some(b) = breaks.iter().find(|b| b.before_segment > segments.len()) {
        return Err(StitchError::BreakOutOfRange {
            at: b.before_segment,
            count: segments.len(),
        });
    }
    let fmp4 = segments.iter().any(|s| s.map.is_some());
    for b in &breaks {
        for ad in &b.ads {
            if ad.map_uri.is_some() != fmp4 {
                return Err(StitchError::MixedFlavours);
            }
            for (d, _) in &ad.segments {
                target = target.max(d.ceil() as u64);
            }
        }
    }
    let mut w = Writer {
        out: String::with_capacity(content.len() * 2),
        map: None,
        keys: Vec::new(),
        started: false,
    };
    w.line("#EXTM3U");
    w.line(&format!("#EXT-X-TARGETDURATION:{target}"));
    for h in header {
        w.line(h);
    }
    let mut next_break = breaks.iter().peekable();
    for (i, seg) in segments.iter().enumerate() {
        let mut after_ad = false;
        while let Some(b) = next_break.next_if(|b| b.before_segment == i) {
            w.ads(b);
            after_ad = true;
        }
        if after_ad {
            w.line("#EXT-X-DISCONTINUITY");
        }
        w.state(seg.map, &seg.keys, after_ad);
        for t in &seg.tags {
            w.line(t);
        }
        w.line(seg.uri);
        w.started = true;
    }
    for b in next_break {
        w.ads(b);
    }
    if ended {
        w.line("#EXT-X-ENDLIST");
    }
    Ok(w.out)
}

/// The playlist being written, and the MAP and KEY lines a player has in effect at its end.
struct Writer {
    out: String,
    map: Option<String>,
    keys: Vec<String>,
    /// Whether a segment is written yet (a pre-roll starts the playlist with no
    /// discontinuity: there is nothing before it to break from).
    started: bool,
}

impl Writer {
    fn line(&mut self, l: &str) {
        self.out.push_str(l);
        self.out.push('\n');
    }

    /// Makes `map` and `keys` the ones in effect, writing what changed (everything after a
    /// discontinuity: `fresh`). Keys that go away are `METHOD=NONE`.
    fn state<S: AsRef<str>>(&mut self, map: Option<&str>, keys: &[S], fresh: bool) {
        if let Some(m) = map {
            if fresh || self.map.as_deref() != Some(m) {
                self.line(m);
            }
        }
        let same = keys.len() == self.keys.len()
            && keys.iter().zip(&self.keys).all(|(a, b)| a.as_ref() == b);
        if fresh || !same {
            if keys.is_empty() {
                if !self.keys.is_empty() {
                    self.line(CLEAR);
                }
            } else {
                for k in keys {
                    self.line(k.as_ref());
                }
            }
        }
        self.map = map.map(str::to_owned);
        self.keys = keys.iter().map(|k| k.as_ref().to_owned()).collect();
    }

    /// The ads of a break, each after a discontinuity.
    fn ads(&mut self, b: &Break) {
        for ad in &b.ads {
            if self.started {
                self.line("#EXT-X-DISCONTINUITY");
            }
            let map = ad.map_uri.as_ref().map(|u| format!("{MAP}URI=\"{u}\""));
            self.state(map.as_deref(), &ad.key_lines, true);
            for (d, uri) in &ad.segments {
                let _ = writeln!(self.out, "#EXTINF:{d:.3},");
                self.line(uri);
                self.started = true;
            }
        }
    }
}

#[cfg(test)]
mod tests;
