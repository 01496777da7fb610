//! The access keys of the configuration made usable: CAT keys (HS256 secrets in hex, ES256
//! keys in PEM files) into a [`KeySet`], Akamai keys into [`EdgeAuthKey`]s.

use access::akamai::EdgeAuthKey;
use access::cat::{Key, KeySet};
use ring::rand::SystemRandom;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{PrivatePkcs8KeyDer, SubjectPublicKeyInfoDer};

use crate::access::config::{AccessConfig, CatKeyConfig};

/// The DER prefix of a P-256 SubjectPublicKeyInfo; the uncompressed point follows it.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

pub fn cat_key(k: &CatKeyConfig, rng: &SystemRandom) -> Result<Key, String> {
    let kid = k.kid.as_bytes();
    let named = |e: String| format!("access key {:?}: {e}", k.kid);
    match k.alg.to_ascii_uppercase().as_str() {
        "HS256" => {
            let hex = k
                .secret_hex
                .as_deref()
                .ok_or_else(|| named("HS256 needs secret_hex".into()))?;
            let secret = hex::decode(hex.trim()).map_err(|e| named(format!("secret_hex: {e}")))?;
            Key::hmac(kid, &secret).map_err(|e| named(e.to_string()))
        }
        "ES256" => {
            if let Some(path) = &k.private_pem {
                let der = PrivatePkcs8KeyDer::from_pem_file(path)
                    .map_err(|e| named(format!("{}: {e}", path.display())))?;
                Key::es256_private(kid, der.secret_pkcs8_der(), rng)
                    .map_err(|e| named(e.to_string()))
            } else if let Some(path) = &k.public_pem {
                let der = SubjectPublicKeyInfoDer::from_pem_file(path)
                    .map_err(|e| named(format!("{}: {e}", path.display())))?;
                let point = der
                    .as_ref()
                    .strip_prefix(&P256_SPKI_PREFIX[..])
                    .ok_or_else(|| named(format!("{}: not a P-256 public key", path.display())))?;
                Key::es256_public(kid, point).map_err(|e| named(e.to_string()))
            } else {
                Err(named("ES256 needs public_pem or private_pem".into()))
            }
        }
        other => Err(named(format!("alg {other:?}: HS256 or ES256"))),
    }
}

/// The CAT keys of `config`.
pub fn cat_keys(config: &AccessConfig) -> Result<KeySet, String> {
    let rng = SystemRandom::new();
    let keys = config
        .keys
        .iter()
        .map(|k| cat_key(k, &rng))
        .collect::<Result<Vec<_>, _>>()?;
    KeySet::new(keys).map_err(|e| e.to_string())
}

/// The Akamai keys of `config`.
pub fn akamai_keys(config: &AccessConfig) -> Result<Vec<EdgeAuthKey>, String> {
    config
        .akamai_keys
        .iter()
        .map(|k| {
            EdgeAuthKey::from_hex(&k.key_hex, k.salt.clone())
                .map_err(|e| format!("access.akamai_keys: {e}"))
        })
        .collect()
}
