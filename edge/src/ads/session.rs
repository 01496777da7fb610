//! Ad sessions: one per viewer's playback of an asset with ads. A session is named in the URL
//! path (`/vod/{asset}/s/{id}/...`, decision 0015), so relative URLs keep it, and holds what
//! the viewer's first manifest request said (the `ads.*` player parameters, address and user
//! agent) and, once decided, its ad plan. Sessions live in memory, forgotten after
//! `session_idle_seconds` without a request or when `max_sessions` is reached (the least
//! recently used first); a session id the node does not know (another node's, or one from
//! before a restart) starts a session of that id.

use std::sync::Arc;
use std::time::Duration;

use ring::rand::{SecureRandom, SystemRandom};
use tokio::sync::OnceCell;

use crate::ads::plan::Plan;

/// Bytes of randomness in a session id (hex in URLs).
const ID_BYTES: usize = 16;
/// Player parameters kept per session at most, and their length.
const MAX_PARAMS: usize = 32;
const MAX_PARAM_BYTES: usize = 256;

/// Whether `id` has the shape of a session id (so a path names one).
pub fn valid_id(id: &str) -> bool {
    id.len() == ID_BYTES * 2 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// What a session was started with.
#[derive(Debug, Clone, Default)]
pub struct Opening {
    /// `ads.NAME=value` query parameters, as `[player_params.NAME]` (bounded).
    pub params: Vec<(String, String)>,
    /// The viewer's address and user agent (VAST 4.1 server-side headers).
    pub device_ip: Option<String>,
    pub user_agent: Option<String>,
    /// The viewer's account, when a token named one (keys the session's events).
    pub account: Option<String>,
}

impl Opening {
    /// The opening of a request with `query` from `device_ip` with `user_agent`.
    pub fn from_request(
        query: Option<&str>,
        device_ip: Option<String>,
        user_agent: Option<&str>,
    ) -> Opening {
        let params = query
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .filter_map(|(k, v)| {
                        let name = k.strip_prefix("ads.")?;
                        let ok = !name.is_empty()
                            && name.len() <= 64
                            && v.len() <= MAX_PARAM_BYTES
                            && name
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                        ok.then(|| (name.to_owned(), v.into_owned()))
                    })
                    .take(MAX_PARAMS)
                    .collect()
            })
            .unwrap_or_default();
        Opening {
            params,
            device_ip,
            user_agent: user_agent.map(|u| u.chars().take(512).collect()),
            account: None,
        }
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One viewer's ad session.
#[derive(Debug)]
pub struct AdSession {
    pub id: String,
    pub asset: String,
    pub opening: Opening,
    /// The breaks and their ads, decided once (by the first request that needs them).
    pub plan: OnceCell<Arc<Plan>>,
}

impl AdSession {
    /// What the session's events are keyed by: the account, else the session.
    pub fn event_key(&self) -> &str {
        self.opening.account.as_deref().unwrap_or(&self.id)
    }
}

/// The sessions of this node.
pub struct Sessions {
    by_id: moka::sync::Cache<String, Arc<AdSession>>,
    rng: SystemRandom,
}

impl Sessions {
    pub fn new(idle: Duration, max: u64) -> Sessions {
        Sessions {
            by_id: moka::sync::Cache::builder()
                .max_capacity(max.max(1))
                .time_to_idle(idle.max(Duration::from_secs(1)))
                .build(),
            rng: SystemRandom::new(),
        }
    }

    /// A new session of `asset`.
    pub fn start(&self, asset: &str, opening: Opening) -> Result<Arc<AdSession>, String> {
        let mut bytes = [0u8; ID_BYTES];
        self.rng
            .fill(&mut bytes)
            .map_err(|_| "no randomness for a session id".to_owned())?;
        let id = hex::encode(bytes);
        Ok(self.insert(id, asset, opening))
    }

    /// The session `id` of `asset`; one of that id when the node does not know it (or knows
    /// it for another asset). `None` when `id` is not a session id.
    pub fn get_or_resume(
        &self,
        id: &str,
        asset: &str,
        opening: impl FnOnce() -> Opening,
    ) -> Option<Arc<AdSession>> {
        if !valid_id(id) {
            return None;
        }
        match self.by_id.get(id) {
            Some(s) if s.asset == asset => Some(s),
            _ => Some(self.insert(id.to_owned(), asset, opening())),
        }
    }

    /// The session `id`, when the node knows it.
    pub fn get(&self, id: &str) -> Option<Arc<AdSession>> {
        self.by_id.get(id)
    }

    fn insert(&self, id: String, asset: &str, opening: Opening) -> Arc<AdSession> {
        let session = Arc::new(AdSession {
            id: id.clone(),
            asset: asset.to_owned(),
            opening,
            plan: OnceCell::new(),
        });
        self.by_id.insert(id, session.clone());
        session
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_hex_and_checked() {
        let s = Sessions::new(Duration::from_secs(60), 10);
        let a = s.start("demo", Opening::default()).unwrap();
        let b = s.start("demo", Opening::default()).unwrap();
        assert!(valid_id(&a.id) && valid_id(&b.id));
        assert_ne!(a.id, b.id);
        assert!(!valid_id("../../etc"));
        assert!(!valid_id(&a.id.to_uppercase()));
        assert!(Arc::ptr_eq(&s.get(&a.id).unwrap(), &a));
        // Another asset's path never reaches this session's plan.
        let other = s.get_or_resume(&a.id, "other", Opening::default).unwrap();
        assert_eq!(other.asset, "other");
        assert!(s.get_or_resume("nope", "demo", Opening::default).is_none());
    }

    #[test]
    fn player_params_are_the_ads_ones_and_bounded() {
        let long = "x".repeat(300);
        let q =
            format!("token=abc&ads.gender=f&ads.age=30&ads.bad%20name=1&ads.long={long}&other=1");
        let o = Opening::from_request(Some(&q), None, Some("UA"));
        assert_eq!(o.param("gender"), Some("f"));
        assert_eq!(o.param("age"), Some("30"));
        assert_eq!(o.params.len(), 2, "{:?}", o.params);
    }
}
