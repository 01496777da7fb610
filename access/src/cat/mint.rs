//! Making CATs: a claims set built with [`ClaimsBuilder`] (or taken from a verified token and
//! changed, for renewal and for the scoped tokens the edge writes into manifests), sealed with
//! a key. Randomness (ES256 nonces) comes in from the caller.

use ciborium::value::Value;
use ring::rand::SecureRandom;

use crate::cat::claims::{self, Claims, Replay};
use crate::cat::keys::Key;
use crate::cat::{cose, Alg};
use crate::cbor;
use crate::text;

/// Why a token could not be minted.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error("key {0:?} can only verify")]
    VerifyOnly(String),
    #[error("the random source failed")]
    Random,
}

/// A claims set under construction; later values of a claim replace earlier ones.
#[derive(Debug, Clone, Default)]
pub struct ClaimsBuilder {
    entries: Vec<(Value, Value)>,
}

impl ClaimsBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts from the claims of an existing token.
    pub fn from_claims(c: &Claims) -> Self {
        ClaimsBuilder {
            entries: c.raw.clone(),
        }
    }

    /// Sets a claim under any key.
    pub fn set(mut self, key: Value, value: Value) -> Self {
        self.entries.retain(|(k, _)| *k != key);
        self.entries.push((key, value));
        self
    }

    /// Removes a claim, and its mention in `crit` (a critical claim that is absent would
    /// make the token unacceptable).
    pub fn remove(mut self, key: i64) -> Self {
        self.entries.retain(|(k, _)| cbor::int_key(k) != Some(key));
        for (k, v) in &mut self.entries {
            if cbor::int_key(k) == Some(claims::CRIT) {
                if let Value::Array(listed) = v {
                    listed.retain(|c| cbor::int_key(c) != Some(key));
                }
            }
        }
        self.entries.retain(|(k, v)| {
            cbor::int_key(k) != Some(claims::CRIT) || v.as_array().is_none_or(|a| !a.is_empty())
        });
        self
    }

    fn int(self, key: i64, value: Value) -> Self {
        self.set(cbor::int_value(key), value)
    }

    pub fn iss(self, v: &str) -> Self {
        self.int(claims::ISS, Value::Text(v.into()))
    }
    pub fn subject(self, v: &str) -> Self {
        self.int(claims::SUB, Value::Text(v.into()))
    }
    pub fn aud(self, v: &str) -> Self {
        self.int(claims::AUD, Value::Text(v.into()))
    }
    pub fn exp(self, v: u64) -> Self {
        self.int(claims::EXP, Value::Integer(v.into()))
    }
    pub fn nbf(self, v: u64) -> Self {
        self.int(claims::NBF, Value::Integer(v.into()))
    }
    pub fn iat(self, v: u64) -> Self {
        self.int(claims::IAT, Value::Integer(v.into()))
    }
    pub fn cti(self, v: &[u8]) -> Self {
        self.int(claims::CTI, Value::Bytes(v.to_vec()))
    }
    pub fn catv(self) -> Self {
        self.int(claims::CATV, cbor::int_value(1))
    }
    /// `catu` with a path prefix.
    pub fn path_prefix(self, prefix: &str) -> Self {
        self.int(claims::CATU, crate::cat::uri::UriRules::path_prefix(prefix))
    }
    /// Any `catu` map.
    pub fn catu(self, v: Value) -> Self {
        self.int(claims::CATU, v)
    }
    pub fn catm(self, methods: &[&str]) -> Self {
        let list = methods.iter().map(|m| Value::Text((*m).into())).collect();
        self.int(claims::CATM, Value::Array(list))
    }
    /// `catnip` from text addresses and prefixes.
    pub fn catnip(self, nets: &[&str]) -> Self {
        let list = nets.iter().map(|m| Value::Text((*m).into())).collect();
        self.int(claims::CATNIP, Value::Array(list))
    }
    pub fn catreplay(self, r: Replay) -> Self {
        let v = match r {
            Replay::Permitted => 0,
            Replay::Prohibited => 1,
            Replay::ReuseDetection => 2,
        };
        self.int(claims::CATREPLAY, cbor::int_value(v))
    }
    /// `catr`: renewal of the given type (0 automatic, 1 cookie, 2 header, 3 redirect),
    /// lifetime of the renewed token and the window before `exp`.
    pub fn catr(self, kind: i64, expadd: u64, deadline: u64) -> Self {
        self.int(
            claims::CATR,
            Value::Map(vec![
                (cbor::int_value(0), cbor::int_value(kind)),
                (cbor::int_value(1), Value::Integer(expadd.into())),
                (cbor::int_value(2), Value::Integer(deadline.into())),
            ]),
        )
    }
    pub fn countries(self, codes: &[&str]) -> Self {
        let list = codes.iter().map(|m| Value::Text((*m).into())).collect();
        self.int(claims::CATGEOISO3166, Value::Array(list))
    }
    pub fn sid(self, v: &str) -> Self {
        self.set(Value::Text(claims::SID.into()), Value::Text(v.into()))
    }

    /// The claims set's CBOR bytes (the COSE payload).
    pub fn payload(&self) -> Vec<u8> {
        cbor::encode(&Value::Map(self.entries.clone()))
    }

    /// Seals the claims with `key` into token text.
    pub fn mint(&self, key: &Key, rng: &dyn SecureRandom) -> Result<String, MintError> {
        let bytes = self.mint_bytes(key, rng)?;
        Ok(text::encode(&bytes))
    }

    /// Seals the claims with `key` into token bytes.
    pub fn mint_bytes(&self, key: &Key, rng: &dyn SecureRandom) -> Result<Vec<u8>, MintError> {
        if !key.can_sign() {
            return Err(MintError::VerifyOnly(
                String::from_utf8_lossy(key.kid()).into(),
            ));
        }
        let mut failed = false;
        let bytes = cose::seal(key.alg(), key.kid(), self.payload(), |tbs| {
            key.sign(tbs, rng).unwrap_or_else(|| {
                failed = true;
                Vec::new()
            })
        });
        if failed {
            return Err(MintError::Random);
        }
        debug_assert!(matches!(key.alg(), Alg::Hs256 | Alg::Es256));
        Ok(bytes)
    }
}

