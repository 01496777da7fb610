//! The keys a node verifies CATs with (and mints with), chosen by `kid`. Several keys can be
//! live at once, so an operator rotates by adding the new key, moving issuers over, and
//! removing the old one.

use ring::hmac;
use ring::rand::SecureRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, UnparsedPublicKey};

use crate::cat::cose::Alg;
use crate::Refusal;

/// Why a key could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key {kid:?}: {message}")]
    Invalid { kid: String, message: String },
}

enum Material {
    Hmac(hmac::Key),
    EcVerify(UnparsedPublicKey<Vec<u8>>),
    EcSign(Box<EcdsaKeyPair>),
}

/// One key with its id.
pub struct Key {
    kid: Vec<u8>,
    material: Material,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Key({:?}, {:?})",
            String::from_utf8_lossy(&self.kid),
            self.alg()
        )
    }
}

impl Key {
    /// An HMAC-SHA256 key (COSE alg 5). At least 16 bytes of secret.
    pub fn hmac(kid: &[u8], secret: &[u8]) -> Result<Key, KeyError> {
        if secret.len() < 16 {
            return Err(KeyError::Invalid {
                kid: String::from_utf8_lossy(kid).into(),
                message: format!(
                    "an HMAC secret needs at least 16 bytes, this one has {}",
                    secret.len()
                ),
            });
        }
        Ok(Key {
            kid: kid.to_vec(),
            material: Material::Hmac(hmac::Key::new(hmac::HMAC_SHA256, secret)),
        })
    }

    /// An ES256 verification key: an uncompressed SEC1 P-256 point (65 bytes, `04 || x || y`).
    pub fn es256_public(kid: &[u8], point: &[u8]) -> Result<Key, KeyError> {
        if point.len() != 65 || point[0] != 4 {
            return Err(KeyError::Invalid {
                kid: String::from_utf8_lossy(kid).into(),
                message: "an ES256 public key is an uncompressed P-256 point (65 bytes, 04||x||y)"
                    .into(),
            });
        }
        Ok(Key {
            kid: kid.to_vec(),
            material: Material::EcVerify(UnparsedPublicKey::new(
                &signature::ECDSA_P256_SHA256_FIXED,
                point.to_vec(),
            )),
        })
    }

    /// An ES256 signing key from PKCS#8 DER (which also verifies).
    pub fn es256_private(
        kid: &[u8],
        pkcs8: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Key, KeyError> {
        let pair =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, rng)
                .map_err(|e| KeyError::Invalid {
                    kid: String::from_utf8_lossy(kid).into(),
                    message: format!("not a P-256 PKCS#8 private key: {e}"),
                })?;
        Ok(Key {
            kid: kid.to_vec(),
            material: Material::EcSign(Box::new(pair)),
        })
    }

    pub fn kid(&self) -> &[u8] {
        &self.kid
    }

    pub fn alg(&self) -> Alg {
        match self.material {
            Material::Hmac(_) => Alg::Hs256,
            Material::EcVerify(_) | Material::EcSign(_) => Alg::Es256,
        }
    }

    /// Whether this key can mint (HMAC keys and ES256 private keys).
    pub fn can_sign(&self) -> bool {
        !matches!(self.material, Material::EcVerify(_))
    }

    /// The public point of an ES256 signing key.
    pub fn public_point(&self) -> Option<&[u8]> {
        match &self.material {
            Material::EcSign(pair) => Some(pair.public_key().as_ref()),
            Material::EcVerify(public) => Some(public.as_ref()),
            Material::Hmac(_) => None,
        }
    }

    /// Checks `tag` over `message`.
    pub fn verify(&self, message: &[u8], tag: &[u8]) -> Result<(), Refusal> {
        let ok = match &self.material {
            // Constant-time comparison of the full 32-byte tag.
            Material::Hmac(key) => hmac::verify(key, message, tag).is_ok(),
            Material::EcVerify(public) => public.verify(message, tag).is_ok(),
            Material::EcSign(pair) => UnparsedPublicKey::new(
                &signature::ECDSA_P256_SHA256_FIXED,
                pair.public_key().as_ref(),
            )
            .verify(message, tag)
            .is_ok(),
        };
        if ok {
            Ok(())
        } else {
            Err(Refusal::BadSignature(format!(
                "the {} does not verify with key {:?}",
                if self.alg() == Alg::Hs256 {
                    "MAC"
                } else {
                    "signature"
                },
                String::from_utf8_lossy(&self.kid)
            )))
        }
    }

    /// The tag over `message`; `None` for a verification-only key or when randomness fails.
    pub fn sign(&self, message: &[u8], rng: &dyn SecureRandom) -> Option<Vec<u8>> {
        match &self.material {
            Material::Hmac(key) => Some(hmac::sign(key, message).as_ref().to_vec()),
            Material::EcSign(pair) => pair.sign(rng, message).ok().map(|s| s.as_ref().to_vec()),
            Material::EcVerify(_) => None,
        }
    }
}

/// The keys in force.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<Key>,
}

impl KeySet {
    pub fn new(keys: Vec<Key>) -> Result<KeySet, KeyError> {
        for (i, k) in keys.iter().enumerate() {
            if keys[..i].iter().any(|o| o.kid == k.kid) {
                return Err(KeyError::Invalid {
                    kid: String::from_utf8_lossy(&k.kid).into(),
                    message: "two keys have this id".into(),
                });
            }
        }
        Ok(KeySet { keys })
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key with this id. A token without a `kid` is accepted only when exactly one key
    /// is configured.
    pub fn find(&self, kid: &[u8]) -> Result<&Key, Refusal> {
        if kid.is_empty() {
            return match self.keys.as_slice() {
                [only] => Ok(only),
                _ => Err(Refusal::BadSignature(
                    "the token names no key (kid) and several are configured".into(),
                )),
            };
        }
        self.keys.iter().find(|k| k.kid == kid).ok_or_else(|| {
            Refusal::BadSignature(format!(
                "unknown key id {:?}",
                String::from_utf8_lossy(&kid[..kid.len().min(64)])
            ))
        })
    }

    /// The first key that can mint, or the one named.
    pub fn signer(&self, kid: Option<&[u8]>) -> Option<&Key> {
        self.keys
            .iter()
            .filter(|k| k.can_sign())
            .find(|k| kid.is_none_or(|want| k.kid == want))
    }
}
