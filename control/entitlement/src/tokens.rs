//! Minting playback tokens: a CAT (the `access` crate's, the one the edge verifies) scoped to
//! one asset's path, carrying the account, the session and the stream limit, renewable at
//! the edge while the player keeps playing.

use access::cat::mint::{ClaimsBuilder, MintError};
use access::cat::Key;
use ciborium::value::Value;
use ring::rand::{SecureRandom, SystemRandom};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::PrivatePkcs8KeyDer;

use crate::config::{EntitlementConfig, SigningKeyConfig};

/// `catr` type 0: renewed the way the token came (a query token, as here, gets its renewal
/// written into the manifests' URLs).
const RENEW_AUTOMATIC: i64 = 0;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("control.entitlement.signing: {0}")]
    Key(String),
    #[error("minting failed: {0}")]
    Mint(#[from] MintError),
    #[error("the random source failed")]
    Random,
}

/// What a token says about its session.
pub struct Subject<'a> {
    pub session: &'a str,
    pub account: &'a str,
    pub asset: &'a str,
    pub max_streams: u32,
    /// The asset's territories: the edge checks the viewer's country on every request.
    pub territories: &'a [String],
}

pub struct Minter {
    key: Key,
    issuer: String,
    audience: Option<String>,
    ttl: u64,
    window: u64,
    stream_limit_claim: String,
    rng: SystemRandom,
}

/// The signing key of the configuration.
pub fn signing_key(c: &SigningKeyConfig) -> Result<Key, TokenError> {
    let kid = c.kid.as_bytes();
    match c.alg.to_ascii_uppercase().as_str() {
        "HS256" => {
            let hex = c
                .secret_hex
                .as_deref()
                .ok_or_else(|| TokenError::Key("HS256 needs secret_hex".into()))?;
            let secret =
                hex::decode(hex.trim()).map_err(|e| TokenError::Key(format!("secret_hex: {e}")))?;
            Key::hmac(kid, &secret).map_err(|e| TokenError::Key(e.to_string()))
        }
        "ES256" => {
            let path = c
                .private_pem
                .as_ref()
                .ok_or_else(|| TokenError::Key("ES256 needs private_pem".into()))?;
            let der = PrivatePkcs8KeyDer::from_pem_file(path)
                .map_err(|e| TokenError::Key(format!("{}: {e}", path.display())))?;
            Key::es256_private(kid, der.secret_pkcs8_der(), &SystemRandom::new())
                .map_err(|e| TokenError::Key(e.to_string()))
        }
        other => Err(TokenError::Key(format!("alg {other:?}: HS256 or ES256"))),
    }
}

impl Minter {
    pub fn new(config: &EntitlementConfig) -> Result<Minter, TokenError> {
        Ok(Minter {
            key: signing_key(&config.signing)?,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            ttl: config.token_ttl_seconds,
            window: config.renewal_window_seconds,
            stream_limit_claim: config.stream_limit_claim.clone(),
            rng: SystemRandom::new(),
        })
    }

    /// A token for `subject` issued at `now`, and its `exp`.
    pub fn mint(&self, subject: &Subject<'_>, now: u64) -> Result<(String, u64), TokenError> {
        let mut cti = [0u8; 16];
        self.rng.fill(&mut cti).map_err(|_| TokenError::Random)?;
        let exp = now + self.ttl;
        let mut claims = ClaimsBuilder::new()
            .iss(&self.issuer)
            .subject(subject.account)
            .iat(now)
            .nbf(now.saturating_sub(5))
            .exp(exp)
            .cti(&cti)
            .sid(subject.session)
            .path_prefix(&format!("/vod/{}/", subject.asset))
            .catm(&["GET", "HEAD", "POST"])
            .catr(RENEW_AUTOMATIC, self.ttl, self.window)
            .set(
                Value::Text(self.stream_limit_claim.clone()),
                Value::Integer(subject.max_streams.into()),
            );
        if let Some(aud) = &self.audience {
            claims = claims.aud(aud);
        }
        if !subject.territories.is_empty() {
            let codes: Vec<&str> = subject.territories.iter().map(String::as_str).collect();
            claims = claims.countries(&codes);
        }
        Ok((claims.mint(&self.key, &self.rng)?, exp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use access::cat::{verify, KeySet};

    fn config() -> EntitlementConfig {
        EntitlementConfig {
            signing: SigningKeyConfig {
                kid: "k1".into(),
                alg: "HS256".into(),
                secret_hex: Some("00112233445566778899aabbccddeeff".into()),
                private_pem: None,
            },
            ..EntitlementConfig::default()
        }
    }

    #[test]
    fn a_token_verifies_with_the_edge_key_and_carries_the_session() {
        let minter = Minter::new(&config()).unwrap();
        let territories = vec!["FR".to_string()];
        let (token, exp) = minter
            .mint(
                &Subject {
                    session: "s1",
                    account: "acct",
                    asset: "demo",
                    max_streams: 2,
                    territories: &territories,
                },
                1_000,
            )
            .unwrap();
        assert_eq!(exp, 1_300);
        let key = signing_key(&config().signing).unwrap();
        let keys = KeySet::new(vec![key]).unwrap();
        let t = verify(&token, &keys).unwrap();
        assert_eq!(t.claims.text_of("sid").as_deref(), Some("s1"));
        assert_eq!(t.claims.uint_of("max_streams"), Some(2));
        let other = KeySet::new(vec![Key::hmac(b"k1", &[9u8; 16]).unwrap()]).unwrap();
        assert!(
            verify(&token, &other).is_err(),
            "another secret must not verify"
        );
    }

    #[test]
    fn bad_keys_are_refused() {
        let mut c = config();
        c.signing.secret_hex = Some("zz".into());
        assert!(Minter::new(&c).is_err());
        c.signing.alg = "RS256".into();
        assert!(Minter::new(&c).is_err());
    }
}
