//! Stitched DASH: a content MPD (as the packager wrote it: one Period, `SegmentTemplate` with
//! `SegmentTimeline`) cut into one Period per stretch of content, with one Period per ad in
//! between (the ad's own MPD, its relative URLs resolved against a `BaseURL` of its own).
//! Period ids are stable (`content-N`, `ad-B-N`), AdaptationSet ids match across Periods by
//! content type, and each content Period's `presentationTimeOffset` and `startNumber` pick up
//! where the content is. A segment goes to the content Period its middle falls in, so audio
//! segments a few milliseconds off the video's boundaries land on the right side.
//!
//! Subtitles: the content's sidecar WebVTT files (`sub/{lang}.vtt`, the whole file) cannot be
//! offset per Period, so each content Period's text AdaptationSet points at the slice of the
//! file its stretch covers, `sub/{lang}/period-{from_ms}-{to_ms}.vtt`, whose cue times are
//! relative to the Period's start (the edge serves these). An ad Period carries the same text
//! AdaptationSets (same ids, languages and Representation ids) pointing at an empty WebVTT
//! document, so players keep their text tracks across the breaks.

use thiserror::Error;

use crate::error::ParseError;
use crate::xml::{self, Element};

/// The most segments of one Representation read.
pub const MAX_SEGMENTS: usize = 200_000;

/// An MPD that cannot be stitched.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum DashError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("not an MPD the packager wrote: {0}")]
    Unexpected(String),
}

/// One ad as a Period.
#[derive(Debug, Clone, PartialEq)]
pub struct AdPeriod {
    /// A stable id for the ad (its creative), used in the Period id.
    pub id: String,
    /// The ad's own MPD, as the packager wrote it for the ad's MP4.
    pub mpd: String,
    /// Where the ad MPD's relative URLs resolve (a `BaseURL`, ending in `/`).
    pub base_url: String,
    /// An empty WebVTT document, relative to `base_url`, for the content's text
    /// AdaptationSets during the ad; `None` leaves them out of the ad's Period.
    pub blank_text: Option<String>,
}

/// A break: its ads, before content segment `before_segment` (of the first video
/// Representation).
#[derive(Debug, Clone, PartialEq)]
pub struct DashBreak {
    pub before_segment: usize,
    pub ads: Vec<AdPeriod>,
}

fn unexpected(what: impl Into<String>) -> DashError {
    DashError::Unexpected(what.into())
}

/// `xs:duration` as `PT…S` seconds (hours and minutes allowed on input).
pub fn parse_iso_duration(text: &str) -> Option<f64> {
    let rest = text.trim().strip_prefix("PT")?;
    let mut total = 0.0;
    let mut number = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' | '.' => number.push(c),
            'H' | 'M' | 'S' => {
                let v: f64 = number.parse().ok()?;
                total += v * match c {
                    'H' => 3600.0,
                    'M' => 60.0,
                    _ => 1.0,
                };
                number.clear();
            }
            _ => return None,
        }
    }
    number.is_empty().then_some(total)
}

fn iso(seconds: f64) -> String {
    format!("PT{seconds:.3}S")
}

/// A Representation's segments: (media time, duration), with its timescale and offset.
struct Timeline {
    timescale: u64,
    pto: u64,
    start_number: u64,
    segments: Vec<(u64, u64)>,
}

fn number_attr(el: &Element, name: &str, default: u64) -> Result<u64, DashError> {
    match el.attr(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| DashError::Parse(el.invalid(format!("has {name}={v:?}")))),
    }
}

fn timeline(template: &Element) -> Result<Timeline, DashError> {
    let tl = template
        .child("SegmentTimeline")
        .ok_or_else(|| DashError::Parse(template.invalid("has no SegmentTimeline")))?;
    let mut segments = Vec::new();
    let mut next = 0u64;
    for s in tl.all("S") {
        let t = number_attr(s, "t", next)?;
        let d = number_attr(s, "d", 0)?;
        let r = number_attr(s, "r", 0)?;
        if d == 0 || segments.len() as u64 + r + 1 > MAX_SEGMENTS as u64 {
            return Err(DashError::Parse(
                s.invalid("has no duration, or too many segments"),
            ));
        }
        for i in 0..=r {
            segments.push((t + i * d, d));
        }
        next = t + (r + 1) * d;
    }
    Ok(Timeline {
        timescale: number_attr(template, "timescale", 1)?.max(1),
        pto: number_attr(template, "presentationTimeOffset", 0)?,
        start_number: number_attr(template, "startNumber", 1)?,
        segments,
    })
}

