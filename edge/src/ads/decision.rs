//! Asking an ad server for a break's ads. The ad decision server's answer is read with
//! `ssai::vast`; its pod (or first buffet ad) is kept, and each ad that is a wrapper is
//! followed to the ad it ends in, all ads at once, each answer within
//! `request_timeout_ms` and the whole break within `deadline_ms`. A chain longer than
//! `max_wrappers`, a loop, or a wrapper that forbids more wrappers ends in VAST error 302; a
//! wrapper that leads to no ad in 303; a wrapper's server that does not answer in time in 301.
//! Each failed ad comes back with the error URLs of every server on its way, for the beacon
//! queue to report. The viewer's address and user agent go along as VAST 4.1 server-side
//! headers (`X-Device-IP`, `X-Device-User-Agent`).

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use ssai::chain::{pick, Chain, ErrorCode, ResolvedAd};
use ssai::vast::{self, AdBody, Vast, Wrapper};

use crate::ads::config::AdsConfig;

/// Why a whole break has no ads (MediaTailor's ad skipping reasons).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// The ad server did not answer within the limits.
    Timeout,
    /// It answered with no ad.
    Empty,
    /// It answered with an error, or with something that is not VAST.
    Error(String),
}

impl Skip {
    /// A label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Skip::Timeout => "timeout",
            Skip::Empty => "empty",
            Skip::Error(_) => "error",
        }
    }
}

/// An ad that will not play, and whom to tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdFailure {
    pub code: ErrorCode,
    /// Error URLs (with `[ERRORCODE]` still in them) of every server on the ad's way.
    pub error_urls: Vec<String>,
}

/// What a break gets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BreakDecision {
    /// The ads to play, in order.
    pub ads: Vec<ResolvedAd>,
    /// The ads that fell out on the way.
    pub failures: Vec<AdFailure>,
    /// Why there is nothing at all, when there is nothing.
    pub skipped: Option<Skip>,
    /// Ad server answers asked for (the first and every wrapper's).
    pub requests: usize,
}

/// Who the ads are for (VAST 4.1 server-side headers).
#[derive(Debug, Clone, Default)]
pub struct Device<'a> {
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

/// Asks ad servers.
pub struct Decider {
    client: reqwest::Client,
    config: AdsConfig,
}

/// How one answer went.
enum Fetched {
    Vast(Box<Vast>),
    Timeout,
    Failed(String),
}

