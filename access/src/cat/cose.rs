//! The COSE envelope of a CAT (RFC 9052): COSE_Mac0 (tag 17) or COSE_Sign1 (tag 18),
//! optionally inside the CWT tag (61). Reads the protected header's algorithm and the key id
//! (protected or unprotected), and builds the byte string the MAC or signature covers.

use ciborium::value::Value;

use crate::cbor;
use crate::Refusal;

pub const TAG_CWT: u64 = 61;
pub const TAG_MAC0: u64 = 17;
pub const TAG_SIGN1: u64 = 18;
const HEADER_ALG: i64 = 1;
const HEADER_CRIT: i64 = 2;
const HEADER_KID: i64 = 4;

/// The algorithms accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// HMAC 256/256, COSE alg 5, in COSE_Mac0.
    Hs256,
    /// ECDSA P-256 with SHA-256, COSE alg -7, in COSE_Sign1.
    Es256,
}

impl Alg {
    pub fn cose_id(self) -> i64 {
        match self {
            Alg::Hs256 => 5,
            Alg::Es256 => -7,
        }
    }

    fn envelope(self) -> (u64, &'static str) {
        match self {
            Alg::Hs256 => (TAG_MAC0, "MAC0"),
            Alg::Es256 => (TAG_SIGN1, "Signature1"),
        }
    }
}

/// A COSE_Mac0 or COSE_Sign1 taken apart.
#[derive(Debug)]
pub struct Envelope {
    pub alg: Alg,
    pub kid: Vec<u8>,
    /// The CBOR bytes of the claims set.
    pub payload: Vec<u8>,
    /// The MAC tag or the signature.
    pub tag: Vec<u8>,
    /// What the tag covers: the MAC_structure or Sig_structure, encoded.
    pub to_be_authenticated: Vec<u8>,
}

/// Reads a tagged COSE_Mac0/COSE_Sign1 (the CWT tag 61 around it is optional). An untagged
/// four-element array is read as COSE_Mac0 when its algorithm says HMAC, and as COSE_Sign1
/// when it says ECDSA.
pub fn open(bytes: &[u8]) -> Result<Envelope, Refusal> {
    let mut value = cbor::decode(bytes, "token")?;
    if let Value::Tag(TAG_CWT, inner) = value {
        value = *inner;
    }
    let (tag, body) = match value {
        Value::Tag(t @ (TAG_MAC0 | TAG_SIGN1), inner) => (Some(t), *inner),
        Value::Tag(t, _) => {
            return Err(Refusal::Malformed(format!(
                "CBOR tag {t} is not COSE_Mac0 (17) or COSE_Sign1 (18)"
            )))
        }
        other => (None, other),
    };
    let items = cbor::array(&body, "COSE message")?;
    let [protected, unprotected, payload, mac] = items else {
        return Err(Refusal::Malformed(format!(
            "a COSE message has 4 items, this one {}",
            items.len()
        )));
    };
    let protected_bytes = cbor::bytes(protected, "protected header")?;
    let protected_map = if protected_bytes.is_empty() {
        Value::Map(Vec::new())
    } else {
        cbor::decode(protected_bytes, "protected header")?
    };
    let protected_entries = cbor::map(&protected_map, "protected header")?;
    let unprotected_entries = cbor::map(unprotected, "unprotected header")?;
    let find = |label: i64| {
        protected_entries
            .iter()
            .chain(unprotected_entries)
            .find(|(k, _)| cbor::int_key(k) == Some(label))
            .map(|(_, v)| v)
    };
    if protected_entries
        .iter()
        .any(|(k, _)| cbor::int_key(k) == Some(HEADER_CRIT))
    {
        return Err(Refusal::Unsupported(
            "the protected header marks header parameters critical".into(),
        ));
    }
    // The algorithm must be protected (RFC 9052 section 3.1), or anyone could change it.
    let alg = match protected_entries
        .iter()
        .find(|(k, _)| cbor::int_key(k) == Some(HEADER_ALG))
    {
        None => {
            return Err(Refusal::BadSignature(
                "no algorithm in the protected header".into(),
            ))
        }
        Some((_, v)) => match v {
            Value::Integer(_) => match cbor::int(v, "alg")? {
                5 => Alg::Hs256,
                -7 => Alg::Es256,
                other => {
                    return Err(Refusal::BadSignature(format!(
                        "algorithm {other} is not accepted (HMAC 256/256 = 5, ES256 = -7)"
                    )))
                }
            },
            _ => {
                return Err(Refusal::BadSignature(
                    "the algorithm is not a registered integer".into(),
                ))
            }
        },
    };
    let (want_tag, context) = alg.envelope();
    if let Some(t) = tag {
        if t != want_tag {
            return Err(Refusal::BadSignature(format!(
                "algorithm {} in a message tagged {t}",
                alg.cose_id()
            )));
        }
    }
    let kid = match find(HEADER_KID) {
        Some(v) => cbor::bytes(v, "kid")?.to_vec(),
        None => Vec::new(),
    };
    let payload = cbor::bytes(payload, "payload")?.to_vec();
    let tag = cbor::bytes(mac, "tag")?.to_vec();
    let to_be_authenticated = structure(context, protected_bytes, &payload);
    Ok(Envelope {
        alg,
        kid,
        payload,
        tag,
        to_be_authenticated,
    })
}

/// The MAC_structure / Sig_structure: `[context, protected, external_aad = h'', payload]`.
pub fn structure(context: &str, protected: &[u8], payload: &[u8]) -> Vec<u8> {
    cbor::encode(&Value::Array(vec![
        Value::Text(context.into()),
        Value::Bytes(protected.to_vec()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.to_vec()),
    ]))
}

/// Assembles a tagged COSE message (wrapped in the CWT tag) from its parts.
pub fn seal(
    alg: Alg,
    kid: &[u8],
    payload: Vec<u8>,
    sign: impl FnOnce(&[u8]) -> Vec<u8>,
) -> Vec<u8> {
    let protected = cbor::encode(&Value::Map(vec![(
        cbor::int_value(HEADER_ALG),
        cbor::int_value(alg.cose_id()),
    )]));
    let (tag, context) = alg.envelope();
    let tbs = structure(context, &protected, &payload);
    let mac = sign(&tbs);
    let unprotected = if kid.is_empty() {
        Vec::new()
    } else {
        vec![(cbor::int_value(HEADER_KID), Value::Bytes(kid.to_vec()))]
    };
    let message = Value::Array(vec![
        Value::Bytes(protected),
        Value::Map(unprotected),
        Value::Bytes(payload),
        Value::Bytes(mac),
    ]);
    cbor::encode(&Value::Tag(
        TAG_CWT,
        Box::new(Value::Tag(tag, Box::new(message))),
    ))
}
