//! API keys with scopes. A caller sends `Authorization: Bearer <key>`; each configured key
//! has a name (for logs and metrics) and the scopes it may use. Keys are kept as SHA-256
//! digests and looked up by digest, so no comparison runs over the secret itself.

use std::collections::HashMap;

use http::HeaderMap;
use serde::Deserialize;

use crate::problem::{Problem, ProblemType};

/// What an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    CatalogRead,
    CatalogWrite,
    GrantsRead,
    GrantsWrite,
    SessionsCreate,
    SessionsRead,
    SessionsRevoke,
    BillingRead,
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::CatalogRead,
        Scope::CatalogWrite,
        Scope::GrantsRead,
        Scope::GrantsWrite,
        Scope::SessionsCreate,
        Scope::SessionsRead,
        Scope::SessionsRevoke,
        Scope::BillingRead,
    ];

    /// The name in configuration files and in the contracts' security schemes.
    pub fn name(self) -> &'static str {
        match self {
            Scope::CatalogRead => "catalog:read",
            Scope::CatalogWrite => "catalog:write",
            Scope::GrantsRead => "grants:read",
            Scope::GrantsWrite => "grants:write",
            Scope::SessionsCreate => "sessions:create",
            Scope::SessionsRead => "sessions:read",
            Scope::SessionsRevoke => "sessions:revoke",
            Scope::BillingRead => "billing:read",
        }
    }

    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// `[[control.api_keys]]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    /// Who holds the key, for logs.
    pub name: String,
    /// The key itself, at least 16 characters.
    pub key: String,
    /// Scope names (`catalog:read`, ...), or `*` for every scope.
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone)]
struct Holder {
    name: String,
    scopes: Vec<Scope>,
}

/// The keys a service accepts.
#[derive(Debug, Clone, Default)]
pub struct ApiKeys {
    by_digest: HashMap<[u8; 32], Holder>,
    /// No keys needed: the demo, and services reached only in-process or on loopback.
    open: bool,
}

/// Who called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
}

fn digest(key: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, key);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

impl ApiKeys {
    /// Keys from configuration; `open` lets calls without a key through with every scope.
    pub fn new(configs: &[ApiKeyConfig], open: bool) -> Result<ApiKeys, String> {
        let mut by_digest = HashMap::new();
        for c in configs {
            if c.key.len() < 16 {
                return Err(format!("api key {:?}: at least 16 characters", c.name));
            }
            let scopes = c
                .scopes
                .iter()
                .map(|s| match s.as_str() {
                    "*" => Ok(Scope::ALL.to_vec()),
                    other => Scope::parse(other)
                        .map(|s| vec![s])
                        .ok_or_else(|| format!("api key {:?}: unknown scope {other:?}", c.name)),
                })
                .collect::<Result<Vec<_>, _>>()?
                .concat();
            let holder = Holder {
                name: c.name.clone(),
                scopes,
            };
            if by_digest.insert(digest(c.key.as_bytes()), holder).is_some() {
                return Err(format!("api key {:?}: the same key twice", c.name));
            }
        }
        Ok(ApiKeys { by_digest, open })
    }

    /// Every call allowed without a key.
    pub fn open() -> ApiKeys {
        ApiKeys {
            by_digest: HashMap::new(),
            open: true,
        }
    }

    pub fn is_open(&self) -> bool {
        self.open
    }

    /// The caller of a request that needs `scope`, or the problem to answer.
    pub fn authorize(&self, headers: &HeaderMap, scope: Scope) -> Result<Caller, Problem> {
        let presented = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(key) = presented else {
            if self.open {
                return Ok(Caller {
                    name: "anonymous".into(),
                });
            }
            return Err(Problem::new(
                ProblemType::ApiKeyInvalid,
                "send Authorization: Bearer <api key>",
            ));
        };
        let Some(holder) = self.by_digest.get(&digest(key.as_bytes())) else {
            return Err(Problem::new(
                ProblemType::ApiKeyInvalid,
                "the API key is not one this service knows",
            ));
        };
        if !holder.scopes.contains(&scope) {
            return Err(Problem::new(
                ProblemType::ScopeMissing,
                format!("this operation needs the scope {}", scope.name()),
            ));
        }
        Ok(Caller {
            name: holder.name.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(key: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(k) = key {
            h.insert(
                http::header::AUTHORIZATION,
                format!("Bearer {k}").parse().unwrap(),
            );
        }
        h
    }

    fn keys() -> ApiKeys {
        ApiKeys::new(
            &[
                ApiKeyConfig {
                    name: "reader".into(),
                    key: "reader-key-0123456789".into(),
                    scopes: vec!["catalog:read".into()],
                },
                ApiKeyConfig {
                    name: "ops".into(),
                    key: "ops-key-0123456789ab".into(),
                    scopes: vec!["*".into()],
                },
            ],
            false,
        )
        .unwrap()
    }

    #[test]
    fn scopes_decide() {
        let k = keys();
        let reader = headers(Some("reader-key-0123456789"));
        assert_eq!(
            k.authorize(&reader, Scope::CatalogRead).unwrap().name,
            "reader"
        );
        let e = k.authorize(&reader, Scope::CatalogWrite).unwrap_err();
        assert_eq!(e.kind, ProblemType::ScopeMissing);
        let ops = headers(Some("ops-key-0123456789ab"));
        assert!(k.authorize(&ops, Scope::SessionsRevoke).is_ok());
    }

    #[test]
    fn missing_and_unknown_keys_are_refused_unless_open() {
        let k = keys();
        for h in [headers(None), headers(Some("guess-0123456789abcdef"))] {
            let e = k.authorize(&h, Scope::CatalogRead).unwrap_err();
            assert_eq!(e.kind, ProblemType::ApiKeyInvalid);
        }
        assert!(ApiKeys::open()
            .authorize(&headers(None), Scope::GrantsWrite)
            .is_ok());
    }

    #[test]
    fn bad_configuration_is_refused() {
        let short = ApiKeyConfig {
            name: "x".into(),
            key: "short".into(),
            scopes: vec![],
        };
        assert!(ApiKeys::new(&[short], false).is_err());
        let unknown = ApiKeyConfig {
            name: "x".into(),
            key: "long-enough-key-0123".into(),
            scopes: vec!["catalog:delete".into()],
        };
        assert!(ApiKeys::new(&[unknown], false).is_err());
    }
}
