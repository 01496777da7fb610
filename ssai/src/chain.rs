//! From ad server answers to the ads a break plays:
//! - [`pick`]: the ads of an answer to play, in order: its pod (ads with a `sequence`, in
//!   sequence) or else its first buffet (stand-alone) ad;
//! - [`Chain`]: the walk down a wrapper chain, with the depth limit, and the ad it ends in
//!   resolved with everything each wrapper asked to be told ([`ResolvedAd`]);
//! - [`ErrorCode`]: the VAST error codes reported to `[ERRORCODE]`.

use crate::vast::{Ad, Inline, MediaFile, Tracking, UniversalAdId, Vast, Wrapper};

/// VAST error codes the edge reports (VAST 4.x section 2.3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 100: the XML could not be read.
    XmlParse = 100,
    /// 101: the document is not valid VAST.
    SchemaValidation = 101,
    /// 102: a VAST version we do not read.
    VersionNotSupported = 102,
    /// 301: a wrapper's ad server did not answer in time.
    WrapperTimeout = 301,
    /// 302: more wrappers than the limit.
    WrapperLimit = 302,
    /// 303: no ad came back after a wrapper.
    NoAdsAfterWrapper = 303,
    /// 400: the linear ad could not be played.
    LinearError = 400,
    /// 401: the media file was not found.
    FileNotFound = 401,
    /// 403: no media file fits.
    NoSupportedMediaFile = 403,
    /// 407: the creative is being conditioned to fit; this time it is not served.
    NotReady = 407,
    /// 900: anything else.
    Undefined = 900,
}

impl ErrorCode {
    pub fn code(self) -> u16 {
        self as u16
    }
}

/// The ads of `vast` to play, in order: the pod's ads by `sequence` when it has any, else its
/// first buffet ad.
pub fn pick(vast: &Vast) -> Vec<&Ad> {
    let mut pod: Vec<&Ad> = vast.ads.iter().filter(|a| a.sequence.is_some()).collect();
    if pod.is_empty() {
        return vast.ads.iter().take(1).collect();
    }
    pod.sort_by_key(|a| a.sequence);
    pod
}

/// The buffet ads of `vast` (no `sequence`): what fills in for a pod ad that cannot play.
pub fn buffet(vast: &Vast) -> Vec<&Ad> {
    vast.ads.iter().filter(|a| a.sequence.is_none()).collect()
}

/// A walk down a wrapper chain: the wrappers met so far, and the limit.
#[derive(Debug, Clone)]
pub struct Chain<'a> {
    wrappers: Vec<&'a Wrapper>,
    max_depth: usize,
}

impl<'a> Chain<'a> {
    /// A chain that follows at most `max_depth` wrappers.
    pub fn new(max_depth: usize) -> Self {
        Chain {
            wrappers: Vec::new(),
            max_depth,
        }
    }

    /// Takes in a wrapper met on the way and gives the URL to ask next; an error code when
    /// the chain may go no further (the limit, or a wrapper before it that said not to).
    pub fn follow(&mut self, w: &'a Wrapper) -> Result<&'a str, ErrorCode> {
        let forbidden = self
            .wrappers
            .last()
            .is_some_and(|prev| !prev.follow_additional_wrappers);
        if self.wrappers.len() >= self.max_depth || forbidden {
            return Err(ErrorCode::WrapperLimit);
        }
        self.wrappers.push(w);
        Ok(&w.tag_uri)
    }

    /// The wrappers met, outermost first.
    pub fn wrappers(&self) -> &[&'a Wrapper] {
        &self.wrappers
    }

    /// Every error URL of the chain (to report a failure to each server on the way).
    pub fn error_urls(&self) -> Vec<&'a str> {
        self.wrappers
            .iter()
            .flat_map(|w| w.errors.iter().map(String::as_str))
            .collect()
    }

