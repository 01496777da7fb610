//! Common Access Tokens (CTA-5007-B): [`verify`] opens the COSE envelope and checks its MAC or
//! signature with a key from the [`KeySet`]; [`Token::check`] then holds the claims against
//! one request under a [`Policy`]; [`mint`] makes tokens (for operators, tests, renewal and
//! the tokens the edge writes into manifests).

pub mod claims;
pub mod cose;
pub mod keys;
pub mod mint;
pub mod nip;
pub mod renewal;
pub mod uri;

pub use claims::{Claims, Replay};
pub use cose::Alg;
pub use keys::{Key, KeyError, KeySet};
pub use renewal::{Delivery, Renewal};

use crate::{text, Refusal, RequestFacts};

/// What a node expects of every token, beyond its own claims.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Accepted issuers; empty accepts any.
    pub issuers: Vec<String>,
    /// This node's audiences: a token with an `aud` must name one of them. Empty accepts any.
    pub audiences: Vec<String>,
    /// Seconds of clock skew allowed on `exp` and `nbf`.
    pub leeway: u64,
    /// Refuse tokens without `exp` (they would never end).
    pub require_exp: bool,
}

/// A token whose MAC or signature verified.
#[derive(Debug, Clone)]
pub struct Token {
    pub alg: Alg,
    pub kid: Vec<u8>,
    pub claims: Claims,
}

/// Decodes the text form, opens the envelope and verifies it.
pub fn verify(token_text: &str, keys: &KeySet) -> Result<Token, Refusal> {
    let bytes = text::decode(token_text)?;
    verify_bytes(&bytes, keys)
}

/// [`verify`] for token bytes.
pub fn verify_bytes(bytes: &[u8], keys: &KeySet) -> Result<Token, Refusal> {
    let envelope = cose::open(bytes)?;
    let key = keys.find(&envelope.kid)?;
    if key.alg() != envelope.alg {
        return Err(Refusal::BadSignature(format!(
            "key {:?} is for {:?}, the token says {:?}",
            String::from_utf8_lossy(key.kid()),
            key.alg(),
            envelope.alg
        )));
    }
    key.verify(&envelope.to_be_authenticated, &envelope.tag)?;
    // Only claims that came with a valid MAC or signature are read.
    let claims = Claims::parse(&envelope.payload)?;
    Ok(Token {
        alg: envelope.alg,
        kid: envelope.kid,
        claims,
    })
}

/// Decodes a token without checking its MAC or signature, for `edgepack token inspect`.
pub fn inspect(token_text: &str) -> Result<(cose::Envelope, Result<Claims, Refusal>), Refusal> {
    let bytes = text::decode(token_text)?;
    let envelope = cose::open(&bytes)?;
    let claims = Claims::parse(&envelope.payload);
    Ok((envelope, claims))
}

impl Token {
    /// Checks the claims against a request. The order puts the cheap, common refusals first.
    pub fn check(&self, facts: &RequestFacts<'_>, policy: &Policy) -> Result<(), Refusal> {
        let c = &self.claims;
        let now = facts.now;
        match c.exp {
            Some(exp) if now >= exp.saturating_add(policy.leeway) => {
                return Err(Refusal::Expired { exp, now })
            }
            None if policy.require_exp => {
                return Err(Refusal::Malformed("the token has no expiry (exp)".into()))
            }
            _ => {}
        }
        if let Some(nbf) = c.nbf {
            if now.saturating_add(policy.leeway) < nbf {
                return Err(Refusal::NotYetValid { nbf, now });
            }
        }
        if !policy.issuers.is_empty() {
            match &c.iss {
                Some(iss) if policy.issuers.iter().any(|i| i == iss) => {}
                Some(iss) => {
                    return Err(Refusal::WrongParty(format!(
                        "issuer {iss:?} is not accepted"
                    )))
                }
                None => return Err(Refusal::WrongParty("has no issuer (iss)".into())),
            }
        }
        if !c.aud.is_empty()
            && !policy.audiences.is_empty()
            && !c.aud.iter().any(|a| policy.audiences.contains(a))
        {
            return Err(Refusal::WrongParty(format!(
                "audience {:?} is not this node's",
                c.aud
            )));
        }
        if let Some(catu) = &c.catu {
            catu.check(facts)?;
        }
        if let Some(methods) = &c.catm {
            if !methods.iter().any(|m| m.eq_ignore_ascii_case(facts.method)) {
                return Err(Refusal::WrongMethod(facts.method.to_owned()));
            }
        }
        if let Some(nip) = &c.catnip {
            nip.check(facts.client_ip)?;
        }
        if let Some(countries) = &c.countries {
            let allowed = facts.country.is_some_and(|here| {
                countries.iter().any(|want| {
                    // "US" allows "US" and "US-CA"; "US-CA" allows only "US-CA".
                    here.eq_ignore_ascii_case(want)
                        || (!want.contains('-')
                            && here.len() > want.len()
                            && here.as_bytes()[want.len()] == b'-'
                            && here[..want.len()].eq_ignore_ascii_case(want))
                })
            });
            if !allowed {
                return Err(Refusal::GeoNotAllowed(
                    facts
                        .country
                        .unwrap_or("unknown")
                        .chars()
                        .take(16)
                        .collect(),
                ));
            }
        }
        if let Some(alpn) = &c.catalpn {
            if !alpn.iter().any(|p| p == facts.alpn) {
                return Err(Refusal::WrongUri(format!(
                    "protocol {} is not in the token's catalpn",
                    facts.alpn
                )));
            }
        }
        Ok(())
    }

    /// The renewal due at `now`, if the token asks for one and is in its window.
    pub fn renewal_due(&self, now: u64) -> Option<&Renewal> {
        let renewal = self.claims.catr.as_ref()?;
        let exp = self.claims.exp?;
        renewal.due(exp, now).then_some(renewal)
    }
}
