//! Reading a VAST document's element tree into [`Vast`].

use super::{
    Ad, AdBody, Creative, Delivery, Event, Inline, Linear, MediaFile, Tracking, UniversalAdId,
    Vast, Wrapper, MAX_ADS, MAX_MEDIA_FILES, MAX_URLS,
};
use crate::error::ParseError;
use crate::time::{parse_clock, parse_offset};
use crate::xml::{self, Element};

/// Reads a VAST document.
pub fn parse(doc: &str) -> Result<Vast, ParseError> {
    let root = xml::parse(doc)?;
    from_element(&root)
}

/// Reads a VAST element (the root of a document, or one inside VMAP's `VASTAdData`).
pub fn from_element(root: &Element) -> Result<Vast, ParseError> {
    if root.name != "VAST" {
        return Err(root.invalid("is not a VAST document (the root must be <VAST>)"));
    }
    let version = root
        .attr("version")
        .map(str::trim)
        .ok_or_else(|| root.invalid("has no version"))?;
    let major = version.split('.').next().unwrap_or("");
    if !matches!(major, "2" | "3" | "4") {
        return Err(root.invalid(format!("has version {version:?}; 2.0 to 4.3 are read")));
    }
    let mut ads = Vec::new();
    for el in root.all("Ad") {
        if ads.len() == MAX_ADS {
            return Err(el.invalid(format!("is past the {MAX_ADS} ads read from one document")));
        }
        ads.push(ad(el)?);
    }
    Ok(Vast {
        version: version.to_owned(),
        ads,
        errors: urls(root, "Error"),
    })
}

/// The texts of the children named `name` that are URLs (empty ones dropped), at most
/// [`MAX_URLS`].
fn urls(parent: &Element, name: &str) -> Vec<String> {
    parent
        .all(name)
        .map(|e| e.text.clone())
        .filter(|t| !t.is_empty())
        .take(MAX_URLS)
        .collect()
}

fn number(el: &Element, attr: &str) -> Result<Option<u32>, ParseError> {
    match el.attr(attr).map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| el.invalid(format!("has {attr}={v:?}, not a number"))),
    }
}

fn flag(el: &Element, attr: &str, default: bool) -> bool {
    match el.attr(attr).map(str::trim) {
        Some("true") | Some("1") => true,
        Some("false") | Some("0") => false,
        _ => default,
    }
}

fn ad(el: &Element) -> Result<Ad, ParseError> {
    let body = if let Some(i) = el.child("InLine") {
        AdBody::Inline(inline(i)?)
    } else if let Some(w) = el.child("Wrapper") {
        AdBody::Wrapper(wrapper(w)?)
    } else {
        return Err(el.invalid("has neither <InLine> nor <Wrapper>"));
    };
    Ok(Ad {
        id: el.attr("id").map(str::to_owned),
        sequence: number(el, "sequence")?,
        body,
        line: el.line,
    })
}

fn inline(el: &Element) -> Result<Inline, ParseError> {
    let creatives = creatives(el, true)?;
    Ok(Inline {
        ad_system: el.child_text("AdSystem").map(str::to_owned),
        ad_title: el.child_text("AdTitle").map(str::to_owned),
        impressions: urls(el, "Impression"),
        errors: urls(el, "Error"),
        creatives,
    })
}

fn wrapper(el: &Element) -> Result<Wrapper, ParseError> {
    let tag_uri = el
        .child_text("VASTAdTagURI")
        .ok_or_else(|| el.invalid("has no VASTAdTagURI"))?
        .to_owned();
    Ok(Wrapper {
        tag_uri,
        impressions: urls(el, "Impression"),
        errors: urls(el, "Error"),
        creatives: creatives(el, false)?,
        follow_additional_wrappers: flag(el, "followAdditionalWrappers", true),
        allow_multiple_ads: flag(el, "allowMultipleAds", false),
        fallback_on_no_ad: flag(el, "fallbackOnNoAd", false),
    })
}

