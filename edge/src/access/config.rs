//! The `[access]` section: whether tokens are required, where they are read from, the keys
//! that verify (and mint) them, sessions and stream limits, the shared store and its failure
//! policy, and the admin key for revocations.

use std::path::PathBuf;

use serde::Deserialize;

/// Whether requests under `/vod/` need a token.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AccessMode {
    /// Anyone may play (asset definitions may still ask for tokens).
    #[default]
    Open,
    /// Every manifest, segment, subtitle, key and license request needs a valid token.
    Token,
}

/// What a store-backed check does when the store cannot be reached.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StoreUnavailable {
    /// Serve: signature, expiry, URI and known revocations are still checked.
    #[default]
    Allow,
    /// Refuse with 503 until the store is back.
    Deny,
}

/// What a new session over an account's stream limit does.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OverLimit {
    /// The new session is refused.
    #[default]
    Refuse,
    /// The account's least recently seen session is cut off and the new one admitted.
    EvictOldest,
}

/// A CAT key.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CatKeyConfig {
    /// The key id tokens name (`kid`, as text).
    pub kid: String,
    /// `HS256` (HMAC-SHA256) or `ES256` (ECDSA P-256).
    pub alg: String,
    /// HS256: the secret, hex.
    pub secret_hex: Option<String>,
    /// ES256: a PEM file with the public key (SPKI), to verify.
    pub public_pem: Option<PathBuf>,
    /// ES256: a PEM file with the private key (PKCS#8), to verify and mint.
    pub private_pem: Option<PathBuf>,
}

/// An Akamai Token Auth 2.0 key.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AkamaiKeyConfig {
    /// The key, hex (as Akamai's property settings show it).
    pub key_hex: String,
    /// Optional salt.
    pub salt: Option<String>,
}

/// The shared store.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `redis://host:port[/db]`; unset for the in-process store (one node).
    pub url: Option<String>,
    /// Prefix of every key the node writes.
    pub key_prefix: String,
    /// Milliseconds a store call may take before it counts as unavailable.
    pub timeout_ms: u64,
}

/// `[access]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AccessConfig {
    pub mode: AccessMode,
    /// Query parameters a token is read from, in order.
    pub query_names: Vec<String>,
    /// Headers a token is read from.
    pub header_names: Vec<String>,
    /// Cookies a token is read from.
    pub cookie_names: Vec<String>,
    /// CAT keys; several at once for rotation.
    pub keys: Vec<CatKeyConfig>,
    /// Akamai Token Auth 2.0 keys (tokens in `__token__`/`hdnts`).
    pub akamai_keys: Vec<AkamaiKeyConfig>,
    /// Accepted issuers (`iss`); empty accepts any.
    pub issuers: Vec<String>,
    /// This node's audiences (`aud`); empty accepts any.
    pub audiences: Vec<String>,
    /// Seconds of clock skew allowed on `exp` and `nbf`.
    pub leeway_seconds: u64,
    /// Refuse CATs without `exp`.
    pub require_exp: bool,
    /// Header with the client's country (ISO 3166 alpha-2), set by the CDN in front.
    pub country_header: String,
    /// Header with the client's address (first entry of a list), when a proxy is in front;
    /// unset uses the connection's peer address.
    pub client_ip_header: Option<String>,
    /// The claim naming a session (`cti`, `sid`, `sub`, ...). Renewed and derived tokens
    /// carry the session in `sid`, which is always looked at first.
    pub session_claim: String,
    /// The claim naming an account.
    pub account_claim: String,
    /// Most concurrent sessions per account across all nodes; 0 for no limit.
    pub max_sessions_per_account: u32,
    /// A claim whose integer value is the account's limit instead (its text key, or its
    /// integer key as digits), so an entitlement service can sell 1, 2 or 4 streams; tokens
    /// without it get `max_sessions_per_account`.
    pub max_sessions_claim: Option<String>,
    pub over_limit: OverLimit,
    /// Seconds between two store writes for one session (heartbeats ride on requests).
    pub heartbeat_seconds: u64,
    /// Seconds without a request after which a session frees its slot.
    pub session_timeout_seconds: u64,
    /// Seconds a revocation lasts when the revoked token's end is not known.
    pub revocation_ttl_seconds: u64,
    /// `iss` of the tokens this node mints (renewals, manifest tokens).
    pub issuer: String,
    /// Key id that mints renewals and manifest tokens; unset picks the first key that can.
    pub signing_kid: Option<String>,
    /// Bearer key of `/admin/v1/*`; unset turns the admin API off.
    pub admin_key: Option<String>,
    /// Bearer key of `/metrics`; unset leaves it open.
    pub metrics_key: Option<String>,
    pub store: StoreConfig,
    pub store_unavailable: StoreUnavailable,
    /// Verified tokens kept, so a token's signature is checked once per node.
    pub verified_cache_entries: u64,
}

impl Default for AccessConfig {
    fn default() -> Self {
        let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
        AccessConfig {
            mode: AccessMode::Open,
            query_names: names(&["cat", "CAT", "__token__", "hdnts"]),
            header_names: names(&[
                "CTA-Common-Access-Token",
                "Common-Access-Token",
                "__token__",
            ]),
            cookie_names: names(&[
                "CTA-Common-Access-Token",
                "cta-common-access-token",
                "Common-Access-Token",
                "__token__",
                "hdnts",
            ]),
            keys: Vec::new(),
            akamai_keys: Vec::new(),
            issuers: Vec::new(),
            audiences: Vec::new(),
            leeway_seconds: 0,
            require_exp: true,
            country_header: "X-Country-Code".into(),
            client_ip_header: None,
            session_claim: "cti".into(),
            account_claim: "sub".into(),
            max_sessions_per_account: 0,
            max_sessions_claim: None,
            over_limit: OverLimit::Refuse,
            heartbeat_seconds: 10,
            session_timeout_seconds: 30,
            revocation_ttl_seconds: 24 * 3600,
            issuer: "edgepack".into(),
            signing_kid: None,
            admin_key: None,
            metrics_key: None,
            store: StoreConfig::default(),
            store_unavailable: StoreUnavailable::Allow,
            verified_cache_entries: 100_000,
        }
    }
}

impl StoreConfig {
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(if self.timeout_ms == 0 {
            250
        } else {
            self.timeout_ms
        })
    }

    pub fn prefix(&self) -> &str {
        if self.key_prefix.is_empty() {
            "edgepack:"
        } else {
            &self.key_prefix
        }
    }
}

/// Whether a token carrier name is an Akamai one.
pub fn is_akamai_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("__token__") || name.eq_ignore_ascii_case("hdnts")
}

impl AccessConfig {
    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<(), String> {
        if self.mode == AccessMode::Token && self.keys.is_empty() && self.akamai_keys.is_empty() {
            return Err(
                "access.mode = \"token\" needs [[access.keys]] or [[access.akamai_keys]]".into(),
            );
        }
        if self.heartbeat_seconds == 0 || self.session_timeout_seconds <= self.heartbeat_seconds {
            return Err(
                "access.session_timeout_seconds must be longer than access.heartbeat_seconds (> 0)"
                    .into(),
            );
        }
        for key in [&self.admin_key, &self.metrics_key].into_iter().flatten() {
            if key.len() < 16 {
                return Err(
                    "access.admin_key and access.metrics_key need at least 16 characters".into(),
                );
            }
        }
        if let Some(url) = &self.store.url {
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(format!(
                    "access.store.url {url:?}: must be redis:// or rediss://"
                ));
            }
        }
        Ok(())
    }
}