/// The claims of a renewal of `token` (CTA-5007 `catr`): every claim kept, `iat = now`,
/// `exp = now + expadd`, a fresh `cti`, `iss` set to the renewer when given, and the session
/// kept in `sid` so a renewal is the same viewing session.
pub fn renewal(
    token: &Claims,
    expadd: u64,
    now: u64,
    cti: &[u8],
    issuer: Option<&str>,
    session: Option<&str>,
) -> ClaimsBuilder {
    let mut b = ClaimsBuilder::from_claims(token)
        .iat(now)
        .exp(now.saturating_add(expadd))
        .cti(cti)
        // The new token is fresh: the old one's single-use mark does not carry over.
        .remove(claims::CATREPLAY);
    if let Some(iss) = issuer {
        b = b.iss(iss);
    }
    if let Some(s) = session {
        b = b.sid(s);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cat::{verify, KeySet};
    use ring::rand::SystemRandom;

    #[test]
    fn minted_hmac_and_es256_tokens_verify_and_a_changed_byte_does_not() {
        let rng = SystemRandom::new();
        let hs = Key::hmac(b"k1", &[7u8; 32]).unwrap();
        let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .unwrap();
        let es = Key::es256_private(b"e1", pkcs8.as_ref(), &rng).unwrap();
        let public = Key::es256_public(b"e1", es.public_point().unwrap()).unwrap();
        let hs_text = ClaimsBuilder::new()
            .iss("me")
            .exp(100)
            .mint(&hs, &rng)
            .unwrap();
        let es_text = ClaimsBuilder::new()
            .iss("me")
            .exp(100)
            .mint(&es, &rng)
            .unwrap();
        let keys = KeySet::new(vec![Key::hmac(b"k1", &[7u8; 32]).unwrap(), public]).unwrap();
        assert_eq!(
            verify(&hs_text, &keys).unwrap().claims.iss.as_deref(),
            Some("me")
        );
        assert_eq!(verify(&es_text, &keys).unwrap().alg, Alg::Es256);
        let mut bytes = text::decode(&hs_text).unwrap();
        let n = bytes.len();
        bytes[n - 1] ^= 1;
        assert!(matches!(
            verify(&text::encode(&bytes), &keys),
            Err(crate::Refusal::BadSignature(_))
        ));
    }

    #[test]
    fn a_renewal_of_a_token_with_critical_catreplay_still_verifies() {
        let rng = SystemRandom::new();
        let key = Key::hmac(b"k1", &[7u8; 32]).unwrap();
        let original = ClaimsBuilder::new()
            .exp(100)
            .catreplay(Replay::Prohibited)
            .set(
                cbor::int_value(claims::CRIT),
                Value::Array(vec![
                    cbor::int_value(claims::CATREPLAY),
                    cbor::int_value(claims::EXP),
                ]),
            )
            .mint(&key, &rng)
            .unwrap();
        let keys = KeySet::new(vec![Key::hmac(b"k1", &[7u8; 32]).unwrap()]).unwrap();
        let token = verify(&original, &keys).unwrap();
        let renewed = renewal(&token.claims, 60, 90, &[1; 16], None, Some("s"))
            .mint(&key, &rng)
            .unwrap();
        let claims = verify(&renewed, &keys).unwrap().claims;
        assert_eq!(claims.catreplay, Replay::Permitted);
        assert_eq!(claims.exp, Some(150));
    }

    #[test]
    fn a_verify_only_key_cannot_mint() {
        let rng = SystemRandom::new();
        let es = Key::es256_public(b"e", &[4u8; 65]).unwrap();
        assert!(ClaimsBuilder::new().mint(&es, &rng).is_err());
    }
}
