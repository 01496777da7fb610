//! The `[ads]` configuration: which assets get ads and from which ad server (`[[ads.policies]]`),
//! how far and how long the edge follows an ad server's wrappers, how it fires beacons, where
//! conditioned creatives are kept, and how long sessions live.
//!
//! ```toml
//! [ads]
//! conditioning_dir = "/var/cache/edgepack/ads"
//! [[ads.policies]]
//! assets = ["demo", "movies/*"]
//! ad_server = "https://ads.example/vast?sid=[session.id]&avail=[avail.index]&dur=[avail.duration]"
//! breaks = ["start", "00:10:00", "50%", "end"]   # VMAP timeOffset forms
//! break_seconds = 30                           # [avail.duration]
//! ```
//! With `vmap = true` the ad server URL answers a VMAP document once per session, and its
//! breaks replace `breaks`.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use ssai::time::{parse_offset, Offset};

/// `[ads]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AdsConfig {
    /// The assets that get ads, and how.
    pub policies: Vec<AdPolicy>,
    /// Wrappers followed at most, per ad (VAST error 302 past it).
    pub max_wrappers: usize,
    /// Time one ad server answer may take (VAST error 301 for a wrapper's).
    pub request_timeout_ms: u64,
    /// Time a whole break's decision may take, wrappers included.
    pub deadline_ms: u64,
    /// Beacons waiting to be fired at most; past it they are dropped (and counted).
    pub beacon_queue: usize,
    /// Attempts per beacon, and the first retry's delay (doubling).
    pub beacon_attempts: u32,
    pub beacon_backoff_ms: u64,
    pub beacon_timeout_ms: u64,
    /// Where conditioned creatives are kept (and served from, as titles).
    pub conditioning_dir: PathBuf,
    /// ffmpeg jobs at once, jobs waiting at most, and the time one may take.
    pub conditioning_workers: usize,
    pub conditioning_queue: usize,
    pub conditioning_timeout_seconds: u64,
    /// How long a session lives after its last request, and how many are kept at most.
    pub session_idle_seconds: u64,
    pub max_sessions: u64,
    /// Whether ad server answers may send the edge to loopback, private and link-local
    /// addresses (wrappers, media files, beacons). Off: a hostile ad server cannot make the
    /// edge call into the network it sits in. On for tests and for ad servers on a private
    /// network.
    pub allow_private_addresses: bool,
}

/// `[[ads.policies]]`: the ads of some assets.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(from = "PolicyToml")]
pub struct AdPolicy {
    /// Exact asset names, or prefixes ending in `*`.
    pub assets: Vec<String>,
    pub rules: AdRules,
}

/// An asset's ads: what `[[ads.policies]]` says after `assets`, and what the `[ads]` table of
/// an asset definition file says (which wins over the configured policies).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AdRules {
    /// The ad decision server URL template: `[session.id]`, `[asset.id]`,
    /// `[player_params.NAME]` (the `ads.NAME` query parameters of the session's first
    /// manifest), `[avail.index]`, `[avail.duration]`, `[cache_buster]`.
    pub ad_server: String,
    /// Where breaks go, in VMAP `timeOffset` forms: `start`, `end`, `HH:MM:SS(.mmm)`, `n%`,
    /// `#n` (the n-th segment boundary).
    #[serde(default)]
    pub breaks: Vec<String>,
    /// The ad server answers VMAP (once per session) instead of VAST per break.
    #[serde(default)]
    pub vmap: bool,
    /// `[avail.duration]`: the seconds each break asks for.
    #[serde(default = "default_break_seconds")]
    pub break_seconds: u32,
    /// How HLS players get the ads: `stitched` into the media playlists (discontinuities), or
    /// `guided` (HLS Interstitials: an `EXT-X-DATERANGE` per break whose asset list names the
    /// session's ads). DASH is always stitched (one Period per ad).
    #[serde(default)]
    pub mode: AdMode,
    /// An MP4 (a path below the media root, or an http(s) URL) played in a break the ad
    /// server left empty; without one the content plays on.
    #[serde(default)]
    pub slate: Option<String>,
}

/// `[[ads.policies]]` as written: `assets` and the rules side by side.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyToml {
    assets: Vec<String>,
    ad_server: String,
    #[serde(default)]
    breaks: Vec<String>,
    #[serde(default)]
    vmap: bool,
    #[serde(default = "default_break_seconds")]
    break_seconds: u32,
    #[serde(default)]
    mode: AdMode,
    #[serde(default)]
    slate: Option<String>,
}

impl From<PolicyToml> for AdPolicy {
    fn from(t: PolicyToml) -> AdPolicy {
        AdPolicy {
            assets: t.assets,
            rules: AdRules {
                ad_server: t.ad_server,
                breaks: t.breaks,
                vmap: t.vmap,
                break_seconds: t.break_seconds,
                mode: t.mode,
                slate: t.slate,
            },
        }
    }
}

/// How ads reach HLS players.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AdMode {
    #[default]
    Stitched,
    Guided,
}

fn default_break_seconds() -> u32 {
    30
}

impl AdPolicy {
    /// Whether the policy is `asset`'s.
    pub fn covers(&self, asset: &str) -> bool {
        self.assets.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => asset.starts_with(prefix),
            None => p == asset,
        })
    }
}

impl AdRules {
    /// The configured break offsets (checked by [`AdRules::validate`]).
    pub fn offsets(&self) -> Vec<Offset> {
        self.breaks.iter().filter_map(|b| parse_offset(b)).collect()
    }