    /// `ad` at the end of the chain, with every wrapper's impressions, errors and tracking
    /// added; `None` when it has no linear creative.
    pub fn resolve(&self, ad: &Ad, inline: &Inline) -> Option<ResolvedAd> {
        let (creative, linear) = inline.linear()?;
        let mut impressions = Vec::new();
        let mut errors = Vec::new();
        let mut tracking = Vec::new();
        for w in &self.wrappers {
            impressions.extend(w.impressions.iter().cloned());
            errors.extend(w.errors.iter().cloned());
            for c in &w.creatives {
                if let Some(l) = &c.linear {
                    tracking.extend(l.tracking.iter().cloned());
                }
            }
        }
        impressions.extend(inline.impressions.iter().cloned());
        errors.extend(inline.errors.iter().cloned());
        tracking.extend(linear.tracking.iter().cloned());
        Some(ResolvedAd {
            ad_id: ad.id.clone(),
            creative_id: creative.id.clone().or_else(|| creative.ad_id.clone()),
            universal_ad_ids: creative.universal_ad_ids.clone(),
            duration_ms: linear.duration_ms.unwrap_or(0),
            media_files: linear.media_files.clone(),
            impressions,
            errors,
            tracking,
        })
    }
}

/// An ad ready to stitch: its creative, its media files and every URL to tell.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResolvedAd {
    pub ad_id: Option<String>,
    pub creative_id: Option<String>,
    pub universal_ad_ids: Vec<UniversalAdId>,
    pub duration_ms: u64,
    pub media_files: Vec<MediaFile>,
    /// Impressions of every server on the way, outermost first.
    pub impressions: Vec<String>,
    pub errors: Vec<String>,
    pub tracking: Vec<Tracking>,
}

impl ResolvedAd {
    /// A key for the creative shared by every session that shows it: the first Universal Ad
    /// Id, else the creative id, else the ad id.
    pub fn creative_key(&self) -> Option<String> {
        self.universal_ad_ids
            .first()
            .map(|u| format!("{}:{}", u.registry, u.value))
            .or_else(|| self.creative_id.clone())
            .or_else(|| self.ad_id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vast::{parse, Event};

    const POD: &str = include_str!("../testdata/vast4_inline_pod.xml");
    const WRAPPER: &str = include_str!("../testdata/vast3_wrapper.xml");

    #[test]
    fn a_pod_plays_in_sequence_and_the_buffet_fills_in() {
        let mut v = parse(POD).unwrap();
        v.ads.swap(0, 1);
        let ids: Vec<_> = pick(&v).iter().map(|a| a.id.clone().unwrap()).collect();
        assert_eq!(ids, ["pod-1", "pod-2"]);
        assert_eq!(buffet(&v).len(), 1);
        v.ads.retain(|a| a.sequence.is_none());
        assert_eq!(pick(&v)[0].id.as_deref(), Some("buffet"));
    }

    #[test]
    fn a_wrapper_chain_adds_its_tracking_to_the_ad() {
        let outer = parse(WRAPPER).unwrap();
        let inner = parse(POD).unwrap();
        let mut chain = Chain::new(5);
        let next = chain.follow(outer.ads[0].wrapper().unwrap()).unwrap();
        assert!(next.starts_with("https://ads.example/vast?level=2"));
        let ad = &inner.ads[0];
        let r = chain.resolve(ad, ad.inline().unwrap()).unwrap();
        assert_eq!(
            r.impressions,
            [
                "https://ads.example/imp?w=1",
                "https://ads.example/imp?ad=1&s=[session.id]"
            ]
        );
        assert_eq!(r.errors.len(), 2);
        let starts = r
            .tracking
            .iter()
            .filter(|t| t.event == Event::Start)
            .count();
        assert_eq!(starts, 2, "the wrapper's start and the ad's");
        assert_eq!(r.duration_ms, 10_000);
        assert_eq!(r.creative_key().as_deref(), Some("ad-id.org:EDGE0001000H"));
        assert_eq!(
            chain.error_urls(),
            ["https://ads.example/error?w=1&code=[ERRORCODE]"]
        );
    }

    #[test]
    fn the_chain_stops_at_its_limit_and_where_a_wrapper_says_so() {
        let outer = parse(WRAPPER).unwrap();
        let w = outer.ads[0].wrapper().unwrap();
        let mut chain = Chain::new(2);
        assert!(chain.follow(w).is_ok());
        assert!(chain.follow(w).is_ok());
        assert_eq!(chain.follow(w), Err(ErrorCode::WrapperLimit));
        let mut no_more = w.clone();
        no_more.follow_additional_wrappers = false;
        let mut chain = Chain::new(5);
        assert!(chain.follow(&no_more).is_ok());
        assert_eq!(chain.follow(w), Err(ErrorCode::WrapperLimit));
        assert_eq!(ErrorCode::NotReady.code(), 407);
    }
}