/// The SegmentTemplate of a Representation (its own, or its AdaptationSet's).
fn template_of<'a>(set: &'a Element, rep: &'a Element) -> Option<&'a Element> {
    rep.child("SegmentTemplate")
        .or_else(|| set.child("SegmentTemplate"))
}

/// `content` with `breaks` as Periods of their own.
pub fn stitch_mpd(content: &str, breaks: &[DashBreak]) -> Result<String, DashError> {
    let mut root = xml::parse(content)?;
    if root.name != "MPD" {
        return Err(DashError::Parse(root.invalid("is not an MPD")));
    }
    let periods: Vec<usize> = root
        .children
        .iter()
        .enumerate()
        .filter(|(_, c)| c.name == "Period")
        .map(|(i, _)| i)
        .collect();
    let [at] = periods[..] else {
        return Err(unexpected(format!(
            "{} Periods; one is stitched",
            periods.len()
        )));
    };
    let period = root.children.remove(at);
    let duration = root
        .attr("mediaPresentationDuration")
        .and_then(parse_iso_duration)
        .ok_or_else(|| DashError::Parse(root.invalid("has no mediaPresentationDuration")))?;
    // The content's boundaries, in seconds, from the first video Representation.
    let reference = period
        .all("AdaptationSet")
        .find(|s| s.attr("contentType") == Some("video"))
        .or_else(|| period.child("AdaptationSet"))
        .ok_or_else(|| unexpected("no AdaptationSet"))?;
    let reference_rep = reference
        .child("Representation")
        .ok_or_else(|| DashError::Parse(reference.invalid("has no Representation")))?;
    let reference_tl = timeline(
        template_of(reference, reference_rep)
            .ok_or_else(|| DashError::Parse(reference_rep.invalid("has no SegmentTemplate")))?,
    )?;
    let boundary = |k: usize| -> f64 {
        match reference_tl.segments.get(k) {
            Some((t, _)) => {
                t.saturating_sub(reference_tl.pto) as f64 / reference_tl.timescale as f64
            }
            None => duration,
        }
    };
    let mut breaks: Vec<&DashBreak> = breaks.iter().filter(|b| !b.ads.is_empty()).collect();
    breaks.sort_by_key(|b| b.before_segment);
    breaks.dedup_by_key(|b| b.before_segment);
    let ids = SetIds::of(&period);
    let text_sets: Vec<Element> = period
        .children
        .iter()
        .filter(|c| is_text(c))
        .cloned()
        .collect();
    let mut out_periods = Vec::new();
    let mut start = 0.0;
    let mut content_from = 0.0;
    let mut n = 0;
    for (b_index, b) in breaks.iter().enumerate() {
        let at = boundary(b.before_segment).min(duration);
        if at > content_from {
            out_periods.push(content_period(&period, n, content_from, at, start)?);
            start += at - content_from;
            n += 1;
        }
        content_from = at;
        for (i, ad) in b.ads.iter().enumerate() {
            let id = format!("ad-{b_index}-{i}-{}", ad.id);
            let (p, d) = ad_period(ad, &id, start, &ids, &text_sets)?;
            out_periods.push(p);
            start += d;
        }
    }
    if duration > content_from {
        out_periods.push(content_period(&period, n, content_from, duration, start)?);
        start += duration - content_from;
    }
    root.attrs.retain(|(k, _)| k != "mediaPresentationDuration");
    root.attrs
        .push(("mediaPresentationDuration".into(), iso(start)));
    for (i, p) in out_periods.into_iter().enumerate() {
        root.children.insert(at + i, p);
    }
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        xml::write(&root)
    ))
}