    /// Where the content is cut for these breaks: each break at a time or a share of the
    /// duration (`start`, `end` and positions are on boundaries already). VMAP breaks are the
    /// ad server's, per session, and are not known when the content is planned.
    pub fn cues(&self) -> Vec<packager::segment::Cue> {
        use packager::segment::Cue;
        if self.vmap {
            return Vec::new();
        }
        self.offsets()
            .into_iter()
            .filter_map(|o| match o {
                Offset::Time(ms) if ms > 0 => Some(Cue::At(ms)),
                Offset::Percent(p) if p > 0.0 && p < 100.0 => {
                    Some(Cue::Fraction((p * 10_000.0).round() as u32))
                }
                _ => None,
            })
            .collect()
    }

    /// Checks what the types cannot; `at` names the rules in the message.
    pub fn validate(&self, at: &str) -> Result<(), String> {
        let lower = self.ad_server.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(format!("{at}.ad_server: an http(s) URL template"));
        }
        if let Some(bad) = self.breaks.iter().find(|b| parse_offset(b).is_none()) {
            return Err(format!(
                "{at}.breaks: {bad:?} is not a timeOffset (start, end, HH:MM:SS.mmm, n%, #n)"
            ));
        }
        if self.breaks.is_empty() && !self.vmap {
            return Err(format!("{at}: give breaks, or vmap = true"));
        }
        if let Some(slate) = &self.slate {
            let lower = slate.to_ascii_lowercase();
            let url = lower.starts_with("http://") || lower.starts_with("https://");
            let below_root = !slate.is_empty()
                && !slate.starts_with('/')
                && !slate.contains(':')
                && slate.split('/').all(|p| !p.is_empty() && p != "..");
            if !(url || below_root) {
                return Err(format!(
                    "{at}.slate: {slate:?} is neither a path below the media root nor an http(s) URL"
                ));
            }
        }
        Ok(())
    }
}

impl Default for AdsConfig {
    fn default() -> Self {
        AdsConfig {
            policies: Vec::new(),
            max_wrappers: 5,
            request_timeout_ms: 1500,
            deadline_ms: 3000,
            beacon_queue: 10_000,
            beacon_attempts: 4,
            beacon_backoff_ms: 500,
            beacon_timeout_ms: 2000,
            conditioning_dir: std::env::temp_dir().join("edgepack-ads"),
            conditioning_workers: 1,
            conditioning_queue: 256,
            conditioning_timeout_seconds: 300,
            session_idle_seconds: 4 * 3600,
            max_sessions: 200_000,
            allow_private_addresses: false,
        }
    }
}

impl AdsConfig {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms.max(1))
    }

    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.deadline_ms.max(1))
    }

    /// The configured rules of `asset`: those of the first policy that covers it.
    pub fn rules(&self, asset: &str) -> Option<&AdRules> {
        self.policies
            .iter()
            .find(|p| p.covers(asset))
            .map(|p| &p.rules)
    }

    /// Checks what the types cannot.
    pub fn validate(&self) -> Result<(), String> {
        for (i, p) in self.policies.iter().enumerate() {
            let at = format!("ads.policies[{i}]");
            if p.assets.is_empty() {
                return Err(format!("{at}.assets: name at least one asset"));
            }
            p.rules.validate(&at)?;
        }
        if self.max_wrappers > 20 {
            return Err("ads.max_wrappers: at most 20".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AdsConfig, String> {
        let c: AdsConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        c.validate().map(|()| c)
    }

    #[test]
    fn a_policy_covers_its_assets() {
        let c = parse(
            r#"
            [[policies]]
            assets = ["demo", "movies-*"]
            ad_server = "http://ads.example/vast?sid=[session.id]"
            breaks = ["start", "00:00:30", "50%", "end"]
            "#,
        )
        .unwrap();
        assert!(c.rules("demo").is_some());
        assert!(c.rules("movies-1").is_some());
        assert!(c.rules("other").is_none());
        let rules = &c.policies[0].rules;
        assert_eq!(rules.offsets().len(), 4);
        assert_eq!(
            rules.cues(),
            [
                packager::segment::Cue::At(30_000),
                packager::segment::Cue::Fraction(500_000)
            ]
        );
        assert_eq!(rules.break_seconds, 30);
        assert_eq!(rules.mode, AdMode::Stitched);
        let guided = parse(
            "[[policies]]\nassets=[\"a\"]\nad_server=\"http://x\"\nbreaks=[\"start\"]\nmode=\"guided\"",
        )
        .unwrap();
        assert_eq!(guided.policies[0].rules.mode, AdMode::Guided);
        let e = parse(
            "[[policies]]\nassets=[\"a\"]\nad_server=\"http://x\"\nbreaks=[\"start\"]\nmodes=1",
        )
        .unwrap_err();
        assert!(e.contains("unknown field"), "{e}");
    }

    #[test]
    fn bad_policies_are_refused_with_the_field() {
        let e = parse("[[policies]]\nassets=[\"a\"]\nad_server=\"ftp://x\"\nbreaks=[\"start\"]")
            .unwrap_err();
        assert!(e.contains("ad_server"), "{e}");
        let e = parse("[[policies]]\nassets=[\"a\"]\nad_server=\"http://x\"\nbreaks=[\"soon\"]")
            .unwrap_err();
        assert!(e.contains("\"soon\""), "{e}");
        let e = parse("[[policies]]\nassets=[\"a\"]\nad_server=\"http://x\"").unwrap_err();
        assert!(e.contains("vmap"), "{e}");
    }
}