fn creatives(parent: &Element, inline: bool) -> Result<Vec<Creative>, ParseError> {
    let Some(list) = parent.child("Creatives") else {
        return Ok(Vec::new());
    };
    list.all("Creative").map(|c| creative(c, inline)).collect()
}

fn creative(el: &Element, inline: bool) -> Result<Creative, ParseError> {
    let universal_ad_ids = el
        .all("UniversalAdId")
        .filter_map(|u| {
            let value = Some(u.text.as_str())
                .filter(|t| !t.is_empty())
                .or_else(|| u.attr("idValue"))?;
            Some(UniversalAdId {
                registry: u.attr("idRegistry").unwrap_or("unknown").to_owned(),
                value: value.to_owned(),
            })
        })
        .take(16)
        .collect();
    let linear = el.child("Linear").map(|l| linear(l, inline)).transpose()?;
    Ok(Creative {
        id: el.attr("id").map(str::to_owned),
        ad_id: el
            .attr("adId")
            .or_else(|| el.attr("adID"))
            .map(str::to_owned),
        sequence: number(el, "sequence")?,
        universal_ad_ids,
        linear,
    })
}

fn linear(el: &Element, inline: bool) -> Result<Linear, ParseError> {
    let duration_ms = match el.child("Duration") {
        Some(d) => Some(
            parse_clock(&d.text)
                .ok_or_else(|| d.invalid(format!("{:?} is not HH:MM:SS(.mmm)", d.text)))?,
        ),
        None if inline => return Err(el.invalid("has no <Duration>")),
        None => None,
    };
    let skip_offset = match el.attr("skipoffset") {
        Some(s) => {
            Some(parse_offset(s).ok_or_else(|| el.invalid(format!("has skipoffset={s:?}")))?)
        }
        None => None,
    };
    let mut tracking = Vec::new();
    if let Some(events) = el.child("TrackingEvents") {
        for t in events.all("Tracking").take(MAX_URLS) {
            let Some(name) = t.attr("event") else {
                continue;
            };
            if t.text.is_empty() {
                continue;
            }
            let offset = match t.attr("offset") {
                Some(o) => {
                    Some(parse_offset(o).ok_or_else(|| t.invalid(format!("has offset={o:?}")))?)
                }
                None => None,
            };
            if name == "progress" && offset.is_none() {
                return Err(t.invalid("is a progress event without an offset"));
            }
            tracking.push(Tracking {
                event: Event::from_name(name, offset),
                url: t.text.clone(),
            });
        }
    }
    let media_files = el
        .child("MediaFiles")
        .map(|m| {
            m.all("MediaFile")
                .filter_map(media_file)
                .take(MAX_MEDIA_FILES)
                .collect()
        })
        .unwrap_or_default();
    Ok(Linear {
        duration_ms,
        skip_offset,
        media_files,
        tracking,
        click_through: el
            .child("VideoClicks")
            .and_then(|v| v.child_text("ClickThrough"))
            .map(str::to_owned),
    })
}

/// A media file, or `None` for one that cannot be used (no URL, no type, no size).
fn media_file(el: &Element) -> Option<MediaFile> {
    let url = Some(el.text.as_str()).filter(|t| !t.is_empty())?;
    let n = |a: &str| el.attr(a).and_then(|v| v.trim().parse::<u32>().ok());
    let bitrate_kbps = n("bitrate").or_else(|| match (n("minBitrate"), n("maxBitrate")) {
        (Some(lo), Some(hi)) => Some(lo / 2 + hi / 2),
        _ => None,
    });
    Some(MediaFile {
        url: url.to_owned(),
        id: el.attr("id").map(str::to_owned),
        delivery: match el.attr("delivery").map(str::trim) {
            Some("streaming") => Delivery::Streaming,
            _ => Delivery::Progressive,
        },
        mime_type: el.attr("type")?.trim().to_ascii_lowercase(),
        width: n("width")?,
        height: n("height")?,
        bitrate_kbps,
        codec: el.attr("codec").map(str::to_owned),
    })
}