/// The AdaptationSet ids of the content by content type, for the ads' sets to match.
struct SetIds {
    video: Option<String>,
    audio: Option<String>,
}

impl SetIds {
    fn of(period: &Element) -> SetIds {
        let id = |kind: &str| {
            period
                .all("AdaptationSet")
                .find(|s| s.attr("contentType") == Some(kind))
                .and_then(|s| s.attr("id"))
                .map(str::to_owned)
        };
        SetIds {
            video: id("video"),
            audio: id("audio"),
        }
    }
}

fn set_attr(el: &mut Element, name: &str, value: String) {
    match el.attrs.iter_mut().find(|(k, _)| k == name) {
        Some((_, v)) => *v = value,
        None => el.attrs.push((name.to_owned(), value)),
    }
}

/// The content from `from` to `to` seconds as Period `content-N`, starting at `start`.
fn content_period(
    period: &Element,
    n: usize,
    from: f64,
    to: f64,
    start: f64,
) -> Result<Element, DashError> {
    let mut p = period.clone();
    p.attrs
        .retain(|(k, _)| k != "id" && k != "start" && k != "duration");
    p.attrs.push(("id".into(), format!("content-{n}")));
    p.attrs.push(("start".into(), iso(start)));
    p.attrs.push(("duration".into(), iso(to - from)));
    for set in p.children.iter_mut().filter(|c| is_text(c)) {
        sliced(set, from, to);
    }
    for set in p
        .children
        .iter_mut()
        .filter(|c| c.name == "AdaptationSet" && !is_text(c))
    {
        let set_template = set.child("SegmentTemplate").cloned();
        for rep in set
            .children
            .iter_mut()
            .filter(|c| c.name == "Representation")
        {
            let Some(template) = rep
                .children
                .iter_mut()
                .find(|c| c.name == "SegmentTemplate")
            else {
                if set_template.is_some() {
                    return Err(unexpected("a SegmentTemplate on the AdaptationSet"));
                }
                continue;
            };
            let tl = timeline(template)?;
            let ts = tl.timescale as f64;
            let mid = |(t, d): (u64, u64)| (t + d / 2).saturating_sub(tl.pto) as f64 / ts;
            let first = tl.segments.iter().position(|&s| mid(s) >= from);
            let kept: Vec<(usize, (u64, u64))> = tl
                .segments
                .iter()
                .copied()
                .enumerate()
                .filter(|&(_, s)| mid(s) >= from && mid(s) < to)
                .collect();
            let first = first.unwrap_or(tl.segments.len());
            set_attr(
                template,
                "startNumber",
                (tl.start_number + first as u64).to_string(),
            );
            set_attr(
                template,
                "presentationTimeOffset",
                (tl.pto + (from * ts).round() as u64).to_string(),
            );
            let timeline = template
                .children
                .iter_mut()
                .find(|c| c.name == "SegmentTimeline")
                .ok_or_else(|| unexpected("a SegmentTemplate without a SegmentTimeline"))?;
            timeline.children = kept
                .iter()
                .map(|&(_, (t, d))| Element {
                    name: "S".into(),
                    attrs: vec![("t".into(), t.to_string()), ("d".into(), d.to_string())],
                    ..Element::default()
                })
                .collect();
        }
    }
    if n > 0 {
        // The content resumes after a break: each AdaptationSet is period-connected to the
        // same one in the content Period before (same id, same Representations and init
        // segments, the media timeline going on), so a player may keep its decoders.
        // Period continuity does not hold: ads come between.
        for set in p
            .children
            .iter_mut()
            .filter(|c| c.name == "AdaptationSet" && !is_text(c))
        {
            connect(set, &format!("content-{}", n - 1));
        }
    }
    Ok(p)
}

