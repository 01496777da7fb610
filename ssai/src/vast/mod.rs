//! VAST 2.0 to 4.3 (IAB): the ads of an ad server's answer, read tolerantly. Unknown elements
//! and extensions are ignored; namespace prefixes and CDATA are handled; what cannot be
//! played is an error naming the element and line. Only linear creatives matter to stitching:
//! companions and nonlinear creatives are skipped. Counts are capped so a hostile answer stays
//! small.

mod parse;
#[cfg(test)]
mod tests;

pub use parse::{from_element, parse};

use crate::time::Offset;

/// The most ads read from one document.
pub const MAX_ADS: usize = 64;
/// The most URLs read into one list (impressions, errors, tracking events).
pub const MAX_URLS: usize = 256;
/// The most media files read for one creative.
pub const MAX_MEDIA_FILES: usize = 64;

/// A VAST document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vast {
    /// `version` of the root (`2.0` ... `4.3`).
    pub version: String,
    /// The ads, in document order.
    pub ads: Vec<Ad>,
    /// `<Error>` URLs of the root: an answer with no ad (VAST 3+) reports to them.
    pub errors: Vec<String>,
}

/// One `<Ad>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Ad {
    pub id: Option<String>,
    /// Its place in a pod (from 1); `None` for a buffet (stand-alone) ad.
    pub sequence: Option<u32>,
    pub body: AdBody,
    /// The line of its `<Ad>`, for errors.
    pub line: usize,
}

/// An ad's content: the ad itself, or a pointer to another ad server.
#[derive(Debug, Clone, PartialEq)]
pub enum AdBody {
    Inline(Inline),
    Wrapper(Wrapper),
}

/// `<InLine>`: an ad with its creatives.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inline {
    pub ad_system: Option<String>,
    pub ad_title: Option<String>,
    pub impressions: Vec<String>,
    pub errors: Vec<String>,
    pub creatives: Vec<Creative>,
}

/// `<Wrapper>`: where the ad is (`VASTAdTagURI`), and the tracking this server wants too.
#[derive(Debug, Clone, PartialEq)]
pub struct Wrapper {
    pub tag_uri: String,
    pub impressions: Vec<String>,
    pub errors: Vec<String>,
    /// Tracking of the linear creatives (their events merge into the ad's).
    pub creatives: Vec<Creative>,
    /// `followAdditionalWrappers` (default true).
    pub follow_additional_wrappers: bool,
    /// `allowMultipleAds` (default false).
    pub allow_multiple_ads: bool,
    /// `fallbackOnNoAd` (default false).
    pub fallback_on_no_ad: bool,
}

/// `<Creative>`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Creative {
    pub id: Option<String>,
    /// `adId` (VAST 3) or `adID`.
    pub ad_id: Option<String>,
    pub sequence: Option<u32>,
    pub universal_ad_ids: Vec<UniversalAdId>,
    pub linear: Option<Linear>,
}

/// `<UniversalAdId idRegistry="...">value</UniversalAdId>` (VAST 4; 4.0 also put the value in
/// `idValue`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniversalAdId {
    pub registry: String,
    pub value: String,
}

/// `<Linear>`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Linear {
    /// `<Duration>`, milliseconds; absent in a wrapper's linear.
    pub duration_ms: Option<u64>,
    /// `skipoffset`.
    pub skip_offset: Option<Offset>,
    pub media_files: Vec<MediaFile>,
    pub tracking: Vec<Tracking>,
    pub click_through: Option<String>,
}

/// `<MediaFile>`.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaFile {
    pub url: String,
    pub id: Option<String>,
    pub delivery: Delivery,
    /// `type`, the MIME type (`video/mp4`).
    pub mime_type: String,
    pub width: u32,
    pub height: u32,
    /// `bitrate` (or the middle of `minBitrate`/`maxBitrate`), kbit/s.
    pub bitrate_kbps: Option<u32>,
    /// `codec` (RFC 6381), when given.
    pub codec: Option<String>,
}

/// How a media file is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Progressive,
    Streaming,
}

/// A tracking URL and the event it is for.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracking {
    pub event: Event,
    pub url: String,
}

/// The events of a linear ad that the edge can see happen from the segments a session fetches
/// (the others, such as `pause` or `mute`, only a player sees: kept as `Other`).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    CreativeView,
    Start,
    FirstQuartile,
    Midpoint,
    ThirdQuartile,
    Complete,
    /// `progress` with its `offset`.
    Progress(Offset),
    Other(String),
}

impl Event {
    fn from_name(name: &str, offset: Option<Offset>) -> Event {
        match (name, offset) {
            ("creativeView", _) => Event::CreativeView,
            ("start", _) => Event::Start,
            ("firstQuartile", _) => Event::FirstQuartile,
            ("midpoint", _) => Event::Midpoint,
            ("thirdQuartile", _) => Event::ThirdQuartile,
            ("complete", _) => Event::Complete,
            ("progress", Some(o)) => Event::Progress(o),
            (other, _) => Event::Other(other.to_owned()),
        }
    }

    /// The event's name in VAST (`progress` for every progress offset).
    pub fn name(&self) -> &str {
        match self {
            Event::CreativeView => "creativeView",
            Event::Start => "start",
            Event::FirstQuartile => "firstQuartile",
            Event::Midpoint => "midpoint",
            Event::ThirdQuartile => "thirdQuartile",
            Event::Complete => "complete",
            Event::Progress(_) => "progress",
            Event::Other(name) => name,
        }
    }

    /// Where in an ad of `duration_ms` the event happens, for those the edge fires.
    pub fn at_ms(&self, duration_ms: u64) -> Option<u64> {
        match self {
            Event::CreativeView | Event::Start => Some(0),
            Event::FirstQuartile => Some(duration_ms / 4),
            Event::Midpoint => Some(duration_ms / 2),
            Event::ThirdQuartile => Some(duration_ms / 4 * 3 + duration_ms % 4 * 3 / 4),
            Event::Complete => Some(duration_ms),
            Event::Progress(o) => o.resolve(duration_ms),
            Event::Other(_) => None,
        }
    }
}

impl Ad {
    /// The inline ad, if this is one.
    pub fn inline(&self) -> Option<&Inline> {
        match &self.body {
            AdBody::Inline(i) => Some(i),
            AdBody::Wrapper(_) => None,
        }
    }

    /// The wrapper, if this is one.
    pub fn wrapper(&self) -> Option<&Wrapper> {
        match &self.body {
            AdBody::Wrapper(w) => Some(w),
            AdBody::Inline(_) => None,
        }
    }
}

impl Inline {
    /// The first creative with a linear ad, and that linear.
    pub fn linear(&self) -> Option<(&Creative, &Linear)> {
        self.creatives
            .iter()
            .find_map(|c| c.linear.as_ref().map(|l| (c, l)))
    }
}
