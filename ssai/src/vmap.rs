//! VMAP 1.0 (IAB): where an ad server puts the breaks of a title (`timeOffset` in every form:
//! `start`, `end`, `HH:MM:SS.mmm`, `n%`, `#n`) and where each break's ads come from (VAST
//! inline in `VASTAdData`, or an `AdTagURI` to ask).

use crate::error::ParseError;
use crate::time::{parse_offset, Offset};
use crate::vast::{self, Vast};
use crate::xml::{self, Element};

/// The most breaks read from one document.
pub const MAX_BREAKS: usize = 256;

/// A VMAP document.
#[derive(Debug, Clone, PartialEq)]
pub struct Vmap {
    pub version: String,
    pub breaks: Vec<AdBreak>,
}

/// `<vmap:AdBreak>`.
#[derive(Debug, Clone, PartialEq)]
pub struct AdBreak {
    /// `breakId`.
    pub id: Option<String>,
    /// `timeOffset`.
    pub offset: Offset,
    /// `breakType`: `linear`, `nonlinear`, `display` (comma-separated in the document).
    pub break_types: Vec<String>,
    pub source: Option<AdSource>,
    /// `<vmap:Tracking event="breakStart|breakEnd|error">` URLs.
    pub tracking: Vec<(String, String)>,
    pub line: usize,
}

impl AdBreak {
    /// Whether the break holds linear ads (the only kind stitched into a stream).
    pub fn is_linear(&self) -> bool {
        self.break_types.is_empty() || self.break_types.iter().any(|t| t == "linear")
    }
}

/// Where a break's ads come from.
#[derive(Debug, Clone, PartialEq)]
pub enum AdSource {
    /// `<vmap:VASTAdData>`: the VAST document itself.
    Vast(Box<Vast>),
    /// `<vmap:AdTagURI>`: a VAST document to ask for.
    TagUri(String),
}

/// Reads a VMAP document.
pub fn parse(doc: &str) -> Result<Vmap, ParseError> {
    let root = xml::parse(doc)?;
    if root.name != "VMAP" {
        return Err(root.invalid("is not a VMAP document (the root must be <vmap:VMAP>)"));
    }
    let version = root
        .attr("version")
        .map(str::trim)
        .ok_or_else(|| root.invalid("has no version"))?;
    if !version.starts_with('1') {
        return Err(root.invalid(format!("has version {version:?}; 1.0 is read")));
    }
    let mut breaks = Vec::new();
    for b in root.all("AdBreak") {
        if breaks.len() == MAX_BREAKS {
            return Err(b.invalid(format!("is past the {MAX_BREAKS} breaks read")));
        }
        breaks.push(ad_break(b)?);
    }
    Ok(Vmap {
        version: version.to_owned(),
        breaks,
    })
}

fn ad_break(el: &Element) -> Result<AdBreak, ParseError> {
    let offset_text = el
        .attr("timeOffset")
        .ok_or_else(|| el.invalid("has no timeOffset"))?;
    let offset = parse_offset(offset_text)
        .ok_or_else(|| el.invalid(format!("has timeOffset={offset_text:?}")))?;
    let source = match el.child("AdSource") {
        None => None,
        Some(s) => {
            if let Some(data) = s.child("VASTAdData") {
                let root = data
                    .child("VAST")
                    .ok_or_else(|| data.invalid("holds no <VAST>"))?;
                Some(AdSource::Vast(Box::new(vast::from_element(root)?)))
            } else if let Some(uri) = s.child("AdTagURI") {
                if uri.text.is_empty() {
                    return Err(uri.invalid("is empty"));
                }
                Some(AdSource::TagUri(uri.text.clone()))
            } else {
                // CustomAdData, or nothing we can use.
                None
            }
        }
    };
    let tracking = el
        .child("TrackingEvents")
        .map(|t| {
            t.all("Tracking")
                .filter(|x| !x.text.is_empty())
                .filter_map(|x| Some((x.attr("event")?.to_owned(), x.text.clone())))
                .take(vast::MAX_URLS)
                .collect()
        })
        .unwrap_or_default();
    Ok(AdBreak {
        id: el.attr("breakId").map(str::to_owned),
        offset,
        break_types: el
            .attr("breakType")
            .map(|t| {
                t.split(',')
                    .map(|x| x.trim().to_ascii_lowercase())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        source,
        tracking,
        line: el.line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &str = include_str!("../testdata/vmap_every_offset.xml");

    #[test]
    fn every_time_offset_form_and_both_sources() {
        let v = parse(ALL).unwrap();
        let offsets: Vec<Offset> = v.breaks.iter().map(|b| b.offset).collect();
        assert_eq!(
            offsets,
            [
                Offset::Start,
                Offset::Time(600_000),
                Offset::Percent(50.0),
                Offset::Position(3),
                Offset::End
            ]
        );
        assert_eq!(v.breaks[0].id.as_deref(), Some("preroll"));
        match &v.breaks[0].source {
            Some(AdSource::TagUri(u)) => {
                assert_eq!(u, "https://ads.example/vast?break=pre&s=[session.id]")
            }
            other => panic!("{other:?}"),
        }
        match &v.breaks[1].source {
            Some(AdSource::Vast(vast)) => assert_eq!(vast.ads.len(), 1),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            v.breaks[0].tracking,
            [("breakStart".to_owned(), "https://ads.example/bs".to_owned())]
        );
        assert!(v.breaks[0].is_linear());
        assert!(!v.breaks[2].is_linear());
        assert_eq!(v.breaks[4].line, 38);
    }

    #[test]
    fn broken_vmap_names_the_break() {
        let e = parse("<vmap:VMAP xmlns:vmap=\"x\" version=\"1.0\">\n<vmap:AdBreak timeOffset=\"soon\"/></vmap:VMAP>").unwrap_err();
        assert_eq!(e.to_string(), "line 2: <AdBreak> has timeOffset=\"soon\"");
        assert!(parse("<VAST version=\"4.0\"/>").is_err());
        assert!(parse("<VMAP version=\"2.0\"/>").is_err());
        assert!(parse("<VMAP version=\"1.0\"><AdBreak/></VMAP>")
            .unwrap_err()
            .to_string()
            .contains("no timeOffset"));
    }
}