/// Elements an AdaptationSet's `SupplementalProperty` comes before (ISO/IEC 23009-1 order).
const AFTER_PROPERTIES: [&str; 18] = [
    "InbandEventStream",
    "Switching",
    "RandomAccess",
    "GroupLabel",
    "Label",
    "ProducerReferenceTime",
    "ContentPopularityRate",
    "Resync",
    "Accessibility",
    "Role",
    "Rating",
    "Viewpoint",
    "ContentComponent",
    "BaseURL",
    "SegmentBase",
    "SegmentList",
    "SegmentTemplate",
    "Representation",
];

/// Marks `set` as period-connected to the same AdaptationSet of Period `previous`.
fn connect(set: &mut Element, previous: &str) {
    let property = Element {
        name: "SupplementalProperty".into(),
        attrs: vec![
            (
                "schemeIdUri".into(),
                "urn:mpeg:dash:period-connectivity:2015".into(),
            ),
            ("value".into(), previous.to_owned()),
        ],
        ..Element::default()
    };
    let at = set
        .children
        .iter()
        .position(|c| AFTER_PROPERTIES.contains(&c.name.as_str()))
        .unwrap_or(set.children.len());
    set.children.insert(at, property);
}

fn is_text(c: &Element) -> bool {
    c.name == "AdaptationSet" && c.attr("contentType") == Some("text")
}

/// The sidecar file of each Representation of text `set`, `sub/{lang}.vtt`, as the slice of
/// it from `from` to `to` seconds: `sub/{lang}/period-{from_ms}-{to_ms}.vtt`.
fn sliced(set: &mut Element, from: f64, to: f64) {
    let (from_ms, to_ms) = ((from * 1000.0).round() as u64, (to * 1000.0).round() as u64);
    for rep in set
        .children
        .iter_mut()
        .filter(|c| c.name == "Representation")
    {
        for base in rep.children.iter_mut().filter(|c| c.name == "BaseURL") {
            if let Some(file) = base.text.strip_suffix(".vtt") {
                base.text = format!("{file}/period-{from_ms}-{to_ms}.vtt");
            }
        }
    }
}

/// The content's text `set` during an ad: the same set, its files the empty `blank`.
fn blank_set(set: &Element, blank: &str) -> Element {
    let mut set = set.clone();
    for rep in set
        .children
        .iter_mut()
        .filter(|c| c.name == "Representation")
    {
        for base in rep.children.iter_mut().filter(|c| c.name == "BaseURL") {
            base.text = blank.to_owned();
        }
    }
    set
}

/// An ad as a Period with id `id`, starting at `start`; and its duration in seconds.
/// `text_sets` are the content's text AdaptationSets, carried empty.
fn ad_period(
    ad: &AdPeriod,
    id: &str,
    start: f64,
    ids: &SetIds,
    text_sets: &[Element],
) -> Result<(Element, f64), DashError> {
    let root = xml::parse(&ad.mpd)?;
    if root.name != "MPD" {
        return Err(DashError::Parse(root.invalid("(the ad's) is not an MPD")));
    }
    let duration = root
        .attr("mediaPresentationDuration")
        .and_then(parse_iso_duration)
        .ok_or_else(|| {
            DashError::Parse(root.invalid("(the ad's) has no mediaPresentationDuration"))
        })?;
    let mut p = root
        .child("Period")
        .cloned()
        .ok_or_else(|| unexpected("an ad MPD without a Period"))?;
    p.attrs = vec![
        ("id".into(), id.to_owned()),
        ("start".into(), iso(start)),
        ("duration".into(), iso(duration)),
    ];
    p.children.retain(|c| !is_text(c));
    if let Some(blank) = &ad.blank_text {
        p.children
            .extend(text_sets.iter().map(|set| blank_set(set, blank)));
    }
    for set in p.children.iter_mut().filter(|c| c.name == "AdaptationSet") {
        let matched = match set.attr("contentType") {
            Some("video") => ids.video.clone(),
            Some("audio") => ids.audio.clone(),
            _ => None,
        };
        if let Some(m) = matched {
            set_attr(set, "id", m);
        }
    }
    p.children.insert(
        0,
        Element {
            name: "BaseURL".into(),
            text: ad.base_url.clone(),
            ..Element::default()
        },
    );
    Ok((p, duration))
}

#[cfg(test)]
mod tests;
