//! The `[delivery]` configuration: the CDNs assets are delivered through, how sessions are
//! split among them, how their health is probed, and how long steering answers hold.
//!
//! ```toml
//! [delivery]
//! assets = ["*"]                      # which assets are steered: names, or prefixes ending in *
//! steering_base_url = "https://steer.example.com"   # default: the request's own scheme and host
//! probe_interval_ms = 2000
//!
//! [[delivery.cdns]]
//! id = "cdn-a"
//! base_url = "https://cdn-a.example.com"
//! weight = 70
//! priority = 1
//! signing = { scheme = "cat", kid = "cdn-a", secret_hex = "..." }
//! ```

use std::path::PathBuf;

use serde::Deserialize;

/// `[delivery]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// The CDNs; none means manifests name only this node (no steering).
    pub cdns: Vec<CdnConfig>,
    /// The assets delivered through the CDNs: exact names, or prefixes ending in `*`.
    pub assets: Vec<String>,
    /// Where players reach this node's steering answers (scheme, host, port, optional path
    /// prefix). By default the scheme and `Host` of the manifest request. dash.js and Shaka
    /// need it absolute, so it always is.
    pub steering_base_url: Option<String>,
    /// How HLS multivariant playlists name the CDNs: `repeat` (every variant once per CDN;
    /// players without steering fail over through them) or `clone` (the first CDN's variants
    /// and `PATHWAY-CLONES` in the steering answer: a smaller playlist; needs every CDN on the
    /// same scheme, port and path, differing only in host).
    pub hls_layout: HlsLayout,
    /// DASH `queryBeforeStart`: the player asks the steering server before its first segment.
    pub query_before_start: bool,
    /// Steering answers' `TTL` while every CDN is up, and while any is down or ramping.
    pub ttl_seconds: u64,
    pub degraded_ttl_seconds: u64,
    /// Probes: a GET of `probe_path` on each CDN's base URL (or the CDN's `probe_url`).
    pub probe_path: String,
    pub probe_interval_ms: u64,
    pub probe_timeout_ms: u64,
    /// Failed probes in a row that take a CDN out.
    pub fail_after: u32,
    /// Good probes in a row, and seconds without a failure, before it comes back.
    pub recover_after: u32,
    pub hold_seconds: u64,
    /// Seconds over which a CDN that came back takes its sessions back.
    pub ramp_seconds: u64,
    /// Players reporting (in steering requests) that they left a CDN within
    /// `report_window_seconds` that take it out; 0 turns this off (reports are counted).
    pub player_reports: u32,
    pub report_window_seconds: u64,
    /// Request header with the viewer's country (ISO 3166 alpha-2), for CDNs restricted to
    /// `regions`.
    pub country_header: String,
    /// The key (hex, at least 16 bytes) that signs the session state in steering URLs, so
    /// that player reports count only for sessions an edge started. Give every node the same
    /// one; unset, each node makes its own and counts only its own sessions' reports.
    pub state_key_hex: Option<String>,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            cdns: Vec::new(),
            assets: vec!["*".into()],
            steering_base_url: None,
            hls_layout: HlsLayout::Repeat,
            query_before_start: true,
            ttl_seconds: 300,
            degraded_ttl_seconds: 10,
            probe_path: "/healthz".into(),
            probe_interval_ms: 2000,
            probe_timeout_ms: 1000,
            fail_after: 2,
            recover_after: 3,
            hold_seconds: 30,
            ramp_seconds: 30,
            player_reports: 0,
            report_window_seconds: 10,
            country_header: "X-Country-Code".into(),
            state_key_hex: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum HlsLayout {
    Repeat,
    Clone,
}

/// `[[delivery.cdns]]`: one CDN.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CdnConfig {
    /// The pathway id players see (`A-Z a-z 0-9 . - _`, at most 64).
    pub id: String,
    /// Where the CDN serves this node's paths: `https://cdn-a.example.com[/prefix]`.
    pub base_url: String,
    #[serde(default = "one")]
    pub weight: u32,
    #[serde(default = "one")]
    pub priority: u32,
    /// Viewer countries (ISO 3166 alpha-2) this CDN serves; empty: everyone.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Free-form labels for the operator's own tooling (contracts, billing); the node keeps
    /// them with the CDN and decides nothing by them.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The probe's URL, instead of `base_url` + `probe_path`.
    pub probe_url: Option<String>,
    /// A token this CDN checks, written into its URLs.
    pub signing: Option<SigningConfig>,
}

