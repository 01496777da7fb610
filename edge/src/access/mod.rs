//! Playback access at the edge: the authorize phase's machinery. [`gate::admit`] decides
//! whether a request's token lets it have what it asks for: verified once per token per node
//! (a cache of verified tokens), claims checked per request, then revocations (in memory),
//! single-use marks and stream limits (the shared [`store`]). [`renew`] renews tokens near
//! their end, [`manifest_tokens`] writes tokens into the URLs of manifests, and [`admin`]
//! takes revocations. The token formats themselves are the `access` crate's.

pub mod admin;
pub mod clock;
pub mod config;
pub mod denied;
pub mod extract;
pub mod gate;
pub mod keys;
pub mod manifest_tokens;
pub mod renew;
pub mod replay;
pub mod revocations;
pub mod sessions;
pub mod store;
pub mod stream_limit;
pub mod viewer;

use std::sync::Arc;
use std::time::Duration;

use access::akamai::EdgeAuthKey;
use access::cat::{KeySet, Policy};
use ring::rand::SystemRandom;

use crate::access::config::AccessConfig;
use crate::access::revocations::RevocationSet;
use crate::access::sessions::SessionTable;
use crate::access::store::{memory::MemoryStore, redis::RedisStore, Store};
use crate::ops::access_metrics::AccessMetrics;

/// A CAT that verified, with what every request asks of it worked out once.
#[derive(Debug)]
pub struct CatEntry {
    pub token: access::cat::Token,
    /// The token as presented.
    pub text: Arc<str>,
    /// The session: `sid`, else the configured session claim.
    pub session: Option<Arc<str>>,
    /// The account: the configured account claim.
    pub account: Option<Arc<str>>,
    /// The token id (`cti`, hex).
    pub token_id: Option<Arc<str>>,
    /// The account's stream limit the token states (`access.max_sessions_claim`).
    pub max_sessions: Option<u32>,
}

/// What a CAT is cached as: the verified token, or why it failed verification.
pub type VerifiedCat = Arc<Result<CatEntry, access::Refusal>>;

/// Access control of a running node.
pub struct Access {
    pub config: AccessConfig,
    pub cat_keys: KeySet,
    pub akamai_keys: Vec<EdgeAuthKey>,
    pub policy: Policy,
    /// Where tokens are read from, parsed once.
    pub names: extract::Names,
    pub country_header: http::HeaderName,
    pub client_ip_header: Option<http::HeaderName>,
    /// CATs verified on this node, by token text.
    pub verified: moka::sync::Cache<String, VerifiedCat>,
    /// Revocations in force (kept across reloads).
    pub revocations: Arc<RevocationSet>,
    pub store: Arc<Store>,
    pub sessions: Arc<SessionTable>,
    /// Token ids this node has seen used (catreplay), so repeats are refused without a
    /// store call.
    pub seen_token_ids: moka::sync::Cache<String, ()>,
    /// Tokens minted for manifests, by (presented token, asset).
    pub manifest_tokens: moka::sync::Cache<(Arc<str>, String), Arc<str>>,
    pub metrics: Arc<AccessMetrics>,
    pub rng: SystemRandom,
}

impl Access {
    /// Sets access control up from `config`; the revocations, store and session table of
    /// `previous` are kept when the store settings did not change, so a reload forgets no
    /// revocation and drops no session.
    pub fn new(
        config: &AccessConfig,
        metrics: Arc<AccessMetrics>,
        previous: Option<&Access>,
    ) -> Result<Access, String> {
        config.validate()?;
        let cat_keys = keys::cat_keys(config)?;
        let akamai_keys = keys::akamai_keys(config)?;
        let revocations = previous.map_or_else(Default::default, |p| p.revocations.clone());
        let same_store = previous.filter(|p| {
            p.config.store == config.store
                && p.config.revocation_ttl_seconds == config.revocation_ttl_seconds
        });
        let store = match same_store {
            Some(p) => p.store.clone(),
            None => match &config.store.url {
                None => Arc::new(Store::Memory(MemoryStore::default())),
                Some(_) => {
                    let redis = Arc::new(
                        RedisStore::new(
                            &config.store,
                            config.revocation_ttl_seconds,
                            metrics.clone(),
                        )
                        .map_err(|e| e.to_string())?,
                    );
                    let rt = tokio::runtime::Handle::try_current().map_err(|_| {
                        "the Redis access store needs a running tokio runtime".to_owned()
                    })?;
                    // Until the follower has connected, the store is not known to answer.
                    metrics.store_up.set(0);
                    rt.spawn(redis.clone().follow(revocations.clone()));
                    Arc::new(Store::Redis(redis))
                }
            },
        };
        let timeout = Duration::from_secs(config.session_timeout_seconds);
        let sessions = match previous
            .filter(|p| p.config.session_timeout_seconds == config.session_timeout_seconds)
        {
            Some(p) => p.sessions.clone(),
            None => Arc::new(SessionTable::new(timeout)),
        };
        let header = |name: &str, what: &str| {
            http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("{what} {name:?} is not a header name"))
        };
        Ok(Access {
            names: extract::Names::new(config)?,
            country_header: header(&config.country_header, "access.country_header")?,
            client_ip_header: config
                .client_ip_header
                .as_deref()
                .map(|h| header(h, "access.client_ip_header"))
                .transpose()?,
            policy: Policy {
                issuers: config.issuers.clone(),
                audiences: config.audiences.clone(),
                leeway: config.leeway_seconds,
                require_exp: config.require_exp,
            },
            config: config.clone(),
            cat_keys,
            akamai_keys,
            verified: moka::sync::Cache::builder()
                .max_capacity(config.verified_cache_entries.max(1))
                .time_to_live(Duration::from_secs(3600))
                .build(),
            revocations,
            store,
            sessions,
            seen_token_ids: moka::sync::Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(Duration::from_secs(24 * 3600))
                .build(),
            manifest_tokens: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(10))
                .build(),
            metrics,
            rng: SystemRandom::new(),
        })
    }

    /// The key that mints renewals and manifest tokens.
    pub fn signer(&self) -> Option<&access::cat::Key> {
        self.cat_keys
            .signer(self.config.signing_kid.as_deref().map(str::as_bytes))
    }
}