impl Decider {
    pub fn new(config: &AdsConfig) -> Result<Decider, String> {
        let client = crate::ads::outbound::client_builder(config.allow_private_addresses)?
            .connect_timeout(config.request_timeout())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Decider {
            client,
            config: config.clone(),
        })
    }

    /// The breaks of the VMAP document at `url`, or why there are none.
    pub async fn vmap(&self, url: &str, device: &Device<'_>) -> Result<ssai::vmap::Vmap, Skip> {
        let deadline = Instant::now() + self.config.deadline();
        match self.fetch_text(url, device, deadline).await {
            Err(Fetched::Timeout) => Err(Skip::Timeout),
            Err(Fetched::Failed(why)) => Err(Skip::Error(why)),
            Err(Fetched::Vast(_)) => Err(Skip::Empty),
            Ok(text) if text.trim().is_empty() => Err(Skip::Empty),
            Ok(text) => ssai::vmap::parse(&text).map_err(|e| Skip::Error(format!("not VMAP: {e}"))),
        }
    }

    /// The ads of the break `url` (the ad decision server's URL, macros filled) gives.
    pub async fn decide(&self, url: &str, device: &Device<'_>) -> BreakDecision {
        let deadline = Instant::now() + self.config.deadline();
        let mut decision = BreakDecision {
            requests: 1,
            ..BreakDecision::default()
        };
        let vast = match self.fetch(url, device, deadline).await {
            Fetched::Vast(v) => v,
            Fetched::Timeout => {
                decision.skipped = Some(Skip::Timeout);
                return decision;
            }
            Fetched::Failed(why) => {
                decision.skipped = Some(Skip::Error(why));
                return decision;
            }
        };
        self.decide_vast(&vast, url, device, deadline, decision)
            .await
    }

    /// The ads of a break whose VAST document is at hand (a VMAP's `VASTAdData`).
    pub async fn decide_document(&self, vast: &Vast, device: &Device<'_>) -> BreakDecision {
        let deadline = Instant::now() + self.config.deadline();
        self.decide_vast(vast, "", device, deadline, BreakDecision::default())
            .await
    }

    async fn decide_vast(
        &self,
        vast: &Vast,
        url: &str,
        device: &Device<'_>,
        deadline: Instant,
        mut decision: BreakDecision,
    ) -> BreakDecision {
        let picked = pick(vast);
        if picked.is_empty() {
            decision.skipped = Some(Skip::Empty);
            if !vast.errors.is_empty() {
                decision.failures.push(AdFailure {
                    code: ErrorCode::NoAdsAfterWrapper,
                    error_urls: vast.errors.clone(),
                });
            }
            return decision;
        }
        let outcomes = join_all(
            picked
                .iter()
                .map(|ad| self.follow(ad, url, device, deadline)),
        )
        .await;
        for (outcome, requests) in outcomes {
            decision.requests += requests;
            match outcome {
                Ok(ad) => decision.ads.push(ad),
                Err(f) => decision.failures.push(f),
            }
        }
        if decision.ads.is_empty() {
            let timed_out = decision
                .failures
                .iter()
                .all(|f| f.code == ErrorCode::WrapperTimeout);
            decision.skipped = Some(if timed_out {
                Skip::Timeout
            } else {
                Skip::Error(format!(
                    "every ad failed (VAST error {})",
                    decision.failures.first().map_or(900, |f| f.code.code())
                ))
            });
        }
        decision
    }

    /// One ad down its wrapper chain: the ad it ends in, or why not; and the answers asked for.
    async fn follow(
        &self,
        first: &vast::Ad,
        first_url: &str,
        device: &Device<'_>,
        deadline: Instant,
    ) -> (Result<ResolvedAd, AdFailure>, usize) {
        let mut wrappers: Vec<Wrapper> = Vec::new();
        let mut visited: Vec<String> = vec![first_url.to_owned()];
        let mut current: vast::Ad = first.clone();
        let mut requests = 0;
        let fail = |code: ErrorCode, wrappers: &[Wrapper], extra: &[String]| AdFailure {
            code,
            error_urls: wrappers
                .iter()
                .flat_map(|w| w.errors.iter().cloned())
                .chain(extra.iter().cloned())
                .collect(),
        };
        loop {
            let wrapper = match &current.body {
                AdBody::Inline(inline) => {
                    let mut chain = Chain::new(self.config.max_wrappers);
                    for w in &wrappers {
                        // Within the limit: checked as each wrapper was met.
                        let _ = chain.follow(w);
                    }
                    return match chain.resolve(&current, inline) {
                        Some(ad) => (Ok(ad), requests),
                        None => (
                            Err(fail(ErrorCode::LinearError, &wrappers, &inline.errors)),
                            requests,
                        ),
                    };
                }
                AdBody::Wrapper(w) => w.clone(),
            };
            let forbidden = wrappers
                .last()
                .is_some_and(|prev| !prev.follow_additional_wrappers);
            let looped = visited.contains(&wrapper.tag_uri);
            wrappers.push(wrapper);
            if wrappers.len() > self.config.max_wrappers || forbidden || looped {
                return (Err(fail(ErrorCode::WrapperLimit, &wrappers, &[])), requests);
            }
            let Some(w) = wrappers.last() else {
                return (Err(fail(ErrorCode::Undefined, &wrappers, &[])), requests);
            };
            let next = w.tag_uri.clone();
            visited.push(next.clone());
            requests += 1;
            let vast = match self.fetch(&next, device, deadline).await {
                Fetched::Vast(v) => v,
                Fetched::Timeout => {
                    return (
                        Err(fail(ErrorCode::WrapperTimeout, &wrappers, &[])),
                        requests,
                    )
                }
                Fetched::Failed(_) => {
                    return (
                        Err(fail(ErrorCode::NoAdsAfterWrapper, &wrappers, &[])),
                        requests,
                    )
                }
            };
            match pick(&vast).first() {
                Some(ad) => current = (*ad).clone(),
                None => {
                    return (
                        Err(fail(ErrorCode::NoAdsAfterWrapper, &wrappers, &vast.errors)),
                        requests,
                    )
                }
            }
        }
    }

    /// One ad server answer, read as VAST, within the per-answer timeout and the deadline.
    async fn fetch(&self, url: &str, device: &Device<'_>, deadline: Instant) -> Fetched {
        match self.fetch_text(url, device, deadline).await {
            Err(f) => f,
            Ok(text) if text.trim().is_empty() => Fetched::Vast(Box::default()),
            Ok(text) => match vast::parse(&text) {
                Ok(v) => Fetched::Vast(Box::new(v)),
                Err(e) => Fetched::Failed(format!("not VAST: {e}")),
            },
        }
    }

    /// One ad server answer's text (at most an XML document's bound), within the per-answer
    /// timeout and the deadline; a URL the edge must not call fails at once.
    async fn fetch_text(
        &self,
        url: &str,
        device: &Device<'_>,
        deadline: Instant,
    ) -> Result<String, Fetched> {
        crate::ads::outbound::check(url, self.config.allow_private_addresses)
            .map_err(Fetched::Failed)?;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Fetched::Timeout);
        }
        let timeout = left.min(self.config.request_timeout());
        let mut req = self.client.get(url).timeout(timeout);
        if let Some(ip) = device.ip {
            req = req.header("X-Device-IP", ip);
        }
        if let Some(ua) = device.user_agent {
            req = req.header("X-Device-User-Agent", ua);
        }
        let read = async {
            let mut response = req.send().await?;
            let status = response.status();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                if body.len() + chunk.len() > ssai::xml::MAX_DOCUMENT_BYTES {
                    return Ok::<_, reqwest::Error>((status, None));
                }
                body.extend_from_slice(&chunk);
            }
            Ok((status, Some(body)))
        };
        let outcome = tokio::time::timeout(timeout + Duration::from_millis(50), read).await;
        match outcome {
            Err(_) => Err(Fetched::Timeout),
            Ok(Err(e)) if e.is_timeout() => Err(Fetched::Timeout),
            Ok(Err(e)) => Err(Fetched::Failed(format!("ad server unreachable: {e}"))),
            Ok(Ok((status, _))) if !status.is_success() => {
                Err(Fetched::Failed(format!("ad server answered HTTP {status}")))
            }
            Ok(Ok((_, None))) => Err(Fetched::Failed("ad server answer too large".into())),
            Ok(Ok((_, Some(body)))) => String::from_utf8(body)
                .map_err(|_| Fetched::Failed("ad server answer is not UTF-8".into())),
        }
    }
}
