//! `[control.entitlement]`: where the edge is, how tokens are minted, where license servers
//! and the revocation store are.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// The key that signs playback tokens; the edge holds the same HS256 secret, or the public
/// half of the ES256 key, under the same `kid` in `[[access.keys]]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct SigningKeyConfig {
    pub kid: String,
    /// `HS256` or `ES256`.
    pub alg: String,
    /// The HS256 secret, hex.
    pub secret_hex: Option<String>,
    /// The ES256 private key, a PKCS#8 PEM file.
    pub private_pem: Option<PathBuf>,
}

/// How a revocation reaches the edge.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RevocationConfig {
    /// Base URLs of edge nodes whose admin API takes revocations. With the shared Redis
    /// store one node is enough (it shares the revocation with every node); without it,
    /// list every node.
    pub edge_admin_urls: Vec<String>,
    /// The edges' `access.admin_key`.
    pub admin_key: Option<String>,
    /// Milliseconds one edge call may take.
    pub timeout_ms: u64,
}

/// `[control.entitlement]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct EntitlementConfig {
    /// Where players reach the edge (`https://edge.example.com`); manifest URLs start here.
    pub edge_base_url: String,
    /// `iss` of the tokens; the edge's `access.issuers` should list it.
    pub issuer: String,
    /// `aud` of the tokens, when the edge checks one.
    pub audience: Option<String>,
    /// Lifetime of a token, seconds. The token is renewable (`catr`), so a session plays on
    /// past it while the player keeps requesting.
    pub token_ttl_seconds: u64,
    /// Seconds before `exp` from which the edge renews.
    pub renewal_window_seconds: u64,
    /// The claim carrying the stream limit (the edge's `access.max_sessions_claim`).
    pub stream_limit_claim: String,
    /// Query parameter the token rides in (the edge reads `cat` by default).
    pub token_parameter: String,
    pub signing: SigningKeyConfig,
    /// License server per DRM system (`widevine`, `playready`, `fairplay`); ClearKey is the
    /// edge's own `/vod/{asset}/license/clearkey`.
    pub license_servers: BTreeMap<String, String>,
    pub revocation: RevocationConfig,
    /// How long a revocation stays in force, seconds.
    pub revocation_seconds: u64,
    /// Seconds the decision keeps what the catalog said of an asset or product (0: ask on
    /// every decision). A catalog change reaches decisions within this time.
    pub catalog_cache_seconds: u64,
}

impl Default for EntitlementConfig {
    fn default() -> Self {
        EntitlementConfig {
            edge_base_url: "http://127.0.0.1:8080".into(),
            issuer: "edgepack-entitlement".into(),
            audience: None,
            token_ttl_seconds: 300,
            renewal_window_seconds: 60,
            stream_limit_claim: "max_streams".into(),
            token_parameter: "cat".into(),
            signing: SigningKeyConfig::default(),
            license_servers: BTreeMap::new(),
            revocation: RevocationConfig::default(),
            revocation_seconds: 24 * 3600,
            catalog_cache_seconds: 5,
        }
    }
}

impl EntitlementConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(self.edge_base_url.starts_with("http://")
            || self.edge_base_url.starts_with("https://"))
        {
            return Err("control.entitlement.edge_base_url: an http(s) URL".into());
        }
        if self.token_ttl_seconds < 10 {
            return Err("control.entitlement.token_ttl_seconds: at least 10".into());
        }
        if self.renewal_window_seconds >= self.token_ttl_seconds {
            return Err(
                "control.entitlement.renewal_window_seconds must be shorter than token_ttl_seconds"
                    .into(),
            );
        }
        if self.signing.kid.is_empty() {
            return Err("control.entitlement.signing: kid is needed".into());
        }
        for url in &self.revocation.edge_admin_urls {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!(
                    "control.entitlement.revocation.edge_admin_urls: {url:?} is not an http(s) URL"
                ));
            }
        }
        Ok(())
    }
}