fn one() -> u32 {
    1
}

/// How one CDN's URLs are signed.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SigningConfig {
    pub scheme: SigningScheme,
    /// The query parameter (default `cat` for CAT, `__token__` for Akamai).
    pub param: Option<String>,
    /// CAT: the key id, algorithm (`HS256` default, or `ES256`) and secret or private key.
    pub kid: Option<String>,
    pub alg: Option<String>,
    pub secret_hex: Option<String>,
    pub private_pem: Option<PathBuf>,
    /// Akamai Token Auth 2.0: the key and optional salt.
    pub key_hex: Option<String>,
    pub salt: Option<String>,
    /// Seconds a token outlives the title's duration when the viewer brought none.
    #[serde(default = "default_token_slack")]
    pub slack_seconds: u64,
}

fn default_token_slack() -> u64 {
    3600
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SigningScheme {
    Cat,
    Akamai,
}

impl DeliveryConfig {
    /// Whether `asset` is delivered through the CDNs.
    pub fn covers(&self, asset: &str) -> bool {
        !self.cdns.is_empty()
            && self.assets.iter().any(|p| match p.strip_suffix('*') {
                Some(prefix) => asset.starts_with(prefix),
                None => p == asset,
            })
    }

    /// Checks what the types cannot.
    pub fn validate(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for c in &self.cdns {
            if cdn_router::PathwayId::new(&c.id).is_none() {
                return Err(format!(
                    "delivery.cdns id {:?}: 1 to 64 of A-Z a-z 0-9 . - _",
                    c.id
                ));
            }
            let readmission = cdn_router::PathwayId::new(&c.id)
                .map(|id| cdn_router::steering::readmitted_base(&id).as_str() != c.id);
            if readmission == Some(true) {
                return Err(format!(
                    "delivery.cdns id {:?}: ids ending in .r and digits are how HLS players are offered a CDN that came back (cdn-a.r1); pick another",
                    c.id
                ));
            }
            if !seen.insert(c.id.as_str()) {
                return Err(format!("delivery.cdns id {:?} is listed twice", c.id));
            }
            absolute_url(&c.base_url, &format!("delivery.cdns {:?} base_url", c.id))?;
            if let Some(u) = &c.probe_url {
                absolute_url(u, &format!("delivery.cdns {:?} probe_url", c.id))?;
            }
        }
        if let Some(u) = &self.steering_base_url {
            absolute_url(u, "delivery.steering_base_url")?;
        }
        if !self.cdns.is_empty() && self.cdns.iter().all(|c| c.weight == 0) {
            return Err("delivery.cdns: at least one CDN needs a weight above 0".into());
        }
        if self.hls_layout == HlsLayout::Clone {
            let rest = |c: &CdnConfig| {
                c.base_url
                    .replacen(cdn_router::pathway::host_of(&c.base_url), "", 1)
            };
            if let Some(first) = self.cdns.first() {
                if self.cdns.iter().any(|c| rest(c) != rest(first)) {
                    return Err("delivery.hls_layout = \"clone\": every CDN's base_url must differ only in its host (a clone replaces the host only)".into());
                }
            }
        }
        if self.probe_interval_ms < 100 || self.probe_timeout_ms == 0 {
            return Err(
                "delivery.probe_interval_ms must be at least 100 and probe_timeout_ms above 0"
                    .into(),
            );
        }
        if self.ttl_seconds == 0 || self.degraded_ttl_seconds == 0 {
            return Err("delivery.ttl_seconds and degraded_ttl_seconds must be above 0".into());
        }
        Ok(())
    }
}

fn absolute_url(u: &str, what: &str) -> Result<(), String> {
    let ok = (u.starts_with("http://") || u.starts_with("https://"))
        && u.parse::<http::Uri>().is_ok()
        && !u.ends_with('/');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} {u:?}: an absolute http(s) URL without a trailing slash"
        ))
    }
}
