//! The token each CDN checks, written into that CDN's URLs: a Common Access Token sealed with
//! the CDN's key, or an Akamai Token Auth 2.0 ACL token. Its scope is the asset's paths
//! (`/vod/{asset}/`) and it carries the session (`sid`). When the viewer came with a CAT, its
//! claims (subject, audience, expiry, countries...) carry over, so a CDN grants no more than
//! the viewer's own token; when no token came (an open node), the token lasts the title's
//! duration plus `slack_seconds`.

use access::akamai::{self, EdgeAuthKey, EdgeAuthToken};
use access::cat::mint::ClaimsBuilder;
use ring::rand::{SecureRandom, SystemRandom};

use crate::access::config::CatKeyConfig;
use crate::access::gate::Viewer;
use crate::access::manifest_tokens::scope_exp;
use crate::delivery::config::{SigningConfig, SigningScheme};

/// How one CDN's URLs are signed.
pub enum Signer {
    Cat {
        key: access::cat::Key,
        param: String,
        slack_s: u64,
    },
    Akamai {
        key: EdgeAuthKey,
        param: String,
        slack_s: u64,
    },
}

/// What a token is for.
pub struct Scope<'a> {
    pub asset: &'a str,
    pub session: &'a str,
    pub viewer: Option<&'a Viewer>,
    /// The title's duration, seconds.
    pub duration_s: f64,
    /// `iss` of tokens minted here.
    pub issuer: &'a str,
    /// Seconds since the Unix epoch.
    pub now_s: u64,
}

impl Signer {
    /// The signer `s` describes for CDN `cdn`.
    pub fn new(cdn: &str, s: &SigningConfig) -> Result<Signer, String> {
        let named = |e: String| format!("delivery.cdns {cdn:?} signing: {e}");
        match s.scheme {
            SigningScheme::Cat => {
                let config = CatKeyConfig {
                    kid: s.kid.clone().unwrap_or_else(|| cdn.to_owned()),
                    alg: s.alg.clone().unwrap_or_else(|| "HS256".into()),
                    secret_hex: s.secret_hex.clone(),
                    public_pem: None,
                    private_pem: s.private_pem.clone(),
                };
                let key =
                    crate::access::keys::cat_key(&config, &SystemRandom::new()).map_err(named)?;
                if !key.can_sign() {
                    return Err(named(
                        "the key cannot sign (ES256 needs private_pem)".into(),
                    ));
                }
                Ok(Signer::Cat {
                    key,
                    param: s.param.clone().unwrap_or_else(|| "cat".into()),
                    slack_s: s.slack_seconds,
                })
            }
            SigningScheme::Akamai => {
                let hex_key = s
                    .key_hex
                    .as_deref()
                    .ok_or_else(|| named("akamai needs key_hex".into()))?;
                Ok(Signer::Akamai {
                    key: EdgeAuthKey::from_hex(hex_key, s.salt.clone()).map_err(named)?,
                    param: s.param.clone().unwrap_or_else(|| "__token__".into()),
                    slack_s: s.slack_seconds,
                })
            }
        }
    }

    /// `param=token` for `scope`, or `None` when minting failed (logged).
    pub fn query(&self, scope: &Scope<'_>, rng: &SystemRandom) -> Option<String> {
        let exp = |slack_s: u64| match scope.viewer.and_then(Viewer::cat) {
            Some(t) => scope_exp(&t.claims, scope.now_s, scope.duration_s),
            None => scope.now_s + scope.duration_s.ceil() as u64 + slack_s,
        };
        let prefix = format!("/vod/{}/", scope.asset);
        match self {
            Signer::Cat {
                key,
                param,
                slack_s,
            } => {
                let builder = match scope.viewer.and_then(Viewer::cat) {
                    Some(t) => ClaimsBuilder::from_claims(&t.claims)
                        .remove(access::cat::claims::CATREPLAY)
                        .remove(access::cat::claims::CATR),
                    None => {
                        let mut cti = [0u8; 16];
                        rng.fill(&mut cti).ok()?;
                        ClaimsBuilder::new().cti(&cti)
                    }
                };
                let minted = builder
                    .iss(scope.issuer)
                    .path_prefix(&prefix)
                    .catm(&["GET", "HEAD"])
                    .iat(scope.now_s)
                    .exp(exp(*slack_s))
                    .sid(scope.session)
                    .mint(key, rng);
                match minted {
                    Ok(t) => Some(format!("{param}={t}")),
                    Err(e) => {
                        tracing::error!(error = %e, "minting a CDN token failed");
                        None
                    }
                }
            }
            Signer::Akamai {
                key,
                param,
                slack_s,
            } => {
                let fields = EdgeAuthToken {
                    exp: exp(*slack_s),
                    acl: Some(format!("{prefix}*")),
                    id: Some(scope.session.to_owned()),
                    ..EdgeAuthToken::default()
                };
                Some(format!("{param}={}", akamai::mint(key, &fields, None)))
            }
        }
    }
}

/// A new session id: 16 random bytes, hex.
pub fn new_session(rng: &SystemRandom) -> String {
    let mut b = [0u8; 16];
    if rng.fill(&mut b).is_err() {
        // ring's system RNG does not fail on Linux; a clock-based id still separates sessions.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        b = t.to_le_bytes();
    }
    hex::encode(b)
}
