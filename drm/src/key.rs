//! Key ids and content keys. A [`ContentKey`] never prints its bytes: `Debug` shows a
//! redaction, so a key cannot leak through a log line or an error message by accident.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A 16-byte key id (KID), shown as a UUID (`8-4-4-4-12` lowercase hex).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 16]);

/// A 16-byte AES-128 content key.
#[derive(Clone, PartialEq, Eq)]
pub struct ContentKey(pub [u8; 16]);

/// A content key with its id: what a key source hands out for one asset.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ContentKeyPair {
    pub kid: KeyId,
    pub key: ContentKey,
}

impl KeyId {
    /// The UUID form, as in `cenc:default_KID`.
    pub fn uuid(&self) -> String {
        let h = hex(&self.0);
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// Plain lowercase hex, 32 characters.
    pub fn hex(&self) -> String {
        hex(&self.0)
    }

    /// The GUID byte order PlayReady uses: the first three fields little-endian.
    pub fn guid_le(&self) -> [u8; 16] {
        let b = self.0;
        [
            b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13],
            b[14], b[15],
        ]
    }
}

impl ContentKey {
    /// The key bytes, for the cipher and the key endpoints only.
    pub fn bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uuid())
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uuid())
    }
}

impl fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContentKey(<redacted>)")
    }
}

/// Parses 32 hex digits, with or without UUID dashes.
pub fn parse_hex16(text: &str, what: &'static str) -> Result<[u8; 16]> {
    let digits: Vec<u8> = text.bytes().filter(|&c| c != b'-').collect();
    if digits.len() != 32 {
        return Err(Error::malformed(what, "expected 32 hex digits"));
    }
    let mut out = [0u8; 16];
    for (i, pair) in digits.chunks(2).enumerate() {
        let hi = hex_value(pair[0]).ok_or_else(|| Error::malformed(what, "not hex"))?;
        let lo = hex_value(pair[1]).ok_or_else(|| Error::malformed(what, "not hex"))?;
        out[i] = (hi << 4) | lo;
    }
    Ok(out)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

impl FromStr for KeyId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        parse_hex16(s, "key id").map(KeyId)
    }
}

impl FromStr for ContentKey {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        parse_hex16(s, "content key").map(ContentKey)
    }
}

impl Serialize for KeyId {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.uuid())
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for ContentKey {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&hex(&self.0))
    }
}

impl<'de> Deserialize<'de> for ContentKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_round_trips_through_uuid_and_hex() {
        let kid: KeyId = "10000000-1000-1000-1000-100000000001".parse().unwrap();
        assert_eq!(kid.uuid(), "10000000-1000-1000-1000-100000000001");
        assert_eq!(kid.hex(), "10000000100010001000100000000001");
        assert_eq!(kid, kid.hex().parse().unwrap());
    }

    #[test]
    fn guid_order_swaps_the_first_three_fields() {
        let kid = KeyId(*b"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10");
        assert_eq!(&kid.guid_le()[..8], &[4, 3, 2, 1, 6, 5, 8, 7]);
        assert_eq!(&kid.guid_le()[8..], &kid.0[8..]);
    }

    #[test]
    fn content_key_debug_never_shows_the_key() {
        let key: ContentKey = "00112233445566778899aabbccddeeff".parse().unwrap();
        assert!(!format!("{key:?}").contains("0011"));
        let pair = ContentKeyPair {
            kid: KeyId([0; 16]),
            key,
        };
        assert!(!format!("{pair:?}").contains("0011"));
    }

    #[test]
    fn bad_hex_is_an_error() {
        assert!("xyz".parse::<KeyId>().is_err());
        assert!("0011223344556677889900aabbccddgg"
            .parse::<ContentKey>()
            .is_err());
    }
}
